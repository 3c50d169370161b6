// Real OAuth 2.1 / OpenID authorization server for the e2e tests, built on oidc-provider (panva).
//
//   node auth-server.mjs [PORT]        PORT (or env PORT) 0 = ephemeral; binds 127.0.0.1 only
//
// Env: AT_TTL        JWT access-token lifetime in seconds (default 20)
//      RESOURCES     comma-separated resource indicators to accept (default: any http loopback URL)
//      AS_LOG=1      one line per request on stderr (method, path, status; never query strings or bodies)
//
// Prints one JSON line {"ready":true,"issuer":...,"port":...} on stdout once listening.
//
// What it is configured to do (the facts the C++ client has to live with are in tests/e2e/README.md):
//  - open Dynamic Client Registration (RFC 7591), no initial access token
//  - PKCE required for every client, S256 only (oidc-provider 9 supports nothing else)
//  - resource indicators (RFC 8707): resource = MCP server URL -> JWT access token, aud = that URL,
//    scope mcp:tools, lifetime AT_TTL; refresh keeps the granted resource when none is sent again
//  - refresh tokens for every client registered with the refresh_token grant, with or without
//    offline_access (oidc-provider drops offline_access unless prompt=consent); rotated on every use
//  - revocation (RFC 7009) of refresh tokens; revoking a refresh token revokes the whole grant
//  - devInteractions: built-in login page (any login/password) and consent page
//  - RFC 9207: `iss` in every authorization response
//
// Test-only endpoints: GET /__test/stats  -> JSON counters (see `stats` below)
//                     GET /__test/config?tokenDelayMs=N -> delay token-endpoint requests by N ms
//                     GET /__test/issued -> {"accessTokens":[sha256 hex...],"refreshTokens":[...]} of every
//                                           token issued (hashes only: lets a test find leaked tokens on disk)
import { createHash, generateKeyPairSync, randomBytes } from 'node:crypto';
import http from 'node:http';
import Provider, { errors } from 'oidc-provider';

const port = Number(process.argv[2] ?? process.env.PORT ?? 0);
const atTtl = Number(process.env.AT_TTL ?? 20);
const allowedResources = process.env.RESOURCES ? new Set(process.env.RESOURCES.split(',').map(s => s.trim())) : null;
const MCP_SCOPE = 'mcp:tools';

const stats = {
    registrations: 0,
    authorizations: 0, // successful authorization responses (code sent to the redirect URI)
    authorizationErrors: 0,
    authorizationCodeGrants: 0,
    refreshGrants: 0,
    refreshGrantErrors: 0,
    refreshTokenReuse: 0, // a refresh token value presented at the token endpoint more than once
    tokenErrors: 0,
    revocationRequests: 0,
    revocations: 0, // revocation requests that found and destroyed a token
    refreshTokenRevocations: 0,
    grantsRevoked: 0,
    lastTokenError: null // error code only, never a token
};
const seenRefreshTokens = new Set(); // sha256 of every refresh token presented at the token endpoint
// sha256 of every token issued, so a test can look for leaked tokens on disk without ever seeing them
const issued = { accessTokens: new Set(), refreshTokens: new Set() };
const testConfig = { tokenDelayMs: 0 };
const sha256 = value => createHash('sha256').update(value).digest('hex');

function isLoopbackHttpUrl(value) {
    const url = URL.parse(value);
    return !!url && (url.protocol === 'http:' || url.protocol === 'https:') && ['127.0.0.1', 'localhost', '[::1]'].includes(url.hostname);
}

const { privateKey } = generateKeyPairSync('rsa', { modulusLength: 2048 });
const signingKey = { ...privateKey.export({ format: 'jwk' }), kid: randomBytes(8).toString('hex'), use: 'sig', alg: 'RS256' };

const server = http.createServer();
await new Promise((resolve, reject) => {
    server.once('error', reject);
    server.listen(port, '127.0.0.1', resolve);
});
const actualPort = server.address().port;
const issuer = `http://127.0.0.1:${actualPort}`;

const provider = new Provider(issuer, {
    jwks: { keys: [signingKey] },
    cookies: { keys: [randomBytes(32).toString('hex')] },
    scopes: ['openid', 'offline_access', MCP_SCOPE],
    clientDefaults: {
        grant_types: ['authorization_code', 'refresh_token'],
        response_types: ['code'],
        token_endpoint_auth_method: 'none',
        id_token_signed_response_alg: 'RS256'
    },
    pkce: { required: () => true },
    features: {
        devInteractions: { enabled: true },
        registration: { enabled: true },
        revocation: { enabled: true },
        introspection: { enabled: false },
        resourceIndicators: {
            enabled: true,
            defaultResource: async (_ctx, _client, oneOf) => oneOf,
            useGrantedResource: async () => true,
            getResourceServerInfo: async (_ctx, resourceIndicator) => {
                const ok = allowedResources ? allowedResources.has(resourceIndicator) : isLoopbackHttpUrl(resourceIndicator);
                if (!ok) throw new errors.InvalidTarget();
                return {
                    scope: MCP_SCOPE,
                    audience: resourceIndicator,
                    accessTokenFormat: 'jwt',
                    accessTokenTTL: atTtl,
                    jwt: { sign: { alg: 'RS256' } }
                };
            }
        }
    },
    issueRefreshToken: async (_ctx, client) => client.grantTypeAllowed('refresh_token'),
    rotateRefreshToken: () => true,
    expiresWithSession: async () => false,
    ttl: {
        RefreshToken: 24 * 3600,
        Grant: 24 * 3600,
        Session: 24 * 3600,
        Interaction: 600,
        AuthorizationCode: 60
    }
});

provider.on('registration_create.success', () => { stats.registrations += 1; });
provider.on('authorization.success', () => { stats.authorizations += 1; });
provider.on('authorization.error', () => { stats.authorizationErrors += 1; });
provider.on('grant.revoked', () => { stats.grantsRevoked += 1; });
provider.on('server_error', (_ctx, err) => { process.stderr.write(`auth-server: server_error ${err?.message}\n`); });

provider.use(async (ctx, next) => {
    if (ctx.path === '/__test/stats' && ctx.method === 'GET') {
        ctx.set('Cache-Control', 'no-store');
        ctx.body = { ...stats };
        return;
    }
    if (ctx.path === '/__test/config' && ctx.method === 'GET') {
        // e.g. /__test/config?tokenDelayMs=2000: hold every token-endpoint request that long, so that
        // concurrent callers of the client under test really overlap one refresh
        const delay = ctx.query.tokenDelayMs;
        if (delay !== undefined) testConfig.tokenDelayMs = Math.max(0, Math.min(Number(delay) || 0, 30000));
        ctx.body = { ...testConfig };
        return;
    }
    if (ctx.path === '/__test/issued' && ctx.method === 'GET') {
        ctx.set('Cache-Control', 'no-store');
        ctx.body = { accessTokens: [...issued.accessTokens], refreshTokens: [...issued.refreshTokens] };
        return;
    }
    if (testConfig.tokenDelayMs && ctx.method === 'POST' && ctx.path === '/token') {
        await new Promise(resolve => setTimeout(resolve, testConfig.tokenDelayMs));
    }
    await next();
    if (process.env.AS_LOG === '1') process.stderr.write(`auth-server: ${ctx.method} ${ctx.path} ${ctx.status}\n`);

    const route = ctx.oidc?.route;
    const params = ctx.oidc?.params ?? {};
    if (route === 'token') {
        const ok = ctx.status === 200;
        if (!ok) {
            stats.tokenErrors += 1;
            stats.lastTokenError = typeof ctx.body === 'object' ? ctx.body?.error ?? null : null;
        }
        if (ok && ctx.body && typeof ctx.body === 'object') {
            if (typeof ctx.body.access_token === 'string') issued.accessTokens.add(sha256(ctx.body.access_token));
            if (typeof ctx.body.refresh_token === 'string') issued.refreshTokens.add(sha256(ctx.body.refresh_token));
        }
        if (params.grant_type === 'authorization_code' && ok) stats.authorizationCodeGrants += 1;
        if (params.grant_type === 'refresh_token') {
            if (ok) stats.refreshGrants += 1;
            else stats.refreshGrantErrors += 1;
            if (typeof params.refresh_token === 'string') {
                const h = sha256(params.refresh_token);
                if (seenRefreshTokens.has(h)) stats.refreshTokenReuse += 1;
                seenRefreshTokens.add(h);
            }
        }
    } else if (route === 'revocation') {
        stats.revocationRequests += 1;
        const destroyed = ctx.oidc.entities ?? {};
        if (ctx.status === 200 && (destroyed.RefreshToken || destroyed.AccessToken)) stats.revocations += 1;
        if (ctx.status === 200 && destroyed.RefreshToken) stats.refreshTokenRevocations += 1;
    }
});

server.on('request', provider.callback());

const stop = () => {
    server.close(() => process.exit(0));
    server.closeAllConnections();
};
process.on('SIGTERM', stop);
process.on('SIGINT', stop);

process.stdout.write(`${JSON.stringify({ ready: true, issuer, port: actualPort })}\n`);
