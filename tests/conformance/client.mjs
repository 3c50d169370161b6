#!/usr/bin/env node
// The client command the MCP conformance suite spawns: an MCP SDK stdio Client (the "host") that runs
// `mcp-auth proxy <serverUrl> [options]` and does, through it, what the scenario expects.
//
//   node conformance/client.mjs <serverUrl>          (the runner appends the URL as the last argument)
//
// Env from the runner: MCP_CONFORMANCE_SCENARIO, MCP_CONFORMANCE_PROTOCOL_VERSION and, for some
// scenarios, MCP_CONFORMANCE_CONTEXT (JSON). Ours: MCP_AUTH_BUILD_DIR (holds app/mcp-auth, required);
// MCP_CONFORMANCE_PROXY_ARGS (JSON array of extra proxy arguments, optional: the runner splits its
// command on spaces, so options travel by env). Every scenario gets a private sandbox (HOME, XDG dirs,
// agent socket), so a fresh agent and state; the keychain is the session's (run-conformance.sh).
// Prints "conformance-client: exit=N" as its last stdout line, which run-conformance.sh reads because
// the suite mode does not record exit codes. Diagnostics go to stderr, never a token.
//
// MCP_CONFORMANCE_MODE=cli checks the agent without the proxy: `mcp-auth login URL`, `mcp-auth token URL`,
// then the SDK's HTTP client with that bearer token (no step-up, no per-server client options).
import { Client } from '@modelcontextprotocol/sdk/client/index.js';
import { StdioClientTransport } from '@modelcontextprotocol/sdk/client/stdio.js';
import { StreamableHTTPClientTransport } from '@modelcontextprotocol/sdk/client/streamableHttp.js';
import { existsSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { getToken, makeSandbox, runCli, stopAgent } from '../e2e/lib/harness.mjs';

const HERE = path.dirname(fileURLToPath(import.meta.url));
const BROWSER = path.join(HERE, 'redirect-browser.mjs');
const CIMD_URL = 'https://conformance-test.local/client-metadata.json';
const REQUEST_TIMEOUT_MS = 20000; // the runner kills us at 30 s; fail cleanly before that

const serverUrl = process.argv.at(-1);
const scenario = process.env.MCP_CONFORMANCE_SCENARIO ?? '';
const started = Date.now();
// Long runs with a digit or capital (tokens, codes, JWTs) go; long plain words such as
// "oauth-protected-resource" stay readable.
const redact = text => String(text).replace(/[A-Za-z0-9_\-.~]{24,}/g, m => (/[A-Z0-9]/.test(m) ? '[redacted]' : m));
const say = msg => console.error(`[client ${((Date.now() - started) / 1000).toFixed(2)}s] ${msg}`);

/** Proxy arguments for this scenario (mcp-remote compatible options). */
function proxyArgs() {
    const args = ['proxy', serverUrl];
    const context = JSON.parse(process.env.MCP_CONFORMANCE_CONTEXT ?? '{}');
    if (context.client_id) {
        // auth/pre-registration: no registration endpoint, the credentials come from the suite
        const info = { client_id: context.client_id };
        if (context.client_secret) info.client_secret = context.client_secret;
        args.push('--static-oauth-client-info', JSON.stringify(info));
    }
    if (scenario === 'auth/basic-cimd') args.push('--client-metadata-url', CIMD_URL);
    if (process.env.MCP_CONFORMANCE_PROXY_ARGS) args.push(...JSON.parse(process.env.MCP_CONFORMANCE_PROXY_ARGS));
    return args;
}

/** Arguments for the tool a scenario offers. */
function toolArguments(name) {
    return name === 'add_numbers' ? { a: 2, b: 3 } : {};
}

async function scenarioSteps(client) {
    const { tools } = await client.listTools(undefined, { timeout: REQUEST_TIMEOUT_MS });
    say(`tools/list: ${tools.map(t => t.name).join(', ') || '(none)'}`);
    // auth/*: test-tool; tools_call: add_numbers; sse-retry: test_reconnection; initialize: none
    const tool = tools.find(t => t.name === 'test-tool') ?? tools[0];
    if (!tool) return;
    const result = await client.callTool({ name: tool.name, arguments: toolArguments(tool.name) }, undefined,
        { timeout: REQUEST_TIMEOUT_MS });
    if (result.isError) throw new Error(`tools/call ${tool.name} returned isError`);
    say(`tools/call ${tool.name}: ok`);
}

async function main() {
    const build = process.env.MCP_AUTH_BUILD_DIR;
    const cli = build && path.join(path.resolve(build), 'app', 'mcp-auth');
    if (!cli || !existsSync(cli)) throw new Error(`mcp-auth not found (MCP_AUTH_BUILD_DIR=${build ?? ''})`);

    const sandbox = makeSandbox('conformance');
    const client = new Client({ name: 'mcp-auth-conformance-host', version: '1.0.0' }, { capabilities: {} });
    let proxyLog = '';
    const cleanup = async () => {
        await client.close().catch(() => {}); // stdin EOF: the proxy deletes its session and exits
        const { shutdownExit, forced } = await stopAgent(sandbox);
        say(`agent shutdown exit=${shutdownExit ?? '-'}${forced.length ? `, killed ${forced.join(' ')}` : ''}`);
        say(`browser launches: ${sandbox.browserLaunches()}`);
        for (const line of proxyLog.split('\n').filter(Boolean)) console.error(`[proxy] ${redact(line)}`);
        sandbox.remove();
    };
    let stopping = null;
    const stop = () => (stopping ??= cleanup());
    for (const sig of ['SIGTERM', 'SIGINT']) {
        process.once(sig, () => {
            say(`${sig}: cleaning up`);
            stop().finally(() => process.exit(128 + (sig === 'SIGTERM' ? 15 : 2)));
        });
    }

    try {
        Object.assign(sandbox.env, {
            MCP_AUTH_BROWSER: BROWSER,
            CONFORMANCE_BROWSER_LOG: sandbox.browserLog,
            MCP_AUTH_HTTP_TIMEOUT_MS: process.env.MCP_AUTH_HTTP_TIMEOUT_MS ?? '5000'
        });
        if (process.env.MCP_CONFORMANCE_MODE === 'cli') {
            say(`${scenario}: mcp-auth login ${serverUrl}`);
            const login = await runCli(sandbox, ['login', serverUrl], { timeoutMs: REQUEST_TIMEOUT_MS });
            if (login.code !== 0) throw new Error(`mcp-auth login exited ${login.code ?? login.signal}: ${redact(login.stderr.trim())}`);
            const headers = { Authorization: `Bearer ${await getToken(sandbox, serverUrl)}` };
            await client.connect(new StreamableHTTPClientTransport(new URL(serverUrl), { requestInit: { headers } }),
                { timeout: REQUEST_TIMEOUT_MS });
        } else {
            const args = proxyArgs();
            say(`${scenario}: mcp-auth ${args.map(a => (a.startsWith('{') ? '<json>' : a)).join(' ')}`);
            const transport = new StdioClientTransport({ command: cli, args, env: sandbox.env, stderr: 'pipe' });
            transport.stderr?.on('data', chunk => { proxyLog += chunk.toString(); });
            await client.connect(transport, { timeout: REQUEST_TIMEOUT_MS });
        }
        const version = client.getServerVersion();
        say(`initialized: ${version?.name ?? '?'} ${version?.version ?? ''}`);
        await scenarioSteps(client);
    } finally {
        await stop();
    }
}

let code = 0;
try {
    await main();
} catch (e) {
    say(`FAILED: ${redact(e?.message ?? e)}`);
    code = 1;
}
console.log(`conformance-client: exit=${code}`);
process.exit(code);
