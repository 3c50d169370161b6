// Real MCP hosts (the programs an AI tool embeds) that spawn a stdio MCP server — in eras.test.mjs
// `mcp-auth proxy URL` — and drive it, one shape for all of them:
//
//   v2-modern  SDK v2 Client (@modelcontextprotocol/client 2.4.0), versionNegotiation {mode:{pin:'2026-07-28'}}
//   v2-auto    SDK v2 Client, versionNegotiation {mode:'auto'}: server/discover first (on a throw-away
//              sibling process, for the SDK's own stdio transport), initialize if the answer is legacy
//   v2-legacy  SDK v2 Client with no versionNegotiation (the SDK default): a plain 2025 initialize
//   v1         SDK v1 Client (@modelcontextprotocol/sdk 1.32.2): 2025-11-25
//   v2-http    control, no stdio: SDK v2 Client in 'auto' mode straight over Streamable HTTP to `url` with
//              a fixed `token` (what the proxy should look like to the server)
//   inspector  MCP Inspector 2.12.0 CLI (`inspector --cli --protocol-era auto --format json --method M
//              ... CMD ARGS`), one process per call; tools/list and tools/call only (it declares no
//              elicitation, has no notifications and no cancel, and checks tool names itself)
//
// The SDK hosts declare elicitation (form) and answer every elicitation/create with
// {action:'accept', content:{name: elicitName}} — the same handler serves a 2025 server→client request
// and a 2026 MRTR input_required round (the SDK v2 client auto-fulfils it) — and count
// notifications/tools/list_changed (v2: ClientOptions.listChanged, which on a modern connection opens
// subscriptions/listen). Every JSON-RPC message on the host's stdio is kept in `wire` (in/out), so a
// test can see the server's error as it arrived, whether a request id got anything after its cancel,
// and whether a modern host was sent requests. Nothing here prints a token.
//
//   node hosts.mjs KIND -- CMD ARGS...     connects, prints {era, tools} as one JSON line, closes
import { spawn } from 'node:child_process';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

export const HOST_KINDS = ['v2-modern', 'v2-auto', 'v2-legacy', 'v1', 'inspector'];
export const HTTP_HOST = 'v2-http';
export const MODERN = '2026-07-28';

const WIRE_MAX = 2000;
const STDERR_MAX = 20000;
const INSPECTOR = fileURLToPath(new URL('../../node_modules/@modelcontextprotocol/inspector/clients/launcher/build/index.js', import.meta.url));

/**
 * Opens a host of `kind` on the stdio server `command args` (env: the complete environment of the
 * server process), or for `v2-http` on `url` with `token`. Resolves once the host is connected (for
 * `inspector`: at once; it connects per call); rejects with the host's own error otherwise. Options:
 * name (clientInfo.name), elicitName, connectTimeoutMs, probeTimeoutMs (v2-auto/v2-modern/v2-http:
 * the server/discover wait).
 */
export async function openHost(kind, { command, args = [], env = process.env, url, token, name = `e2e-${kind}`, elicitName = 'Alice',
    connectTimeoutMs = 30000, probeTimeoutMs = 10000 } = {}) {
    if (![...HOST_KINDS, HTTP_HOST].includes(kind)) throw new Error(`unknown host kind ${kind}`);
    if (kind === 'inspector') return inspectorHost({ command, args, env });
    return sdkHost(kind, { command, args, env, url, token, name, elicitName, connectTimeoutMs, probeTimeoutMs });
}

// ---------------------------------------------------------------------------------------------
// SDK hosts

async function sdkHost(kind, { command, args, env, url, token, name, elicitName, connectTimeoutMs, probeTimeoutMs }) {
    const v2 = kind.startsWith('v2-');
    const host = baseHost(kind);
    const onElicit = request => {
        host.elicitations.push({ atMs: Date.now(), message: request.params?.message ?? null });
        return { action: 'accept', content: { name: elicitName } };
    };
    const onListChanged = () => host.listChanged.push(Date.now());
    let client;
    let transport;
    if (v2) {
        const { Client } = await import('@modelcontextprotocol/client');
        const { StdioClientTransport } = await import('@modelcontextprotocol/client/stdio');
        const mode = { 'v2-modern': { pin: MODERN }, 'v2-auto': 'auto', 'v2-http': 'auto', 'v2-legacy': undefined }[kind];
        client = new Client({ name, version: '1.0.0' }, {
            capabilities: { elicitation: { form: {} } },
            ...(mode && { versionNegotiation: { mode, probe: { timeoutMs: probeTimeoutMs } } }),
            listChanged: { tools: { autoRefresh: false, debounceMs: 0, onChanged: onListChanged } }
        });
        client.setRequestHandler('elicitation/create', onElicit);
        if (kind === HTTP_HOST) {
            const { StreamableHTTPClientTransport } = await import('@modelcontextprotocol/client');
            transport = new StreamableHTTPClientTransport(new URL(url), { requestInit: { headers: { Authorization: `Bearer ${token}` } } });
        } else {
            transport = new StdioClientTransport({ command, args, env, stderr: 'pipe' });
        }
    } else {
        const { Client } = await import('@modelcontextprotocol/sdk/client/index.js');
        const { StdioClientTransport } = await import('@modelcontextprotocol/sdk/client/stdio.js');
        const { ElicitRequestSchema, ToolListChangedNotificationSchema } = await import('@modelcontextprotocol/sdk/types.js');
        client = new Client({ name, version: '1.0.0' }, { capabilities: { elicitation: { form: {} } } });
        client.setRequestHandler(ElicitRequestSchema, onElicit);
        client.setNotificationHandler(ToolListChangedNotificationSchema, onListChanged);
        transport = new StdioClientTransport({ command, args, env, stderr: 'pipe' });
    }
    tapWire(transport, host.wire);
    transport.stderr?.on('data', c => { host.stderrText = (host.stderrText + c.toString()).slice(-STDERR_MAX); });

    host.client = client;
    host.transport = transport;
    Object.defineProperty(host, 'pid', { get: () => transport.pid ?? null });
    // SDK v1 keeps no negotiated version: read it from the initialize answer on the wire.
    host.era = () => (v2 ? client.getNegotiatedProtocolVersion() : host.answersTo(host.lastOutbound('initialize')?.id)[0]?.msg.result?.protocolVersion) ?? 'unknown';
    host.listTools = ({ timeoutMs = 10000 } = {}) => client.listTools(undefined, { timeout: timeoutMs });
    host.callTool = (tool, toolArgs = {}, { signal, timeoutMs = 10000 } = {}) => {
        const options = { timeout: timeoutMs, ...(signal && { signal }) };
        return v2 ? client.callTool({ name: tool, arguments: toolArgs }, options) : client.callTool({ name: tool, arguments: toolArgs }, undefined, options);
    };
    host.close = async () => { await client.close().catch(() => {}); };
    try {
        await client.connect(transport, { timeout: connectTimeoutMs });
    } catch (e) {
        await host.close();
        throw e;
    }
    return host;
}

/** Records every message the host sends and receives on the transport (bounded). */
function tapWire(transport, wire) {
    const keep = (dir, msg) => {
        wire.push({ dir, atMs: Date.now(), msg });
        if (wire.length > WIRE_MAX) wire.shift();
    };
    const send = transport.send.bind(transport);
    transport.send = (msg, options) => {
        keep('out', msg);
        return send(msg, options);
    };
    // The client installs onmessage in connect(); wrap whatever it installs.
    let inner;
    Object.defineProperty(transport, 'onmessage', {
        configurable: true,
        get: () => (inner ? (msg, extra) => { keep('in', msg); inner(msg, extra); } : undefined),
        set: fn => { inner = fn; }
    });
}

function baseHost(kind) {
    const host = {
        kind,
        elicitations: [],
        listChanged: [],
        wire: [],
        stderrText: '',
        /** The host's stderr (the server's, for SDK hosts), token-shaped strings redacted. */
        stderr: (n = 1500) => redact(host.stderrText.slice(-n)),
        /** Inbound messages of the wire log, optionally since atMs. */
        inbound: (sinceMs = 0) => host.wire.filter(w => w.dir === 'in' && w.atMs >= sinceMs).map(w => w.msg),
        /** The last outbound request with this method (and tools/call name), from the wire log. */
        lastOutbound(method, toolName) {
            for (let i = host.wire.length - 1; i >= 0; i--) {
                const { dir, msg } = host.wire[i];
                if (dir === 'out' && msg.method === method && (toolName === undefined || msg.params?.name === toolName)) return msg;
            }
            return null;
        },
        /** Inbound messages answering request id `id`. */
        answersTo: id => host.wire.filter(w => w.dir === 'in' && w.msg.id === id && !('method' in w.msg)),
        /** Resolves true when pred() holds, false after ms. */
        async waitFor(pred, ms = 5000) {
            const deadline = Date.now() + ms;
            while (Date.now() < deadline) {
                if (pred()) return true;
                await new Promise(resolve => setTimeout(resolve, 50));
            }
            return !!pred();
        }
    };
    return host;
}

// ---------------------------------------------------------------------------------------------
// MCP Inspector CLI: one `inspector --cli` process per call

function inspectorHost({ command, args, env, era = 'auto' }) {
    const host = baseHost('inspector');
    host.pid = null;
    host.era = () => `inspector --protocol-era ${era}`;
    // The SDK's stdio transport hands the server only a few variables (HOME, PATH, ...) plus those
    // given with -e, so the whole environment goes through -e.
    const envArgs = Object.entries(env).filter(([k, v]) => v !== undefined && /^[A-Z_][A-Z0-9_]*$/.test(k)).flatMap(([k, v]) => ['-e', `${k}=${v}`]);
    const run = async (methodArgs, timeoutMs) => {
        const r = await runInspector(['--cli', '--format', 'json', '--quiet', '--protocol-era', era, '--connect-timeout', String(timeoutMs),
            ...envArgs, ...methodArgs, '--', command, ...args], { env, timeoutMs: timeoutMs + 5000 });
        host.stderrText = (host.stderrText + r.stderr).slice(-STDERR_MAX);
        let out = null;
        try { out = JSON.parse(r.stdout.trim() || r.stderr.trim().split('\n').at(-1)); } catch { /* not JSON */ }
        if (r.code === 0 && out?.result) return out.result;
        const error = new Error(out?.error?.message ?? `inspector exited ${r.code ?? r.signal}${r.timedOut ? ' (timeout)' : ''}`);
        error.code = out?.error?.code ?? null;
        error.exitCode = r.code;
        throw error;
    };
    host.listTools = ({ timeoutMs = 15000 } = {}) => run(['--method', 'tools/list'], timeoutMs);
    host.callTool = (tool, toolArgs = {}, { timeoutMs = 15000 } = {}) =>
        run(['--method', 'tools/call', '--tool-name', tool, '--tool-args-json', JSON.stringify(toolArgs)], timeoutMs);
    host.close = async () => {};
    return host;
}

function runInspector(args, { env, timeoutMs }) {
    return new Promise(resolve => {
        const child = spawn(process.execPath, [INSPECTOR, ...args], { env, stdio: ['ignore', 'pipe', 'pipe'], detached: true });
        let stdout = '';
        let stderr = '';
        let timedOut = false;
        const killGroup = () => { try { process.kill(-child.pid, 'SIGKILL'); } catch { /* gone */ } };
        const timer = setTimeout(() => { timedOut = true; killGroup(); }, timeoutMs);
        child.stdout.on('data', c => { stdout += c.toString(); });
        child.stderr.on('data', c => { stderr = (stderr + c.toString()).slice(-STDERR_MAX); });
        child.on('close', (code, signal) => {
            clearTimeout(timer);
            killGroup(); // the stdio server the CLI started, should it have outlived the CLI
            resolve({ code, signal, stdout, stderr, timedOut });
        });
    });
}

function redact(text) {
    return String(text).replace(/[A-Za-z0-9_\-.~]{24,}/g, '[redacted]');
}

// ---------------------------------------------------------------------------------------------

if (process.argv[1] && path.resolve(process.argv[1]) === fileURLToPath(import.meta.url)) {
    const [kind, sep, command, ...rest] = process.argv.slice(2);
    if (!HOST_KINDS.includes(kind) || sep !== '--' || !command) {
        process.stderr.write(`usage: node hosts.mjs ${HOST_KINDS.join('|')} -- CMD ARGS...\n`);
        process.exit(2);
    }
    const host = await openHost(kind, { command, args: rest });
    try {
        const tools = await host.listTools();
        process.stdout.write(`${JSON.stringify({ kind, era: host.era(), tools: tools.tools.map(t => t.name) })}\n`);
    } finally {
        await host.close();
    }
}
