// End-to-end attacks by other local users and by hostile local clients on the real mcp-auth /
// mcp-auth-agent binaries (security.md): an impostor agent, a forged sign-in callback, deeply nested
// JSON on the agent's socket, reading a process's memory (non-dumpable processes), and a socket
// starvation attempt. Runs as root; "another local user" is nobody (65534), reached with setpriv.
// Run through run-e2e.sh like the other suites; needs MCP_AUTH_BUILD_DIR. About 35 s.
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import fs from 'node:fs';
import net from 'node:net';
import path from 'node:path';
import { after, before, describe, test } from 'node:test';
import * as h from './lib/harness.mjs';

h.requireNodeModules();

const NOBODY = 65534;
const SETPRIV = ['--reuid=65534', '--regid=65534', '--clear-groups', '--'];
const DEAD_URL = 'http://127.0.0.1:9/mcp'; // discard port: nothing listens
const FAKE_SECRET = 'TOPSECRET-123';
const FORGING_BROWSER = path.join(h.E2E_DIR, 'browser', 'forging-browser.mjs');

function explain(r) {
    return `exit ${r.code ?? r.signal}${r.timedOut ? ' (timed out)' : ''}; stderr: ${h.redact(r.stderr.trim().slice(0, 800))}`;
}

// ---------------------------------------------------------------------------------------------
// Processes this file starts itself (setpriv children, the impostor): all killed in after hooks

const started = new Set();

function track(child) {
    started.add(child);
    child.on('exit', () => started.delete(child));
    child.on('error', () => started.delete(child));
    return child;
}

process.on('exit', () => {
    for (const child of started) try { child.kill('SIGKILL'); } catch { /* gone */ }
});

function stopProcess(child) {
    if (!child || child.exitCode !== null || child.signalCode !== null) return Promise.resolve();
    return new Promise(resolve => {
        const hard = setTimeout(() => { try { child.kill('SIGKILL'); } catch { /* gone */ } }, 3000);
        child.once('exit', () => {
            clearTimeout(hard);
            resolve();
        });
        try { child.kill('SIGTERM'); } catch { /* gone */ }
    });
}

const stopStarted = () => Promise.all([...started].map(stopProcess));

/** spawn CMD ARGS as nobody (setpriv execs CMD: the child's pid is CMD's). */
function spawnAsNobody(cmd, args, { env, stdio = ['ignore', 'pipe', 'pipe'] } = {}) {
    return track(spawn('setpriv', [...SETPRIV, cmd, ...args], { cwd: '/', env, stdio }));
}

/** Collects a child's output until it exits (or is killed after timeoutMs): {code, signal, stdout, stderr, timedOut}. */
function outcome(child, timeoutMs = 20000) {
    return new Promise(resolve => {
        let stdout = '';
        let stderr = '';
        let timedOut = false;
        const timer = setTimeout(() => {
            timedOut = true;
            child.kill('SIGKILL');
        }, timeoutMs);
        child.stdout?.on('data', c => { stdout += c.toString(); });
        child.stderr?.on('data', c => { stderr = (stderr + c.toString()).slice(-20000); });
        child.on('close', (code, signal) => {
            clearTimeout(timer);
            resolve({ code, signal, stdout, stderr, timedOut });
        });
    });
}

/** Resolves once /proc/<pid>/exe is `name` (setpriv has exec'd it), false after ms. */
async function waitExe(pid, name, ms = 5000) {
    const deadline = Date.now() + ms;
    while (Date.now() < deadline) {
        try {
            if (path.basename(fs.readlinkSync(`/proc/${pid}/exe`)) === name) return true;
        } catch { /* not yet, or gone */ }
        await h.sleep(20);
    }
    return false;
}

function procStatusField(pid, field) {
    const m = new RegExp(`^${field}:\\s+(.*)$`, 'm').exec(fs.readFileSync(`/proc/${pid}/status`, 'utf8'));
    return m ? m[1].trim() : null;
}

function vmRssKiB(pid) {
    return Number(/^(\d+) kB$/.exec(procStatusField(pid, 'VmRSS') ?? '')?.[1] ?? NaN);
}

/** Soft and hard limit of "Max core file size" from /proc/<pid>/limits. */
function coreLimits(pid) {
    const line = fs.readFileSync(`/proc/${pid}/limits`, 'utf8').split('\n').find(l => l.startsWith('Max core file size'));
    assert.ok(line, `/proc/${pid}/limits has a "Max core file size" line`);
    const [soft, hard] = line.slice('Max core file size'.length).trim().split(/\s+/);
    return { soft, hard };
}

/** Pids of live processes whose argv mentions `argSuffix` and whose environment holds `envEntry`. */
function pidsWith(argSuffix, envEntry) {
    const out = [];
    for (const entry of fs.readdirSync('/proc')) {
        if (!/^\d+$/.test(entry) || Number(entry) === process.pid) continue;
        try {
            const cmd = fs.readFileSync(`/proc/${entry}/cmdline`, 'utf8').split('\0');
            if (!cmd.some(a => a.endsWith(argSuffix))) continue;
            if (!fs.readFileSync(`/proc/${entry}/environ`, 'utf8').split('\0').includes(envEntry)) continue;
            if (/^\d+ \(.*\) Z/.test(fs.readFileSync(`/proc/${entry}/stat`, 'utf8'))) continue;
            out.push(Number(entry));
        } catch { /* raced with exit */ }
    }
    return out;
}

/**
 * The CLI's refusal on stderr: exactly one line of its own ("mcp-auth: ...") that matches `pattern`,
 * is of sensible length and is no stack trace; any other line is a Qt log line of a mcpauth.* category
 * (warnings are on by default). Returns that line.
 */
function assertRefusal(stderr, pattern, what) {
    const lines = stderr.split('\n').filter(l => l.trim() !== '');
    const own = lines.filter(l => l.startsWith('mcp-auth: '));
    assert.equal(own.length, 1, `${what}: one error line of the CLI's own on stderr: ${h.redact(stderr)}`);
    const message = own[0];
    assert.match(message, pattern, `${what}: the message says what is wrong: ${h.redact(message)}`);
    assert.ok(message.length < 500 && !/\bundefined\b|\bnull\b|\[object Object\]/.test(message), `${what}: a clear message: ${h.redact(message)}`);
    for (const l of lines) {
        assert.ok(l === message || /^mcpauth\.[a-z]+: /.test(l), `${what}: nothing but the message and log lines on stderr: ${h.redact(l)}`);
    }
    return message;
}

// ---------------------------------------------------------------------------------------------
// The impostor: a Unix-socket server run as nobody that records every connection and byte

const IMPOSTOR_JS = `
const net = require('node:net'); const fs = require('node:fs'); const path = require('node:path');
const say = o => process.stdout.write(JSON.stringify(o) + '\\n');
for (const p of process.argv.slice(1)) {
  fs.mkdirSync(path.dirname(p), { recursive: true, mode: 0o700 });
  const server = net.createServer(sock => {
    say({ ev: 'conn', path: p });
    sock.on('data', d => say({ ev: 'data', path: p, n: d.length, secret: d.includes(${JSON.stringify(FAKE_SECRET)}) }));
    sock.on('error', () => {});
  });
  server.on('error', e => { say({ ev: 'error', path: p, code: e.code }); process.exit(1); });
  server.listen(p, () => say({ ev: 'listening', path: p, uid: process.getuid() }));
}
`;

/** Starts the impostor as nobody on `paths` (their folders are created as nobody, 0700). */
function startImpostor(paths) {
    const child = spawnAsNobody(process.execPath, ['-e', IMPOSTOR_JS, ...paths]);
    const events = [];
    let buffer = '';
    let err = '';
    child.stderr.on('data', c => { err = (err + c.toString()).slice(-4000); });
    return new Promise((resolve, reject) => {
        const timer = setTimeout(() => reject(new Error(`impostor not listening after 10 s: ${err}`)), 10000);
        child.on('exit', code => {
            clearTimeout(timer);
            reject(new Error(`impostor exited (${code}): ${err} ${JSON.stringify(events)}`));
        });
        child.stdout.on('data', c => {
            buffer += c.toString();
            for (let nl; (nl = buffer.indexOf('\n')) >= 0;) {
                events.push(JSON.parse(buffer.slice(0, nl)));
                buffer = buffer.slice(nl + 1);
            }
            const listening = events.filter(e => e.ev === 'listening');
            if (listening.length === paths.length) {
                clearTimeout(timer);
                assert.ok(listening.every(e => e.uid === NOBODY), 'the impostor runs as nobody');
                resolve({
                    child,
                    pid: child.pid,
                    conns: p => events.filter(e => e.ev === 'conn' && (!p || e.path === p)).length,
                    bytes: p => events.filter(e => e.ev === 'data' && (!p || e.path === p)).reduce((n, e) => n + e.n, 0),
                    secretSeen: () => events.some(e => e.ev === 'data' && e.secret),
                    stop: () => stopProcess(child)
                });
            }
        });
    });
}

/** Connects to `socketPath` as root and writes `probe\n`: the control that the impostor really listens there. */
async function probe(impostor, socketPath, listenedAs = socketPath) {
    const before = impostor.bytes(listenedAs);
    const sock = net.createConnection(socketPath);
    try {
        await new Promise((resolve, reject) => {
            sock.once('connect', resolve);
            sock.once('error', reject);
        });
        sock.write('probe\n');
        const deadline = Date.now() + 5000;
        while (impostor.bytes(listenedAs) < before + 6 && Date.now() < deadline) await h.sleep(20);
        return impostor.bytes(listenedAs) - before;
    } finally {
        sock.destroy();
    }
}

// ---------------------------------------------------------------------------------------------
// JSON-RPC over the agent's socket (as in hostile.test.mjs)

/** agent/status on a fresh connection; returns the result. */
async function agentStatus(socketPath) {
    const c = h.rpcSocket(socketPath);
    try {
        await c.ready;
        await c.write('{"jsonrpc":"2.0","id":"st","method":"agent/status"}\n');
        const line = await c.nextLine(5000);
        assert.ok(typeof line === 'string' && line !== 'timeout', `agent/status answered (got ${line})`);
        const msg = JSON.parse(line);
        assert.equal(msg.id, 'st');
        assert.equal(msg.error, undefined, `agent/status: no error: ${JSON.stringify(msg.error)}`);
        return msg.result;
    } finally {
        c.destroy();
    }
}

// =============================================================================================

describe('1. an impostor agent run by another user never gets a byte', { timeout: 60000 }, () => {
    let sandbox;
    let tmp;
    const impostors = [];
    const ownAgents = []; // {socket, env, browserLog} of agents the CLI started in 1a

    before(() => {
        h.binaries();
        sandbox = h.makeSandbox('attacks-impostor');
        fs.chmodSync(sandbox.root, 0o755); // nobody must reach the folders it owns below; HOME stays 0700
        tmp = path.join(sandbox.root, 'tmp');
        fs.mkdirSync(tmp);
        fs.chmodSync(tmp, 0o1777); // a shared temp folder like /tmp
    });

    after(async () => {
        for (const agent of ownAgents) await h.stopAgent(agent);
        for (const imp of impostors) await imp.stop();
        await stopStarted();
        sandbox?.remove();
    });

    test('a. no MCP_AUTH_SOCK, no XDG_RUNTIME_DIR, nobody squatting $TMPDIR: the CLI uses a private folder', { timeout: 30000 }, async t => {
        // Qt's old runtime fallback, $TMPDIR/runtime-$USER, taken by nobody beforehand
        const runtimeRoot = path.join(tmp, 'runtime-root');
        fs.mkdirSync(runtimeRoot, { mode: 0o700 });
        fs.chownSync(runtimeRoot, NOBODY, NOBODY);
        const squatted = [path.join(tmp, 'mcp-auth-agent', 'agent.sock'), path.join(runtimeRoot, 'mcp-auth-agent', 'agent.sock')];
        const impostor = await startImpostor(squatted);
        impostors.push(impostor);
        assert.equal(fs.statSync(path.dirname(squatted[0])).uid, NOBODY, 'the squatted folder is nobody\'s');

        const env = { ...sandbox.env, HOME: sandbox.HOME, TMPDIR: tmp };
        delete env.MCP_AUTH_SOCK;
        delete env.XDG_RUNTIME_DIR;
        const cliSandbox = { ...sandbox, env };
        const candidates = [path.join(sandbox.HOME, '.mcp-auth-agent', 'agent.sock'), '/run/user/0/mcp-auth-agent/agent.sock'];
        const existedBefore = candidates.filter(p => fs.existsSync(p));
        try {
            const r = await h.runCli(cliSandbox, ['token', DEAD_URL], { timeoutMs: 30000 });
            assert.ok(!r.timedOut, `mcp-auth token finished: ${explain(r)}`);
            assert.notEqual(r.code, 0, `mcp-auth token without a sign-in fails: ${explain(r)}`);
            assert.equal(r.stdout, '', 'nothing on stdout');
            t.diagnostic(`mcp-auth token exited ${r.code}`);

            const fresh = candidates.filter(p => fs.existsSync(p) && !existedBefore.includes(p));
            assert.equal(fresh.length, 1, `the CLI's own agent listens at one private path (${candidates.join(' or ')}); found: ${fresh.join(', ') || 'none'}`);
            const socket = fresh[0];
            ownAgents.push({ socket, env, browserLog: sandbox.browserLog });
            assert.ok(fs.statSync(socket).isSocket(), `${socket} is a socket`);
            const dir = fs.statSync(path.dirname(socket));
            assert.equal(dir.uid, 0, 'its folder is root\'s');
            assert.equal(dir.mode & 0o077, 0, 'its folder has no group/other access');
            const pids = h.agentPids({ socket });
            assert.equal(pids.length, 1, `one agent serves ${socket} (${pids})`);
            const status = await agentStatus(socket);
            assert.equal(status.pid, pids[0], 'that agent answers on the private socket');

            assert.equal(impostor.conns(), 0, 'the impostor never saw a connection');
            assert.equal(impostor.bytes(), 0, 'the impostor never got a byte');
            // control: the impostor was listening all along
            assert.equal(await probe(impostor, squatted[0]), 6, 'the impostor does receive what connects to it');
        } finally {
            await impostor.stop();
        }
    });

    test('b. MCP_AUTH_SOCK in a private folder of ours, but the socket is served by nobody: refused before a byte', { timeout: 30000 }, async t => {
        const nobodyPath = path.join(tmp, 'nobody-b', 'agent.sock');
        const impostor = await startImpostor([nobodyPath]);
        impostors.push(impostor);
        const privateDir = path.join(sandbox.root, 'private-b');
        fs.mkdirSync(privateDir, { mode: 0o700 });
        const socket = path.join(privateDir, 'agent.sock');
        fs.renameSync(nobodyPath, socket); // a listening socket keeps working after a rename
        assert.ok(fs.statSync(socket).isSocket() && fs.statSync(privateDir).uid === 0 && (fs.statSync(privateDir).mode & 0o777) === 0o700,
            'the socket now sits in a root-owned 0700 folder');
        const env = { MCP_AUTH_SOCK: socket };
        try {
            for (const args of [['token', DEAD_URL], ['status']]) {
                const r = await h.runCli(sandbox, args, { env, timeoutMs: 20000 });
                assert.equal(r.code, 4, `mcp-auth ${args[0]} exits 4 (agent unavailable): ${explain(r)}`);
                assert.equal(r.stdout, '', `mcp-auth ${args[0]}: nothing on stdout`);
                assertRefusal(r.stderr, /another user/, `mcp-auth ${args[0]}`);
            }

            const { cli } = h.binaries();
            const proxy = track(spawn(cli, ['proxy', DEAD_URL, '--static-oauth-client-info', JSON.stringify({ client_id: 'c', client_secret: FAKE_SECRET })],
                { env: { ...sandbox.env, ...env }, stdio: ['pipe', 'pipe', 'pipe'] }));
            // stdin stays open and empty: the proxy has every chance to go on; it must stop by itself
            const p = await outcome(proxy, 5000);
            assert.ok(!p.timedOut, `mcp-auth proxy stopped by itself within 5 s: ${explain(p)}`);
            assert.ok(p.code !== 0 && p.code !== null, `mcp-auth proxy exits non-zero: ${explain(p)}`);
            assert.equal(p.stdout, '', 'mcp-auth proxy: nothing on stdout (the MCP channel)');
            t.diagnostic(`mcp-auth proxy exited ${p.code}`);
            assertRefusal(p.stderr, /another user/, 'mcp-auth proxy');
            assert.ok(!p.stderr.includes(FAKE_SECRET), 'the client secret is not echoed');

            await h.sleep(200);
            assert.equal(impostor.bytes(), 0, `the impostor got zero bytes (it saw ${impostor.conns()} connection(s))`);
            assert.ok(!impostor.secretSeen(), 'the impostor never saw the client secret');
            assert.deepEqual(h.agentPids({ socket }), [], 'no agent was started for that socket');
            assert.equal(await probe(impostor, socket, nobodyPath), 6, 'control: the impostor does receive what connects to the renamed socket');
        } finally {
            await impostor.stop();
        }
    });

    test('c. MCP_AUTH_SOCK in a folder owned by nobody: refused as "owned by another user", no connection', { timeout: 30000 }, async () => {
        const socket = path.join(tmp, 'nobody-c', 'agent.sock');
        const impostor = await startImpostor([socket]);
        impostors.push(impostor);
        const dir = fs.statSync(path.dirname(socket));
        assert.ok(dir.uid === NOBODY && (dir.mode & 0o777) === 0o700, 'the folder is nobody\'s, 0700');
        try {
            for (const args of [['token', DEAD_URL], ['status']]) {
                const r = await h.runCli(sandbox, args, { env: { MCP_AUTH_SOCK: socket }, timeoutMs: 20000 });
                assert.equal(r.code, 4, `mcp-auth ${args[0]} exits 4: ${explain(r)}`);
                assert.equal(r.stdout, '', 'nothing on stdout');
                const message = assertRefusal(r.stderr, /owned by another user/, `mcp-auth ${args[0]}`);
                assert.ok(message.includes(path.dirname(socket)), `mcp-auth ${args[0]}: names the folder`);
            }
            await h.sleep(200);
            assert.equal(impostor.conns(), 0, 'the impostor never saw a connection');
            assert.equal(impostor.bytes(), 0, 'the impostor never got a byte');
            assert.deepEqual(h.agentPids({ socket }), [], 'no agent was started there');
            assert.equal(await probe(impostor, socket), 6, 'control: the impostor was listening');
        } finally {
            await impostor.stop();
        }
    });
});

// =============================================================================================

describe('2. forged callbacks from another user and from a rebound host name are ignored', { timeout: 90000 }, () => {
    let sandbox;
    let as;
    let mcp;
    let forgeLog;

    before(async () => {
        h.binaries();
        sandbox = h.makeSandbox('attacks-forge');
        forgeLog = path.join(sandbox.root, 'forge.log');
        sandbox.env.MCP_AUTH_BROWSER = FORGING_BROWSER;
        sandbox.env.E2E_FORGE_LOG = forgeLog;
        as = await h.startAuthServer({ atTtl: 30 });
        mcp = await h.startMcpServer(as.issuer);
    });

    after(async () => {
        if (sandbox) {
            await h.stopAgent(sandbox);
            for (const pid of pidsWith('forging-browser.mjs', `E2E_FORGE_LOG=${forgeLog}`)) try { process.kill(pid, 'SIGKILL'); } catch { /* gone */ }
        }
        await stopStarted();
        await h.stopAll();
        sandbox?.remove();
    });

    test('nobody\'s callback gets 400, a foreign Host gets 421, the real sign-in completes', { timeout: 60000 }, async () => {
        assert.ok(fs.statSync(FORGING_BROWSER).mode & 0o100, 'forging-browser.mjs is executable');
        const r = await h.runCli(sandbox, ['login', mcp.url], { timeoutMs: 45000 });
        assert.equal(r.code, 0, `mcp-auth login: ${explain(r)}`);
        await h.sleep(300); // the browser is detached; let it write its last line

        const forged = fs.existsSync(forgeLog) ? fs.readFileSync(forgeLog, 'utf8').split('\n').filter(Boolean).map(l => JSON.parse(l)) : [];
        assert.equal(forged.length, 1, `the forging browser ran once: ${JSON.stringify(forged)}`);
        const [f] = forged;
        assert.equal(f.forgedUid, NOBODY, 'the forged callback came from nobody');
        assert.equal(f.forgedStateStatus, 400, 'a callback with a foreign state gets 400');
        assert.equal(f.evilHostStatus, 421, 'a callback with Host: evil.example gets 421 (even with the real state)');

        assert.equal(sandbox.browserLaunches(), 1, 'the browser was launched once');
        assert.deepEqual(sandbox.browserEvents().filter(e => e.event === 'done').map(e => e.outcome), ['ok'], 'the real browser delivered the callback after the forgeries');
        const stats = await as.stats();
        assert.equal(stats.authorizationCodeGrants, 1, 'one code exchange: the forged code was never sent to the server');
        assert.equal(stats.tokenErrors ?? 0, 0, 'no failed token request');

        const token = await h.getToken(sandbox, mcp.url, ['--min-valid', '5']);
        assert.equal((await mcp.check(token)).status, 200, 'the token works at the MCP server');
    });
});

// =============================================================================================

describe('3/5. hostile clients on the agent socket: deep JSON, starvation', { timeout: 90000 }, () => {
    let sandbox;
    let agentPid;

    before(async () => {
        h.binaries();
        sandbox = h.makeSandbox('attacks-socket');
        const r = await h.runCli(sandbox, ['status', '--json'], { timeoutMs: 20000 });
        assert.equal(r.code, 0, `mcp-auth status starts the agent: ${explain(r)}`);
        agentPid = JSON.parse(r.stdout).agent?.pid;
        assert.deepEqual(h.agentPids(sandbox), [agentPid], 'status --json reports this sandbox\'s agent');
    });

    after(async () => {
        if (sandbox) await h.stopAgent(sandbox);
        await h.stopAll();
        sandbox?.remove();
    });

    test('3. 520,000-deep arrays (just under the 1 MiB line cap) and 100,000-deep params → error replies; the agent keeps serving', { timeout: 30000 }, async () => {
        const deep = h.rpcSocket(sandbox.socket);
        try {
            await deep.ready;
            const line = `${'['.repeat(520000)}${']'.repeat(520000)}\n`;
            assert.ok(line.length < 1024 * 1024, 'the line is under the agent\'s 1 MiB cap');
            assert.ok(await deep.write(line), 'sent the nested line');
            const reply = await deep.nextLine(10000);
            assert.ok(typeof reply === 'string' && reply !== 'timeout', `a reply to the nested line (got ${reply})`);
            const msg = JSON.parse(reply);
            assert.equal(msg.error?.code, -32700, `a JSON-RPC parse error: ${reply.slice(0, 300)}`);
            assert.match(String(msg.error?.message), /nest/i, 'the message says it is nested too deeply');
        } finally {
            deep.destroy();
        }
        assert.equal((await agentStatus(sandbox.socket)).pid, agentPid, 'agent/status on a fresh connection: the same agent');

        const configure = h.rpcSocket(sandbox.socket);
        try {
            await configure.ready;
            const nested = `${'['.repeat(100000)}${']'.repeat(100000)}`;
            assert.ok(await configure.write(`{"jsonrpc":"2.0","id":2,"method":"server/configure","params":{"resource":"${DEAD_URL}","clientMetadata":${nested}}}\n`));
            const reply = await configure.nextLine(10000);
            assert.ok(typeof reply === 'string' && reply !== 'timeout', `a reply to the nested server/configure (got ${reply})`);
            const msg = JSON.parse(reply);
            assert.ok(msg.error && Number.isInteger(msg.error.code), `an error reply: ${reply.slice(0, 300)}`);
            assert.equal(msg.result, undefined, 'no result');
        } finally {
            configure.destroy();
        }
        assert.equal((await agentStatus(sandbox.socket)).pid, agentPid, 'the same agent still serves');
        assert.deepEqual(h.agentPids(sandbox), [agentPid], 'no restart');
    });

    test('5. 256 half-open lines + a flooder that never reads: a new client is answered within 2 s, memory stays bounded, the stalled ones are cut', { timeout: 40000 }, async t => {
        const HALF_OPEN = 256;
        const sockets = [];
        const closedAt = []; // ms after the partial lines were written
        let sampler;
        const rss = [];
        try {
            const connects = [];
            for (let i = 0; i < HALF_OPEN; i += 1) {
                const s = net.createConnection(sandbox.socket);
                sockets.push(s);
                s.on('error', () => { /* seen as 'close' */ });
                s.on('data', () => { /* the agent's error line when it cuts us */ });
                connects.push(new Promise((resolve, reject) => {
                    s.once('connect', resolve);
                    s.once('error', reject);
                }));
            }
            await Promise.all(connects);
            for (const s of sockets) s.write('{"jsonrpc":"2.0","id":1,');
            const tPartial = Date.now();
            sockets.forEach(s => s.on('close', () => closedAt.push(Date.now() - tPartial)));
            sampler = setInterval(() => { try { rss.push(vmRssKiB(agentPid)); } catch { /* gone: asserted below */ } }, 50);
            await h.sleep(500); // let the agent read every partial line (each connection is now stalled)

            const flooder = net.createConnection(sandbox.socket);
            sockets.push(flooder);
            flooder.on('error', () => {});
            let flooderClosedMs = null;
            flooder.on('close', () => { flooderClosedMs = Date.now() - tPartial; });
            await new Promise((resolve, reject) => {
                flooder.once('connect', resolve);
                flooder.once('error', reject);
            });
            flooder.pause(); // never read the replies
            const chunk = Buffer.alloc(64 * 1024, 'x\n');
            for (let i = 0; i < 128; i += 1) flooder.write(chunk, () => { /* backpressure and EPIPE ignored */ });
            await h.sleep(700);

            const t1 = Date.now();
            const good = h.rpcSocket(sandbox.socket);
            sockets.push({ destroy: good.destroy });
            await good.ready;
            await good.write('{"jsonrpc":"2.0","id":1,"method":"agent/status"}\n');
            const line = await good.nextLine(2000);
            const answeredMs = Date.now() - t1;
            assert.ok(typeof line === 'string' && line !== 'timeout', `the well-behaved client got an answer (got ${line} after ${answeredMs} ms)`);
            const msg = JSON.parse(line);
            assert.equal(msg.error, undefined, `no error: ${JSON.stringify(msg.error)}`);
            assert.equal(msg.result?.pid, agentPid, 'agent/status from the same agent');
            assert.ok(answeredMs < 2000, `answered within 2 s (${answeredMs} ms)`);
            const closedEarly = closedAt.length;
            good.destroy();

            // the agent's 10 s deadline for an unfinished line, counted from its first byte
            const deadline = tPartial + 12500;
            while (closedAt.length < HALF_OPEN && Date.now() < deadline) await h.sleep(100);
            clearInterval(sampler);
            rss.push(vmRssKiB(agentPid));
            const closed = closedAt.length;
            const late = closedAt.filter(ms => ms >= 9500).length;
            assert.ok(closed >= HALF_OPEN * 0.9,
                `the agent closed the half-open connections: ${closed}/${HALF_OPEN} closed by ${Date.now() - tPartial} ms (${closedEarly} before the deadline, ${late} at it)`);
            const peak = Math.max(...rss);
            t.diagnostic(`answered in ${answeredMs} ms; half-open closed: ${closedEarly} before the answer, ${closed} by ${Date.now() - tPartial} ms (${late} at >= 9.5 s); flooder closed at: ${flooderClosedMs ?? 'not yet'} ms; peak VmRSS ${peak} KiB`);
            assert.ok(Number.isFinite(peak) && peak < 64 * 1024, `the agent's VmRSS stayed under 64 MiB (peak ${peak} KiB over ${rss.length} samples)`);
        } finally {
            clearInterval(sampler);
            for (const s of sockets) s.destroy();
        }
        assert.equal((await agentStatus(sandbox.socket)).pid, agentPid, 'the same agent serves afterwards');
        assert.deepEqual(h.agentPids(sandbox), [agentPid], 'no restart');
    });
});

// =============================================================================================

describe('4. the agent and the proxy are not dumpable (no core files, no /proc/<pid>/mem for peers)', { timeout: 60000 }, () => {
    let sandbox;
    let env;
    let agent;
    let agentOut;

    before(() => {
        h.binaries();
        sandbox = h.makeSandbox('attacks-nobody');
        fs.chownSync(sandbox.root, NOBODY, NOBODY);
        for (const p of fs.readdirSync(sandbox.root, { recursive: true })) fs.chownSync(path.join(sandbox.root, p), NOBODY, NOBODY);
        // nobody's own environment: its sandbox, no session bus (the agent falls back to memory)
        env = {
            PATH: process.env.PATH,
            HOME: sandbox.HOME,
            XDG_DATA_HOME: sandbox.XDG_DATA_HOME,
            XDG_CONFIG_HOME: sandbox.XDG_CONFIG_HOME,
            XDG_CACHE_HOME: sandbox.XDG_CACHE_HOME,
            XDG_STATE_HOME: sandbox.XDG_STATE_HOME,
            XDG_RUNTIME_DIR: sandbox.XDG_RUNTIME_DIR,
            MCP_AUTH_SOCK: sandbox.socket,
            QT_QPA_PLATFORM: 'offscreen'
        };
    });

    after(async () => {
        if (agent && agent.exitCode === null) {
            const { cli } = h.binaries();
            await outcome(spawnAsNobody(cli, ['shutdown'], { env }), 10000);
            const deadline = Date.now() + 5000;
            while (agent.exitCode === null && agent.signalCode === null && Date.now() < deadline) await h.sleep(100);
        }
        await stopStarted();
        sandbox?.remove();
    });

    /** Asserts pid is not dumpable: /proc/<pid> files root-owned although the process runs as nobody; core limit 0/0. */
    function assertHardened(pid, what) {
        assert.match(procStatusField(pid, 'Uid') ?? '', /^65534\s+65534\s+65534\s+65534$/, `${what} runs as nobody`);
        assert.equal(fs.statSync(`/proc/${pid}/status`).uid, 0, `${what}: /proc/${pid}/status is root's (not dumpable)`);
        assert.deepEqual(coreLimits(pid), { soft: '0', hard: '0' }, `${what}: Max core file size 0/0`);
    }

    test('agent as nobody, mcp-auth proxy as nobody, and a plain process as control', { timeout: 50000 }, async () => {
        const { cli, agent: agentBin } = h.binaries();
        agent = spawnAsNobody(agentBin, ['--headless', '--socket', sandbox.socket], { env });
        agentOut = outcome(agent, 120000);
        assert.ok(await waitExe(agent.pid, path.basename(agentBin)), 'setpriv exec\'d the agent');
        // wait until it answers nobody's CLI (as root it would refuse us: another user)
        let status;
        const deadline = Date.now() + 25000;
        while (Date.now() < deadline && agent.exitCode === null) {
            if (fs.existsSync(sandbox.socket)) {
                const r = await outcome(spawnAsNobody(cli, ['status', '--json'], { env }), 10000);
                if (r.code === 0) {
                    status = JSON.parse(r.stdout);
                    break;
                }
            }
            await h.sleep(200);
        }
        if (!status) {
            const r = agent.exitCode === null ? null : await agentOut;
            assert.fail(`the agent as nobody never answered: ${r ? explain(r) : 'still running'}`);
        }
        assert.equal(status.agent?.pid, agent.pid, 'nobody\'s agent answers nobody\'s CLI');
        assertHardened(agent.pid, 'the agent');

        const proxy = spawnAsNobody(cli, ['proxy', DEAD_URL], { env, stdio: ['pipe', 'pipe', 'pipe'] });
        const proxyOut = outcome(proxy, 30000);
        try {
            assert.ok(await waitExe(proxy.pid, path.basename(cli)), 'setpriv exec\'d mcp-auth');
            await h.sleep(800); // connected to the agent, waiting for its host on stdin
            assert.equal(proxy.exitCode, null, 'the proxy is running (stdin open)');
            assertHardened(proxy.pid, 'mcp-auth proxy');
        } finally {
            await stopProcess(proxy);
            await proxyOut;
        }

        const sleeper = spawnAsNobody('sleep', ['30'], { stdio: 'ignore' });
        try {
            assert.ok(await waitExe(sleeper.pid, 'sleep'), 'setpriv exec\'d sleep');
            assert.match(procStatusField(sleeper.pid, 'Uid') ?? '', /^65534\s/, 'sleep runs as nobody');
            assert.equal(fs.statSync(`/proc/${sleeper.pid}/status`).uid, NOBODY, 'control: a dumpable process of nobody has nobody\'s /proc files');
        } finally {
            await stopProcess(sleeper);
        }
    });
});
