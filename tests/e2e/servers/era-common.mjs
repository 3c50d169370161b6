// What sdk2-server.mjs (SDK v2) and sdk1-server.mjs (SDK v1) share, so that eras.test.mjs can read
// both the same way: verifying auth-server.mjs's JWTs, the /__test/stats record (cancellations, tool
// calls, MRTR rounds, the MCP headers of each POST) and a sleep that ends when its call is cancelled.
// Nothing here keeps or prints a token.
import http from 'node:http';
import { createRemoteJWKSet, jwtVerify } from 'jose';

export const MCP_SCOPE = 'mcp:tools';

/** The fixed answer the `ask` tool's requestState carries: non-ASCII, quotes, a JSON look-alike. */
export const ASK_REQUEST_STATE = 'round-1 {"state":"äö ✓ \\"quoted\\""} ';

/** AS metadata (RFC 8414) of `issuer`, which must name itself exactly. */
export async function fetchAsMetadata(issuer) {
    const res = await fetch(new URL('/.well-known/oauth-authorization-server', issuer), { signal: AbortSignal.timeout(10000) });
    const metadata = await res.json();
    if (metadata.issuer !== issuer) throw new Error(`AS metadata issuer mismatch: ${metadata.issuer}`);
    return metadata;
}

/**
 * verify(token) → {sub, clientId, scopes, exp} for a JWT access token from `asMetadata`'s issuer whose
 * audience is exactly `audience` (the MCP URL); throws with the jose error code otherwise.
 */
export function jwtVerifier(asMetadata, audience) {
    const jwks = createRemoteJWKSet(new URL(asMetadata.jwks_uri));
    return async token => {
        const { payload } = await jwtVerify(token, jwks, {
            issuer: asMetadata.issuer,
            audience,
            typ: 'at+jwt',
            algorithms: ['RS256', 'PS256', 'ES256']
        });
        return {
            sub: payload.sub,
            clientId: String(payload.client_id ?? ''),
            scopes: typeof payload.scope === 'string' ? payload.scope.split(' ') : [],
            exp: payload.exp
        };
    };
}

/** An HTTP server listening on 127.0.0.1:`port` (0: any free port) and its MCP URL, …/mcp. */
export async function listenMcp(port) {
    const server = http.createServer();
    await new Promise((resolve, reject) => {
        server.once('error', reject);
        server.listen(port, '127.0.0.1', resolve);
    });
    return { server, mcpUrl: new URL(`http://127.0.0.1:${server.address().port}/mcp`) };
}

/**
 * The SDK's token verifier ({verifyAccessToken}) for JWTs from `asMetadata`'s issuer whose audience
 * is `mcpUrl`, answering the SDK's AuthInfo; a refused token throws `invalid(message)`, the SDK's
 * own invalid-token error (each SDK has its class).
 */
export function authInfoVerifier(asMetadata, mcpUrl, invalid) {
    const verify = jwtVerifier(asMetadata, mcpUrl.href);
    return {
        async verifyAccessToken(token) {
            try {
                const claims = await verify(token);
                return { token, clientId: claims.clientId, scopes: claims.scopes, expiresAt: claims.exp, resource: mcpUrl, extra: { sub: claims.sub } };
            } catch (e) {
                throw invalid(`token rejected: ${e.code ?? e.name}`);
            }
        }
    };
}

/** Resolves after ms, or rejects with the signal's reason as soon as `signal` aborts. */
export function abortableSleep(ms, signal) {
    return new Promise((resolve, reject) => {
        if (signal?.aborted) return reject(signal.reason ?? new Error('aborted'));
        const timer = setTimeout(done, ms);
        function done() {
            signal?.removeEventListener('abort', onAbort);
            resolve();
        }
        function onAbort() {
            clearTimeout(timer);
            reject(signal.reason ?? new Error('aborted'));
        }
        signal?.addEventListener('abort', onAbort, { once: true });
    });
}

// The request headers a 2026-07-28 client derives from the body (plus the 2025 session id), as recorded.
const RECORDED_HEADERS = ['mcp-protocol-version', 'mcp-method', 'mcp-name', 'mcp-param-region', 'mcp-session-id', 'last-event-id'];
const HEADER_LOG_MAX = 200;

/**
 * The test-only record behind GET /__test/stats. All times are Date.now() on this machine, so a test
 * can compare them with its own clock.
 */
export function makeStats() {
    const stats = {
        posts: 0, // POSTs at the MCP endpoint (authorized or not)
        gets: 0,
        deletes: 0,
        mcpUnauthorized: 0, // 401 answers at the MCP endpoint
        eras: { modern: 0, legacy: 0 }, // authorized POSTs by whether the body carried the 2026 _meta envelope
        methods: {}, // JSON-RPC method → count (authorized POSTs; for stdio: every request)
        calls: 0, // tools/call requests that reached a tool
        byTool: {}, // tool → calls that reached it
        cancelled: [], // {tool, atMs, requestId}: a tool saw its abort signal
        completed: [], // {tool, atMs, requestId}: a slow call ran to its end (was not cancelled)
        mrtr: [], // {tool, round, stateEchoed, answer}: each `ask` entry (round 1: no input yet)
        elicitations: [], // {tool, action, answer}: 2025-style server→client elicitation results
        toolsAdded: [], // names registered at run time (each one is a list_changed)
        listens: 0, // subscriptions/listen requests seen (modern only)
        lastHeaders: null, // RECORDED_HEADERS of the last authorized POST, plus its JSON-RPC method
        headerLog: [] // the same for the last HEADER_LOG_MAX POSTs, with atMs and the HTTP status
    };
    return {
        stats,
        /** Records one POST: getHeader(name) reads a request header; body is the parsed JSON or undefined. */
        recordPost(getHeader, body) {
            const entry = { atMs: Date.now(), jsonrpcMethod: typeof body?.method === 'string' ? body.method : null, id: body?.id ?? null };
            if (entry.jsonrpcMethod === 'tools/call' && typeof body.params?.name === 'string') entry.toolName = body.params.name;
            for (const name of RECORDED_HEADERS) {
                const value = getHeader(name);
                if (value !== undefined && value !== null) entry[name] = String(value);
            }
            stats.headerLog.push(entry);
            if (stats.headerLog.length > HEADER_LOG_MAX) stats.headerLog.shift();
            return entry;
        },
        /** The POST recorded by recordPost was authorized and is about to be served. */
        served(entry, body) {
            stats.lastHeaders = entry;
            const modern = !!body?.params?._meta?.['io.modelcontextprotocol/protocolVersion'];
            stats.eras[modern ? 'modern' : 'legacy'] += 1;
            if (entry.jsonrpcMethod) stats.methods[entry.jsonrpcMethod] = (stats.methods[entry.jsonrpcMethod] ?? 0) + 1;
            if (entry.jsonrpcMethod === 'subscriptions/listen') stats.listens += 1;
        },
        toolCalled(tool) {
            stats.calls += 1;
            stats.byTool[tool] = (stats.byTool[tool] ?? 0) + 1;
        }
    };
}

/** Runs the `slow` tool's wait: records completion or cancellation (when signal aborts) in stats. */
export async function runSlow(stats, ms, signal, requestId) {
    try {
        await abortableSleep(ms, signal);
    } catch (e) {
        stats.cancelled.push({ tool: 'slow', atMs: Date.now(), requestId: requestId ?? null });
        throw e;
    }
    stats.completed.push({ tool: 'slow', atMs: Date.now(), requestId: requestId ?? null });
}
