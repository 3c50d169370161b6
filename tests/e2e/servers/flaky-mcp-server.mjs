// A misbehaving MCP server (Streamable HTTP, stateless, no auth) on plain node:http, for the proxy's
// robustness tests. Binds 127.0.0.1 only; the MCP endpoint is http://127.0.0.1:PORT/mcp.
//
//   node flaky-mcp-server.mjs [PORT]        (0 or none = ephemeral)
//
// initialize, notifications/* (202), ping and tools/list answer normally (JSON). tools/call by tool name:
//   echo      -> a normal JSON answer {"echo": arguments.text}
//   sse-echo  -> a normal answer as an SSE stream (a progress-free notification, then the response)
//   drop      -> 200 text/event-stream, one complete notification event, then half a response event,
//                then the socket is destroyed; no event ids, so the stream cannot be resumed
//   reset     -> the connection is cut before any response byte
//   http500   -> HTTP 500 with a JSON-RPC-ish error body
//   badjson   -> 200 application/json whose body is not JSON
//   badsse    -> 200 text/event-stream whose message event data is not JSON (a malformed line)
// GET /mcp -> 405 (no server-initiated stream); DELETE -> 405. Anything at /moved -> 307 to /mcp.
// Test-only: GET /__test/stats -> {"posts","calls":{tool: n},"authorized","redirects"} (requests that carried an
// Authorization header: this server needs none, so the proxy should send none).
// Prints one JSON line {"ready":true,"url":...,"port":...} on stdout once listening.
import http from 'node:http';

const port = Number(process.argv[2] ?? process.env.PORT ?? 0);
const PROTOCOL = '2025-06-18';
const stats = { posts: 0, calls: {}, authorized: 0 };

const TOOLS = ['echo', 'sse-echo', 'drop', 'reset', 'http500', 'badjson', 'badsse'].map(name => ({
    name,
    description: `flaky-server tool: ${name}`,
    inputSchema: { type: 'object', properties: { text: { type: 'string' } } }
}));

function json(res, status, body) {
    const data = JSON.stringify(body);
    res.writeHead(status, { 'Content-Type': 'application/json', 'Content-Length': Buffer.byteLength(data) });
    res.end(data);
}

function sseHead(res) {
    res.writeHead(200, { 'Content-Type': 'text/event-stream', 'Cache-Control': 'no-cache', Connection: 'keep-alive' });
}

const result = (id, r) => ({ jsonrpc: '2.0', id, result: r });
const text = t => ({ content: [{ type: 'text', text: t }], structuredContent: { echo: t } });

function handleCall(msg, res) {
    const name = msg.params?.name;
    const arg = String(msg.params?.arguments?.text ?? '');
    stats.calls[name] = (stats.calls[name] ?? 0) + 1;
    const note = { jsonrpc: '2.0', method: 'notifications/message', params: { level: 'info', data: `working on ${name}` } };
    switch (name) {
    case 'echo':
        return json(res, 200, result(msg.id, text(arg)));
    case 'sse-echo':
        sseHead(res);
        res.write(`event: message\ndata: ${JSON.stringify(note)}\n\n`);
        res.end(`event: message\ndata: ${JSON.stringify(result(msg.id, text(arg)))}\n\n`);
        return;
    case 'drop': {
        sseHead(res);
        res.write(`event: message\ndata: ${JSON.stringify(note)}\n\n`);
        const full = JSON.stringify(result(msg.id, text(arg)));
        res.write(`event: message\ndata: ${full.slice(0, full.length >> 1)}`);
        // Let the bytes leave, then cut the connection: no event id was ever sent.
        setTimeout(() => res.socket?.destroy(), 100);
        return;
    }
    case 'reset': // no answer at all: the connection is cut before the status line
        res.socket?.destroy();
        return;
    case 'http500':
        return json(res, 500, { jsonrpc: '2.0', id: msg.id, error: { code: -32603, message: 'flaky: internal server error' } });
    case 'badjson':
        res.writeHead(200, { 'Content-Type': 'application/json' });
        res.end('{"jsonrpc":"2.0","id":' + JSON.stringify(msg.id) + ',"result":{"content":[{"type":"text",,,\nnot json at all\n');
        return;
    case 'badsse':
        sseHead(res);
        res.end(`event: message\ndata: {"jsonrpc":"2.0","id":${JSON.stringify(msg.id)},"result": oops}\n\n`);
        return;
    default:
        return json(res, 200, { jsonrpc: '2.0', id: msg.id, error: { code: -32602, message: `unknown tool ${name}` } });
    }
}

function handleMessage(msg, res) {
    if (msg.id === undefined || msg.id === null) {
        res.writeHead(202).end(); // a notification or a response
        return;
    }
    switch (msg.method) {
    case 'initialize':
        return json(res, 200, result(msg.id, {
            protocolVersion: msg.params?.protocolVersion ?? PROTOCOL,
            capabilities: { tools: {} },
            serverInfo: { name: 'flaky-mcp-server', version: '1.0.0' }
        }));
    case 'ping':
        return json(res, 200, result(msg.id, {}));
    case 'tools/list':
        return json(res, 200, result(msg.id, { tools: TOOLS }));
    case 'tools/call':
        return handleCall(msg, res);
    default:
        return json(res, 200, { jsonrpc: '2.0', id: msg.id, error: { code: -32601, message: 'Method not found' } });
    }
}

const server = http.createServer((req, res) => {
    const url = new URL(req.url, 'http://127.0.0.1');
    if (url.pathname === '/__test/stats') return json(res, 200, stats);
    if (url.pathname === '/moved') { // every request: 307 to /mcp (method and body kept)
        stats.redirects = (stats.redirects ?? 0) + 1;
        res.writeHead(307, { Location: '/mcp' }).end();
        return;
    }
    if (url.pathname !== '/mcp') return json(res, 404, { error: 'not found' });
    if (req.method !== 'POST') {
        res.writeHead(405, { Allow: 'POST' }).end();
        return;
    }
    stats.posts += 1;
    if (req.headers.authorization) stats.authorized += 1;
    let body = '';
    req.setEncoding('utf8');
    req.on('data', chunk => { body += chunk; });
    req.on('end', () => {
        let msg;
        try {
            msg = JSON.parse(body);
        } catch {
            return json(res, 400, { jsonrpc: '2.0', id: null, error: { code: -32700, message: 'Parse error' } });
        }
        if (Array.isArray(msg) || typeof msg !== 'object' || msg === null) {
            return json(res, 400, { jsonrpc: '2.0', id: null, error: { code: -32600, message: 'batches not supported' } });
        }
        handleMessage(msg, res);
    });
});

await new Promise((resolve, reject) => {
    server.once('error', reject);
    server.listen(port, '127.0.0.1', resolve);
});
const actualPort = server.address().port;
const stop = () => {
    server.close(() => process.exit(0));
    server.closeAllConnections();
};
process.on('SIGTERM', stop);
process.on('SIGINT', stop);
process.stdout.write(`${JSON.stringify({ ready: true, url: `http://127.0.0.1:${actualPort}/mcp`, port: actualPort })}\n`);
