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
// Working OAuth scenarios (a complete flow that the scripted browser can finish): 401 with
// resource_metadata and scope, RFC 9728 document, RFC 8414 metadata for issuer
// http://127.0.0.1:PORT/<name> at the path-insertion URL (S256, RFC 9207 `iss` advertised and sent),
// DCR at /<name>/register, /<name>/authorize that checks client_id, redirect_uri (loopback port may
// differ, RFC 8252) and the S256 challenge and 302s straight to the redirect_uri with code, state
// and iss, /<name>/token (authorization_code with PKCE check; refresh_token with rotation). The MCP
// path answers 200 to a Bearer token this server issued, 401 otherwise. What each one does wrong:
//   crlf-token   the access token is "abc\r\nX-Injected: yes" (token_type Bearer), with a normal
//                refresh token
//   zero-expiry  a normal access token with expires_in: 0 and a refresh token
//   secret-none  registration answers 201 with client_secret "UNUSED-SECRET-XYZ" and
//                token_endpoint_auth_method "none"; tokens are normal
//

// Test-only: GET /__test/stats -> {"<scenario>": {"probe", "prm", "asMetadata", "register",
//            "authorize", "token", "hugeBytesSent"...}, "unknown": N, "injectedHeader": N}: what each
//            scenario was asked. The OAuth scenarios add "tokenGrants" {authorization_code,
//            refresh_token, other}, "tokenErrors", "secretPresented" (token requests carrying a
//            client_secret or Basic auth), "mcpAuthorized" (MCP requests with a token it issued).
//            "injectedHeader" counts requests to any path that carried an X-Injected header.
// Prints one JSON line {"ready":true,"port":...,"base":...} on stdout once listening.
import { createHash, randomBytes } from 'node:crypto';
import http from 'node:http';

const port = Number(process.argv[2] ?? process.env.PORT ?? 0);
const OAUTH_SCENARIOS = ['crlf-token', 'zero-expiry', 'secret-none'];
const SCENARIOS = ['notjson', 'huge', 'loop', 'insecure-as', 'silent', 'noclientid', ...OAUTH_SCENARIOS];
const UNUSED_SECRET = 'UNUSED-SECRET-XYZ';
const HUGE_BYTES = Number(process.env.HOSTILE_HUGE_BYTES ?? 10 * 1024 * 1024);

const stats = Object.fromEntries(SCENARIOS.map(s => [s, { probe: 0, prm: 0, asMetadata: 0, register: 0, authorize: 0, token: 0 }]));
stats.huge.hugeBytesSent = 0;
stats.huge.hugeAborted = 0;
stats.unknown = 0;
stats.injectedHeader = 0;
for (const name of OAUTH_SCENARIOS) {
    Object.assign(stats[name], { tokenGrants: { authorization_code: 0, refresh_token: 0, other: 0 }, tokenErrors: 0, secretPresented: 0, mcpAuthorized: 0 });
}
// OAuth scenario state: registered clients, outstanding codes, live tokens (per scenario).
const oauth = Object.fromEntries(OAUTH_SCENARIOS.map(n => [n, { clients: new Map(), codes: new Map(), access: new Set(), refresh: new Set() }]));
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
    case 'crlf-token':
    case 'zero-expiry':
    case 'secret-none':
        json(res, 200, validPrm(name, [issuerOf(name)]));
        return;
    default:
        json(res, 404, { error: 'not_found' });
    }
}

// ---------------------------------------------------------------------------------------------
// The working OAuth scenarios

const issuerOf = name => `${base}/${name}`;
const b64url = buf => Buffer.from(buf).toString('base64url');
const opaque = prefix => `${prefix}-${randomBytes(24).toString('base64url')}`;

function readBody(req, done) {
    let body = '';
    let tooBig = false;
    req.on('data', c => {
        if (body.length + c.length > 65536) tooBig = true;
        else body += c;
    });
    req.on('end', () => done(tooBig ? null : body));
}

function asMetadata(name) {
    const issuer = issuerOf(name);
    return {
        issuer,
        authorization_endpoint: `${issuer}/authorize`,
        token_endpoint: `${issuer}/token`,
        registration_endpoint: `${issuer}/register`,
        response_types_supported: ['code'],
        grant_types_supported: ['authorization_code', 'refresh_token'],
        code_challenge_methods_supported: ['S256'],
        token_endpoint_auth_methods_supported: ['none'],
        scopes_supported: ['mcp:tools'],
        authorization_response_iss_parameter_supported: true
    };
}

function oauthChallenge(res, name) {
    const params = ['error="invalid_token"', 'error_description="Missing Authorization header"', 'scope="mcp:tools"',
        `resource_metadata="${prmUrl(name)}"`];
    json(res, 401, { error: 'invalid_token' }, { 'WWW-Authenticate': `Bearer ${params.join(', ')}` });
}

// MCP endpoint of an OAuth scenario: 200 (a bare JSON-RPC answer) for a token issued here, else 401.
function oauthMcp(req, res, name) {
    const m = /^Bearer (.+)$/.exec(req.headers.authorization ?? '');
    if (!m || !oauth[name].access.has(m[1])) return oauthChallenge(res, name);
    stats[name].mcpAuthorized++;
    readBody(req, body => {
        let id = null;
        try { id = JSON.parse(body ?? '').id ?? null; } catch { /* answer anyway */ }
        json(res, 200, { jsonrpc: '2.0', id, result: {} });
    });
}

function oauthRegister(req, res, name) {
    stats[name].register++;
    readBody(req, body => {
        let sent;
        try { sent = JSON.parse(body ?? ''); } catch { return json(res, 400, { error: 'invalid_client_metadata' }); }
        const redirectUris = Array.isArray(sent?.redirect_uris) ? sent.redirect_uris.filter(u => typeof u === 'string') : [];
        if (!redirectUris.length) return json(res, 400, { error: 'invalid_redirect_uri' });
        const clientId = `${name}-client-${oauth[name].clients.size + 1}`;
        oauth[name].clients.set(clientId, { redirectUris });
        const answer = {
            client_id: clientId,
            client_id_issued_at: Math.floor(Date.now() / 1000),
            client_name: sent.client_name ?? 'client',
            redirect_uris: redirectUris,
            grant_types: sent.grant_types ?? ['authorization_code', 'refresh_token'],
            response_types: ['code'],
            token_endpoint_auth_method: 'none'
        };
        if (name === 'secret-none') Object.assign(answer, { client_secret: UNUSED_SECRET, client_secret_expires_at: 0 });
        json(res, 201, answer);
    });
}

// Loopback redirect URIs match whatever the port (RFC 8252 §7.3); everything else exactly.
function redirectMatches(registered, used) {
    const a = URL.parse(registered);
    const b = URL.parse(used);
    if (!a || !b) return false;
    if (['127.0.0.1', '[::1]', 'localhost'].includes(a.hostname) && a.protocol === 'http:') {
        return a.protocol === b.protocol && a.hostname === b.hostname && a.pathname === b.pathname && a.search === b.search;
    }
    return registered === used;
}

function oauthAuthorize(req, res, url, name) {
    stats[name].authorize++;
    const q = url.searchParams;
    const client = oauth[name].clients.get(q.get('client_id') ?? '');
    const redirectUri = q.get('redirect_uri') ?? '';
    if (!client || !client.redirectUris.some(r => redirectMatches(r, redirectUri))) {
        return json(res, 400, { error: 'invalid_request', error_description: 'unknown client or redirect_uri' });
    }
    const target = new URL(redirectUri);
    const state = q.get('state');
    if (state !== null) target.searchParams.set('state', state);
    target.searchParams.set('iss', issuerOf(name));
    if (q.get('response_type') !== 'code' || q.get('code_challenge_method') !== 'S256' || !q.get('code_challenge')) {
        target.searchParams.set('error', 'invalid_request');
    } else {
        const code = opaque('code');
        oauth[name].codes.set(code, {
            clientId: q.get('client_id'), redirectUri, challenge: q.get('code_challenge'), scope: q.get('scope') ?? 'mcp:tools'
        });
        target.searchParams.set('code', code);
    }
    res.writeHead(302, { Location: target.href, 'Content-Length': 0 });
    res.end();
}

function issueTokens(res, name, scope) {
    const accessToken = name === 'crlf-token' ? 'abc\r\nX-Injected: yes' : opaque('at');
    const refreshToken = opaque('rt');
    oauth[name].access.add(accessToken);
    oauth[name].refresh.add(refreshToken);
    json(res, 200, {
        access_token: accessToken,
        token_type: 'Bearer',
        expires_in: name === 'zero-expiry' ? 0 : 3600,
        refresh_token: refreshToken,
        scope
    }, { 'Cache-Control': 'no-store' });
}

function oauthToken(req, res, name) {
    stats[name].token++;
    readBody(req, body => {
        const form = new URLSearchParams(body ?? '');
        if (form.has('client_secret') || /^Basic /i.test(req.headers.authorization ?? '')) stats[name].secretPresented++;
        const grant = form.get('grant_type');
        stats[name].tokenGrants[grant === 'authorization_code' || grant === 'refresh_token' ? grant : 'other']++;
        const fail = (status, error) => {
            stats[name].tokenErrors++;
            json(res, status, { error });
        };
        if (grant === 'authorization_code') {
            const code = form.get('code') ?? '';
            const entry = oauth[name].codes.get(code);
            oauth[name].codes.delete(code); // one use
            if (!entry) return fail(400, 'invalid_grant');
            if (form.get('client_id') !== entry.clientId || form.get('redirect_uri') !== entry.redirectUri) return fail(400, 'invalid_grant');
            const verifier = form.get('code_verifier') ?? '';
            if (b64url(createHash('sha256').update(verifier).digest()) !== entry.challenge) return fail(400, 'invalid_grant');
            return issueTokens(res, name, entry.scope);
        }
        if (grant === 'refresh_token') {
            const rt = form.get('refresh_token') ?? '';
            if (!oauth[name].refresh.delete(rt)) return fail(400, 'invalid_grant'); // rotation: one use
            return issueTokens(res, name, 'mcp:tools');
        }
        return fail(400, 'unsupported_grant_type');
    });
}

/** Routes of the OAuth scenarios; true when handled. */
function handleOAuth(req, res, url) {
    const p = url.pathname;
    const meta = /^\/\.well-known\/oauth-authorization-server\/([a-z-]+)$/.exec(p);
    if (meta && OAUTH_SCENARIOS.includes(meta[1])) {
        stats[meta[1]].asMetadata++;
        json(res, 200, asMetadata(meta[1]));
        return true;
    }
    const ep = /^\/([a-z-]+)\/(register|authorize|token)$/.exec(p);
    if (!ep || !OAUTH_SCENARIOS.includes(ep[1])) return false;
    const [, name, what] = ep;
    if (what === 'register' && req.method === 'POST') oauthRegister(req, res, name);
    else if (what === 'authorize' && req.method === 'GET') oauthAuthorize(req, res, url, name);
    else if (what === 'token' && req.method === 'POST') oauthToken(req, res, name);
    else json(res, 405, { error: 'method_not_allowed' });
    return true;
}

function handle(req, res) {
    const url = new URL(req.url, base);
    const p = url.pathname;
    if (req.headers['x-injected'] !== undefined) stats.injectedHeader++;

    // Connection: close, so the test's fetch never reuses a kept-alive socket this server has closed.
    if (req.method === 'GET' && p === '/__test/stats') return json(res, 200, stats, { Connection: 'close' });

    // The probe: POST /<scenario>/mcp
    const mcp = /^\/([a-z-]+)\/mcp$/.exec(p);
    if (mcp && SCENARIOS.includes(mcp[1])) {
        const name = mcp[1];
        stats[name].probe++;
        if (OAUTH_SCENARIOS.includes(name)) return oauthMcp(req, res, name);
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

    if (handleOAuth(req, res, url)) return;

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
