// End-to-end tests of `mcp-auth proxy` across the two MCP eras: 2025-11-25 (initialize, sessions,
// server→client requests) and 2026-07-28 (no initialize, per-request _meta and headers, server/discover,
// MRTR input_required, subscriptions/listen, cancel by closing the stream). Every host of hosts/hosts.mjs
// (SDK v2 Client pinned modern / auto / legacy, SDK v1 Client, MCP Inspector CLI) spawns the real proxy
// against every server: SDK v2 modern-only (`legacy: 'reject'`), SDK v2 dual era (`legacy:
// 'stateless'`), SDK v1 with 2025 sessions — all behind the real oidc-provider and the real agent.
// The checks (hosts/checks.mjs) are the ones hosts/selfcheck.mjs passes without the proxy, and a
// control row per server runs them with an SDK v2 client straight over HTTP, so a failure in a proxy
// row points at the proxy.
//
// One auth server, one server per kind, one sandbox (one agent) for the file; the first host per
// server signs in through the scripted browser, every later host reuses that sign-in. A modern-only
// host against the 2025 server must fail at connect with a clear error, promptly (2026-07-28 basic/
// versioning compatibility matrix). Run through run-e2e.sh; needs MCP_AUTH_BUILD_DIR.
import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import * as h from './lib/harness.mjs';

h.requireNodeModules();

const { CHECKS } = await import('./hosts/checks.mjs');
const { HTTP_HOST, openHost } = await import('./hosts/hosts.mjs');

const AT_TTL = 600;                // seconds: no refresh within this file
const FIRST_CONNECT_MS = 45000;    // the first host of a server waits for the browser sign-in
const CONNECT_MS = 20000;
const MUST_FAIL_WITHIN_MS = 20000; // a cell the spec says fails must fail within this, not hang

const SERVERS = [
    { kind: 'sdk2-reject', what: 'SDK v2, modern only (legacy: reject)', start: as => h.startSdk2Server(as.issuer, { legacy: 'reject' }) },
    { kind: 'sdk2-stateless', what: 'SDK v2, dual era (legacy: stateless)', start: as => h.startSdk2Server(as.issuer, { legacy: 'stateless' }) },
    { kind: 'sdk1', what: 'SDK v1, 2025-11-25 with sessions', start: as => h.startSdk1Server(as.issuer) }
];
// The well-trodden 2025 path first, so the sign-in happens where the proxy has always done it.
const HOSTS = ['v1', 'v2-legacy', 'v2-auto', 'v2-modern', 'inspector'];
const mustFail = (hostKind, serverKind) => hostKind === 'v2-modern' && serverKind === 'sdk1';

const matrix = []; // {server, host, check, ok, note} for the summary at the end
let seq = 0;


describe('mcp-auth proxy across MCP eras: hosts × servers', { timeout: 175000 }, () => {
    let sandbox;
    let as;
    const servers = {};
    const hosts = new Set();

    before(async () => {
        h.binaries();
        sandbox = h.makeSandbox('eras');
        as = await h.startAuthServer({ atTtl: AT_TTL });
        await Promise.all(SERVERS.map(async s => { servers[s.kind] = await s.start(as); }));
    });

    after(async () => {
        await Promise.all([...hosts].map(x => x.close()));
        if (sandbox) {
            const left = h.proxyPids(sandbox);
            for (const pid of left) try { process.kill(pid, 'SIGKILL'); } catch { /* gone */ }
            if (left.length) process.stderr.write(`eras.test: killed ${left.length} proxy process(es) left running\n`);
            await h.stopAgent(sandbox);
        }
        await h.stopAll();
        sandbox?.remove();
    });

    const record = (server, host, check, ok, note) => matrix.push({ server, host, check, ok, note });

    /** Runs one check as a test, recording the outcome for the summary. */
    function checkTest(serverKind, hostKind, check, getHost, viaProxy) {
        test(`${check.title}`, { timeout: 40000 }, async t => {
            const host = getHost();
            if (!host) {
                record(serverKind, hostKind, check.id, false, 'no connection');
                assert.fail('depends on the connection, which failed');
            }
            try {
                const summary = await check.run({ host, server: servers[serverKind], viaProxy, seq: ++seq });
                record(serverKind, hostKind, check.id, true, summary);
                t.diagnostic(`${hostKind} × ${serverKind}: ${summary}`);
            } catch (e) {
                record(serverKind, hostKind, check.id, false, e.message.split('\n')[0]);
                if (host.stderrText) t.diagnostic(`proxy stderr: ${host.stderr(800)}`);
                throw e;
            }
        });
    }

    for (const srv of SERVERS) {
        describe(`server: ${srv.what}`, () => {
            let launchesBefore = 0;
            before(() => { launchesBefore = sandbox.browserLaunches(); });

            // Control: the same checks with an SDK v2 client straight over HTTP (its own sign-in by hand).
            describe('control: SDK v2 client (auto) over HTTP, no proxy', () => {
                let host = null;
                before(async () => {
                    const url = servers[srv.kind].url;
                    try {
                        host = await openHost(HTTP_HOST, { url, token: await h.signInByHand(url), connectTimeoutMs: CONNECT_MS });
                        hosts.add(host);
                    } catch (e) {
                        record(srv.kind, 'control', 'connect', false, e.message.split('\n')[0]);
                    }
                });
                after(async () => { await host?.close(); });
                for (const check of CHECKS.filter(c => c.hosts.includes(HTTP_HOST))) checkTest(srv.kind, 'control', check, () => host, true);
            });

            for (const kind of HOSTS) {
                describe(`host: ${kind}`, () => {
                    let host = null;
                    after(async () => {
                        if (host) {
                            hosts.delete(host);
                            await host.close();
                        }
                    });

                    if (mustFail(kind, srv.kind)) {
                        test('fails at connect with a clear error, not a hang (a modern-only host cannot use a 2025 server)', { timeout: MUST_FAIL_WITHIN_MS + 10000 }, async t => {
                            const t0 = Date.now();
                            const outcome = await openHost(kind, proxyCommand(srv.kind, `e2e-${kind}`))
                                .then(x => { host = x; return null; }, e => e);
                            const ms = Date.now() - t0;
                            const ok = !!outcome && ms < MUST_FAIL_WITHIN_MS && !/timed? ?out/i.test(outcome.message);
                            record(srv.kind, kind, 'must-fail', ok, outcome ? `${ms} ms: ${outcome.message.split('\n')[0]}` : 'connected');
                            assert.ok(outcome, 'the modern-only host connected to a 2025-11-25 server');
                            t.diagnostic(`failed after ${ms} ms: ${outcome.message.split('\n')[0]}`);
                            assert.ok(ms < MUST_FAIL_WITHIN_MS, `failed after ${ms} ms (limit ${MUST_FAIL_WITHIN_MS})`);
                            assert.doesNotMatch(outcome.message, /timed? ?out/i, 'an answer, not a timeout');
                            assert.match(outcome.message, /version|negotiat|discover|era/i, 'the error names the version mismatch');
                        });
                        return;
                    }

                    test('connects; one browser sign-in per server, reused by every later host', { timeout: FIRST_CONNECT_MS + 15000 }, async t => {
                        const first = sandbox.browserLaunches() === launchesBefore;
                        const t0 = Date.now();
                        try {
                            host = await openHost(kind, { ...proxyCommand(srv.kind, `e2e-${kind}`), connectTimeoutMs: first ? FIRST_CONNECT_MS : CONNECT_MS });
                            hosts.add(host);
                            if (kind === 'inspector') await host.listTools({ timeoutMs: first ? FIRST_CONNECT_MS : CONNECT_MS }); // connects per call
                        } catch (e) {
                            record(srv.kind, kind, 'connect', false, e.message.split('\n')[0]);
                            throw new Error(`${kind} could not connect through the proxy: ${e.message}${host?.stderrText ? `; stderr: ${host.stderr()}` : ''}`);
                        }
                        await h.sleep(300); // the browser is detached; let it write its last log line
                        const launches = sandbox.browserLaunches() - launchesBefore;
                        record(srv.kind, kind, 'connect', launches === 1, `era ${host.era()}, ${Date.now() - t0} ms, browser launches ${launches}`);
                        t.diagnostic(`${kind} × ${srv.kind}: era ${host.era()} after ${Date.now() - t0} ms`);
                        assert.equal(launches, 1, 'exactly one browser sign-in for this server so far');
                        assert.equal(sandbox.browserEvents().filter(e => e.event === 'done').at(-1)?.outcome, 'ok', 'the sign-in completed');
                        assert.equal(h.agentPids(sandbox).length, 1, 'one agent serves every proxy');
                    });

                    for (const check of CHECKS.filter(c => c.hosts.includes(kind))) checkTest(srv.kind, kind, check, () => host, true);
                });
            }
        });
    }

    // The first host ever, with nothing stored: a 2026-07-28 host opens with server/discover, which
    // SDK v2 sends from a throw-away sibling process (2026-07-28 stdio: a probe-only launch must not
    // open a browser). The proxy answers it with "sign-in required" (-32001) and opens no browser:
    //   - an 'auto' host then falls back to initialize on its real session; the proxy signs in
    //     (one browser) and bridges it to the 2026-07-28 server; the next launch is modern;
    //   - a pinned modern host cannot connect yet; after `mcp-auth login URL` the same host connects
    //     modern without a browser.
    describe('first run: a 2026-07-28 host is the first to use the server (nothing stored yet)', () => {
        for (const kind of ['v2-auto', 'v2-modern']) {
            test(`${kind} as the very first host`, { timeout: 2 * FIRST_CONNECT_MS + 15000 }, async t => {
                const fresh = h.makeSandbox(`eras-first-${kind}`);
                const url = servers['sdk2-reject'].url;
                const open = () => openHost(kind, {
                    command: h.binaries().cli, args: ['proxy', url], env: fresh.env,
                    name: `e2e-first-${kind}`, connectTimeoutMs: FIRST_CONNECT_MS
                });
                let host = null;
                const t0 = Date.now();
                try {
                    if (kind === 'v2-modern') {
                        const err = await open().then(hst => { host = hst; return null; }, e => e);
                        assert.ok(err, 'a pinned modern host cannot connect before any sign-in');
                        // SDK v2 reports its own "did not offer pinned protocol version" (the probe's
                        // answer and stderr are the sibling's); it comes at once, not after a timeout.
                        assert.ok(Date.now() - t0 < 10000, `fails fast: ${err.message}`);
                        assert.equal(fresh.browserLaunches(), 0, 'the probe opened no browser');
                        const login = await h.runCli(fresh, ['login', url]);
                        assert.equal(login.code, 0, `mcp-auth login: ${h.redact(login.stderr)}`);
                    }
                    host = await open();
                    const names = (await host.listTools()).tools.map(x => x.name);
                    await h.sleep(300);
                    const note = `era ${host.era()}, ${Date.now() - t0} ms, browser launches ${fresh.browserLaunches()}`;
                    record('sdk2-reject', kind, 'first-run', fresh.browserLaunches() === 1 && names.includes('echo'), note);
                    t.diagnostic(note);
                    assert.equal(fresh.browserLaunches(), 1, 'exactly one browser sign-in');
                    assert.ok(names.includes('echo'), 'tools/list through the proxy');
                    assert.equal(host.era(), kind === 'v2-modern' ? '2026-07-28' : '2025-11-25',
                        'auto: bridged on the first run; pinned: modern after mcp-auth login');
                    if (kind === 'v2-auto') {
                        // The next launch finds the token: the probe reaches the server, the host is modern.
                        await host.close();
                        host = await open();
                        assert.equal(host.era(), '2026-07-28', 'the second launch is modern');
                        assert.equal(fresh.browserLaunches(), 1, 'and signs in no more');
                    }
                } finally {
                    await host?.close();
                    for (const pid of h.proxyPids(fresh)) try { process.kill(pid, 'SIGKILL'); } catch { /* gone */ }
                    await h.stopAgent(fresh);
                    fresh.remove();
                }
            });
        }
    });

    test('every proxy exited when its host closed (stdin EOF)', async () => {
        const deadline = Date.now() + 3000;
        let left = h.proxyPids(sandbox);
        while (left.length && Date.now() < deadline) {
            await h.sleep(100);
            left = h.proxyPids(sandbox);
        }
        record('-', '-', 'exit', left.length === 0, `${left.length} proxy process(es) still running`);
        assert.deepEqual(left, [], 'no mcp-auth proxy process is left running');
    });

    test('summary', () => {
        const width = Math.max(...matrix.map(m => `${m.host} × ${m.server}`.length));
        const lines = matrix.map(m => `${m.ok ? 'ok  ' : 'FAIL'} ${`${m.host} × ${m.server}`.padEnd(width)}  ${m.check.padEnd(12)} ${m.note ?? ''}`);
        process.stdout.write(`\n# what eras.test.mjs checked (${matrix.filter(m => m.ok).length}/${matrix.length} ok)\n${lines.map(l => `# ${l}`).join('\n')}\n`);
    });

    /** The stdio command a host runs: `mcp-auth proxy URL` with the sandbox environment. */
    function proxyCommand(serverKind, name) {
        return { command: h.binaries().cli, args: ['proxy', servers[serverKind].url], env: sandbox.env, name };
    }
});
