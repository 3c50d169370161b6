// Real 2025-11-25 MCP server built with the TypeScript SDK v1 (@modelcontextprotocol/sdk 1.32.2) with
// Streamable HTTP *sessions* (Mcp-Session-Id, a GET stream, DELETE), so that server→client requests
// and unsolicited list_changed notifications work — what eras.test.mjs needs from a legacy server and
// what the stateless mcp-server.mjs cannot do. Protected like mcp-server.mjs by JWT access tokens from
// auth-server.mjs. Binds 127.0.0.1 only; the MCP endpoint is http://127.0.0.1:PORT/mcp.
//
//   node sdk1-server.mjs --issuer http://127.0.0.1:AS_PORT [--port N]
//   node sdk1-server.mjs --stdio --ready-file PATH      (self-check of the hosts: no auth, stdio)
//
// - RFC 9728 metadata at /.well-known/oauth-protected-resource/mcp (SDK mcpAuthMetadataRouter)
// - 401 `WWW-Authenticate: Bearer error=..., scope="mcp:tools", resource_metadata="..."` (SDK
//   requireBearerAuth); tokens verified with jose (JWKS, iss, aud == this MCP URL exactly, exp, scope)
// - a modern (2026-07-28) request is answered as any 2025 server would: no session → 400 -32000
//   "Bad Request: No valid session ID provided" (not a modern error, so a dual-era client falls back)
// Tools, as in sdk2-server.mjs: whoami, echo {text}, slow {ms} (cancellation recorded), regional_echo
//   {region, text} (no x-mcp-header here: a 2025 server does not read Mcp-Param-*), add_tool {name}
//   (registers NAME in every session → notifications/tools/list_changed on each GET stream), and
//   ask {question?}: a 2025-style server→client `elicitation/create` on the call's SSE stream, then
//   "Hello, NAME". tools/call of an unknown tool → JSON-RPC -32602 "Tool NAME not found" (SDK v1 would
//   wrap it into an isError result; unwrapped here to match SDK v2).
// Test-only: GET /__test/stats (era-common.mjs makeStats; elicitations[] instead of mrtr[]),
//            GET /__test/add-tool?name=N
// Prints one JSON line {"ready":true,"url":...,"port":...,"issuer":...} on stdout once listening.
import { randomUUID } from 'node:crypto';
import { writeFileSync } from 'node:fs';
import http from 'node:http';
import { parseArgs } from 'node:util';
import * as z from 'zod';
import { McpServer } from '@modelcontextprotocol/sdk/server/mcp.js';
import { StdioServerTransport } from '@modelcontextprotocol/sdk/server/stdio.js';
import { StreamableHTTPServerTransport } from '@modelcontextprotocol/sdk/server/streamableHttp.js';
import { createMcpExpressApp } from '@modelcontextprotocol/sdk/server/express.js';
import { getOAuthProtectedResourceMetadataUrl, mcpAuthMetadataRouter } from '@modelcontextprotocol/sdk/server/auth/router.js';
import { requireBearerAuth } from '@modelcontextprotocol/sdk/server/auth/middleware/bearerAuth.js';
import { InvalidTokenError } from '@modelcontextprotocol/sdk/server/auth/errors.js';
import { ErrorCode, isInitializeRequest } from '@modelcontextprotocol/sdk/types.js';
import { MCP_SCOPE, authInfoVerifier, fetchAsMetadata, listenMcp, makeStats, runSlow } from './era-common.mjs';

const { values } = parseArgs({
    options: { issuer: { type: 'string' }, port: { type: 'string' }, stdio: { type: 'boolean' }, 'ready-file': { type: 'string' } }
});
const issuer = values.issuer ?? process.env.ISSUER;
const port = Number(values.port ?? process.env.PORT ?? 0);
if (!values.stdio && !issuer) {
    process.stderr.write('sdk1-server: --issuer URL (or ISSUER) is required\n');
    process.exit(2);
}
if (values.stdio && !values['ready-file']) {
    process.stderr.write('sdk1-server: --stdio needs --ready-file PATH\n');
    process.exit(2);
}

const { stats, recordPost, served, toolCalled } = makeStats();
const addedTools = [];
const liveServers = new Set(); // one McpServer per session (stdio: one)
const text = (value, structured) => ({ content: [{ type: 'text', text: value }], ...(structured && { structuredContent: structured }) });
const NAME_SCHEMA = { type: 'object', properties: { name: { type: 'string', description: 'Your name' } }, required: ['name'] };

function addTool(name) {
    if (addedTools.includes(name)) return false;
    addedTools.push(name);
    stats.toolsAdded.push(name);
    // Registering on a connected McpServer sends notifications/tools/list_changed (on the GET stream).
    for (const mcp of liveServers) registerAdded(mcp, name);
    return true;
}

function registerAdded(mcp, name) {
    mcp.registerTool(name, { description: 'Registered at run time by add_tool' }, async () => {
        toolCalled(name);
        return text(name);
    });
}

function buildServer() {
    const mcp = new McpServer({ name: 'mcp-auth-agent-e2e-sdk1', version: '1.0.0' }, { capabilities: { tools: { listChanged: true } } });

    mcp.registerTool('whoami', { description: 'Returns the subject and scopes of the access token' }, async extra => {
        toolCalled('whoami');
        const auth = extra.authInfo;
        const result = { sub: auth?.extra?.sub ?? null, scopes: auth?.scopes ?? [], clientId: auth?.clientId ?? null };
        return text(JSON.stringify(result), result);
    });

    mcp.registerTool('echo', { description: 'Echoes text', inputSchema: { text: z.string() } }, async ({ text: value }) => {
        toolCalled('echo');
        return text(value, { echo: value });
    });

    mcp.registerTool('slow', {
        description: 'Waits ms milliseconds (default 30000); records whether it was cancelled',
        inputSchema: { ms: z.number().int().min(0).max(120000).optional() }
    }, async ({ ms }, extra) => {
        toolCalled('slow');
        await runSlow(stats, ms ?? 30000, extra.signal, extra.requestId);
        return text(`waited ${ms ?? 30000} ms`);
    });

    mcp.registerTool('ask', {
        description: 'Asks the user for their name (elicitation) and greets them',
        inputSchema: { question: z.string().optional() }
    }, async ({ question }, extra) => {
        toolCalled('ask');
        // relatedRequestId: the request goes out on this call's SSE stream (2025-11-25).
        const result = await mcp.server.elicitInput(
            { mode: 'form', message: question ?? 'What is your name?', requestedSchema: NAME_SCHEMA },
            { relatedRequestId: extra.requestId, signal: extra.signal, timeout: 30000 }
        );
        const answer = result.action === 'accept' ? result.content?.name : undefined;
        stats.elicitations.push({ tool: 'ask', atMs: Date.now(), action: result.action, answer: answer ?? null });
        return typeof answer === 'string' ? text(`Hello, ${answer}`, { name: answer }) : text(`no answer (${result.action})`);
    });

    mcp.registerTool('regional_echo', {
        description: 'Echoes text for a region',
        inputSchema: { region: z.string(), text: z.string() }
    }, async ({ region, text: value }, extra) => {
        toolCalled('regional_echo');
        return text(`${region}: ${value}`, { region, echo: value, header: extra.requestInfo?.headers?.['mcp-param-region'] ?? null });
    });

    mcp.registerTool('add_tool', {
        description: 'Registers a new tool NAME and sends notifications/tools/list_changed',
        inputSchema: { name: z.string().regex(/^[a-z][a-z0-9_]{0,30}$/) }
    }, async ({ name }) => {
        toolCalled('add_tool');
        return text(addTool(name) ? name : `${name} (already there)`);
    });

    for (const name of addedTools) registerAdded(mcp, name);

    // SDK v1 turns every error of tools/call into an isError result, even for an unknown tool; answer
    // that one as a JSON-RPC -32602 like SDK v2 does, so the test can follow a server error end to end.
    const inner = mcp.server._requestHandlers.get('tools/call');
    mcp.server._requestHandlers.set('tools/call', (request, extra) => {
        const name = request.params?.name;
        if (typeof name === 'string' && !mcp._registeredTools[name]) {
            // Not an McpError: its message would carry an "MCP error -32602: " prefix onto the wire.
            throw Object.assign(new Error(`Tool ${name} not found`), { code: ErrorCode.InvalidParams });
        }
        return inner(request, extra);
    });
    return mcp;
}

function track(mcp) {
    liveServers.add(mcp);
    const previous = mcp.server.onclose;
    mcp.server.onclose = () => {
        liveServers.delete(mcp);
        previous?.();
    };
    return mcp;
}

// ---------------------------------------------------------------------------------------------
// stdio mode (self-check of the hosts without the proxy): no auth, stats on a side port

if (values.stdio) {
    const statsServer = http.createServer((req, res) => {
        const url = new URL(req.url, 'http://127.0.0.1');
        const send = (status, value) => res.writeHead(status, { 'Content-Type': 'application/json' }).end(JSON.stringify(value));
        if (url.pathname === '/__test/stats') return send(200, stats);
        if (url.pathname === '/__test/add-tool') return send(200, { added: addTool(url.searchParams.get('name') ?? '') });
        send(404, { error: 'not found' });
    });
    await new Promise(resolve => statsServer.listen(0, '127.0.0.1', resolve));
    statsServer.unref();
    const mcp = track(buildServer());
    await mcp.connect(new StdioServerTransport());
    writeFileSync(values['ready-file'], `${JSON.stringify({ ready: true, stdio: true, statsUrl: `http://127.0.0.1:${statsServer.address().port}` })}\n`);
    const stop = () => mcp.close().finally(() => process.exit(0));
    process.on('SIGTERM', stop);
    process.on('SIGINT', stop);
    process.stdin.on('end', stop);
} else {
    await serveHttp();
}

// ---------------------------------------------------------------------------------------------
// HTTP mode: 2025-11-25 Streamable HTTP with sessions

async function serveHttp() {
    const asMetadata = await fetchAsMetadata(issuer);
    const { server, mcpUrl } = await listenMcp(port);
    const verifier = authInfoVerifier(asMetadata, mcpUrl, message => new InvalidTokenError(message));

    const app = createMcpExpressApp({ host: '127.0.0.1' });
    app.use(mcpAuthMetadataRouter({
        oauthMetadata: asMetadata,
        resourceServerUrl: mcpUrl,
        scopesSupported: [MCP_SCOPE],
        resourceName: 'MCP Auth Agent e2e server (SDK v1, sessions)'
    }));
    app.get('/__test/stats', (_req, res) => res.json(stats));
    app.get('/__test/add-tool', (req, res) => res.json({ added: addTool(String(req.query.name ?? '')) }));

    const bearer = requireBearerAuth({
        verifier,
        requiredScopes: [MCP_SCOPE],
        resourceMetadataUrl: getOAuthProtectedResourceMetadataUrl(mcpUrl),
        expectedResource: mcpUrl
    });
    const record = (req, res, next) => {
        if (req.method === 'POST') stats.posts += 1;
        else if (req.method === 'GET') stats.gets += 1;
        else if (req.method === 'DELETE') stats.deletes += 1;
        req.eraEntry = req.method === 'POST' ? recordPost(name => req.headers[name], req.body) : null;
        res.on('finish', () => {
            if (res.statusCode === 401) stats.mcpUnauthorized += 1;
            if (req.eraEntry) req.eraEntry.status = res.statusCode;
        });
        next();
    };

    const sessions = new Map(); // Mcp-Session-Id → transport
    app.all('/mcp', record, bearer, async (req, res) => {
        if (req.eraEntry) served(req.eraEntry, req.body);
        const sessionId = req.headers['mcp-session-id'];
        try {
            let transport = typeof sessionId === 'string' ? sessions.get(sessionId) : undefined;
            if (!transport && req.method === 'POST' && !sessionId && isInitializeRequest(req.body)) {
                transport = new StreamableHTTPServerTransport({
                    sessionIdGenerator: () => randomUUID(),
                    onsessioninitialized: id => sessions.set(id, transport)
                });
                transport.onclose = () => { if (transport.sessionId) sessions.delete(transport.sessionId); };
                await track(buildServer()).connect(transport);
            }
            if (!transport) {
                const status = sessionId ? 404 : 400;
                res.status(status).json({
                    jsonrpc: '2.0',
                    error: { code: -32000, message: sessionId ? 'Session not found' : 'Bad Request: No valid session ID provided' },
                    id: req.body?.id ?? null
                });
                return;
            }
            await transport.handleRequest(req, res, req.body);
        } catch (e) {
            process.stderr.write(`sdk1-server: ${e.message}\n`);
            if (!res.headersSent) res.status(500).json({ jsonrpc: '2.0', error: { code: -32603, message: 'Internal error' }, id: null });
        }
    });

    server.on('request', app);
    const stop = () => {
        for (const transport of sessions.values()) transport.close().catch(() => {});
        server.close(() => process.exit(0));
        server.closeAllConnections();
    };
    process.on('SIGTERM', stop);
    process.on('SIGINT', stop);
    process.stdout.write(`${JSON.stringify({ ready: true, url: mcpUrl.href, port: Number(mcpUrl.port), issuer })}\n`);
}
