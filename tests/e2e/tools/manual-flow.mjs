// Walks the whole OAuth flow by hand against the e2e servers, the way our C++ client must, and prints
// what each server does (never a token, code or secret). Documents the servers' behaviour and checks
// the scripted browser without the binaries under test.
//
//   node tests/e2e/tools/manual-flow.mjs            (exit 0 when every expectation held)
import { spawn } from 'node:child_process';
import { createHash, randomBytes } from 'node:crypto';
import http from 'node:http';
import os from 'node:os';
import path from 'node:path';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { BROWSER, jwtPayload, startAuthServer, startMcpServer, startSdkExample, stopAll, withMcpClient } from '../lib/harness.mjs';

const facts = [];
let failures = 0;
const fact = (label, value) => facts.push(`${label}: ${typeof value === 'string' ? value : JSON.stringify(value)}`);
const expect = (ok, label) => {
    if (!ok) failures += 1;
    facts.push(`${ok ? 'OK  ' : 'FAIL'} ${label}`);
};
const b64url = buf => buf.toString('base64url');

async function json(url, init = {}) {
    const res = await fetch(url, { ...init, signal: AbortSignal.timeout(10000) });
    const text = await res.text();
    let body;
    try { body = JSON.parse(text); } catch { body = text; }
    return { status: res.status, headers: res.headers, body };
}

const form = params => ({
    method: 'POST',
    headers: { 'Content-Type': 'application/x-www-form-urlencoded' },
    body: new URLSearchParams(params).toString()
});

function parseChallenge(header) {
    const out = {};
    for (const m of (header ?? '').matchAll(/(\w+)="([^"]*)"/g)) out[m[1]] = m[2];
    return out;
}

/** One-shot loopback callback listener like the client's. */
function callbackListener() {
    return new Promise(resolve => {
        let deliver;
        const got = new Promise(r => { deliver = r; });
        const server = http.createServer((req, res) => {
            const url = new URL(req.url, 'http://127.0.0.1');
            if (url.pathname !== '/callback') {
                res.writeHead(404).end();
                return;
            }
            res.writeHead(200, { 'Content-Type': 'text/plain' }).end('signed in; you can close this window');
            deliver(Object.fromEntries(url.searchParams));
        });
        server.listen(0, '127.0.0.1', () => resolve({ port: server.address().port, got, close: () => server.close() }));
    });
}

function runBrowser(url, logFile) {
    return new Promise(resolve => {
        const child = spawn(BROWSER, [url], { env: { ...process.env, E2E_BROWSER_LOG: logFile }, stdio: 'ignore' });
        child.on('exit', code => resolve(code));
    });
}

/** Discovery + DCR + PKCE login through the scripted browser; returns tokens and observations. */
async function login({ mcpUrl, scope, label, registerActualPort = false, mayRefuse = false }) {
    const probe = await json(mcpUrl, { method: 'POST', headers: { 'Content-Type': 'application/json', Accept: 'application/json, text/event-stream' }, body: '{}' });
    const challenge = parseChallenge(probe.headers.get('www-authenticate'));
    fact(`${label} probe`, { status: probe.status, challenge: { ...challenge, error_description: undefined } });
    const prm = (await json(challenge.resource_metadata)).body;
    fact(`${label} PRM`, prm);
    expect(prm.resource === mcpUrl, `${label}: PRM resource equals the MCP URL`);
    const issuer = prm.authorization_servers[0];
    const issuerUrl = new URL(issuer);
    const pathPart = issuerUrl.pathname === '/' ? '' : issuerUrl.pathname;
    const asm = (await json(`${issuerUrl.origin}/.well-known/oauth-authorization-server${pathPart}`)).body;
    fact(`${label} AS metadata (subset)`, {
        issuer: asm.issuer,
        code_challenge_methods_supported: asm.code_challenge_methods_supported,
        authorization_response_iss_parameter_supported: asm.authorization_response_iss_parameter_supported,
        scopes_supported: asm.scopes_supported,
        grant_types_supported: asm.grant_types_supported,
        token_endpoint_auth_methods_supported: asm.token_endpoint_auth_methods_supported,
        registration_endpoint: asm.registration_endpoint,
        revocation_endpoint: asm.revocation_endpoint ?? null,
        client_id_metadata_document_supported: asm.client_id_metadata_document_supported ?? null
    });
    expect(asm.issuer === issuer, `${label}: AS metadata issuer equals PRM authorization_servers[0] exactly (${issuer})`);
    expect(asm.code_challenge_methods_supported?.includes('S256'), `${label}: S256 advertised`);

    const cb = await callbackListener();
    // Unless told otherwise, register a different loopback port than the one used, to learn whether
    // the server lets the port vary (RFC 8252 §7.3).
    const registeredPort = registerActualPort ? cb.port : 1;
    const reg = await json(asm.registration_endpoint, {
        method: 'POST',
        headers: { 'Content-Type': 'application/json' },
        body: JSON.stringify({
            client_name: 'mcp-auth e2e manual flow',
            application_type: 'native',
            token_endpoint_auth_method: 'none',
            grant_types: ['authorization_code', 'refresh_token'],
            response_types: ['code'],
            redirect_uris: [`http://127.0.0.1:${registeredPort}/callback`]
        })
    });
    fact(`${label} DCR`, { status: reg.status, keys: Object.keys(reg.body ?? {}).sort(), token_endpoint_auth_method: reg.body?.token_endpoint_auth_method, application_type: reg.body?.application_type ?? null, has_client_secret: 'client_secret' in (reg.body ?? {}) });
    expect(reg.status === 201, `${label}: DCR answered 201`);
    const clientId = reg.body.client_id;

    const verifier = b64url(randomBytes(32));
    const state = b64url(randomBytes(16));
    const redirectUri = `http://127.0.0.1:${cb.port}/callback`;
    const authUrl = new URL(asm.authorization_endpoint);
    authUrl.search = new URLSearchParams({
        response_type: 'code',
        client_id: clientId,
        redirect_uri: redirectUri,
        code_challenge: b64url(createHash('sha256').update(verifier).digest()),
        code_challenge_method: 'S256',
        state,
        resource: mcpUrl,
        ...(scope ? { scope } : {})
    }).toString();
    const dir = mkdtempSync(path.join(os.tmpdir(), 'mcp-auth-manual-'));
    const logFile = path.join(dir, 'browser.log');
    const [browserExit, params] = await Promise.all([runBrowser(authUrl.href, logFile), Promise.race([cb.got, new Promise(r => setTimeout(() => r(null), 30000))])]);
    cb.close();
    const log = readFileSync(logFile, 'utf8').trim().split('\n').map(l => JSON.parse(l));
    rmSync(dir, { recursive: true, force: true });
    fact(`${label} browser`, { exit: browserExit, log: log.map(({ event, outcome, hosts }) => ({ event, outcome, hosts })) });
    if (mayRefuse && !params?.code) return null;
    expect(browserExit === 0 && params?.code, `${label}: scripted browser delivered a code (redirect port ${registerActualPort ? 'as registered' : 'differs from the registered one'})`);
    fact(`${label} callback params`, Object.keys(params ?? {}).sort());
    if (params?.error) fact(`${label} authorization error`, { error: params.error, error_description: params.error_description });
    expect(params?.state === state, `${label}: state echoed`);
    fact(`${label} iss in authorization response`, params?.iss === undefined ? 'absent' : params.iss === asm.issuer ? 'present, equals issuer' : 'present, DIFFERENT');

    const tok = await json(asm.token_endpoint, form({
        grant_type: 'authorization_code', code: params.code, redirect_uri: redirectUri, client_id: clientId, code_verifier: verifier, resource: mcpUrl
    }));
    expect(tok.status === 200, `${label}: code exchange 200`);
    const t = tok.body;
    fact(`${label} token response`, { keys: Object.keys(t).sort(), token_type: t.token_type, expires_in: t.expires_in, scope: t.scope ?? null, jwt_claims: jwtPayload(t.access_token) ? Object.keys(jwtPayload(t.access_token)).sort() : 'opaque', aud: jwtPayload(t.access_token)?.aud ?? null });
    return { asm, clientId, tokens: t, redirectUri };
}

try {
    // --- oidc-provider + our MCP server ---
    const as = await startAuthServer({ atTtl: 20 });
    const mcp = await startMcpServer(as.issuer);
    fact('oidc-provider issuer', as.issuer);
    const a = await login({ mcpUrl: mcp.url, scope: 'mcp:tools', label: 'oidc' });
    expect(jwtPayload(a.tokens.access_token)?.aud === mcp.url, 'oidc: JWT aud equals the MCP URL');
    expect(typeof a.tokens.refresh_token === 'string', 'oidc: refresh token issued without offline_access');
    expect((await mcp.check(a.tokens.access_token)).status === 200, 'oidc: /__test/check accepts the token');
    const who = await withMcpClient(mcp.url, a.tokens.access_token, c => c.callTool({ name: 'whoami', arguments: {} }));
    fact('oidc whoami', who.structuredContent);
    expect(who.structuredContent?.sub === 'alice', 'oidc: MCP tools/call whoami says sub=alice');

    const rt1 = a.tokens.refresh_token;
    const r1 = await json(a.asm.token_endpoint, form({ grant_type: 'refresh_token', refresh_token: rt1, client_id: a.clientId, resource: mcp.url }));
    expect(r1.status === 200 && r1.body.refresh_token && r1.body.refresh_token !== rt1, 'oidc: refresh with resource -> 200, rotated refresh token');
    expect(jwtPayload(r1.body.access_token)?.aud === mcp.url, 'oidc: refreshed JWT aud equals the MCP URL');
    const r2 = await json(a.asm.token_endpoint, form({ grant_type: 'refresh_token', refresh_token: r1.body.refresh_token, client_id: a.clientId }));
    expect(r2.status === 200 && jwtPayload(r2.body.access_token)?.aud === mcp.url, 'oidc: refresh WITHOUT resource -> 200, same audience (useGrantedResource)');
    let stats = await as.stats();
    expect(stats.refreshTokenReuse === 0 && stats.refreshGrants === 2, 'oidc: stats count 2 refresh grants, no reuse');

    const revAt = await json(a.asm.revocation_endpoint, form({ token: r2.body.access_token, token_type_hint: 'access_token', client_id: a.clientId }));
    fact('oidc revoke JWT access token', { status: revAt.status, error: revAt.body?.error ?? null });
    const revRt = await json(a.asm.revocation_endpoint, form({ token: r2.body.refresh_token, token_type_hint: 'refresh_token', client_id: a.clientId }));
    expect(revRt.status === 200, 'oidc: revoke refresh token -> 200');
    const afterRevoke = await json(a.asm.token_endpoint, form({ grant_type: 'refresh_token', refresh_token: r2.body.refresh_token, client_id: a.clientId, resource: mcp.url }));
    expect(afterRevoke.status === 400 && afterRevoke.body.error === 'invalid_grant', 'oidc: revoked refresh token -> invalid_grant');
    expect((await mcp.check(r2.body.access_token)).status === 200, 'oidc: JWT access token stays valid after revocation until it expires');
    const reuse = await json(a.asm.token_endpoint, form({ grant_type: 'refresh_token', refresh_token: rt1, client_id: a.clientId, resource: mcp.url }));
    stats = await as.stats();
    expect(reuse.status === 400 && stats.refreshTokenReuse === 1, 'oidc: presenting a rotated refresh token again -> invalid_grant, counted as reuse');
    fact('oidc stats', stats);
    const issued = await as.issued();
    fact('oidc issued token hashes', { accessTokens: issued.accessTokens.length, refreshTokens: issued.refreshTokens.length });

    // --- scope with offline_access but no prompt=consent ---
    const b = await login({ mcpUrl: mcp.url, scope: 'mcp:tools offline_access', label: 'oidc+offline_access' });
    fact('oidc+offline_access granted scope', b.tokens.scope ?? null);
    expect(typeof b.tokens.refresh_token === 'string', 'oidc+offline_access: refresh token issued');

    // --- MCP SDK example server ---
    const sdk = await startSdkExample();
    fact('sdk example', { url: sdk.url, issuer: sdk.issuer, strict: sdk.strict });
    const sFlex = await login({ mcpUrl: sdk.url, scope: 'mcp:tools', label: 'sdk (port differs)', mayRefuse: true });
    fact('sdk example, redirect port differs from the registered one', sFlex ? 'accepted' : 'REFUSED (error redirect invalid_request)');
    const s = await login({ mcpUrl: sdk.url, scope: 'mcp:tools', label: 'sdk', registerActualPort: true });
    expect(s.tokens.refresh_token === undefined, 'sdk: no refresh token (demo provider does not implement refresh)');
    const tools = await withMcpClient(sdk.url, s.tokens.access_token, c => c.listTools());
    fact('sdk tools/list', tools.tools.map(t => t.name));
    expect(tools.tools.length > 0, 'sdk: tools/list works with the token');
} catch (e) {
    failures += 1;
    facts.push(`FAIL exception: ${e.stack}`);
} finally {
    await stopAll();
}
process.stdout.write(`${facts.join('\n')}\n${failures ? `${failures} FAILED` : 'ALL OK'}\n`);
process.exitCode = failures ? 1 : 0;
