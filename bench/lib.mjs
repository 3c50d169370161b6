// Shared by the proxy benchmarks (proxy-bench.mjs, eras-bench.mjs): the MCP hosts that drive a proxy
// (SDK v1 or v2 Client, stdio or Streamable HTTP), timed sequential tools/call, interleaved rounds,
// /proc memory figures, the sign-ins (ours through `mcp-auth login`, mcp-remote through its own OAuth
// with the scripted browser), and the table and target lines. Never prints a token.
import { readFileSync, existsSync } from 'node:fs';
import path from 'node:path';
import { pathToFileURL } from 'node:url';
import * as h from '../tests/e2e/lib/harness.mjs';

export const REQUEST_TIMEOUT_MS = 60000;
export const MODERN = '2026-07-28';
export const MCP_REMOTE = path.join(h.TESTS_DIR, 'node_modules', 'mcp-remote', 'dist', 'proxy.js');

/** A numeric knob from the environment. */
export const knob = (name, fallback) => Number(process.env[name] ?? fallback);

// bench/ is outside tests/, so the SDKs are loaded from tests/node_modules by path.
const modulePath = (...parts) => pathToFileURL(path.join(h.TESTS_DIR, 'node_modules', '@modelcontextprotocol', ...parts)).href;
const v1Module = file => import(modulePath('sdk', 'dist', 'esm', 'client', file));
const v2Module = file => import(modulePath('client', 'dist', file));

// ---------------------------------------------------------------------------------------------
// Figures

export const pct = (xs, p) => {
    const s = [...xs].sort((a, b) => a - b);
    return s[Math.min(s.length - 1, Math.floor((p / 100) * s.length))];
};
export const median = xs => {
    const s = [...xs].sort((a, b) => a - b);
    const m = s.length >> 1;
    return s.length % 2 ? s[m] : (s[m - 1] + s[m]) / 2;
};
export const fmt = (x, d = 2) => (x === undefined || Number.isNaN(x) ? '-' : x.toFixed(d));

/** Memory of a process from /proc/PID/status, in MiB. */
export function procStatus(pid) {
    const s = readFileSync(`/proc/${pid}/status`, 'utf8');
    const kb = key => Number(s.match(new RegExp(`^${key}:\\s+(\\d+)`, 'm'))?.[1] ?? 0);
    return { rss: kb('VmRSS') / 1024, hwm: kb('VmHWM') / 1024, anon: kb('RssAnon') / 1024, file: kb('RssFile') / 1024, threads: kb('Threads') };
}

// RssAnon is the process's own memory; RssFile is mostly shared library pages, shared with every
// other process mapping the same libraries (other proxies, the agent).
export const memText = m => `${fmt(m.rss, 1)} / ${fmt(m.hwm, 1)} (anon ${fmt(m.anon, 1)} + file ${fmt(m.file, 1)}; ${m.threads} threads)`;

export function mcpRemoteVersion() {
    if (!existsSync(MCP_REMOTE)) throw new Error(`mcp-remote not found at ${MCP_REMOTE}: run tests/e2e/setup.sh`);
    return JSON.parse(readFileSync(path.join(path.dirname(MCP_REMOTE), '..', 'package.json'), 'utf8')).version;
}

// ---------------------------------------------------------------------------------------------
// Hosts: { client, pid, era(), call() (one checked tools/call whoami), stderr(), close() }

function checkWhoami(r) {
    if (r.isError || r.structuredContent?.sub !== 'alice') throw new Error('tools/call whoami did not answer as alice');
    return r;
}

/** Wraps a connected Client; `v2` picks the callTool signature. */
function host(client, transport, { v2, era, stderr = () => '', close }) {
    return {
        client,
        pid: transport.pid,
        era,
        stderr,
        call: async () => checkWhoami(v2
            ? await client.callTool({ name: 'whoami', arguments: {} }, { timeout: REQUEST_TIMEOUT_MS })
            : await client.callTool({ name: 'whoami', arguments: {} }, undefined, { timeout: REQUEST_TIMEOUT_MS })),
        close: close ?? (() => client.close().catch(() => {}))
    };
}

/** SDK v1 keeps no negotiated version: catch it where the client hands it to the transport. */
function recordV1Version(transport) {
    let version = 'unknown';
    const inner = transport.setProtocolVersion?.bind(transport);
    transport.setProtocolVersion = v => {
        version = v;
        inner?.(v);
    };
    return () => version;
}

/** `v1` (SDK 1.x, a 2025-11-25 host) or `v2` (SDK 2.x pinned to 2026-07-28) Client options. */
async function makeClient(kind, name) {
    if (kind === 'v1') {
        const { Client } = await v1Module('index.js');
        return new Client({ name, version: '1.0.0' }, { capabilities: {} });
    }
    const { Client } = await v2Module('index.mjs');
    return new Client({ name, version: '1.0.0' }, { capabilities: {}, versionNegotiation: { mode: { pin: MODERN } } });
}

/** An SDK Client over Streamable HTTP straight to `url` with a fixed Bearer header. */
export async function httpHost(kind, url, token, { name = 'mcp-auth-bench-direct' } = {}) {
    const { StreamableHTTPClientTransport } = kind === 'v1' ? await v1Module('streamableHttp.js') : await v2Module('index.mjs');
    const client = await makeClient(kind, name);
    const transport = new StreamableHTTPClientTransport(new URL(url), {
        requestInit: { headers: { Authorization: `Bearer ${token}` } }
    });
    const v1Era = kind === 'v1' ? recordV1Version(transport) : null;
    await client.connect(transport, { timeout: REQUEST_TIMEOUT_MS });
    return host(client, transport, {
        v2: kind !== 'v1',
        era: v1Era ?? (() => client.getNegotiatedProtocolVersion() ?? 'unknown'),
        close: async () => {
            await transport.terminateSession().catch(() => {});
            await client.close().catch(() => {});
        }
    });
}

/** An SDK stdio Client running `command args`; stderr is kept (last 20 kB) and never printed raw. */
export async function stdioHost(kind, command, args, env, { name = 'mcp-auth-bench-host' } = {}) {
    const { StdioClientTransport } = kind === 'v1' ? await v1Module('stdio.js') : await v2Module('stdio.mjs');
    const transport = new StdioClientTransport({ command, args, env, stderr: 'pipe' });
    let stderr = '';
    transport.stderr?.on('data', c => { stderr = (stderr + c.toString()).slice(-20000); });
    const client = await makeClient(kind, name);
    const v1Era = kind === 'v1' ? recordV1Version(transport) : null;
    try {
        await client.connect(transport, { timeout: REQUEST_TIMEOUT_MS });
    } catch (e) {
        await client.close().catch(() => {});
        throw new Error(`${path.basename(args[0] === 'proxy' ? command : args[0])} did not connect: ${e.message}; stderr: ${h.redact(stderr.slice(-1500))}`);
    }
    return host(client, transport, {
        v2: kind !== 'v1',
        era: v1Era ?? (() => client.getNegotiatedProtocolVersion() ?? 'unknown'),
        stderr: () => stderr
    });
}

/** `n` sequential calls; latencies in ms. */
export async function timedCalls(host, n) {
    const lat = [];
    for (let i = 0; i < n; i++) {
        const t = performance.now();
        await host.call();
        lat.push(performance.now() - t);
    }
    return lat;
}

/**
 * The hosts open side by side, `warmup` unmeasured calls each, then `calls` sequential calls of each
 * in `rounds` interleaved blocks (a, b, c, a, b, c, …), so that load drifting on the machine hits all
 * alike. One call at a time overall. `onWarm(key)` runs after a host's warm-up (outside the timing).
 * Returns { key: latencies }.
 */
export async function interleaved(hosts, { warmup, calls, rounds, onWarm = async () => {} }) {
    const lat = {};
    for (const [key, c] of Object.entries(hosts)) {
        await timedCalls(c, warmup);
        await onWarm(key);
        lat[key] = [];
    }
    for (let round = 0; round < rounds; round++) {
        const n = Math.floor(calls / rounds) + (round < calls % rounds ? 1 : 0);
        for (const [key, c] of Object.entries(hosts)) lat[key].push(...await timedCalls(c, n));
    }
    return lat;
}

// ---------------------------------------------------------------------------------------------
// Sign-ins and environments

/**
 * The sandbox environment with production logging for the agent and the proxy (the sandbox turns on
 * every debug line for the e2e secret scan) and no desktop, so that `open`'s xdg-open falls back to
 * $BROWSER.
 */
export function productionEnv(sandbox) {
    const env = { ...sandbox.env };
    for (const k of ['QT_LOGGING_RULES', 'DISPLAY', 'WAYLAND_DISPLAY', 'XDG_CURRENT_DESKTOP', 'DESKTOP_SESSION']) delete env[k];
    return env;
}

/**
 * mcp-remote's command line: --host 127.0.0.1 keeps its callback (redirect
 * http://127.0.0.1:PORT/oauth/callback) on the loopback address it listens on; BROWSER points its
 * opener at the scripted browser, which signs in as "alice".
 */
export function remoteCommand(url, env, extraArgs = []) {
    return [process.execPath, [MCP_REMOTE, url, '--host', '127.0.0.1', ...extraArgs], { ...env, BROWSER: h.BROWSER }];
}

/** `mcp-auth login URL` (scripted browser); resolves the agent's pid, its memory then, and a token. */
export async function signInOurs(sandbox, url) {
    const login = await h.runCli(sandbox, ['login', url], { env: { QT_LOGGING_RULES: '' } });
    if (login.code !== 0) throw new Error(`mcp-auth login failed: ${h.redact(login.stderr)}`);
    const [agentPid] = h.agentPids(sandbox);
    const agentIdle = procStatus(agentPid);
    const token = await h.getToken(sandbox, url);
    return { agentPid, agentIdle, token };
}

/**
 * mcp-remote's first start signs in through its own OAuth (exactly one scripted-browser launch) and
 * stores its tokens under $HOME/.mcp-auth, which every later start reuses.
 */
export async function signInRemote(sandbox, remoteCmd, kind = 'v1') {
    const launchesBefore = sandbox.browserLaunches();
    const first = await stdioHost(kind, ...remoteCmd);
    try {
        await first.call();
    } finally {
        await first.close();
    }
    if (sandbox.browserLaunches() !== launchesBefore + 1) throw new Error('mcp-remote did not sign in through the scripted browser exactly once');
    if (!existsSync(path.join(sandbox.HOME, '.mcp-auth'))) throw new Error('mcp-remote stored no tokens under $HOME/.mcp-auth');
}

// ---------------------------------------------------------------------------------------------
// Output

/** Prints rows (arrays of strings, the first one the header): first column left, the rest right. */
export function printTable(rows) {
    const widths = rows[0].map((_, i) => Math.max(...rows.map(r => r[i].length)));
    for (const r of rows) console.log(r.map((c, i) => (i === 0 ? c.padEnd(widths[i]) : c.padStart(widths[i]))).join('  '));
}

/** Median, p99 and added median (over `directMedian`) of `lat`. */
export function summarize(lat, directMedian) {
    const med = median(lat);
    return { med, p99: pct(lat, 99), added: directMedian === undefined ? undefined : med - directMedian };
}

/**
 * The two targets, PASS/MISS (nothing asserted): ours' peak RSS ≤ 1/8 of mcp-remote's, ours' added
 * median ≤ 1/4 of mcp-remote's; then the proxy plus the whole agent against one mcp-remote.
 * ours/remote: { hwm (MiB), added (ms) }; agentHwm in MiB.
 */
export function printTargets(ours, remote, agentHwm) {
    const rssRatio = ours.hwm / remote.hwm;
    const latRatio = ours.added / remote.added;
    const verdict = ok => (ok ? 'PASS' : 'MISS');
    console.log(`target peak RSS ≤ 1/8 of mcp-remote's:         ratio ${fmt(rssRatio, 3)} (1/${fmt(1 / rssRatio, 1)})  ${verdict(rssRatio <= 1 / 8)}`);
    // A negative added latency means the proxy path answered faster than the direct SDK HTTP client
    // (the baseline is the SDK's fetch-based client in this node process, not a zero-cost client).
    const latOk = ours.added <= 0 || (remote.added > 0 && latRatio <= 1 / 4);
    const latText = remote.added > 0 ? fmt(latRatio, 3) : 'n/a (mcp-remote added nothing)';
    console.log(`target added median ≤ 1/4 of mcp-remote's:     ratio ${latText} (${fmt(ours.added)} vs ${fmt(remote.added)} ms)  ${verdict(latOk)}`);
    const withAgent = (ours.hwm + agentHwm) / remote.hwm;
    console.log(`(for reference: proxy + whole agent peak vs one mcp-remote: ratio ${fmt(withAgent, 3)})`);
}
