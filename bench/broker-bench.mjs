// Broker benchmark: latency and throughput of token/get over the agent's socket, cost of one
// `mcp-auth token` process, a refresh storm, and the agent's memory. Real agent, real oidc-provider,
// real Secret Service (run through bench/run.sh). Prints a table; asserts nothing (not a test).
import net from 'node:net';
import { spawn, spawnSync } from 'node:child_process';
import { readFileSync } from 'node:fs';
import path from 'node:path';
import * as h from '../tests/e2e/lib/harness.mjs';

const CONNECTIONS = Number(process.env.BENCH_CONNECTIONS ?? 10);
const CALLS = Number(process.env.BENCH_CALLS ?? 500);
const CLI_RUNS = Number(process.env.BENCH_CLI_RUNS ?? 50);
const STORM = Number(process.env.BENCH_STORM ?? 200);
const LOADGEN_SECONDS = Number(process.env.BENCH_LOADGEN_SECONDS ?? 5);

const pct = (xs, p) => {
    const s = [...xs].sort((a, b) => a - b);
    return s[Math.min(s.length - 1, Math.floor((p / 100) * s.length))];
};
const ms = x => `${x.toFixed(2)} ms`;

/** One persistent connection issuing `n` sequential token/get calls; returns latencies (ms). */
function client(socket, resource, n) {
    return new Promise((resolve, reject) => {
        const c = net.createConnection(socket);
        const lat = [];
        let buf = '';
        let started = 0;
        const send = () => {
            started = performance.now();
            c.write(`${JSON.stringify({ jsonrpc: '2.0', id: lat.length + 1, method: 'token/get', params: { resource, minValidSeconds: 5 } })}\n`);
        };
        c.on('connect', send);
        c.on('data', d => {
            buf += d;
            let nl;
            while ((nl = buf.indexOf('\n')) >= 0) {
                const msg = JSON.parse(buf.slice(0, nl));
                buf = buf.slice(nl + 1);
                if (msg.error) return reject(new Error(msg.error.message));
                lat.push(performance.now() - started);
                if (lat.length === n) { c.end(); return resolve(lat); }
                send();
            }
        });
        c.on('error', reject);
    });
}

function procStatus(pid) {
    const s = readFileSync(`/proc/${pid}/status`, 'utf8');
    const kb = key => Number(s.match(new RegExp(`^${key}:\\s+(\\d+)`, 'm'))?.[1] ?? 0);
    return { rss: kb('VmRSS') / 1024, hwm: kb('VmHWM') / 1024 };
}

async function main() {
    const { cli } = h.binaries();
    const as = await h.startAuthServer({ atTtl: 3600 });
    const mcp = await h.startMcpServer(as.issuer);
    const sandbox = h.makeSandbox('bench');
    // The agent as users run it: default log levels (the e2e sandboxes log everything).
    delete sandbox.env.QT_LOGGING_RULES;
    const rows = [];
    try {
        const login = await h.runCli(sandbox, ['login', mcp.url]);
        if (login.code !== 0) throw new Error(`login failed: ${login.stderr}`);
        const [agentPid] = h.agentPids(sandbox);
        const idle = procStatus(agentPid);

        // 1. token/get over persistent connections.
        const t0 = performance.now();
        const all = (await Promise.all(Array.from({ length: CONNECTIONS }, () => client(sandbox.socket, mcp.url, CALLS)))).flat();
        const secs = (performance.now() - t0) / 1000;
        rows.push([`token/get, ${CONNECTIONS} connections × ${CALLS} calls`, `p50 ${ms(pct(all, 50))}, p99 ${ms(pct(all, 99))}, ${Math.round(all.length / secs)} calls/s`]);

        // 2. One `mcp-auth token` process per call (what a script or a host's helper pays).
        const cliLat = [];
        for (let i = 0; i < CLI_RUNS; i++) {
            const s = performance.now();
            const r = await h.runCli(sandbox, ['token', mcp.url]);
            if (r.code !== 0) throw new Error('mcp-auth token failed');
            cliLat.push(performance.now() - s);
        }
        rows.push([`mcp-auth token (new process each), ${CLI_RUNS} runs`, `p50 ${ms(pct(cliLat, 50))}, p99 ${ms(pct(cliLat, 99))}`]);
        // GNU time prints the peak RSS (KiB) as the last line of stderr.
        const timed = spawnSync('/usr/bin/time', ['-f', '%M', cli, 'token', mcp.url], { env: sandbox.env, encoding: 'utf8' });
        const peakKiB = Number(timed.stderr.trim().split('\n').pop());
        rows.push(['mcp-auth token peak RSS', `${(peakKiB / 1024).toFixed(1)} MiB`]);

        // 3. The floor: the C++ load generator against an echo server on a Unix socket and against
        //    the agent, same client loop, 1 and 64 clients (issue 8.5).
        const loadgen = path.join(path.resolve(process.env.MCP_AUTH_BUILD_DIR), 'bench', 'mcpauth-loadgen');
        const floor = {};
        for (const clients of [1, 64]) {
            const run = spawnSync(loadgen, [sandbox.socket, mcp.url, String(clients), String(LOADGEN_SECONDS)],
                { env: sandbox.env, encoding: 'utf8', timeout: (LOADGEN_SECONDS * 2 + 30) * 1000 });
            if (run.status !== 0) throw new Error(`mcpauth-loadgen failed: ${run.stderr}`);
            for (const line of run.stdout.trim().split('\n')) {
                const r = JSON.parse(line);
                floor[`${r.target}/${clients}`] = r;
                rows.push([`loadgen ${r.target}, ${clients} client${clients > 1 ? 's' : ''} × ${LOADGEN_SECONDS} s`,
                    `p50 ${(r.p50Us / 1000).toFixed(3)} ms, p99 ${(r.p99Us / 1000).toFixed(3)} ms, ${r.perSecond} calls/s, ${r.errors} errors`]);
            }
        }
        const latRatio = floor['agent/1'].p50Us / Math.max(1, floor['echo/1'].p50Us);
        const thrRatio = floor['agent/64'].perSecond / Math.max(1, floor['echo/64'].perSecond);
        rows.push(['target median latency, 1 client ≤ 2× echo', `${latRatio.toFixed(2)}×  ${latRatio <= 2 ? 'PASS' : 'MISS'}`]);
        rows.push(['target throughput, 64 clients ≥ 0.5× echo', `${thrRatio.toFixed(2)}×  ${thrRatio >= 0.5 ? 'PASS' : 'MISS'}`]);

        const loaded = procStatus(agentPid);
        rows.push(['agent RSS idle after sign-in / after load (peak)', `${idle.rss.toFixed(1)} / ${loaded.rss.toFixed(1)} MiB (${loaded.hwm.toFixed(1)} MiB)`]);
    } finally {
        await h.stopAgent(sandbox);
        sandbox.remove();
    }

    // 3b. The same with approvals on (what users run): the load generator's first request waits for
    //     the user, who allows it "always"; then the hot path also asks the approval gate each time.
    const sbA = h.makeSandbox('bench-approvals', { approvals: true });
    delete sbA.env.QT_LOGGING_RULES;
    try {
        // The user answers "always" to whatever waits until `work` has settled.
        const approvingAlways = async (work) => {
            let settled = false, approvals = 0;
            const done = work.finally(() => { settled = true; });
            while (!settled) {
                const r = await h.runCli(sbA, ['approvals', '--json']);
                for (const p of (r.code === 0 ? JSON.parse(r.stdout) : []))
                    if ((await h.runCli(sbA, ['approve', p.id, '--always'])).code === 0) approvals++;
                await h.sleep(50);
            }
            return { result: await done, approvals };
        };
        // The sign-in runs as another app (mcpauth-peer-client runs it as its child): an app may
        // not approve its own request, and the CLI here is the test runner's.
        const peer = path.join(path.resolve(process.env.MCP_AUTH_BUILD_DIR), 'tests', 'mcpauth-peer-client');
        const signIn = spawn(peer, ['--spawn', h.binaries().cli, 'login', mcp.url], { env: sbA.env, stdio: 'ignore' });
        const login = await approvingAlways(new Promise(resolve => signIn.on('exit', resolve)));
        if (login.result !== 0) throw new Error(`login as mcpauth-peer-client failed: exit ${login.result}`);
        const loadgen = path.join(path.resolve(process.env.MCP_AUTH_BUILD_DIR), 'bench', 'mcpauth-loadgen');
        const first = spawn(loadgen, [sbA.socket, mcp.url, '1', '0.1'], { env: sbA.env, stdio: 'ignore' });
        const warm = await approvingAlways(new Promise(resolve => first.on('exit', resolve)));
        if (warm.approvals !== 1) throw new Error(`the load generator waited for ${warm.approvals} approvals, not 1`);
        for (const clients of [1, 64]) {
            const run = spawnSync(loadgen, [sbA.socket, mcp.url, String(clients), String(LOADGEN_SECONDS)],
                { env: sbA.env, encoding: 'utf8', timeout: (LOADGEN_SECONDS * 2 + 30) * 1000 });
            if (run.status !== 0) throw new Error(`mcpauth-loadgen failed: ${run.stderr}`);
            const [echo, agent] = run.stdout.trim().split('\n').map(l => JSON.parse(l));
            rows.push([`loadgen agent, approvals on, ${clients} client${clients > 1 ? 's' : ''} × ${LOADGEN_SECONDS} s`,
                `p50 ${(agent.p50Us / 1000).toFixed(3)} ms, p99 ${(agent.p99Us / 1000).toFixed(3)} ms, ${agent.perSecond} calls/s, ${agent.errors} errors` +
                ` (${clients === 1 ? `${(agent.p50Us / Math.max(1, echo.p50Us)).toFixed(2)}× echo latency` : `${(agent.perSecond / Math.max(1, echo.perSecond)).toFixed(2)}× echo throughput`})`]);
        }
    } finally {
        await h.stopAgent(sbA);
        sbA.remove();
    }

    // 3. Refresh storm: STORM callers ask at once right after expiry; one refresh must serve them.
    const as2 = await h.startAuthServer({ atTtl: 4 });
    const mcp2 = await h.startMcpServer(as2.issuer);
    const sb2 = h.makeSandbox('bench-storm');
    try {
        const login = await h.runCli(sb2, ['login', mcp2.url]);
        if (login.code !== 0) throw new Error(`login failed: ${login.stderr}`);
        await h.sleep(5000);
        const before = (await as2.stats()).refreshGrants;
        const t0 = performance.now();
        await Promise.all(Array.from({ length: STORM }, () => client(sb2.socket, mcp2.url, 1)));
        const took = performance.now() - t0;
        const grants = (await as2.stats()).refreshGrants - before;
        rows.push([`refresh storm: ${STORM} concurrent token/get after expiry`, `all answered in ${ms(took)}, ${grants} refresh grant(s) at the server`]);
    } finally {
        await h.stopAgent(sb2);
        sb2.remove();
        await h.stopAll();
    }

    const w = Math.max(...rows.map(r => r[0].length));
    console.log(`\nMCP Auth Agent broker benchmark (${new Date().toISOString()}, ${process.arch}, node ${process.version})`);
    for (const [k, v] of rows) console.log(`${k.padEnd(w)}  ${v}`);
}

main().catch(e => { console.error(e); process.exitCode = 1; });
