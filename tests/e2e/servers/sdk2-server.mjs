// Real MCP server built with the TypeScript SDK v2 (@modelcontextprotocol/server 2.4.0,
// `createMcpHandler`), protected by JWT access tokens from auth-server.mjs exactly like mcp-server.mjs.
// Binds 127.0.0.1 only; the MCP endpoint is http://127.0.0.1:PORT/mcp.
//
//   node sdk2-server.mjs --issuer http://127.0.0.1:AS_PORT [--legacy reject|stateless] [--port N]
//   node sdk2-server.mjs --stdio [--legacy reject|serve] --ready-file PATH     (self-check of the hosts)
//
// --legacy: how 2025-era (initialize, no `_meta` envelope) traffic is served. `reject` (modern only):
//   `initialize` → 400 -32022 {supported:["2026-07-28"]}; `stateless` (default, dual era): each legacy
//   POST is served by a fresh instance, no session, GET/DELETE → 405, so server→client requests
//   (elicitation) and list_changed cannot reach a 2025 client that talks to this server directly.
// --stdio: serveStdio instead of HTTP, no auth (stdio carries none); stdout is the MCP channel, so the
//   ready line goes to --ready-file, and /__test/stats is served on its own loopback port.
//
// - RFC 9728 metadata at /.well-known/oauth-protected-resource/mcp, the AS metadata mirrored at
//   /.well-known/oauth-authorization-server (SDK oauthMetadataResponse)
// - 401 `WWW-Authenticate: Bearer error=..., scope="mcp:tools", resource_metadata="..."` (SDK
//   requireBearerAuth); tokens verified with jose: JWKS, iss, aud == this MCP URL exactly, exp, scope
// Tools:
//   whoami              {"sub","scopes","clientId"} of the access token
//   echo {text}         → text (structuredContent {echo})
//   slow {ms}           waits ms (default 30000); records in stats when it saw its abort signal
//                       (cancelled[]) or ran to the end (completed[])
//   ask {question?}     MRTR: answers `input_required` with an `elicitation/create` form request
//                       (key "name") and requestState ASK_REQUEST_STATE; on the retry carrying
//                       inputResponses → "Hello, NAME" (stats.mrtr records whether the state came back
//                       byte-exact). On a 2025-era request the SDK's legacy shim turns the same return
//                       value into a real server→client elicitation/create.
//   regional_echo {region, text}  `region` carries "x-mcp-header": "Region", so a modern client must
//                       send Mcp-Param-Region (the SDK answers 400 -32020 otherwise)
//   bad_header_tool     declares "x-mcp-header": "Bad Header" (not a token): a modern HTTP client
//                       must leave it out of tools/list
//   add_tool {name}     registers tool NAME (returns "NAME") and publishes tools list_changed: to
//                       subscriptions/listen streams (HTTP, modern) or on the connection (stdio)
//   tools/call of an unknown tool (e.g. no_such_tool) → JSON-RPC -32602 "Tool no_such_tool not found".
//   (Bad arguments for a known tool are an isError tool result in SDK v2, not a JSON-RPC error.)
// Test-only: GET /__test/stats → era-common.mjs makeStats() (cancelled[{tool,atMs}], calls, lastHeaders
//            {mcp-protocol-version, mcp-method, mcp-name, mcp-param-region, ...}, headerLog, mrtr, ...)
//            GET /__test/add-tool?name=N → same as the add_tool tool
// Prints one JSON line {"ready":true,"url":...,"port":...,"issuer":...,"legacy":...} once listening.
import { writeFileSync } from 'node:fs';
import http from 'node:http';
import { parseArgs } from 'node:util';
import {
    acceptedContent,
    createMcpHandler,
    fromJsonSchema,
    getOAuthProtectedResourceMetadataUrl,
    inputRequired,
    inputResponse,
    McpServer,
    oauthMetadataResponse,
    OAuthError,
    OAuthErrorCode,
    requireBearerAuth
} from '@modelcontextprotocol/server';
import { serveStdio } from '@modelcontextprotocol/server/stdio';
import * as z from 'zod';
import { ASK_REQUEST_STATE, MCP_SCOPE, authInfoVerifier, fetchAsMetadata, listenMcp, makeStats, runSlow } from './era-common.mjs';

const { values } = parseArgs({
    options: {
        issuer: { type: 'string' },
        port: { type: 'string' },
        legacy: { type: 'string' },
        stdio: { type: 'boolean' },
        'ready-file': { type: 'string' }
    }
});
const stdioMode = !!values.stdio;
const legacy = values.legacy ?? (stdioMode ? 'serve' : 'stateless');
const issuer = values.issuer ?? process.env.ISSUER;
const port = Number(values.port ?? process.env.PORT ?? 0);
const fail = message => {
    process.stderr.write(`sdk2-server: ${message}\n`);
    process.exit(2);
};
if (!stdioMode && !issuer) fail('--issuer URL (or ISSUER) is required');
if (!(stdioMode ? ['serve', 'reject'] : ['stateless', 'reject']).includes(legacy)) fail(`--legacy ${legacy} is not known`);
if (stdioMode && !values['ready-file']) fail('--stdio needs --ready-file PATH');

const { stats, recordPost, served, toolCalled } = makeStats();
const addedTools = []; // names registered through add_tool, served by every instance built later
const liveInstances = new Set(); // stdio: the connection's instances (add_tool registers on them too)
let handler; // HTTP: the createMcpHandler handler (its notify publishes to subscriptions/listen)

const text = (value, structured) => ({ content: [{ type: 'text', text: value }], ...(structured && { structuredContent: structured }) });
const NAME_SCHEMA = { type: 'object', properties: { name: { type: 'string', description: 'Your name' } }, required: ['name'] };

function addTool(name) {
    if (addedTools.includes(name)) return false;
    addedTools.push(name);
    stats.toolsAdded.push(name);
    // stdio: registering on a connected McpServer sends notifications/tools/list_changed by itself
    // (the modern stdio entry routes it to the open subscriptions/listen streams).
    for (const mcp of liveInstances) registerAdded(mcp, name);
    handler?.notify.toolsChanged();
    return true;
}

function registerAdded(mcp, name) {
    mcp.registerTool(name, { description: 'Registered at run time by add_tool' }, async () => {
        toolCalled(name);
        return text(name);
    });
}

/** The factory: one fresh McpServer per HTTP request (per connection on stdio), with every tool. */
function buildServer() {
    const mcp = new McpServer({ name: 'mcp-auth-agent-e2e-sdk2', version: '1.0.0' }, { capabilities: { tools: { listChanged: true } } });

    mcp.registerTool('whoami', { description: 'Returns the subject and scopes of the access token' }, async ctx => {
        toolCalled('whoami');
        const auth = ctx.http?.authInfo;
        const result = { sub: auth?.extra?.sub ?? null, scopes: auth?.scopes ?? [], clientId: auth?.clientId ?? null };
        return text(JSON.stringify(result), result);
    });

    mcp.registerTool('echo', { description: 'Echoes text', inputSchema: z.object({ text: z.string() }) }, async ({ text: value }) => {
        toolCalled('echo');
        return text(value, { echo: value });
    });

    mcp.registerTool('slow', {
        description: 'Waits ms milliseconds (default 30000); records whether it was cancelled',
        inputSchema: z.object({ ms: z.number().int().min(0).max(120000).optional() })
    }, async ({ ms }, ctx) => {
        toolCalled('slow');
        await runSlow(stats, ms ?? 30000, ctx.mcpReq.signal, ctx.mcpReq.id);
        return text(`waited ${ms ?? 30000} ms`);
    });

    mcp.registerTool('ask', {
        description: 'Asks the user for their name (MRTR elicitation) and greets them',
        inputSchema: z.object({ question: z.string().optional() })
    }, async ({ question }, ctx) => {
        toolCalled('ask');
        const reply = inputResponse(ctx.mcpReq.inputResponses, 'name');
        if (reply.kind === 'missing') {
            stats.mrtr.push({ tool: 'ask', round: 1, atMs: Date.now() });
            return inputRequired({
                inputRequests: { name: inputRequired.elicit({ message: question ?? 'What is your name?', requestedSchema: NAME_SCHEMA }) },
                requestState: ASK_REQUEST_STATE
            });
        }
        const answer = acceptedContent(ctx.mcpReq.inputResponses, 'name')?.name;
        const state = ctx.mcpReq.requestState();
        stats.mrtr.push({ tool: 'ask', round: 2, atMs: Date.now(), stateEchoed: state === ASK_REQUEST_STATE, action: reply.action ?? reply.kind, answer: answer ?? null });
        return typeof answer === 'string' ? text(`Hello, ${answer}`, { name: answer }) : text(`no answer (${reply.action ?? reply.kind})`);
    });

    mcp.registerTool('regional_echo', {
        description: 'Echoes text for a region; region is mirrored into the Mcp-Param-Region header',
        inputSchema: fromJsonSchema({
            type: 'object',
            properties: {
                region: { type: 'string', 'x-mcp-header': 'Region' },
                text: { type: 'string' }
            },
            required: ['region', 'text']
        })
    }, async ({ region, text: value }, ctx) => {
        toolCalled('regional_echo');
        const header = ctx.http?.req?.headers.get('mcp-param-region') ?? null;
        return text(`${region}: ${value}`, { region, echo: value, header });
    });

    // An x-mcp-header that is not an RFC 9110 token: a 2026-07-28 HTTP client must drop this tool from
    // tools/list (the SDK registers and lists it as it is).
    mcp.registerTool('bad_header_tool', {
        description: 'Declares an invalid x-mcp-header ("Bad Header"); must not reach a host through an HTTP client',
        inputSchema: fromJsonSchema({ type: 'object', properties: { value: { type: 'string', 'x-mcp-header': 'Bad Header' } } })
    }, async () => {
        toolCalled('bad_header_tool');
        return text('bad_header_tool was called');
    });

    mcp.registerTool('add_tool', {
        description: 'Registers a new tool NAME and sends notifications/tools/list_changed',
        inputSchema: z.object({ name: z.string().regex(/^[a-z][a-z0-9_]{0,30}$/) })
    }, async ({ name }) => {
        toolCalled('add_tool');
        return text(addTool(name) ? name : `${name} (already there)`);
    });

    for (const name of addedTools) registerAdded(mcp, name);
    return mcp;
}

// ---------------------------------------------------------------------------------------------
// stdio mode (self-check of the hosts without the proxy): no auth, stats on a side port

if (stdioMode) {
    const statsServer = http.createServer((req, res) => {
        const url = new URL(req.url, 'http://127.0.0.1');
        if (url.pathname === '/__test/stats') return sendJson(res, 200, stats);
        if (url.pathname === '/__test/add-tool') return sendJson(res, 200, { added: addTool(url.searchParams.get('name') ?? '') });
        sendJson(res, 404, { error: 'not found' });
    });
    await new Promise(resolve => statsServer.listen(0, '127.0.0.1', resolve));
    statsServer.unref();
    const handle = serveStdio(() => {
        const mcp = buildServer();
        liveInstances.add(mcp);
        const previous = mcp.server.onclose;
        mcp.server.onclose = () => {
            liveInstances.delete(mcp);
            previous?.();
        };
        return mcp;
    }, { legacy, onerror: e => process.stderr.write(`sdk2-server: ${e.message}\n`) });
    const statsUrl = `http://127.0.0.1:${statsServer.address().port}`;
    writeFileSync(values['ready-file'], `${JSON.stringify({ ready: true, stdio: true, statsUrl, legacy })}\n`);
    const stop = () => handle.close().finally(() => process.exit(0));
    process.on('SIGTERM', stop);
    process.on('SIGINT', stop);
} else {
    await serveHttp();
}

// ---------------------------------------------------------------------------------------------
// HTTP mode

async function serveHttp() {
    const asMetadata = await fetchAsMetadata(issuer);
    const { server, mcpUrl } = await listenMcp(port);

    const gate = requireBearerAuth({
        verifier: authInfoVerifier(asMetadata, mcpUrl, message => new OAuthError(OAuthErrorCode.InvalidToken, message)),
        requiredScopes: [MCP_SCOPE],
        resourceMetadataUrl: getOAuthProtectedResourceMetadataUrl(mcpUrl),
        expectedResource: mcpUrl
    });
    const metadataOptions = {
        oauthMetadata: asMetadata,
        resourceServerUrl: mcpUrl,
        scopesSupported: [MCP_SCOPE],
        resourceName: 'MCP Auth Agent e2e server (SDK v2)'
    };
    handler = createMcpHandler(buildServer, {
        legacy,
        onerror: e => process.stderr.write(`sdk2-server: ${e.message}\n`)
    });

    async function route(request, body) {
        const url = new URL(request.url);
        const metadata = oauthMetadataResponse(request, metadataOptions);
        if (metadata) return metadata;
        if (url.pathname === '/__test/stats' && request.method === 'GET') return Response.json(stats);
        if (url.pathname === '/__test/add-tool' && request.method === 'GET') {
            return Response.json({ added: addTool(url.searchParams.get('name') ?? '') });
        }
        if (url.pathname !== '/mcp') return Response.json({ error: 'not found' }, { status: 404 });

        let parsed;
        if (request.method === 'POST') {
            stats.posts += 1;
            try { parsed = JSON.parse(body.toString('utf8')); } catch { /* the handler answers the parse error */ }
        } else if (request.method === 'GET') stats.gets += 1;
        else if (request.method === 'DELETE') stats.deletes += 1;
        const entry = request.method === 'POST' ? recordPost(name => request.headers.get(name), parsed) : null;
        const auth = await gate(request);
        if (auth instanceof Response) {
            if (auth.status === 401) stats.mcpUnauthorized += 1;
            if (entry) entry.status = auth.status;
            return auth;
        }
        if (entry) served(entry, parsed);
        const response = await handler.fetch(request, { authInfo: auth });
        if (entry) entry.status = response.status;
        return response;
    }

    server.on('request', (req, res) => serveWebHandler(req, res, route, Number(mcpUrl.port)));
    const stop = () => {
        handler.close().catch(() => {});
        server.close(() => process.exit(0));
        server.closeAllConnections();
    };
    process.on('SIGTERM', stop);
    process.on('SIGINT', stop);
    process.stdout.write(`${JSON.stringify({ ready: true, url: mcpUrl.href, port: Number(mcpUrl.port), issuer, legacy })}\n`);
}

// ---------------------------------------------------------------------------------------------
// node:http ↔ web-standard Request/Response (what @modelcontextprotocol/node's toNodeHandler does;
// that package is not installed). The Request's signal aborts when the client goes away, which is
// how the SDK learns that a modern request was cancelled (2026-07-28: closing the stream cancels).

const MAX_BODY = 4 * 1024 * 1024;

async function serveWebHandler(req, res, route, actualPort) {
    const abort = new AbortController();
    res.on('close', () => { if (!res.writableFinished) abort.abort(new Error('client closed the connection')); });
    try {
        const chunks = [];
        let size = 0;
        for await (const chunk of req) {
            size += chunk.length;
            if (size > MAX_BODY) return sendJson(res, 413, { error: 'body too large' });
            chunks.push(chunk);
        }
        const body = Buffer.concat(chunks);
        const headers = new Headers();
        for (const [name, value] of Object.entries(req.headers)) {
            for (const v of Array.isArray(value) ? value : [value]) headers.append(name, v);
        }
        const request = new Request(`http://127.0.0.1:${actualPort}${req.url}`, {
            method: req.method,
            headers,
            body: ['GET', 'HEAD'].includes(req.method) ? undefined : body,
            signal: abort.signal
        });
        const response = await route(request, body);
        res.writeHead(response.status, Object.fromEntries(response.headers));
        if (!response.body) return res.end();
        const reader = response.body.getReader();
        abort.signal.addEventListener('abort', () => reader.cancel().catch(() => {}), { once: true });
        for (;;) {
            const { done, value } = await reader.read();
            if (done) break;
            if (!res.write(value)) await new Promise(resolve => res.once('drain', resolve).once('close', resolve));
        }
        res.end();
    } catch (e) {
        if (abort.signal.aborted) return;
        process.stderr.write(`sdk2-server: ${e.message}\n`);
        if (!res.headersSent) sendJson(res, 500, { jsonrpc: '2.0', error: { code: -32603, message: 'Internal error' }, id: null });
        else res.destroy();
    }
}

function sendJson(res, status, value) {
    res.writeHead(status, { 'Content-Type': 'application/json' }).end(JSON.stringify(value));
}
