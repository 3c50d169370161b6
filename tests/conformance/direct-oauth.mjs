// The baseline's OAuth for client-v2.mjs with MCP_CONFORMANCE_DIRECT=1: SDK v2 (2.4.0) straight to the
// server URL, no proxy, no agent. A fetch middleware that, on 401/403, runs the SDK's own `auth()` with a
// headless provider (the mock AS answers /authorize with an immediate 302: the code and `iss` are read
// from its Location) and retries once. The same shape as the SDK's conformance helpers
// (typescript-sdk test/conformance/src/helpers/withOAuthRetry.ts, conformanceOAuthProvider.ts).
import { auth, computeScopeUnion, extractWWWAuthenticateParams, isStrictScopeSuperset, UnauthorizedError } from '@modelcontextprotocol/client';

const REDIRECT_URL = 'http://localhost:3000/callback';

class HeadlessProvider {
    constructor(clientMetadataUrl) {
        this.redirectUrl = REDIRECT_URL;
        this.clientMetadata = { client_name: 'mcp-auth-conformance-direct', redirect_uris: [REDIRECT_URL] };
        this.clientMetadataUrl = clientMetadataUrl;
    }
    clientInformation() { return this._client; }
    saveClientInformation(info) { this._client = info; }
    tokens() { return this._tokens; }
    saveTokens(tokens) { this._tokens = tokens; }
    saveDiscoveryState(state) { this._discovery = state; }
    discoveryState() { return this._discovery; }
    saveCodeVerifier(verifier) { this._verifier = verifier; }
    codeVerifier() {
        if (!this._verifier) throw new Error('no code verifier saved');
        return this._verifier;
    }
    invalidateCredentials(scope) {
        if (scope === 'all' || scope === 'client') this._client = undefined;
        if (scope === 'all' || scope === 'tokens') this._tokens = undefined;
        if (scope === 'all' || scope === 'verifier') this._verifier = undefined;
        if (scope === 'all' || scope === 'discovery') this._discovery = undefined;
    }
    async redirectToAuthorization(url) {
        const res = await fetch(url, { redirect: 'manual', signal: AbortSignal.timeout(10000) });
        await res.body?.cancel();
        const location = res.headers.get('location');
        const callback = location ? new URL(location) : null;
        this.code = callback?.searchParams.get('code') ?? undefined;
        this.iss = callback?.searchParams.get('iss') ?? undefined; // RFC 9207: the SDK compares it
        if (!this.code) throw new Error(`authorization endpoint answered ${res.status} without a code`);
    }
}

/**
 * fetch middleware for StreamableHTTPClientTransport({ fetch }). `context` is MCP_CONFORMANCE_CONTEXT
 * (pre-registered client_id/secret), `clientMetadataUrl` the CIMD URL offered when the AS supports it.
 */
export function oauthFetch(serverUrl, { context = {}, clientMetadataUrl } = {}) {
    const provider = new HeadlessProvider(clientMetadataUrl);
    if (context.client_id) {
        provider.saveClientInformation({ client_id: context.client_id, client_secret: context.client_secret, redirect_uris: [REDIRECT_URL] });
    }
    const challenge = async (response, next) => {
        const { resourceMetadataUrl, scope: challenged } = extractWWWAuthenticateParams(response);
        const previous = await provider.tokens();
        // SEP-2350: a 403 step-up asks for the union of what was granted and what is challenged
        const scope = response.status === 403 ? computeScopeUnion(previous?.scope, challenged) : challenged;
        // SEP-2352: a 401 with a token in hand may mean the AS moved; re-discover
        if (response.status === 401) provider.invalidateCredentials('discovery');
        let result = await auth(provider, { serverUrl, resourceMetadataUrl, scope, fetchFn: next,
            forceReauthorization: isStrictScopeSuperset(scope, previous?.scope) });
        if (result === 'REDIRECT') {
            result = await auth(provider, { serverUrl, resourceMetadataUrl, scope, fetchFn: next,
                authorizationCode: provider.code, iss: provider.iss });
        }
        if (result !== 'AUTHORIZED') throw new UnauthorizedError(`authorization ended with ${result}`);
    };
    return async (input, init) => {
        const send = async () => {
            const headers = new Headers(init?.headers);
            const tokens = await provider.tokens();
            if (tokens) headers.set('Authorization', `Bearer ${tokens.access_token}`);
            return fetch(input, { ...init, headers });
        };
        let response = await send();
        if (response.status === 401 || response.status === 403) {
            await challenge(response, fetch);
            response = await send();
        }
        if (response.status === 401 || response.status === 403) throw new UnauthorizedError(`still ${response.status} after authorization`);
        return response;
    };
}
