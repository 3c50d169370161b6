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
import * as h from '../tests/e2e/lib/harness.mjs';
import {
    fmt as f, httpHost, interleaved, knob, median, memText as mem, mcpRemoteVersion, printTable, printTargets, procStatus,
    productionEnv, remoteCommand, signInOurs, signInRemote, stdioHost, summarize, timedCalls
} from './lib.mjs';

const CALLS = knob('BENCH_PROXY_CALLS', 200);
const WARMUP = knob('BENCH_PROXY_WARMUP', 20);
const COLD_RUNS = knob('BENCH_PROXY_COLD_RUNS', 5);
const ROUNDS = knob('BENCH_PROXY_ROUNDS', 4);

async function main() {
    const { cli } = h.binaries();
    const remoteVersion = mcpRemoteVersion();

    const as = await h.startAuthServer({ atTtl: 3600 });
    const mcp = await h.startMcpServer(as.issuer);
    const sandbox = h.makeSandbox('bench-proxy');
    const env = productionEnv(sandbox);
    const oursCmd = [cli, ['proxy', mcp.url], env];
    const remoteCmd = remoteCommand(mcp.url, env);

    const res = {};
    try {
        // Sign-ins (excluded from every measurement).
        const { agentPid, agentIdle, token } = await signInOurs(sandbox, mcp.url);
        await signInRemote(sandbox, remoteCmd);
        const launchesAfterLogins = sandbox.browserLaunches();

        // Warm the server (its JIT) so that whoever is measured first is not penalised.
        {
            const d = await httpHost('v1', mcp.url, token);
            await timedCalls(d, 100);
            await d.close();
        }

        // Cold starts, interleaved: spawn -> initialize -> first tools/call result.
        res.ours = { cold: [] };
        res.remote = { cold: [] };
        for (let i = 0; i < COLD_RUNS; i++) {
            for (const [key, cmd] of [['ours', oursCmd], ['remote', remoteCmd]]) {
                const t = performance.now();
                const p = await stdioHost('v1', ...cmd);
                await p.call();
                res[key].cold.push(performance.now() - t);
                await p.close();
            }
        }

        // Latency: the three clients side by side, interleaved (bench/lib.mjs interleaved()).
        const clients = {
            direct: await httpHost('v1', mcp.url, token),
            ours: await stdioHost('v1', ...oursCmd),
            remote: await stdioHost('v1', ...remoteCmd)
        };
        try {
            res.direct = {};
            const lat = await interleaved(clients, { warmup: WARMUP, calls: CALLS, rounds: ROUNDS });
            for (const key of Object.keys(clients)) res[key].lat = lat[key];
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
    const dMed = median(res.direct.lat);
    for (const k of ['direct', 'ours', 'remote']) {
        const r = res[k];
        Object.assign(r, summarize(r.lat, dMed));
        if (r.cold) r.coldMed = median(r.cold);
    }
    console.log(`\nMCP Auth Agent proxy benchmark (${new Date().toISOString()}, ${process.arch}, node ${process.version}, `
        + `${CALLS} sequential tools/call each after ${WARMUP} warm-up, interleaved in ${ROUNDS} blocks; cold start ×${COLD_RUNS})`);
    printTable([
        ['', 'median ms', 'p99 ms', 'added median ms', 'peak RSS MiB', 'cold start ms (median)'],
        ['direct (SDK client, Bearer)', f(res.direct.med), f(res.direct.p99), '-', '-', '-'],
        ['mcp-auth proxy', f(res.ours.med), f(res.ours.p99), f(res.ours.added), f(res.ours.mem.hwm, 1), f(res.ours.coldMed, 0)],
        [`mcp-remote ${remoteVersion}`, f(res.remote.med), f(res.remote.p99), f(res.remote.added), f(res.remote.mem.hwm, 1), f(res.remote.coldMed, 0)]
    ]);
    console.log(`cold start runs ms: mcp-auth proxy ${res.ours.cold.map(x => x.toFixed(0)).join(' ')}; mcp-remote ${res.remote.cold.map(x => x.toFixed(0)).join(' ')}`);
    console.log(`RSS now / peak MiB: mcp-auth proxy ${mem(res.ours.mem)}; mcp-remote ${mem(res.remote.mem)}`);
    console.log(`agent (shared by every proxy) RSS MiB: ${f(res.agent.idle.rss, 1)} after sign-in, ${f(res.agent.after.rss, 1)} at the end, peak ${f(res.agent.after.hwm, 1)}`);
    printTargets({ hwm: res.ours.mem.hwm, added: res.ours.added }, { hwm: res.remote.mem.hwm, added: res.remote.added }, res.agent.after.hwm);
}

main().catch(e => { console.error(h.redact(e.stack ?? String(e))); process.exitCode = 1; });
