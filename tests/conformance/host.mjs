// What the two conformance hosts share: client.mjs (the MCP SDK v1 `Client`, a 2025-11-25 host, which meets
// 2026-07-28 servers through the proxy's bridge) and client-v2.mjs (the SDK v2 `Client`, a modern
// 2026-07-28 host). Both are spawned by the suite as `node conformance/<host>.mjs <serverUrl>` and run
// `mcp-auth proxy <serverUrl> [options]` over stdio; this module holds the scenario knowledge (which tools,
// resources and prompts each scenario wants, with which arguments), the handlers a host needs for the
// server's requests (elicitation, sampling, roots; MRTR on 2026-07-28 reaches them too), the private
// sandbox (HOME, XDG dirs, agent socket: a fresh agent per scenario), the cleanup and the
// "conformance-client: exit=N" last stdout line that summarize.mjs reads.
//
// Env from the runner: MCP_CONFORMANCE_SCENARIO, MCP_CONFORMANCE_PROTOCOL_VERSION and, for some
// scenarios, MCP_CONFORMANCE_CONTEXT (JSON: pre-registration credentials, http-custom-headers' toolCalls).
// Ours: MCP_AUTH_BUILD_DIR (holds app/mcp-auth); MCP_CONFORMANCE_PROXY_ARGS (JSON array of extra proxy
// arguments: the runner splits its command on spaces, so options travel by env); MCP_CONFORMANCE_PROXY_CMD
// (another proxy instead, see proxySpawnParams);
// MCP_CONFORMANCE_EXTENSIONS=1 also drives the extension scenarios (DPoP, client credentials, ...), which
// mcp-auth does not implement and which no requirement set scores: by default the host skips them at once.
// Diagnostics go to stderr, never a token.
import { mkdirSync, readdirSync, readFileSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { makeSandbox, stopAgent } from '../e2e/lib/harness.mjs';

const HERE = path.dirname(fileURLToPath(import.meta.url));
const BROWSER = path.join(HERE, 'redirect-browser.mjs');
export const CIMD_URL = 'https://conformance-test.local/client-metadata.json';
export const REQUEST_TIMEOUT_MS = 20000; // the runner kills us at 30 s; fail cleanly before that

export const serverUrl = process.argv.at(-1);
export const scenario = process.env.MCP_CONFORMANCE_SCENARIO ?? '';
/** The wire the runner resolved for this scenario: 2025-11-25 (stateful) or 2026-07-28 (stateless). */
export const wireVersion = process.env.MCP_CONFORMANCE_PROTOCOL_VERSION ?? '2025-11-25';
export const context = JSON.parse(process.env.MCP_CONFORMANCE_CONTEXT ?? '{}');
export const isModernWire = wireVersion >= '2026-07-28';

const started = Date.now();
// Long runs with a digit or capital (tokens, codes, JWTs) go; long plain words such as
// "oauth-protected-resource" stay readable.
export const redact = text => String(text).replace(/[A-Za-z0-9_\-.~]{24,}/g, m => (/[A-Z0-9]/.test(m) ? '[redacted]' : m));
export const say = msg => console.error(`[client ${((Date.now() - started) / 1000).toFixed(2)}s] ${msg}`);

/** Extension scenarios (never scored by any requirement set): mcp-auth implements none of them. */
const EXTENSIONS = new Set(['auth/client-credentials-jwt', 'auth/client-credentials-basic',
    'auth/enterprise-managed-authorization', 'auth/dpop', 'auth/dpop-nonce', 'auth/wif-jwt-bearer',
    'auth/cross-app-access-complete-flow']);

/**
 * Auth scenarios in which the host's sign-in is meant to fail (the suite allows the client error): the
 * proxy refuses the authorization response or the metadata (iss-*, metadata-issuer-mismatch), makes no
 * authorization request at all (resource-mismatch) or gives up after its retries (scope-retry-limit).
 */
const SIGN_IN_FAILS = new Set(['auth/iss-supported-missing', 'auth/iss-wrong-issuer', 'auth/iss-unexpected',
    'auth/iss-normalized', 'auth/metadata-issuer-mismatch', 'auth/resource-mismatch', 'auth/scope-retry-limit']);

/**
 * Auth scenarios a reconnecting host (client-v2.mjs with versionNegotiation auto or pin) connects to twice:
 * every auth/* scenario whose sign-in succeeds. Without a token the proxy answers the host's
 * `server/discover` probe with -32001 (sign-in required) and never opens a browser from a probe, so the
 * first connection of a first run ends legacy (bridged); the second, in the same sandbox (same agent,
 * token held), must reach the server with its probe and end modern, and repeats the scenario's steps.
 * Every one of them was checked to score the same with the second round (its requests carry the token
 * the agent holds, none signs in again): authorization-server-migration (the AS₂ token is accepted),
 * scope-step-up (the token already has mcp:basic and mcp:write: no third authorization request),
 * offline-access-*, basic-cimd, pre-registration (no second registration, authorization or token
 * request). No scenario is excluded for harm so far; one that is goes here with the reason.
 */
const RECONNECT_HARMS = new Map([]);
export const reconnectsAfterSignIn = scenario.startsWith('auth/') && !EXTENSIONS.has(scenario) &&
    !SIGN_IN_FAILS.has(scenario) && !RECONNECT_HARMS.has(scenario);

/**
 * What a host declares: everything it can answer. Each capability is an object (request-metadata checks
 * that), elicitation applies schema defaults (elicitation-sep1034-client-defaults).
 */
export const CAPABILITIES = { roots: { listChanged: true }, sampling: {}, elicitation: { form: { applyDefaults: true } } };

/** Proxy arguments for this scenario (mcp-remote compatible options). */
export function proxyArgs() {
    const args = ['proxy', serverUrl];
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

/**
 * Spawn parameters for `mcp-auth proxy`: through `sh -c 'exec …'` so that the proxy's stderr lands in
 * sandbox/proxy-logs/proxy-PID.log for every process a host starts — SDK v2's stdio version probe runs on
 * a throw-away sibling whose stderr it discards — and is printed, prefixed [proxy PID], at cleanup.
 * MCP_CONFORMANCE_PROXY_CMD (a JSON argv, `{url}` for the server URL, appended when absent) runs another
 * stdio proxy instead, e.g. mcp-remote as a comparison bridge for the non-auth scenarios.
 */
export function proxySpawnParams(sandbox) {
    let argv;
    if (process.env.MCP_CONFORMANCE_PROXY_CMD) {
        argv = JSON.parse(process.env.MCP_CONFORMANCE_PROXY_CMD);
        if (!argv.includes('{url}')) argv.push('{url}');
        argv = argv.map(a => (a === '{url}' ? serverUrl : a));
        say(`${scenario}: instead of mcp-auth proxy: ${argv.join(' ')}`);
    } else {
        const build = process.env.MCP_AUTH_BUILD_DIR;
        if (!build) throw new Error('MCP_AUTH_BUILD_DIR is not set');
        const args = proxyArgs();
        argv = [path.join(path.resolve(build), 'app', 'mcp-auth'), ...args];
        say(`${scenario}: mcp-auth ${args.map(a => (a.startsWith('{') ? '<json>' : a)).join(' ')}`);
    }
    return {
        command: '/bin/sh',
        args: ['-c', 'exec "$0" "$@" 2>>"$MCP_CONFORMANCE_PROXY_LOGS/proxy-$$.log"', ...argv],
        env: sandbox.env
    };
}

/** The answer to an elicitation: accept; a `confirmed` field is confirmed, the rest left to the schema's defaults. */
function elicitationAnswer(params) {
    const properties = params?.requestedSchema?.properties ?? {};
    return { action: 'accept', content: 'confirmed' in properties ? { confirmed: true } : {} };
}

/**
 * Handlers for what a server asks of its host: elicitation/create (2025: a server->client request, relayed
 * by the proxy; 2026: an MRTR input request, which SDK v2 fulfils through the same handler and which the
 * proxy's bridge turns into a server->client request for SDK v1), sampling/createMessage and roots/list.
 * `host` is the scenario adapter (see runScenario); `on(method, handler)` registers on the SDK client.
 */
export function registerHandlers(host, on) {
    let unrelatedCalled = false;
    on('elicitation/create', async params => {
        say(`elicitation/create: ${params?.message ?? ''}`);
        // sep-2322-client-request-state: between the first MRTR round of test_mrtr_echo_state and its retry,
        // an unrelated call that must carry neither inputResponses nor requestState (parallel isolation).
        if (scenario === 'sep-2322-client-request-state' && !unrelatedCalled) {
            unrelatedCalled = true;
            await callToolChecked(host, 'test_mrtr_unrelated', {});
        }
        return elicitationAnswer(params);
    });
    on('sampling/createMessage', async () => {
        say('sampling/createMessage');
        return { role: 'assistant', content: { type: 'text', text: 'conformance host reply' }, model: 'conformance-host' };
    });
    on('roots/list', async () => {
        say('roots/list');
        return { roots: [] };
    });
}

/** Arguments for the tool a scenario offers. */
function toolArguments(name) {
    return name === 'add_numbers' ? { a: 2, b: 3 } : {};
}

async function callToolChecked(host, name, args) {
    const result = await host.callTool(name, args);
    if (result?.isError) throw new Error(`tools/call ${name} returned isError`);
    say(`tools/call ${name}: ok`);
    return result;
}

async function listTools(host) {
    const { tools } = await host.listTools();
    say(`tools/list: ${tools.map(t => t.name).join(', ') || '(none)'}`);
    return tools;
}

/** Default: tools/list, then call test-tool (auth/*), or the only tool there is (add_numbers, test_reconnection, ...). */
async function listAndCall(host) {
    const tools = await listTools(host);
    const tool = tools.find(t => t.name === 'test-tool') ?? tools[0];
    if (tool) await callToolChecked(host, tool.name, toolArguments(tool.name));
}

const STEPS = {
    // SEP-2322 MRTR: echo_state (its elicitation handler calls test_mrtr_unrelated before answering),
    // no_state, then a result without resultType that must be taken as complete and never retried.
    'sep-2322-client-request-state': async host => {
        await listTools(host);
        await callToolChecked(host, 'test_mrtr_echo_state', {});
        await callToolChecked(host, 'test_mrtr_no_state', {});
        try {
            await callToolChecked(host, 'test_mrtr_no_result_type', {});
        } catch (e) {
            // SDK v2 refuses a 2026 result without resultType locally (no retry, which is all the check wants)
            if (!host.rejectsMissingResultType) throw e;
            say(`tools/call test_mrtr_no_result_type refused by the SDK, not retried: ${redact(e.message)}`);
        }
    },
    // SEP-2243 Mcp-Method / Mcp-Name: every tool, resource and prompt the server lists, once each.
    'http-standard-headers': async host => {
        for (const tool of await listTools(host)) await callToolChecked(host, tool.name, {});
        const { resources } = await host.listResources();
        for (const { uri } of resources) {
            await host.readResource(uri);
            say(`resources/read ${uri}: ok`);
        }
        const { prompts } = await host.listPrompts();
        for (const { name } of prompts) {
            await host.getPrompt(name, {});
            say(`prompts/get ${name}: ok`);
        }
    },
    // SEP-2243 Mcp-Param-*: the calls the scenario hands over in MCP_CONFORMANCE_CONTEXT.toolCalls.
    'http-custom-headers': async host => {
        await listTools(host);
        const calls = context.toolCalls ?? [];
        if (!calls.length) throw new Error('MCP_CONFORMANCE_CONTEXT has no toolCalls');
        for (const call of calls) await callToolChecked(host, call.name, call.arguments ?? {});
    },
    // SEP-2243 x-mcp-header validity: call every tool the host was shown. The proxy must have removed the
    // ten invalid ones from tools/list (SDK v2 does not filter on stdio), so only valid_tool gets called.
    'http-invalid-tool-headers': async host => {
        for (const tool of await listTools(host)) {
            await callToolChecked(host, tool.name, { region: 'us-west1' })
                .catch(e => say(`tools/call ${tool.name} failed: ${redact(e.message)}`));
        }
    },
    // SEP-2106: the tool's inputSchema has a network $ref; list and never fetch it (the mock serves only tools/list).
    'json-schema-ref-no-deref': async host => { await listTools(host); },
    // Not scored (added after release): the schema must survive the trip through proxy and SDK verbatim.
    'json-schema-2020-12-preservation': async host => {
        const focal = (await listTools(host)).find(t => t.name === 'json_schema_2020_12_tool');
        if (!focal) throw new Error('json_schema_2020_12_tool not listed');
        await callToolChecked(host, 'json_schema_echo', { schema: focal.inputSchema });
    }
};

/**
 * Drives the scenario through `host`, the adapter each client file builds over its SDK:
 * { listTools(), callTool(name, args), listResources(), readResource(uri), listPrompts(),
 *   getPrompt(name, args), rejectsMissingResultType }.
 */
export function runScenario(host) {
    return (STEPS[scenario] ?? listAndCall)(host);
}

/**
 * The host's main: skips extension scenarios, makes the sandbox, lets `create(sandbox)` build the client
 * (it returns { connect(), close(), host, verify?(), connections? }), runs the scenario, and when
 * `connections` is 2 (client-v2.mjs, see reconnectsAfterSignIn) closes that connection, connects again in
 * the same sandbox and runs the scenario again; then verify() (about the last connection), cleans up
 * (client close = stdin EOF for the proxy, `mcp-auth shutdown`, kill what is left by pid, remove the
 * sandbox), prints the exit marker and exits.
 */
export async function hostMain(create) {
    let code = 0;
    try {
        if (EXTENSIONS.has(scenario) && !process.env.MCP_CONFORMANCE_EXTENSIONS) {
            say(`${scenario}: extension scenario, not implemented by mcp-auth and scored by no requirement set: skipped`);
            code = 2;
        } else {
            await withSandbox(create);
        }
    } catch (e) {
        say(`FAILED: ${redact(e?.message ?? e)}`);
        code = 1;
    }
    console.log(`conformance-client: exit=${code}`);
    process.exit(code);
}

async function withSandbox(create) {
    const sandbox = makeSandbox('conformance');
    const logs = path.join(sandbox.root, 'proxy-logs');
    Object.assign(sandbox.env, {
        MCP_AUTH_BROWSER: BROWSER,
        CONFORMANCE_BROWSER_LOG: sandbox.browserLog,
        MCP_AUTH_HTTP_TIMEOUT_MS: process.env.MCP_AUTH_HTTP_TIMEOUT_MS ?? '5000',
        MCP_CONFORMANCE_PROXY_LOGS: logs
    });
    mkdirSync(logs, { mode: 0o700 });
    let client = null;
    const cleanup = async () => {
        await client?.close().catch(() => {}); // stdin EOF: the proxy exits
        const { shutdownExit, forced } = await stopAgent(sandbox);
        say(`agent shutdown exit=${shutdownExit ?? '-'}${forced.length ? `, killed ${forced.join(' ')}` : ''}`);
        say(`browser launches: ${sandbox.browserLaunches()}`);
        for (const file of readdirSync(logs).sort()) {
            const pid = file.replace(/^proxy-|\.log$/g, '');
            for (const line of readFileSync(path.join(logs, file), 'utf8').split('\n').filter(Boolean)) {
                console.error(`[proxy ${pid}] ${redact(line)}`);
            }
        }
        sandbox.remove();
    };
    let stopping = null;
    const stop = () => (stopping ??= cleanup());
    for (const sig of ['SIGTERM', 'SIGINT']) {
        process.once(sig, () => {
            say(`${sig}: cleaning up`);
            // no exit marker: summarize.mjs reads its absence as "killed" (the runner's 30 s timeout)
            stop().finally(() => process.exit(128 + (sig === 'SIGTERM' ? 15 : 2)));
        });
    }
    try {
        client = create(sandbox);
        const connections = client.connections ?? 1;
        for (let n = 1; n <= connections; n++) {
            if (n > 1) {
                await client.close(); // stdin EOF: that proxy exits; the agent and its token stay
                say(`connection ${n} of ${connections}: again, with the sign-in of connection 1 held (same sandbox, same agent)`);
            }
            await client.connect();
            await runScenario(client.host);
        }
        await client.verify?.();
    } finally {
        await stop();
    }
}
