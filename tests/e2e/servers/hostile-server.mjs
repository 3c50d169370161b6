// A deliberately hostile or broken "MCP server" for the e2e robustness tests: plain node:http on
// 127.0.0.1, one MCP path per scenario. Every MCP path answers the unauthenticated probe POST with
// 401 + a Bearer challenge (unless the scenario says otherwise); what goes wrong comes after.
//
//   node hostile-server.mjs [PORT]          PORT (or env PORT) 0 = ephemeral
//   env HOSTILE_HUGE_BYTES                  size of the "huge" document (default 10 MiB)
//
// Scenarios (MCP URL http://127.0.0.1:PORT/<name>/mcp):
//   notjson      challenge names resource_metadata; that document answers 200 `<html>oops` (text/html)
//   huge         no resource_metadata in the challenge (the client uses the path-aware well-known URL);
//                the document answers 200 with a 10 MB body streamed in chunks, no Content-Length
//   loop         the document redirects a -> b -> a ... forever (302)
//   insecure-as  valid document whose authorization_servers is ["http://auth.example.com"]
//   silent       the probe POST is accepted and never answered (the socket stays open)
//   noclientid   valid document + RFC 8414 metadata for issuer http://127.0.0.1:PORT/noclientid; the
//                registration endpoint answers 201 with JSON that has no client_id
//
// Test-only: GET /__test/stats -> {"<scenario>": {"probe", "prm", "asMetadata", "register",
//            "authorize", "token", "hugeBytesSent"...}, "unknown": N}: what each scenario was asked.
// Prints one JSON line {"ready":true,"port":...,"base":...} on stdout once listening.
import http from 'node:http';

const port = Number(process.argv[2] ?? process.env.PORT ?? 0);
const SCENARIOS = ['notjson', 'huge', 'loop', 'insecure-as', 'silent', 'noclientid'];
const HUGE_BYTES = Number(process.env.HOSTILE_HUGE_BYTES ?? 10 * 1024 * 1024);

const stats = Object.fromEntries(SCENARIOS.map(s => [s, { probe: 0, prm: 0, asMetadata: 0, register: 0, authorize: 0, token: 0 }]));
stats.huge.hugeBytesSent = 0;
stats.huge.hugeAborted = 0;
stats.unknown = 0;
const held = new Set(); // sockets of requests that are never answered (silent), destroyed on exit

const server = http.createServer();
await new Promise((resolve, reject) => {
    server.once('error', reject);
    server.listen(port, '127.0.0.1', resolve);
});
const base = `http://127.0.0.1:${server.address().port}`;
const prmUrl = name => `${base}/.well-known/oauth-protected-resource/${name}/mcp`;
const mcpUrl = name => `${base}/${name}/mcp`;

function json(res, status, body, headers = {}) {
    const data = JSON.stringify(body);
    res.writeHead(status, { 'Content-Type': 'application/json', 'Content-Length': Buffer.byteLength(data), ...headers });
    res.end(data);
}

function challenge(res, name, withMetadataUrl = true) {
    const params = ['error="invalid_token"', 'error_description="Missing Authorization header"'];
    if (withMetadataUrl) params.push(`resource_metadata="${prmUrl(name)}"`);
    json(res, 401, { error: 'invalid_token' }, { 'WWW-Authenticate': `Bearer ${params.join(', ')}` });
}

function validPrm(name, authorizationServers) {
    return { resource: mcpUrl(name), authorization_servers: authorizationServers, scopes_supported: ['mcp:tools'] };
}

// Streams `total` bytes of a JSON-looking document, stopping as soon as the client goes away.
function streamHuge(req, res, total) {
    res.writeHead(200, { 'Content-Type': 'application/json' }); // chunked: no Content-Length to refuse early
    const chunk = Buffer.alloc(64 * 1024, 0x20);
    let sent = 0;
    let aborted = false;
    res.on('close', () => {
        if (sent < total) {
            aborted = true;
            stats.huge.hugeAborted++;
        }
    });
    res.write('{"resource":"');
    const pump = () => {
        while (!aborted && sent < total) {
            const n = Math.min(chunk.length, total - sent);
            sent += n;
            stats.huge.hugeBytesSent += n;
            if (!res.write(n === chunk.length ? chunk : chunk.subarray(0, n))) {
                res.once('drain', pump);
                return;
            }
        }
        if (!aborted) res.end('"}');
    };
    pump();
}

function handlePrm(req, res, name) {
    stats[name].prm++;
    switch (name) {
    case 'notjson':
        res.writeHead(200, { 'Content-Type': 'text/html' });
        res.end('<html>oops');
        return;
    case 'huge':
        streamHuge(req, res, HUGE_BYTES);
        return;
    case 'insecure-as':
        json(res, 200, validPrm(name, ['http://auth.example.com']));
        return;
    case 'noclientid':
        json(res, 200, validPrm(name, [`${base}/noclientid`]));
        return;
    default:
        json(res, 404, { error: 'not_found' });
    }
}

function handle(req, res) {
    const url = new URL(req.url, base);
    const p = url.pathname;

    // Connection: close, so the test's fetch never reuses a kept-alive socket this server has closed.
    if (req.method === 'GET' && p === '/__test/stats') return json(res, 200, stats, { Connection: 'close' });

    // The probe: POST /<scenario>/mcp
    const mcp = /^\/([a-z-]+)\/mcp$/.exec(p);
    if (mcp && SCENARIOS.includes(mcp[1])) {
        const name = mcp[1];
        stats[name].probe++;
        if (name === 'silent') {
            // Accept the connection and the request, then say nothing, ever.
            held.add(req.socket);
            req.socket.once('close', () => held.delete(req.socket));
            req.resume();
            return;
        }
        return challenge(res, name, name !== 'huge');
    }

    // RFC 9728 documents, path-aware: /.well-known/oauth-protected-resource/<scenario>/mcp
    const prm = /^\/\.well-known\/oauth-protected-resource\/([a-z-]+)\/mcp$/.exec(p);
    if (prm && SCENARIOS.includes(prm[1]) && prm[1] !== 'loop') return handlePrm(req, res, prm[1]);

    // The redirect loop: the PRM URL -> /loop/a -> /loop/b -> /loop/a -> ...
    if (p === '/.well-known/oauth-protected-resource/loop/mcp' || p === '/loop/a' || p === '/loop/b') {
        stats.loop.prm++;
        res.writeHead(302, { Location: p === '/loop/a' ? '/loop/b' : '/loop/a', 'Content-Length': 0 });
        return res.end();
    }

    // noclientid: an otherwise valid authorization server (RFC 8414 path insertion for issuer /noclientid)
    if (p === '/.well-known/oauth-authorization-server/noclientid') {
        stats.noclientid.asMetadata++;
        const issuer = `${base}/noclientid`;
        return json(res, 200, {
            issuer,
            authorization_endpoint: `${issuer}/authorize`,
            token_endpoint: `${issuer}/token`,
            registration_endpoint: `${issuer}/register`,
            response_types_supported: ['code'],
            grant_types_supported: ['authorization_code', 'refresh_token'],
            code_challenge_methods_supported: ['S256'],
            token_endpoint_auth_methods_supported: ['none'],
            scopes_supported: ['mcp:tools']
        });
    }
    if (p === '/noclientid/register' && req.method === 'POST') {
        stats.noclientid.register++;
        let body = '';
        req.on('data', c => { if (body.length < 65536) body += c; });
        req.on('end', () => {
            let sent = {};
            try { sent = JSON.parse(body); } catch { /* answer the same either way */ }
            // RFC 7591 §3.2.1 echo of the metadata, minus the one field that matters.
            json(res, 201, {
                client_name: sent.client_name ?? 'x',
                redirect_uris: sent.redirect_uris ?? [],
                grant_types: sent.grant_types ?? ['authorization_code'],
                token_endpoint_auth_method: 'none'
            });
        });
        return;
    }
    if (p === '/noclientid/authorize') {
        stats.noclientid.authorize++;
        return json(res, 400, { error: 'invalid_request' });
    }
    if (p === '/noclientid/token') {
        stats.noclientid.token++;
        return json(res, 400, { error: 'invalid_client' });
    }

    stats.unknown++;
    json(res, 404, { error: 'not_found' });
}

server.on('request', (req, res) => {
    try {
        handle(req, res);
    } catch (e) {
        process.stderr.write(`hostile-server: ${e?.message ?? e}\n`);
        if (!res.headersSent) json(res, 500, { error: 'server_error' });
    }
});

function shutdown() {
    for (const socket of held) socket.destroy();
    server.closeAllConnections?.();
    server.close(() => process.exit(0));
    setTimeout(() => process.exit(0), 1000).unref();
}
process.on('SIGTERM', shutdown);
process.on('SIGINT', shutdown);

process.stdout.write(`${JSON.stringify({ ready: true, port: server.address().port, base })}\n`);
