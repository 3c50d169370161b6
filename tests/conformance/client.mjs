#!/usr/bin/env node
// The 2025-era host the MCP conformance suite spawns: an MCP SDK v1 stdio `Client` (1.32.2) that runs
// `mcp-auth proxy <serverUrl> [options]` and does, through it, what the scenario expects (host.mjs).
// SDK v1 speaks only the 2025 protocol (`initialize`), so at the 2026-07-28 wire it is the proxy's bridge
// that is tested: the proxy answers `initialize` from the server's `server/discover`, stamps the per-request
// `_meta` and headers, and turns MRTR input requests into elicitation/sampling/roots requests to this host,
// which answers them with host.mjs's handlers. client-v2.mjs is the same with the SDK v2 (modern) host.
//
//   node conformance/client.mjs <serverUrl>          (the runner appends the URL as the last argument)
//
// MCP_CONFORMANCE_MODE=cli checks the agent without the proxy: `mcp-auth login URL`, `mcp-auth token URL`,
// then the SDK's HTTP client with that bearer token (no step-up, no per-server client options).
// MCP_CONFORMANCE_PROXY_CMD='["node","node_modules/mcp-remote/dist/proxy.js","{url}","--protocol","auto"]'
// runs another stdio proxy instead (host.mjs): mcp-remote is a comparison bridge for the non-auth scenarios.
import { Client } from '@modelcontextprotocol/sdk/client/index.js';
import { StdioClientTransport } from '@modelcontextprotocol/sdk/client/stdio.js';
import { StreamableHTTPClientTransport } from '@modelcontextprotocol/sdk/client/streamableHttp.js';
import { CreateMessageRequestSchema, ElicitRequestSchema, ListRootsRequestSchema } from '@modelcontextprotocol/sdk/types.js';
import { getToken, runCli } from '../e2e/lib/harness.mjs';
import { CAPABILITIES, REQUEST_TIMEOUT_MS, hostMain, proxySpawnParams, redact, registerHandlers, say, scenario,
    serverUrl } from './host.mjs';

const SCHEMAS = { 'elicitation/create': ElicitRequestSchema, 'sampling/createMessage': CreateMessageRequestSchema,
    'roots/list': ListRootsRequestSchema };

function create(sandbox) {
    const client = new Client({ name: 'mcp-auth-conformance-host', version: '1.0.0' }, { capabilities: CAPABILITIES });
    const options = { timeout: REQUEST_TIMEOUT_MS };
    const host = {
        listTools: () => client.listTools(undefined, options),
        callTool: (name, args) => client.callTool({ name, arguments: args }, undefined, options),
        listResources: () => client.listResources(undefined, options),
        readResource: uri => client.readResource({ uri }, options),
        listPrompts: () => client.listPrompts(undefined, options),
        getPrompt: (name, args) => client.getPrompt({ name, arguments: args }, options),
        // a 2025 host sees a result without resultType as any other result
        rejectsMissingResultType: false
    };
    registerHandlers(host, (method, handler) => client.setRequestHandler(SCHEMAS[method], request => handler(request.params)));
    return {
        host,
        async connect() {
            if (process.env.MCP_CONFORMANCE_MODE === 'cli') {
                say(`${scenario}: mcp-auth login ${serverUrl}`);
                const login = await runCli(sandbox, ['login', serverUrl], { timeoutMs: REQUEST_TIMEOUT_MS });
                if (login.code !== 0) throw new Error(`mcp-auth login exited ${login.code ?? login.signal}: ${redact(login.stderr.trim())}`);
                const headers = { Authorization: `Bearer ${await getToken(sandbox, serverUrl)}` };
                await client.connect(new StreamableHTTPClientTransport(new URL(serverUrl), { requestInit: { headers } }), options);
            } else {
                await client.connect(new StdioClientTransport({ ...proxySpawnParams(sandbox), stderr: 'inherit' }), options);
            }
            const version = client.getServerVersion();
            say(`initialized: ${version?.name ?? '?'} ${version?.version ?? ''}`);
        },
        close: () => client.close()
    };
}

await hostMain(create);
