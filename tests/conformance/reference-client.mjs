#!/usr/bin/env node
// Baseline for the conformance harness: what the MCP TypeScript SDK's own OAuth support (v1.32.2) passes.
// Not part of ctest; run-conformance.sh uses it instead of our proxy when MCP_CONFORMANCE_REFERENCE=1.
// Usage (by the suite): node conformance/reference-client.mjs <serverUrl>
// Headless: redirectToAuthorization fetches the authorization URL without following the redirect and
// keeps the code from Location; after an UnauthorizedError the client calls finishAuth(code) and retries.
import { Client } from '@modelcontextprotocol/sdk/client/index.js';
import { StreamableHTTPClientTransport } from '@modelcontextprotocol/sdk/client/streamableHttp.js';
import { UnauthorizedError } from '@modelcontextprotocol/sdk/client/auth.js';

// Same exit marker as client.mjs, which summarize.mjs reads (the suite mode records no exit codes).
process.on('exit', code => console.log(`conformance-client: exit=${code}`));

const serverUrl = new URL(process.argv.at(-1));
const scenario = process.env.MCP_CONFORMANCE_SCENARIO ?? '';
const context = JSON.parse(process.env.MCP_CONFORMANCE_CONTEXT ?? '{}');
const redirectUrl = 'http://localhost:3000/callback';
let clientInfo = context.client_id ? { client_id: context.client_id, client_secret: context.client_secret } : undefined;
let tokens, verifier, code;

const provider = {
    redirectUrl,
    clientMetadataUrl: 'https://conformance-test.local/client-metadata.json',
    clientMetadata: { client_name: 'mcp-auth-reference-client', redirect_uris: [redirectUrl],
        grant_types: ['authorization_code', 'refresh_token'], response_types: ['code'] },
    clientInformation: () => clientInfo,
    saveClientInformation: info => { clientInfo = info; },
    tokens: () => tokens,
    saveTokens: t => { tokens = t; },
    saveCodeVerifier: v => { verifier = v; },
    codeVerifier: () => verifier,
    invalidateCredentials: what => { tokens = undefined; if (what === 'all') clientInfo = undefined; },
    async redirectToAuthorization(url) {
        const res = await fetch(url, { redirect: 'manual' });
        const location = res.headers.get('location');
        code = location ? new URL(location).searchParams.get('code') : null;
        if (!code) throw new Error(`authorization endpoint answered ${res.status} without a code`);
    }
};

// Runs fn; after an UnauthorizedError exchanges the code and tries again (at most 3 sign-ins).
async function withAuth(transport, fn) {
    for (let attempt = 0; ; ++attempt) {
        try {
            return await fn();
        } catch (e) {
            if (!(e instanceof UnauthorizedError) || !code || attempt >= 3) throw e;
            const pending = code;
            code = null;
            await transport.finishAuth(pending);
        }
    }
}

let client, transport;
await withAuth({ finishAuth: c => transport.finishAuth(c) }, async () => {
    client = new Client({ name: 'mcp-auth-reference-client', version: '1.0.0' }, { capabilities: {} });
    transport = new StreamableHTTPClientTransport(serverUrl, { authProvider: provider });
    await client.connect(transport);
});
const { tools } = await withAuth(transport, () => client.listTools());
const tool = tools.find(t => t.name === 'test-tool') ?? tools[0];
if (tool) {
    const args = tool.name === 'add_numbers' ? { a: 2, b: 3 } : {};
    await withAuth(transport, () => client.callTool({ name: tool.name, arguments: args }));
}
await transport.close();
console.error(`reference-client: ${scenario} done (${tools.length} tools${tool ? `, called ${tool.name}` : ''})`);
