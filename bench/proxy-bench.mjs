// Proxy benchmark (issue 3): `mcp-auth proxy URL` beside mcp-remote 0.15.1 (tests/node_modules, pinned
// in tests/package.json), in the same run, against the same real OAuth-protected MCP SDK server
// (tests/e2e/servers: oidc-provider + mcp-server.mjs), with the direct call as the baseline:
//   - latency: BENCH_PROXY_CALLS (200) sequential tools/call `whoami` each, after BENCH_PROXY_WARMUP (20)
//     unmeasured ones, interleaved in BENCH_PROXY_ROUNDS (4) blocks; median and p99, for
//       direct  an SDK Client, StreamableHTTPClientTransport, fixed Bearer header, straight to the server
//       ours    an SDK stdio Client running `mcp-auth proxy URL`
//       remote  an SDK stdio Client running `node mcp-remote/dist/proxy.js URL` (the node process
//               itself, no npx wrapper)
//   - peak RSS of the proxy process (VmHWM in /proc/PID/status, read just before the client closes);
//     the agent's RSS separately (one agent serves every proxy of the session)
//   - cold start: spawn to the first tools/call result, tokens already stored, median of
//     BENCH_PROXY_COLD_RUNS (5) runs; the agent is already running (as it is for a host's second proxy)
// Sign-in is excluded: `mcp-auth login` (scripted browser) before our proxy starts; mcp-remote signs in
// once through its own OAuth (its browser opener is pointed at the scripted browser via BROWSER), and
// its tokens in $HOME/.mcp-auth are reused by every later start.
// Targets: ours' peak RSS ≤ 1/8 of mcp-remote's; ours' added median latency over direct ≤ 1/4 of
// mcp-remote's. Prints a table with PASS/MISS; asserts nothing (not a test, not in CI).
// Run through bench/run.sh (throwaway keyring session). Never prints a token.
import { readFileSync, existsSync } from 'node:fs';
import path from 'node:path';
import { pathToFileURL } from 'node:url';
import * as h from '../tests/e2e/lib/harness.mjs';

// bench/ is outside tests/, so the SDK is loaded from tests/node_modules by path.
const sdk = async file => import(pathToFileURL(path.join(h.TESTS_DIR, 'node_modules', '@modelcontextprotocol', 'sdk', 'dist', 'esm', 'client', file)).href);
const { Client } = await sdk('index.js');
const { StdioClientTransport } = await sdk('stdio.js');
const { StreamableHTTPClientTransport } = await sdk('streamableHttp.js');

const CALLS = Number(process.env.BENCH_PROXY_CALLS ?? 200);
const WARMUP = Number(process.env.BENCH_PROXY_WARMUP ?? 20);
const COLD_RUNS = Number(process.env.BENCH_PROXY_COLD_RUNS ?? 5);
const ROUNDS = Number(process.env.BENCH_PROXY_ROUNDS ?? 4);
const REQUEST_TIMEOUT_MS = 60000;
const MCP_REMOTE = path.join(h.TESTS_DIR, 'node_modules', 'mcp-remote', 'dist', 'proxy.js');

const pct = (xs, p) => {
    const s = [...xs].sort((a, b) => a - b);
    return s[Math.min(s.length - 1, Math.floor((p / 100) * s.length))];
};
const median = xs => {
    const s = [...xs].sort((a, b) => a - b);
    const m = s.length >> 1;
    return s.length % 2 ? s[m] : (s[m - 1] + s[m]) / 2;
};

function procStatus(pid) {
    const s = readFileSync(`/proc/${pid}/status`, 'utf8');
    const kb = key => Number(s.match(new RegExp(`^${key}:\\s+(\\d+)`, 'm'))?.[1] ?? 0);
    return { rss: kb('VmRSS') / 1024, hwm: kb('VmHWM') / 1024, anon: kb('RssAnon') / 1024, file: kb('RssFile') / 1024, threads: kb('Threads') };
}

async function whoami(client) {
    const r = await client.callTool({ name: 'whoami', arguments: {} }, undefined, { timeout: REQUEST_TIMEOUT_MS });
    if (r.isError || r.structuredContent?.sub !== 'alice') throw new Error('tools/call whoami did not answer as alice');
    return r;
}

/** `n` sequential calls; latencies in ms. */
async function timedCalls(client, n) {
    const lat = [];
    for (let i = 0; i < n; i++) {
        const t = performance.now();
        await whoami(client);
        lat.push(performance.now() - t);
    }
    return lat;
}

async function directClient(url, token) {
    const client = new Client({ name: 'mcp-auth-bench-direct', version: '1.0.0' });
    const transport = new StreamableHTTPClientTransport(new URL(url), {
        requestInit: { headers: { Authorization: `Bearer ${token}` } }
    });
    await client.connect(transport, { timeout: REQUEST_TIMEOUT_MS });
    return {
        client,
        close: async () => {
            await transport.terminateSession().catch(() => {});
            await client.close().catch(() => {});
        }
    };
}

/** An SDK stdio Client running `command args`; stderr is kept (last 20 kB) and never printed raw. */
async function stdioClient(command, args, env) {
    const transport = new StdioClientTransport({ command, args, env, stderr: 'pipe' });
    let stderr = '';
    transport.stderr?.on('data', c => { stderr = (stderr + c.toString()).slice(-20000); });
    const client = new Client({ name: 'mcp-auth-bench-host', version: '1.0.0' }, { capabilities: {} });
    try {
        await client.connect(transport, { timeout: REQUEST_TIMEOUT_MS });
    } catch (e) {
        await client.close().catch(() => {});
        throw new Error(`${path.basename(args[0] === 'proxy' ? command : args[0])} did not connect: ${e.message}; stderr: ${h.redact(stderr.slice(-1500))}`);
    }
    return { client, pid: transport.pid, stderr: () => stderr, close: () => client.close().catch(() => {}) };
}

async function main() {
    const { cli } = h.binaries();
    if (!existsSync(MCP_REMOTE)) throw new Error(`mcp-remote not found at ${MCP_REMOTE}: run tests/e2e/setup.sh`);
    const remoteVersion = JSON.parse(readFileSync(path.join(path.dirname(MCP_REMOTE), '..', 'package.json'), 'utf8')).version;

    const as = await h.startAuthServer({ atTtl: 3600 });
    const mcp = await h.startMcpServer(as.issuer);
    const sandbox = h.makeSandbox('bench-proxy');
    // Production logging for the agent and the proxy (the sandbox turns on every debug line for the
    // e2e secret scan), and no desktop, so that `open`'s xdg-open falls back to $BROWSER.
    const env = { ...sandbox.env };
    for (const k of ['QT_LOGGING_RULES', 'DISPLAY', 'WAYLAND_DISPLAY', 'XDG_CURRENT_DESKTOP', 'DESKTOP_SESSION']) delete env[k];
    const oursCmd = [cli, ['proxy', mcp.url], env];
    // mcp-remote: --host 127.0.0.1 keeps its callback (redirect http://127.0.0.1:PORT/oauth/callback)
    // on the loopback address it listens on; the scripted browser signs in as "alice".
    const remoteEnv = { ...env, BROWSER: h.BROWSER };
    const remoteCmd = [process.execPath, [MCP_REMOTE, mcp.url, '--host', '127.0.0.1'], remoteEnv];

    const res = {};
    try {
        // Sign-ins (excluded from every measurement).
        const login = await h.runCli(sandbox, ['login', mcp.url], { env: { QT_LOGGING_RULES: '' } });
        if (login.code !== 0) throw new Error(`mcp-auth login failed: ${h.redact(login.stderr)}`);
        const [agentPid] = h.agentPids(sandbox);
        const agentIdle = procStatus(agentPid);
        const token = await h.getToken(sandbox, mcp.url);
        {
            const launchesBefore = sandbox.browserLaunches();
            const first = await stdioClient(...remoteCmd);
            await whoami(first.client);
            await first.close();
            if (sandbox.browserLaunches() !== launchesBefore + 1) throw new Error('mcp-remote did not sign in through the scripted browser exactly once');
            if (!existsSync(path.join(sandbox.HOME, '.mcp-auth'))) throw new Error('mcp-remote stored no tokens under $HOME/.mcp-auth');
        }
        const launchesAfterLogins = sandbox.browserLaunches();

        // Warm the server (its JIT) so that whoever is measured first is not penalised.
        {
            const d = await directClient(mcp.url, token);
            await timedCalls(d.client, 100);
            await d.close();
        }

        // Cold starts, interleaved: spawn -> initialize -> first tools/call result.
        res.ours = { cold: [] };
        res.remote = { cold: [] };
        for (let i = 0; i < COLD_RUNS; i++) {
            for (const [key, cmd] of [['ours', oursCmd], ['remote', remoteCmd]]) {
                const t = performance.now();
                const p = await stdioClient(...cmd);
                await whoami(p.client);
                res[key].cold.push(performance.now() - t);
                await p.close();
            }
        }

        // Latency: the three clients open side by side, WARMUP unmeasured calls each, then the CALLS
        // sequential calls of each in ROUNDS interleaved blocks (direct, ours, remote, direct, …), so
        // that load drifting on the machine hits all three alike. One call at a time overall.
        const clients = {
            direct: await directClient(mcp.url, token),
            ours: await stdioClient(...oursCmd),
            remote: await stdioClient(...remoteCmd)
        };
        try {
            res.direct = {};
            for (const [key, c] of Object.entries(clients)) {
                await timedCalls(c.client, WARMUP);
                res[key].lat = [];
            }
            for (let round = 0; round < ROUNDS; round++) {
                const n = Math.floor(CALLS / ROUNDS) + (round < CALLS % ROUNDS ? 1 : 0);
                for (const [key, c] of Object.entries(clients)) res[key].lat.push(...await timedCalls(c.client, n));
            }
            // Peak RSS of each proxy process, just before its client closes.
            res.ours.mem = procStatus(clients.ours.pid);
            res.remote.mem = procStatus(clients.remote.pid);
        } finally {
            for (const c of Object.values(clients)) await c.close();
        }
        if (sandbox.browserLaunches() !== launchesAfterLogins) throw new Error('a sign-in happened during the measurements');
        res.agent = { idle: agentIdle, after: procStatus(agentPid) };
    } finally {
        await h.stopAgent(sandbox);
        sandbox.remove();
        await h.stopAll();
    }

    // ----- table
    const f = (x, d = 2) => (x === undefined ? '-' : x.toFixed(d));
    const dMed = median(res.direct.lat);
    for (const k of ['direct', 'ours', 'remote']) {
        const r = res[k];
        r.med = median(r.lat);
        r.p99 = pct(r.lat, 99);
        r.added = r.med - dMed;
        if (r.cold) r.coldMed = median(r.cold);
    }
    const rows = [
        ['', 'median ms', 'p99 ms', 'added median ms', 'peak RSS MiB', 'cold start ms (median)'],
        ['direct (SDK client, Bearer)', f(res.direct.med), f(res.direct.p99), '-', '-', '-'],
        ['mcp-auth proxy', f(res.ours.med), f(res.ours.p99), f(res.ours.added), f(res.ours.mem.hwm, 1), f(res.ours.coldMed, 0)],
        [`mcp-remote ${remoteVersion}`, f(res.remote.med), f(res.remote.p99), f(res.remote.added), f(res.remote.mem.hwm, 1), f(res.remote.coldMed, 0)]
    ];
    const widths = rows[0].map((_, i) => Math.max(...rows.map(r => r[i].length)));
    console.log(`\nMCP Auth Agent proxy benchmark (${new Date().toISOString()}, ${process.arch}, node ${process.version}, `
        + `${CALLS} sequential tools/call each after ${WARMUP} warm-up, interleaved in ${ROUNDS} blocks; cold start ×${COLD_RUNS})`);
    for (const r of rows) console.log(r.map((c, i) => (i === 0 ? c.padEnd(widths[i]) : c.padStart(widths[i]))).join('  '));
    console.log(`cold start runs ms: mcp-auth proxy ${res.ours.cold.map(x => x.toFixed(0)).join(' ')}; mcp-remote ${res.remote.cold.map(x => x.toFixed(0)).join(' ')}`);
    // RssAnon is the process's own memory; RssFile is mostly shared library pages, shared with every
    // other process mapping the same libraries (other proxies, the agent).
    const mem = m => `${f(m.rss, 1)} / ${f(m.hwm, 1)} (anon ${f(m.anon, 1)} + file ${f(m.file, 1)}; ${m.threads} threads)`;
    console.log(`RSS now / peak MiB: mcp-auth proxy ${mem(res.ours.mem)}; mcp-remote ${mem(res.remote.mem)}`);
    console.log(`agent (shared by every proxy) RSS MiB: ${f(res.agent.idle.rss, 1)} after sign-in, ${f(res.agent.after.rss, 1)} at the end, peak ${f(res.agent.after.hwm, 1)}`);

    const rssRatio = res.ours.mem.hwm / res.remote.mem.hwm;
    const latRatio = res.ours.added / res.remote.added;
    const verdict = ok => (ok ? 'PASS' : 'MISS');
    console.log(`target peak RSS ≤ 1/8 of mcp-remote's:         ratio ${f(rssRatio, 3)} (1/${f(1 / rssRatio, 1)})  ${verdict(rssRatio <= 1 / 8)}`);
    // A negative added latency means the proxy path answered faster than the direct SDK HTTP client
    // (the baseline is the SDK's fetch-based client in this node process, not a zero-cost client).
    const latOk = res.ours.added <= 0 || (res.remote.added > 0 && latRatio <= 1 / 4);
    const latText = res.remote.added > 0 ? f(latRatio, 3) : 'n/a (mcp-remote added nothing)';
    console.log(`target added median ≤ 1/4 of mcp-remote's:     ratio ${latText} (${f(res.ours.added)} vs ${f(res.remote.added)} ms)  ${verdict(latOk)}`);
    const withAgent = (res.ours.mem.hwm + res.agent.after.hwm) / res.remote.mem.hwm;
    console.log(`(for reference: proxy + whole agent peak vs one mcp-remote: ratio ${f(withAgent, 3)})`);
}

main().catch(e => { console.error(h.redact(e.stack ?? String(e))); process.exitCode = 1; });
