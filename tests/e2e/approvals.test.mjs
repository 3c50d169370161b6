// End-to-end approvals (issue 8): the real agent with approvals on, against oidc-provider and an MCP
// SDK server. The "apps" are real, distinct executables that launch mcp-auth: the test binary
// mcpauth-peer-client (`--spawn CMD ARGS...` runs CMD as its child) and a copy of it under another
// name, so the app the agent names is the one the kernel reports, never the test runner. The user's
// decisions come from the test runner's own `mcp-auth approve|deny`, a different app, so they are
// allowed. Approvals time out after 5 s here. Never prints a token.
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { createHash } from 'node:crypto';
import { chmodSync, copyFileSync, existsSync, mkdirSync, readFileSync, realpathSync, symlinkSync } from 'node:fs';
import path from 'node:path';
import { after, before, describe, test } from 'node:test';
import * as h from './lib/harness.mjs';

h.requireNodeModules();

const TIMEOUT_S = 5; // approvals.timeoutSeconds (the smallest the agent accepts)
const APP_NAME = 'mcpauth-peer-client via mcp-auth';

function explain(r) {
    return `exit ${r.code ?? r.signal}${r.timedOut ? ' (timed out)' : ''}; stderr: ${h.redact(r.stderr.trim().slice(0, 800))}`;
}

const isToken = line => /^[A-Za-z0-9_\-.~+/=]{20,}$/.test(line);

// A socket client that asks for a token itself and prints what it got (the error, or only whether a
// token came): run under the peer client, so it is that app, to see error.data of a refusal.
const SOCKET_CLIENT = `
import net from 'node:net';
const sock = net.createConnection(process.env.MCP_AUTH_SOCK);
let buf = '';
sock.setEncoding('utf8');
sock.on('connect', () => sock.write(JSON.stringify({ jsonrpc: '2.0', id: 1, method: 'token/get',
    params: { resource: process.env.E2E_MCP_URL } }) + '\\n'));
sock.on('data', d => {
    buf += d;
    const nl = buf.indexOf('\\n');
    if (nl < 0) return;
    const msg = JSON.parse(buf.slice(0, nl));
    process.stdout.write(JSON.stringify({ error: msg.error ?? null, gotToken: !!msg.result?.accessToken }) + '\\n');
    process.exit(0);
});
sock.on('error', e => { process.stderr.write(e.message + '\\n'); process.exit(2); });
`;

describe('approvals: the user decides which app gets a server\'s token', { timeout: 120000 }, () => {
    let sandbox;
    let as;
    let mcp;
    let cli;
    let peer; // real path of mcpauth-peer-client
    let other; // a copy of it under another name: another app
    let signedIn = false;
    let alwaysId; // the always grant of test 4
    const apps = new Set(); // app processes still running
    const need = () => assert.ok(signedIn, 'depends on the sign-in step, which failed');

    const agentLogTail = () => {
        const file = path.join(path.dirname(sandbox.socket), 'agent.log');
        if (!existsSync(file)) return '(no agent log)';
        return h.redact(readFileSync(file, 'utf8').split('\n').slice(-15).join('\n'));
    };

    /** Starts an app process (its own process group); done resolves {code, signal, stdout, stderr, ms}. */
    function startApp(exe, args, { env = {}, argv0 } = {}) {
        const started = Date.now();
        const child = spawn(exe, args, {
            env: { ...sandbox.env, MCP_AUTH_CLI: cli, E2E_MCP_URL: mcp.url, ...env },
            stdio: ['ignore', 'pipe', 'pipe'],
            detached: true,
            ...(argv0 && { argv0 })
        });
        apps.add(child);
        let stdout = '';
        let stderr = '';
        child.stdout.on('data', c => { stdout += c.toString(); });
        child.stderr.on('data', c => { stderr += c.toString(); });
        const timer = setTimeout(() => { try { process.kill(-child.pid, 'SIGKILL'); } catch { /* gone */ } }, 30000);
        const app = { pid: child.pid, exited: false };
        app.done = new Promise(resolve => child.on('close', (code, signal) => {
            clearTimeout(timer);
            apps.delete(child);
            app.exited = true;
            resolve({ code, signal, stdout, stderr, ms: Date.now() - started });
        }));
        return app;
    }

    /** `APP --spawn sh -c "mcp-auth token URL"`, the chain mcp-auth ← sh ← APP. */
    const appToken = (exe = peer, shell = '"$MCP_AUTH_CLI" token "$E2E_MCP_URL"; exit $?') => startApp(exe, ['--spawn', '/bin/sh', '-c', shell]);
    /** The socket client above as app `exe`. */
    const appSocket = (exe = peer) => startApp(exe, ['--spawn', process.execPath, '--input-type=module', '-e', SOCKET_CLIENT]);

    async function listJson(what) {
        const r = await h.runCli(sandbox, [what, '--json'], { timeoutMs: 10000 });
        if (r.code !== 0) return { error: explain(r) };
        return { list: JSON.parse(r.stdout) };
    }
    const grants = async () => {
        const { list, error } = await listJson('grants');
        assert.ok(list, `mcp-auth grants --json: ${error}`);
        return list;
    };
    const pendingNow = async () => {
        const { list, error } = await listJson('approvals');
        assert.ok(list, `mcp-auth approvals --json: ${error}`);
        return list;
    };

    /** Polls `mcp-auth approvals --json` until pred(list); returns the list. Well inside the 5 s timeout. */
    async function waitPending(pred, what, ms = 4000) {
        const deadline = Date.now() + ms;
        let last;
        while (Date.now() < deadline) {
            const r = await listJson('approvals');
            last = r.list ?? r.error;
            if (r.list && pred(r.list)) return r.list;
            await h.sleep(100);
        }
        assert.fail(`${what}: not seen within ${ms} ms; approvals: ${h.redact(JSON.stringify(last))}\nagent log:\n${agentLogTail()}`);
    }
    const pendingFor = (exe, pid) => list => list.some(a => a.executable === exe && (pid === undefined || a.pid === pid));

    async function decide(verb, id, extra = []) {
        const r = await h.runCli(sandbox, [verb, id, ...extra], { timeoutMs: 10000 });
        assert.equal(r.code, 0, `mcp-auth ${verb} ${id} ${extra.join(' ')}: ${explain(r)}`);
    }

    /** An app that asks and is denied by the user: the pending entry appears, deny, exit 5. */
    async function askedAgainThenDeny(exe, what) {
        const app = appToken(exe);
        const list = await waitPending(pendingFor(exe, app.pid), what);
        await decide('deny', list.find(a => a.pid === app.pid).id);
        const r = await app.done;
        assert.equal(r.code, 5, `the denied request: ${explain(r)}`);
    }

    before(async () => {
        const { cli: c } = h.binaries();
        cli = c;
        const built = path.join(process.env.MCP_AUTH_BUILD_DIR, 'tests', 'mcpauth-peer-client');
        if (!existsSync(built)) throw new Error(`${built} not found (built with the tests: cmake --build build)`);
        peer = realpathSync(built);
        sandbox = h.makeSandbox('approvals', { approvals: true, settings: { approvals: { required: true, timeoutSeconds: TIMEOUT_S } } });
        const bin = path.join(sandbox.root, 'bin');
        mkdirSync(bin, { mode: 0o700 });
        other = path.join(bin, 'other-app');
        copyFileSync(peer, other);
        chmodSync(other, 0o755);
        as = await h.startAuthServer({ atTtl: 600 }); // no refresh during the suite
        mcp = await h.startMcpServer(as.issuer);
    });

    after(async () => {
        for (const child of apps) try { process.kill(-child.pid, 'SIGKILL'); } catch { /* gone */ }
        if (sandbox) await h.stopAgent(sandbox);
        await h.stopAll();
        sandbox?.remove();
    });

    test('0. the sign-in waits for approval; approved from the test runner, it completes', { timeout: 40000 }, async () => {
        const login = startApp(peer, ['--spawn', cli, 'login', mcp.url]);
        const list = await waitPending(pendingFor(peer, login.pid), 'the sign-in request pending');
        assert.equal(list.length, 1, 'one pending entry');
        assert.equal(list[0].app, APP_NAME);
        assert.equal(list[0].server, mcp.url);
        assert.equal(sandbox.browserLaunches(), 0, 'no browser before the approval');
        assert.ok(!login.exited, 'mcp-auth login still waits');
        await decide('approve', list[0].id);
        const r = await login.done;
        assert.equal(r.code, 0, `mcp-auth login: ${explain(r)}`);
        assert.equal(sandbox.browserLaunches(), 1, 'one browser launch');
        assert.equal((await as.stats()).authorizationCodeGrants, 1, 'one code exchange');
        assert.deepEqual(await grants(), [], '"once" remembers nothing');
        signedIn = true;
    });

    test('1. an unapproved app waits ("approval pending"), may not approve itself, and gets its token once approved', { timeout: 30000 }, async () => {
        need();
        const app = appToken();
        const list = await waitPending(l => l.length > 0, 'the token request pending');
        assert.equal(list.length, 1, `exactly one pending entry: ${JSON.stringify(list.map(a => a.app))}`);
        const [entry] = list;
        assert.equal(entry.app, APP_NAME);
        assert.equal(entry.executable, peer);
        assert.equal(entry.appKey, peer);
        assert.equal(entry.pid, app.pid, 'the pid of the peer-client process');
        assert.equal(entry.server, mcp.url);
        assert.equal(entry.waiting, 1);
        assert.ok(entry.processChain[0].endsWith('/mcp-auth') && entry.processChain.includes(peer),
            `process chain mcp-auth ← sh ← peer client: ${JSON.stringify(entry.processChain)}`);
        assert.ok(entry.expiresAt - entry.requestedAt === TIMEOUT_S, `expires ${TIMEOUT_S} s after the request`);
        await h.sleep(300);
        assert.ok(!app.exited, 'its mcp-auth token is still waiting');

        // The app itself may not decide: another process of the same app tries.
        const self = startApp(peer, ['--spawn', cli, 'approve', entry.id]);
        const selfR = await self.done;
        assert.equal(selfR.code, 5, `the app approving its own request is refused: ${explain(selfR)}`);
        assert.match(selfR.stderr, /cannot approve its own request/);
        assert.equal((await pendingNow()).length, 1, 'still pending');

        await decide('approve', entry.id);
        const r = await app.done;
        assert.equal(r.code, 0, `the app's mcp-auth token: ${explain(r)}`);
        const token = r.stdout.trim();
        assert.ok(isToken(token), 'one token on stdout');
        assert.equal((await mcp.check(token)).status, 200, 'the MCP server accepts it');
        assert.deepEqual(await pendingNow(), [], 'nothing pending');
    });

    test('2. deny: mcp-auth token exits 5 "not allowed"; the socket error is -32002 reason "user"', { timeout: 30000 }, async () => {
        need();
        const viaCli = appToken();
        const viaSocket = appSocket();
        // two processes of one app for one server: one decision
        const list = await waitPending(l => l.length === 1 && l[0].waiting === 2, 'both requests waiting on one entry');
        assert.equal(list[0].executable, peer);
        await decide('deny', list[0].id);
        const r = await viaCli.done;
        assert.equal(r.code, 5, `denied mcp-auth token: ${explain(r)}`);
        assert.equal(r.stdout.trim(), '', 'nothing on stdout');
        assert.match(r.stderr, /not allow/i, 'stderr says the app is not allowed');
        const s = await viaSocket.done;
        assert.equal(s.code, 0, `socket client: ${explain(s)}`);
        const answer = JSON.parse(s.stdout.trim());
        assert.equal(answer.gotToken, false);
        assert.equal(answer.error?.code, -32002);
        assert.equal(answer.error?.data?.code, 'approval_denied');
        assert.equal(answer.error?.data?.reason, 'user');
    });

    test(`3. no answer within ${TIMEOUT_S} s denies with reason "timeout"`, { timeout: 30000 }, async () => {
        need();
        const viaCli = appToken();
        const viaSocket = appSocket();
        const list = await waitPending(l => l.length === 1 && l[0].waiting === 2, 'both requests waiting on one entry');
        const [r, s] = await Promise.all([viaCli.done, viaSocket.done]);
        assert.equal(r.code, 5, `timed-out mcp-auth token: ${explain(r)}`);
        assert.match(r.stderr, new RegExp(`within ${TIMEOUT_S} s`), 'stderr says nobody approved in time');
        const answer = JSON.parse(s.stdout.trim());
        assert.equal(answer.error?.code, -32002);
        assert.equal(answer.error?.data?.reason, 'timeout');
        assert.ok(r.ms >= (TIMEOUT_S - 1) * 1000, `it waited for the timeout (${r.ms} ms)`);
        assert.ok(r.ms < (TIMEOUT_S + 4) * 1000, `and not much longer (${r.ms} ms)`);
        assert.deepEqual(await pendingNow(), [], `entry ${list[0].id} is gone`);
    });

    test('4. "always" survives an agent restart; a copy of the binary elsewhere is another app', { timeout: 40000 }, async () => {
        need();
        const app = appToken();
        const list = await waitPending(pendingFor(peer, app.pid), 'the token request pending');
        await decide('approve', list[0].id, ['--always']);
        const r = await app.done;
        assert.equal(r.code, 0, `approved always: ${explain(r)}`);
        let g = await grants();
        assert.equal(g.length, 1, 'one grant');
        assert.equal(g[0].kind, 'always');
        assert.equal(g[0].appKey, peer);
        assert.equal(g[0].executable, peer);
        assert.equal(g[0].server, mcp.url);
        assert.equal(g[0].sha256, createHash('sha256').update(readFileSync(peer)).digest('hex'), 'the SHA-256 of the binary');
        alwaysId = g[0].id;

        const pids = h.agentPids(sandbox);
        assert.equal(pids.length, 1, 'one agent');
        const shutdown = await h.runCli(sandbox, ['shutdown'], { timeoutMs: 15000 });
        assert.equal(shutdown.code, 0, `mcp-auth shutdown: ${explain(shutdown)}`);
        const deadline = Date.now() + 10000;
        while (h.agentPids(sandbox).includes(pids[0]) && Date.now() < deadline) await h.sleep(100);
        assert.ok(!h.agentPids(sandbox).includes(pids[0]), 'the agent exited');

        const usedFrom = Math.floor(Date.now() / 1000);
        const again = await appToken().done; // starts a new agent
        assert.equal(again.code, 0, `after the restart: ${explain(again)}\nagent log:\n${agentLogTail()}`);
        assert.ok(again.ms < TIMEOUT_S * 1000, `no wait for a decision (${again.ms} ms)`);
        assert.ok(isToken(again.stdout.trim()), 'a token');
        const newPids = h.agentPids(sandbox);
        assert.equal(newPids.length, 1, 'a new agent runs');
        assert.notEqual(newPids[0], pids[0]);
        assert.deepEqual(await pendingNow(), [], 'no pending entry');
        g = await grants();
        assert.equal(g.length, 1);
        assert.equal(g[0].id, alwaysId, 'the same grant, from the state file');
        assert.ok(g[0].uses >= 1, `uses counted (${g[0].uses})`);
        assert.ok(g[0].lastUsedAt >= usedFrom - 1, `lastUsedAt set (${g[0].lastUsedAt} vs ${usedFrom})`);

        await askedAgainThenDeny(other, 'other-app (same bytes, another path) pending');
    });

    test('5. "while running" lasts while the app process runs and ends when it exits', { timeout: 40000 }, async () => {
        need();
        const app = appToken(other, '"$MCP_AUTH_CLI" token "$E2E_MCP_URL" && sleep 2 && "$MCP_AUTH_CLI" token "$E2E_MCP_URL"');
        const list = await waitPending(pendingFor(other, app.pid), 'other-app pending');
        assert.equal(list.find(a => a.pid === app.pid).app, 'other-app via mcp-auth');
        await decide('approve', list.find(a => a.pid === app.pid).id, ['--while-running']);
        await h.sleep(500); // the first token is out, the app sleeps
        const during = (await grants()).filter(x => x.kind === 'while-running');
        assert.equal(during.length, 1, 'a while-running grant while the app runs');
        assert.equal(during[0].pid, app.pid);
        assert.equal(during[0].executable, other);
        const r = await app.done;
        // a second decision would have been needed within 5 s, and nobody gave one
        assert.equal(r.code, 0, `both tokens without a second approval: ${explain(r)}`);
        const lines = r.stdout.trim().split('\n');
        assert.ok(lines.length === 2 && lines.every(isToken), `two tokens on stdout (${lines.length} lines)`);

        const deadline = Date.now() + 3000;
        let left = during;
        while (left.length && Date.now() < deadline) {
            await h.sleep(100);
            left = (await grants()).filter(x => x.kind === 'while-running');
        }
        assert.deepEqual(left.map(x => x.id), [], 'the grant ended when the app exited');
        await askedAgainThenDeny(other, 'a new other-app process pending again');
    });

    test('6. two concurrent requests of one app process share one pending entry; one approve releases both', { timeout: 30000 }, async () => {
        need();
        const app = appToken(other, 'C=$MCP_AUTH_CLI; "$C" token "$E2E_MCP_URL" & a=$!; "$C" token "$E2E_MCP_URL" & b=$!; '
            + 'wait $a; ra=$?; wait $b; rb=$?; echo "exits $ra $rb" >&2; [ $ra = 0 ] && [ $rb = 0 ]');
        const list = await waitPending(l => l.some(a => a.pid === app.pid && a.waiting === 2), 'one entry with waiting = 2');
        assert.equal(list.length, 1, `one pending entry (${list.length})`);
        await decide('approve', list[0].id);
        const r = await app.done;
        assert.equal(r.code, 0, `both mcp-auth token calls: ${explain(r)}`);
        assert.match(r.stderr, /exits 0 0/);
        const lines = r.stdout.trim().split('\n');
        assert.ok(lines.length === 2 && lines.every(isToken), `two tokens (${lines.length} lines)`);
        assert.deepEqual(await pendingNow(), []);
        assert.ok(!(await grants()).some(x => x.executable === other), '"once" left no grant');
    });

    test('7. revoke-grant removes an always grant: the app is asked again', { timeout: 40000 }, async () => {
        need();
        assert.ok(alwaysId, 'depends on test 4');
        const rv = await h.runCli(sandbox, ['revoke-grant', alwaysId]);
        assert.equal(rv.code, 0, `revoke-grant ID: ${explain(rv)}`);
        assert.match(rv.stdout, /revoked 1 grant/);
        assert.ok(!(await grants()).some(x => x.id === alwaysId), 'the grant is gone');

        const app = appToken();
        const list = await waitPending(pendingFor(peer, app.pid), 'pending again after revoke-grant ID');
        await decide('approve', list[0].id, ['--always']);
        assert.equal((await app.done).code, 0);
        assert.equal((await grants()).filter(x => x.executable === peer).length, 1, 'a new always grant');

        const byApp = await h.runCli(sandbox, ['revoke-grant', '--app', peer, '--server', mcp.url]);
        assert.equal(byApp.code, 0, `revoke-grant --app --server: ${explain(byApp)}`);
        assert.match(byApp.stdout, /revoked 1 grant/);
        const none = await h.runCli(sandbox, ['revoke-grant', '--app', peer]);
        assert.equal(none.code, 1, `nothing left to revoke: ${explain(none)}`);
        assert.deepEqual(await grants(), []);
        await askedAgainThenDeny(peer, 'pending again after revoke-grant --app');
    });

    test('8. the app is what the kernel reports, never a name the caller gives', { timeout: 30000 }, async () => {
        need();
        // Through a symlink named trusted-app (so comm is "trusted-app"), argv[0] "trusted-app" for
        // the app and for mcp-auth, and MCP_AUTH_APP=evil in the environment.
        const link = path.join(sandbox.root, 'bin', 'trusted-app');
        symlinkSync(peer, link);
        const app = startApp(link, ['--spawn', '/bin/bash', '-c', 'exec -a trusted-app "$MCP_AUTH_CLI" token "$E2E_MCP_URL"'],
            { argv0: 'trusted-app', env: { MCP_AUTH_APP: 'evil' } });
        const list = await waitPending(l => l.some(a => a.pid === app.pid), 'the request pending');
        assert.equal(list.length, 1);
        const [entry] = list;
        assert.equal(entry.app, APP_NAME);
        assert.equal(entry.executable, peer, 'the real executable');
        assert.equal(entry.appKey, peer);
        assert.ok(!/evil|trusted-app/.test(JSON.stringify(entry)), `no caller-given name in ${JSON.stringify(entry)}`);
        await decide('deny', entry.id);
        assert.equal((await app.done).code, 5);
    });

    test('9. every app process the tests started has exited', { timeout: 15000 }, async () => {
        // After a failed step an app may still wait for a decision: its request times out in 5 s.
        const deadline = Date.now() + (TIMEOUT_S + 3) * 1000;
        while (apps.size && Date.now() < deadline) await h.sleep(100);
        assert.equal(apps.size, 0, `${apps.size} app process(es) still running`);
    });
});
