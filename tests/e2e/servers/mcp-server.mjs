// Real MCP server (Streamable HTTP, @modelcontextprotocol/sdk) protected by JWT access tokens from
// auth-server.mjs. Binds 127.0.0.1 only; the MCP endpoint is http://127.0.0.1:PORT/mcp.
//
//   node mcp-server.mjs --issuer http://127.0.0.1:AS_PORT [--port N]     (env ISSUER, PORT; 0 = ephemeral)
//
// - RFC 9728 metadata at /.well-known/oauth-protected-resource/mcp (SDK mcpAuthMetadataRouter; it also
//   mirrors the AS metadata at /.well-known/oauth-authorization-server on this origin)
// - 401 with `WWW-Authenticate: Bearer error=..., scope="mcp:tools", resource_metadata="..."` (SDK requireBearerAuth)
// - tokens verified with jose: issuer's JWKS, iss, aud == this MCP URL exactly, exp, scope mcp:tools
// - one tool, `whoami` -> {"sub":..., "scopes":[...], "clientId":...}
// - test-only: GET /__test/check (Authorization: Bearer X) -> 200 {"ok":true,"sub":...} or 401 {"ok":false}
//              GET /__test/stats -> {"checks","accepted","rejected","mcpRequests","mcpUnauthorized" (401s at /mcp)}
// Prints one JSON line {"ready":true,"url":...,"port":...,"issuer":...} on stdout once listening.
import http from 'node:http';
import { parseArgs } from 'node:util';
import { createRemoteJWKSet, jwtVerify } from 'jose';
import { McpServer } from '@modelcontextprotocol/sdk/server/mcp.js';
import { StreamableHTTPServerTransport } from '@modelcontextprotocol/sdk/server/streamableHttp.js';
import { createMcpExpressApp } from '@modelcontextprotocol/sdk/server/express.js';
import { getOAuthProtectedResourceMetadataUrl, mcpAuthMetadataRouter } from '@modelcontextprotocol/sdk/server/auth/router.js';
import { requireBearerAuth } from '@modelcontextprotocol/sdk/server/auth/middleware/bearerAuth.js';
import { InvalidTokenError } from '@modelcontextprotocol/sdk/server/auth/errors.js';

const { values } = parseArgs({ options: { issuer: { type: 'string' }, port: { type: 'string' } } });
const issuer = values.issuer ?? process.env.ISSUER;
const port = Number(values.port ?? process.env.PORT ?? 0);
if (!issuer) {
    process.stderr.write('mcp-server: --issuer URL (or ISSUER) is required\n');
    process.exit(2);
}
const MCP_SCOPE = 'mcp:tools';
const stats = { checks: 0, accepted: 0, rejected: 0, mcpRequests: 0, mcpUnauthorized: 0 };

// AS metadata, fetched once (the AS is started first).
const asMetadata = await (await fetch(new URL('/.well-known/oauth-authorization-server', issuer))).json();
if (asMetadata.issuer !== issuer) throw new Error(`AS metadata issuer mismatch: ${asMetadata.issuer}`);
const jwks = createRemoteJWKSet(new URL(asMetadata.jwks_uri));

const server = http.createServer();
await new Promise((resolve, reject) => {
    server.once('error', reject);
    server.listen(port, '127.0.0.1', resolve);
});
const actualPort = server.address().port;
const mcpUrl = new URL(`http://127.0.0.1:${actualPort}/mcp`);

async function verifyAccessToken(token) {
    try {
        const { payload } = await jwtVerify(token, jwks, {
            issuer,
            audience: mcpUrl.href,
            typ: 'at+jwt',
            algorithms: ['RS256', 'PS256', 'ES256']
        });
        const scopes = typeof payload.scope === 'string' ? payload.scope.split(' ') : [];
        return {
            token,
            clientId: String(payload.client_id ?? ''),
            scopes,
            expiresAt: payload.exp,
            resource: mcpUrl,
            extra: { sub: payload.sub }
        };
    } catch (e) {
        throw new InvalidTokenError(`token rejected: ${e.code ?? e.name}`);
    }
}

const app = createMcpExpressApp({ host: '127.0.0.1' });
app.use(mcpAuthMetadataRouter({
    oauthMetadata: asMetadata,
    resourceServerUrl: mcpUrl,
    scopesSupported: [MCP_SCOPE],
    resourceName: 'MCP Auth Agent e2e server'
}));

app.get('/__test/stats', (_req, res) => res.json(stats));
app.get('/__test/check', async (req, res) => {
    stats.checks += 1;
    const m = /^Bearer (.+)$/.exec(req.headers.authorization ?? '');
    try {
        if (!m) throw new Error('no bearer');
        const info = await verifyAccessToken(m[1]);
        if (!info.scopes.includes(MCP_SCOPE)) throw new Error('scope');
        stats.accepted += 1;
        res.json({ ok: true, sub: info.extra.sub, scopes: info.scopes, exp: info.expiresAt });
    } catch (e) {
        stats.rejected += 1;
        res.status(401).json({ ok: false, reason: e.message });
    }
});

const bearer = requireBearerAuth({
    verifier: { verifyAccessToken },
    requiredScopes: [MCP_SCOPE],
    resourceMetadataUrl: getOAuthProtectedResourceMetadataUrl(mcpUrl),
    expectedResource: mcpUrl
});

function buildMcpServer() {
    const mcp = new McpServer({ name: 'mcp-auth-agent-e2e', version: '1.0.0' });
    mcp.registerTool('whoami', { description: 'Returns the subject and scopes of the access token' }, async extra => {
        const auth = extra.authInfo;
        const result = { sub: auth?.extra?.sub ?? null, scopes: auth?.scopes ?? [], clientId: auth?.clientId ?? null };
        return { content: [{ type: 'text', text: JSON.stringify(result) }], structuredContent: result };
    });
    return mcp;
}

// Stateless Streamable HTTP: one server + transport per request.
// Counts the 401s the MCP endpoint answers (a proxy holding an expired token meets one, then retries).
const countUnauthorized = (_req, res, next) => {
    res.on('finish', () => { if (res.statusCode === 401) stats.mcpUnauthorized += 1; });
    next();
};

app.all('/mcp', countUnauthorized, bearer, async (req, res) => {
    stats.mcpRequests += 1;
    if (req.method !== 'POST') {
        res.status(405).set('Allow', 'POST').json({ jsonrpc: '2.0', error: { code: -32000, message: 'Method not allowed' }, id: null });
        return;
    }
    const mcp = buildMcpServer();
    const transport = new StreamableHTTPServerTransport({ sessionIdGenerator: undefined, enableJsonResponse: true });
    res.on('close', () => {
        transport.close().catch(() => {});
        mcp.close().catch(() => {});
    });
    try {
        await mcp.connect(transport);
        await transport.handleRequest(req, res, req.body);
    } catch (e) {
        process.stderr.write(`mcp-server: ${e.message}\n`);
        if (!res.headersSent) res.status(500).json({ jsonrpc: '2.0', error: { code: -32603, message: 'Internal error' }, id: null });
    }
});

server.on('request', app);
const stop = () => {
    server.close(() => process.exit(0));
    server.closeAllConnections();
};
process.on('SIGTERM', stop);
process.on('SIGINT', stop);
process.stdout.write(`${JSON.stringify({ ready: true, url: mcpUrl.href, port: actualPort, issuer })}\n`);
