// Eras benchmark (issue 7): `mcp-auth proxy URL` beside mcp-remote 0.15.1 `--protocol auto`, in the
// same run, against the same real OAuth-protected MCP SDK v2 server (tests/e2e/servers: oidc-provider +
// sdk2-server.mjs, @modelcontextprotocol/server 2.4.0, `--legacy reject`: 2026-07-28 only), with the
// direct call as the baseline:
//   - latency: BENCH_ERAS_CALLS (200) sequential tools/call `whoami` each, after BENCH_ERAS_WARMUP (20)
//     unmeasured ones, interleaved in BENCH_ERAS_ROUNDS (4) blocks; median and p99, for
//       direct     an SDK v2 Client pinned to 2026-07-28, StreamableHTTPClientTransport, fixed Bearer
//                  header, straight to the server
//       ours-2025  an SDK v1 stdio Client (a 2025-11-25 host, as every host is today) running
//                  `mcp-auth proxy URL`: the proxy bridges to the 2026-07-28 server
//       ours-2026  an SDK v2 stdio Client pinned to 2026-07-28 running `mcp-auth proxy URL`: forwarded
//       remote     the SDK v1 stdio Client running `node mcp-remote/dist/proxy.js URL --protocol auto`
//                  (the node process itself, no npx wrapper): mcp-remote's own bridge
//   - which era reached the server for each host (the server's count of requests with and without the
//     2026 `_meta` envelope during that host's warm-up)
//   - peak RSS of each proxy process (VmHWM in /proc/PID/status, read just before the clients close);
//     the agent's RSS separately (one agent serves every proxy of the session)
// Sign-in is excluded, as in proxy-bench.mjs: `mcp-auth login` before our proxies start; mcp-remote
// signs in once through its own OAuth with the scripted browser.
// Targets (the 2025 host, bridged by each proxy): ours' peak RSS ≤ 1/8 of mcp-remote's; ours' added
// median latency over direct ≤ 1/4 of mcp-remote's. Prints the command and a table with PASS/MISS;
// asserts nothing. BENCH_ERAS_LEGACY=stateless serves 2025-era requests too (dual-era server), for
// comparison when a proxy cannot bridge to a modern-only one. A host that cannot connect is reported
// in its row and the run goes on. Run through bench/run.sh (throwaway keyring session). Never prints a
// token.
import * as h from '../tests/e2e/lib/harness.mjs';
import {
    MODERN, fmt as f, httpHost, interleaved, knob, memText as mem, mcpRemoteVersion, printTable, printTargets, procStatus,
    productionEnv, remoteCommand, signInOurs, signInRemote, stdioHost, summarize, timedCalls
} from './lib.mjs';

const CALLS = knob('BENCH_ERAS_CALLS', 200);
const WARMUP = knob('BENCH_ERAS_WARMUP', 20);
const ROUNDS = knob('BENCH_ERAS_ROUNDS', 4);
const LEGACY = process.env.BENCH_ERAS_LEGACY ?? 'reject';
const REMOTE_ARGS = ['--protocol', 'auto'];

/** Opens a host; a failure becomes { error } for the table instead of ending the run. */
const attempt = async open => {
    try {
        return await open();
    } catch (e) {
        return { error: h.redact(e.message).split('\n')[0].slice(0, 300) };
    }
};

async function main() {
    if (!['reject', 'stateless'].includes(LEGACY)) throw new Error(`BENCH_ERAS_LEGACY=${LEGACY}: reject or stateless`);
    const { cli } = h.binaries();
    const remoteVersion = mcpRemoteVersion();

    const as = await h.startAuthServer({ atTtl: 3600 });
    const srv = await h.startSdk2Server(as.issuer, { legacy: LEGACY });
    const sandbox = h.makeSandbox('bench-eras');
    const env = productionEnv(sandbox);
    const oursCmd = [cli, ['proxy', srv.url], env];
    const remoteCmd = remoteCommand(srv.url, env, REMOTE_ARGS);

    const rows = {
        direct: { label: 'direct (SDK v2 client, Bearer)' },
        ours2025: { label: 'mcp-auth proxy, 2025 host (SDK v1): bridged' },
        ours2026: { label: 'mcp-auth proxy, 2026 host (SDK v2): forwarded' },
        remote: { label: `mcp-remote ${remoteVersion} ${REMOTE_ARGS.join(' ')}, 2025 host (SDK v1)` }
    };
    let agent;
    try {
        // Sign-ins (excluded from every measurement).
        const { agentPid, agentIdle, token } = await signInOurs(sandbox, srv.url);
        const remoteSignIn = await attempt(() => signInRemote(sandbox, remoteCmd));
        const launchesAfterLogins = sandbox.browserLaunches();

        // Warm the server (its JIT) so that whoever is measured first is not penalised.
        {
            const d = await httpHost('v2', srv.url, token);
            await timedCalls(d, 100);
            await d.close();
        }

        const hosts = {
            direct: await httpHost('v2', srv.url, token),
            ours2025: await attempt(() => stdioHost('v1', ...oursCmd)),
            ours2026: await attempt(() => stdioHost('v2', ...oursCmd)),
            remote: remoteSignIn?.error ? remoteSignIn : await attempt(() => stdioHost('v1', ...remoteCmd))
        };
        if (hosts.direct.era() !== MODERN) throw new Error(`the direct client negotiated ${hosts.direct.era()}, not ${MODERN}`);
        const live = {};
        for (const [key, c] of Object.entries(hosts)) {
            if (c.error) rows[key].error = c.error;
            else live[key] = c;
        }
        try {
            // What reached the server during each host's warm-up (the warm-ups run one host at a time).
            let last = (await srv.stats()).eras;
            const onWarm = async key => {
                const now = (await srv.stats()).eras;
                rows[key].server = { modern: now.modern - last.modern, legacy: now.legacy - last.legacy };
                last = now;
            };
            const lat = await interleaved(live, { warmup: WARMUP, calls: CALLS, rounds: ROUNDS, onWarm });
            for (const [key, c] of Object.entries(live)) {
                rows[key].lat = lat[key];
                rows[key].hostEra = c.era();
                // Peak RSS of each proxy process, just before its client closes.
                if (c.pid) rows[key].mem = procStatus(c.pid);
            }
        } finally {
            for (const c of Object.values(live)) await c.close();
        }
        if (sandbox.browserLaunches() !== launchesAfterLogins) throw new Error('a sign-in happened during the measurements');
        agent = { idle: agentIdle, after: procStatus(agentPid) };
    } finally {
        await h.stopAgent(sandbox);
        sandbox.remove();
        await h.stopAll();
    }

    // ----- table
    const dMed = summarize(rows.direct.lat).med;
    for (const r of Object.values(rows)) if (r.lat) Object.assign(r, summarize(r.lat, dMed));
    // The server's era: 2026-07-28 when every warm-up request carried the `_meta` envelope.
    const serverEra = s => (s.legacy === 0 && s.modern > 0 ? MODERN : s.modern === 0 ? '2025 (stateless)' : `mixed ${s.modern}/${s.legacy}`);
    const command = `${LEGACY === 'reject' ? '' : `BENCH_ERAS_LEGACY=${LEGACY} `}bash bench/run.sh eras`;
    console.log(`\nMCP Auth Agent eras benchmark (${new Date().toISOString()}, ${process.arch}, node ${process.version}, `
        + `${CALLS} sequential tools/call each after ${WARMUP} warm-up, interleaved in ${ROUNDS} blocks)`);
    console.log(`command: ${command}`);
    console.log(`server:  sdk2-server.mjs --legacy ${LEGACY} (@modelcontextprotocol/server 2.4.0${LEGACY === 'reject' ? ', 2026-07-28 only' : ', dual era'}) at ${srv.url}`);
    console.log(`proxies: mcp-auth proxy URL;  node mcp-remote/dist/proxy.js URL --host 127.0.0.1 ${REMOTE_ARGS.join(' ')}`);
    printTable([
        ['', 'host era → server era', 'median ms', 'p99 ms', 'added median ms', 'peak RSS MiB'],
        ...Object.entries(rows).map(([key, r]) => (r.error
            ? [r.label, 'did not connect', '-', '-', '-', '-']
            : [r.label, `${r.hostEra} → ${serverEra(r.server)}`, f(r.med), f(r.p99), key === 'direct' ? '-' : f(r.added), r.mem ? f(r.mem.hwm, 1) : '-']))
    ]);
    for (const r of Object.values(rows)) if (r.error) console.log(`${r.label}: ${r.error}`);
    const memRows = Object.values(rows).filter(r => r.mem).map(r => `${r.label.split(',')[0]}${r.label.includes('2026 host') ? ' (2026 host)' : ''} ${mem(r.mem)}`);
    console.log(`RSS now / peak MiB: ${memRows.join('; ')}`);
    console.log(`agent (shared by every proxy) RSS MiB: ${f(agent.idle.rss, 1)} after sign-in, ${f(agent.after.rss, 1)} at the end, peak ${f(agent.after.hwm, 1)}`);
    const ours = rows.ours2025;
    const remote = rows.remote;
    if (ours.error || remote.error) console.log('targets: n/a (a 2025 host could not connect through both proxies)');
    else {
        console.log('targets, 2025 host bridged by each proxy:');
        printTargets({ hwm: ours.mem.hwm, added: ours.added }, { hwm: remote.mem.hwm, added: remote.added }, agent.after.hwm);
    }
}

main().catch(e => { console.error(h.redact(e.stack ?? String(e))); process.exitCode = 1; });
