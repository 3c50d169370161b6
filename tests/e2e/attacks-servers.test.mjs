// End-to-end: servers (and floods of URLs) that try to make the agent store, send or keep what it
// must not. The real mcp-auth / mcp-auth-agent against the working OAuth scenarios of
// servers/hostile-server.mjs (crlf-token, zero-expiry, secret-none), plus:
//   - a token with CR/LF is refused, nothing is stored, nothing is sent with it
//   - expires_in: 0 means "lifetime unknown", not "already expired" (no refresh storm)
//   - a client_secret for a public client (auth method "none") is kept nowhere
//   - 50,000 token/get for unknown URLs do not grow the agent or its server list
//   - allowHttp does not open plain HTTP to a non-loopback host
//   - the keychain going away while the agent runs: reported, and token fails as "keychain
//     unavailable" (exit 1), never as "not signed in" (exit 3). Runs on a private D-Bus bus with its
//     own gnome-keyring (no .service files, so nothing re-activates one) — the shared keyring of
//     run-e2e.sh is left alone.
// Run through run-e2e.sh (private session bus + throwaway keyring); needs MCP_AUTH_BUILD_DIR.
import assert from 'node:assert/strict';
import { spawn, spawnSync } from 'node:child_process';
import { existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import net from 'node:net';
import path from 'node:path';
import { after, before, describe, test } from 'node:test';
import * as h from './lib/harness.mjs';

h.requireNodeModules();

const CRLF_TOKEN = 'abc\r\nX-Injected: yes';
const UNUSED_SECRET = 'UNUSED-SECRET-XYZ';
const CLI_KILL_MS = 30000;

/** Text for assertion messages: token-shaped runs, the CRLF token and the unused secret masked. */
function clean(text) {
    return h.redact(String(text).split(CRLF_TOKEN).join('[crlf-token]').replace(/X-Injected: yes/g, '[crlf-token]')
        .split(UNUSED_SECRET).join('[secret]'));
}

function explain(r) {
    return `exit ${r.code ?? r.signal}${r.timedOut ? ' (timed out)' : ''}; stderr: ${clean(r.stderr.trim().slice(0, 800))}`;
}

/** A clear one-line error: the CLI's own line, sensible length, no placeholders or crash output. */
function assertClearLine(r, what) {
    assert.equal(r.stdout.trim(), '', `${what}: nothing on stdout`);
    const lines = r.stderr.trim().split('\n');
    assert.ok(lines.length <= 2, `${what}: at most a progress line and one error line: ${clean(r.stderr)}`);
    const message = lines.at(-1);
    assert.match(message, /^mcp-auth: /, `${what}: the error line is the CLI's own: ${clean(message)}`);
    assert.ok(message.length < 500, `${what}: a message of sensible length`);
    assert.ok(!/\bundefined\b|\bnull\b|\[object Object\]|^\s+at |terminate called|Segmentation|std::/m.test(r.stderr),
        `${what}: no placeholders or crash output: ${clean(r.stderr)}`);
    return message;
}

function vmRssKiB(pid) {
    const m = /^VmRSS:\s+(\d+) kB/m.exec(readFileSync(`/proc/${pid}/status`, 'utf8'));
    assert.ok(m, `VmRSS of pid ${pid}`);
    return Number(m[1]);
}

async function statusJson(sandbox) {
    const r = await h.runCli(sandbox, ['status', '--json'], { timeoutMs: 20000 });
    assert.equal(r.code, 0, `mcp-auth status --json: ${explain(r)}`);
    return JSON.parse(r.stdout);
}

const entryFor = (status, url) => status.servers.find(s => s.resource === url || s.resource === `${url}/`);

// ---------------------------------------------------------------------------------------------
// JSON-RPC over the agent's socket, answers matched by id

function rpcClient(socketPath) {
    const sock = net.createConnection(socketPath);
    const pending = new Map();
    const stray = [];
    let buffer = '';
    let closed = false;
    let nextId = 1;
    sock.setEncoding('utf8');
    sock.on('data', data => {
        buffer += data;
        for (let nl; (nl = buffer.indexOf('\n')) >= 0;) {
            const line = buffer.slice(0, nl);
            buffer = buffer.slice(nl + 1);
            let msg;
            try { msg = JSON.parse(line); } catch { stray.push(line.slice(0, 200)); continue; }
            const w = pending.get(msg.id);
            if (w) {
                pending.delete(msg.id);
                w(msg);
            } else {
                stray.push(line.slice(0, 200));
            }
        }
    });
    sock.on('error', () => { /* seen as close */ });
    sock.on('close', () => {
        closed = true;
        for (const w of pending.values()) w(null);
        pending.clear();
    });
    return {
        ready: new Promise((resolve, reject) => {
            sock.once('connect', resolve);
            sock.once('error', reject);
        }),
        /** Resolves the answer, null when the connection closed, 'timeout' after ms. */
        call(method, params, { ms = 15000 } = {}) {
            if (closed) return Promise.resolve(null);
            const id = nextId++;
            return new Promise(resolve => {
                const timer = setTimeout(() => {
                    pending.delete(id);
                    resolve('timeout');
                }, ms);
                pending.set(id, msg => {
                    clearTimeout(timer);
                    resolve(msg);
                });
                const req = { jsonrpc: '2.0', id, method };
                if (params !== undefined) req.params = params;
                sock.write(`${JSON.stringify(req)}\n`);
            });
        },
        stray: () => [...stray],
        isClosed: () => closed,
        destroy: () => sock.destroy()
    };
}

async function rpcOnce(sandbox, method, params) {
    const c = rpcClient(sandbox.socket);
    try {
        await c.ready;
        return await c.call(method, params, { ms: 30000 });
    } finally {
        c.destroy();
    }
}

// ---------------------------------------------------------------------------------------------
// Secret Service: items with their attributes and secrets (secrets stay in this process, never printed)

function gdbusCall(env, objectPath, method, ...args) {
    return spawnSync('gdbus', ['call', '--session', '--dest', 'org.freedesktop.secrets', '--object-path', objectPath,
        '--method', method, ...args], { encoding: 'utf8', timeout: 15000, env });
}

/** gdbus' text form of a{ss} → object. */
function parseStringDict(text) {
    const out = {};
    const unq = s => s.replace(/\\(.)/g, '$1');
    for (const m of text.matchAll(/(['"])((?:\\.|(?!\1)[^\\])*)\1: (['"])((?:\\.|(?!\3)[^\\])*)\3/g)) out[unq(m[2])] = unq(m[4]);
    return out;
}

/**
 * Every item of the Secret Service on env's session bus: {path, attributes, secret}. The secret is read
 * with `secret-tool search --all` on the item's attributes (the only way to a secret without keeping a
 * Secret Service session open on one connection); null when the item has no attributes.
 */
function keychainItems(env = process.env) {
    const r = gdbusCall(env, '/org/freedesktop/secrets', 'org.freedesktop.Secret.Service.SearchItems', '@a{ss} {}');
    if (r.status !== 0) throw new Error(`Secret Service search failed: ${(r.stderr || '').trim()}`);
    const paths = r.stdout.match(/\/org\/freedesktop\/secrets\/collection\/[A-Za-z0-9_/]+/g) ?? [];
    return paths.map(p => {
        const a = gdbusCall(env, p, 'org.freedesktop.DBus.Properties.Get', 'org.freedesktop.Secret.Item', 'Attributes');
        const attributes = a.status === 0 ? parseStringDict(a.stdout) : {};
        let secret = null;
        const pairs = Object.entries(attributes).flat();
        if (pairs.length) {
            const s = spawnSync('secret-tool', ['search', '--all', '--unlock', ...pairs], { encoding: 'utf8', timeout: 15000, env });
            secret = s.status === 0 ? s.stdout : null;
            // qtkeychain stores binary data base64-encoded: scan the decoded text as well.
            if (secret !== null)
                secret += '\n' + (secret.match(/[A-Za-z0-9+/=]{16,}/g) ?? [])
                    .map(b64 => Buffer.from(b64, 'base64').toString('utf8')).join('\n');
        }
        return { path: p, attributes, secret };
    });
}

const itemMentions = (item, text) => Object.values(item.attributes).some(v => v.includes(text));

// ---------------------------------------------------------------------------------------------
// A second, private session bus with its own gnome-keyring (for the keychain-going-away test)

const spawned = new Set();
process.on('exit', () => {
    for (const child of spawned) try { process.kill(-child.pid, 'SIGKILL'); } catch { /* gone */ }
});

function spawnTracked(cmd, args, opts) {
    const child = spawn(cmd, args, { ...opts, detached: true });
    spawned.add(child);
    child.on('exit', () => spawned.delete(child));
    return child;
}

function killTracked(child, signal = 'SIGTERM') {
    if (!child || child.exitCode !== null || child.signalCode !== null) return Promise.resolve();
    return new Promise(resolve => {
        const hard = setTimeout(() => { try { process.kill(-child.pid, 'SIGKILL'); } catch { /* gone */ } }, 3000);
        child.once('exit', () => {
            clearTimeout(hard);
            resolve();
        });
        try { process.kill(-child.pid, signal); } catch { try { child.kill(signal); } catch { /* gone */ } }
    });
}

function firstLine(stream, ms) {
    return new Promise((resolve, reject) => {
        let buf = '';
        const timer = setTimeout(() => reject(new Error(`no output within ${ms} ms`)), ms);
        stream.on('data', c => {
            buf += c.toString();
            const nl = buf.indexOf('\n');
            if (nl >= 0) {
                clearTimeout(timer);
                resolve(buf.slice(0, nl).trim());
            }
        });
    });
}

const nameHasOwner = env => {
    const r = spawnSync('gdbus', ['call', '--session', '--dest', 'org.freedesktop.DBus', '--object-path', '/org/freedesktop/DBus',
        '--method', 'org.freedesktop.DBus.NameHasOwner', 'org.freedesktop.secrets'], { encoding: 'utf8', timeout: 5000, env });
    return r.status === 0 && /true/.test(r.stdout);
};

/**
 * dbus-daemon with a config that has no service directories (so a dead keyring is never re-activated)
 * and gnome-keyring-daemon --unlock --components=secrets on it, both under `root`.
 */
async function startPrivateKeyring(root) {
    const dirs = { bus: path.join(root, 'bus'), home: path.join(root, 'keyhome'), run: path.join(root, 'keyrun'), empty: path.join(root, 'empty') };
    for (const d of Object.values(dirs)) mkdirSync(d, { recursive: true, mode: 0o700 });
    const config = path.join(dirs.bus, 'session.conf');
    writeFileSync(config, `<!DOCTYPE busconfig PUBLIC "-//freedesktop//DTD D-BUS Bus Configuration 1.0//EN"
 "http://www.freedesktop.org/standards/dbus/1.0/busconfig.dtd">
<busconfig>
  <type>session</type>
  <listen>unix:path=${path.join(dirs.bus, 'socket')}</listen>
  <auth>EXTERNAL</auth>
  <policy context="default">
    <allow send_destination="*" eavesdrop="true"/>
    <allow eavesdrop="true"/>
    <allow own="*"/>
  </policy>
</busconfig>
`);
    const baseEnv = { ...process.env, XDG_DATA_DIRS: dirs.empty, HOME: dirs.home, XDG_RUNTIME_DIR: dirs.run,
        XDG_DATA_HOME: path.join(dirs.home, '.local', 'share'), XDG_CONFIG_HOME: path.join(dirs.home, '.config') };
    delete baseEnv.GNOME_KEYRING_CONTROL;
    const bus = spawnTracked('dbus-daemon', ['--config-file', config, '--nofork', '--print-address=1'],
        { env: baseEnv, stdio: ['ignore', 'pipe', 'ignore'] });
    const address = await firstLine(bus.stdout, 10000);
    assert.match(address, /^unix:/, 'the private dbus-daemon printed its address');
    const env = { ...baseEnv, DBUS_SESSION_BUS_ADDRESS: address };
    const keyring = spawnTracked('gnome-keyring-daemon', ['--foreground', '--unlock', '--components=secrets'],
        { env, stdio: ['pipe', 'pipe', 'ignore'] });
    let keyringOut = '';
    keyring.stdout.on('data', c => { keyringOut += c.toString(); });
    keyring.stdin.end(`e2e-private-${process.pid}-${Date.now()}`);
    const deadline = Date.now() + 10000;
    while (!nameHasOwner(env) && Date.now() < deadline) await h.sleep(100);
    assert.ok(nameHasOwner(env), 'the private gnome-keyring-daemon owns org.freedesktop.secrets');
    const search = gdbusCall(env, '/org/freedesktop/secrets', 'org.freedesktop.Secret.Service.SearchItems', '@a{ss} {}');
    assert.equal(search.status, 0, `the private Secret Service answers: ${search.stderr}`);
    for (const line of keyringOut.split('\n')) {
        const m = /^([A-Z_]+)=(.*)$/.exec(line.trim());
        if (m) env[m[1]] = m[2];
    }
    return { env, address, bus, keyring };
}

// ---------------------------------------------------------------------------------------------

let hostile;
const urlOf = name => `${hostile.base}/${name}/mcp`;
const stats = async () => (await fetch(`${hostile.base}/__test/stats`, { signal: AbortSignal.timeout(5000), headers: { Connection: 'close' } })).json();

before(async () => {
    h.binaries();
    hostile = await h.startServer('hostile-server', [path.join(h.E2E_DIR, 'servers', 'hostile-server.mjs'), '0']);
});

after(async () => {
    await h.stopAll();
});

describe('servers that hand out what must not be kept or sent', { timeout: 120000 }, () => {
    let sandbox;
    let agentPid;

    before(async () => {
        sandbox = h.makeSandbox('attacks-servers');
        const status = await statusJson(sandbox);
        agentPid = status.agent?.pid;
        assert.ok(Number.isInteger(agentPid) && agentPid > 0, 'status --json reports the agent pid');
        assert.deepEqual(h.agentPids(sandbox), [agentPid], 'the reported pid is this sandbox\'s agent');
    });

    after(async () => {
        if (sandbox) await h.stopAgent(sandbox);
        sandbox?.remove();
    });

    test('crlf-token: a token with CR/LF is refused with a clear error; nothing stored, nothing sent', { timeout: 60000 }, async t => {
        const url = urlOf('crlf-token');
        const itemsBefore = h.keychainItemCount();
        const r = await h.runCli(sandbox, ['login', url], { timeoutMs: CLI_KILL_MS });
        assert.ok(!r.timedOut, 'mcp-auth login finished');
        assert.ok(r.code !== 0, `mcp-auth login fails: ${explain(r)}`);
        assert.equal(r.code, 1, `exit 1 (a failure, not "sign-in required"): ${explain(r)}`);
        const message = assertClearLine(r, 'crlf-token login');
        t.diagnostic(`login: ${clean(message)}`);
        assert.match(message, /characters a token may not have/i, `the message says why: ${clean(message)}`);
        assert.match(message, /nothing was stored/i, `the message says nothing was stored: ${clean(message)}`);
        assert.ok(!r.stderr.includes('X-Injected') && !r.stderr.includes('\r'), 'the refused token is not printed');

        const s = (await stats())['crlf-token'];
        assert.equal(s.tokenGrants.authorization_code, 1, 'the flow reached the token endpoint once (the token was issued)');
        assert.equal(s.tokenErrors, 0, 'the code exchange itself was valid (PKCE, redirect_uri, client_id)');

        // the stable error code, through the socket (a second sign-in; the scripted browser finishes it)
        const ans = await rpcOnce(sandbox, 'login/start', { resource: url });
        assert.ok(ans && ans !== 'timeout', `login/start answered (${ans})`);
        assert.ok(ans.error, 'login/start fails');
        assert.equal(ans.error.data?.code, 'invalid_token_characters', `error code: ${clean(JSON.stringify(ans.error.data))}`);

        const st = await statusJson(sandbox);
        const entry = entryFor(st, url);
        assert.ok(!entry || entry.state !== 'signed_in', `not listed as signed in (state ${entry?.state})`);
        const tok = await h.runCli(sandbox, ['token', url, '--min-valid', '5'], { timeoutMs: CLI_KILL_MS });
        assert.equal(tok.code, 3, `mcp-auth token: sign-in required (exit 3): ${explain(tok)}`);
        assert.equal(tok.stdout, '', 'mcp-auth token printed nothing on stdout');

        assert.equal(h.keychainItemCount(), itemsBefore, 'no Secret Service item was added');
        const items = keychainItems();
        assert.ok(!items.some(i => itemMentions(i, url) || itemMentions(i, `${hostile.base}/crlf-token`)), 'no Secret Service item names this server');
        assert.ok(!items.some(i => i.secret?.includes('X-Injected')), 'no Secret Service item holds the refused token');
        const stateFile = path.join(sandbox.XDG_DATA_HOME, 'mcp-auth-agent', 'state.json');
        if (existsSync(stateFile)) assert.ok(!readFileSync(stateFile, 'utf8').includes('X-Injected'), 'the state file does not hold the token');
        assert.equal((await stats()).injectedHeader, 0, 'no request carried an X-Injected header');
        assert.equal((await stats())['crlf-token'].mcpAuthorized, 0, 'the MCP server never got the token');
    });

    test('zero-expiry: expires_in 0 = lifetime unknown; three token calls, one token, no refresh', { timeout: 60000 }, async () => {
        const url = urlOf('zero-expiry');
        const r = await h.runCli(sandbox, ['login', url], { timeoutMs: CLI_KILL_MS });
        assert.equal(r.code, 0, `mcp-auth login: ${explain(r)}`);
        const s0 = (await stats())['zero-expiry'];
        assert.equal(s0.tokenGrants.authorization_code, 1, 'one code exchange');
        const tokens = [];
        for (let i = 0; i < 3; i++) tokens.push(await h.getToken(sandbox, url));
        assert.ok(tokens.every(t => t === tokens[0]), 'the same token three times');
        const s1 = (await stats())['zero-expiry'];
        assert.equal(s1.tokenGrants.refresh_token, 0, 'no refresh_token grant');
        assert.equal(s1.tokenGrants.authorization_code, 1, 'no new sign-in');
        assert.equal(s1.token, 1, 'one token-endpoint request in all');
        // the token is the one the server issued and still honours
        const res = await fetch(url, {
            method: 'POST',
            headers: { Authorization: `Bearer ${tokens[0]}`, 'Content-Type': 'application/json', Connection: 'close' },
            body: JSON.stringify({ jsonrpc: '2.0', id: 1, method: 'ping' }),
            signal: AbortSignal.timeout(5000)
        });
        await res.arrayBuffer();
        assert.equal(res.status, 200, 'the MCP server accepts the token');
        const entry = entryFor(await statusJson(sandbox), url);
        assert.equal(entry?.state, 'signed_in', `listed as signed in, not expired (state ${entry?.state})`);
        assert.ok(!entry.expiresAt, `expiresAt is 0 (unknown), not a time in the past (${entry.expiresAt})`);
    });

    test('secret-none: a client_secret for a public client is kept neither in the keychain nor on disk', { timeout: 60000 }, async () => {
        const url = urlOf('secret-none');
        const r = await h.runCli(sandbox, ['login', url], { timeoutMs: CLI_KILL_MS });
        assert.equal(r.code, 0, `mcp-auth login: ${explain(r)}`);
        const token = await h.getToken(sandbox, url, ['--min-valid', '5']);
        const s = (await stats())['secret-none'];
        assert.equal(s.register, 1, 'registered once (the answer carried the secret)');
        assert.equal(s.secretPresented, 0, 'the token endpoint was never sent the secret (auth method "none")');

        const items = keychainItems();
        const unreadable = items.filter(i => i.secret === null).map(i => i.path);
        assert.deepEqual(unreadable, [], 'every Secret Service item could be read for the scan');
        assert.ok(items.some(i => i.secret.includes(token)), 'the scan sees secrets: this server\'s access token is in the keychain');
        assert.ok(!items.some(i => i.secret.includes(UNUSED_SECRET)), 'no Secret Service item holds the client secret');
        assert.ok(!items.some(i => itemMentions(i, UNUSED_SECRET)), 'no item attribute holds it either');

        const stateFile = path.join(sandbox.XDG_DATA_HOME, 'mcp-auth-agent', 'state.json');
        assert.ok(existsSync(stateFile), 'the agent keeps a state file');
        const state = readFileSync(stateFile, 'utf8');
        assert.ok(state.includes(`${hostile.base}/secret-none`), 'the state file records this server');
        assert.ok(!state.includes(UNUSED_SECRET), 'the state file does not hold the client secret');
        assert.deepEqual(h.scanForSecrets([sandbox.root], { needles: [UNUSED_SECRET] }).map(p => path.relative(sandbox.root, p)), [],
            'no file of the sandbox (state, logs) holds the client secret');
    });

    test('50,000 token/get for unknown URLs: all "sign-in required", the agent does not grow, none listed', { timeout: 90000 }, async t => {
        const TOTAL = 50000;
        const CONNECTIONS = 4;
        const WINDOW = 64;
        const WARMUP = 500;
        const junk = i => `http://127.0.0.1:9/junk/${i}`;
        const outcome = { ok: 0, other: [], otherCount: 0 };

        async function flood(from, to) {
            const per = Math.ceil((to - from) / CONNECTIONS);
            await Promise.all(Array.from({ length: CONNECTIONS }, async (_, k) => {
                const start = from + k * per;
                const end = Math.min(to, start + per);
                if (start >= end) return;
                const c = rpcClient(sandbox.socket);
                await c.ready;
                try {
                    let next = start;
                    const worker = async () => {
                        while (next < end) {
                            const i = next++;
                            const ans = await c.call('token/get', { resource: junk(i) });
                            if (ans && ans !== 'timeout' && ans.error?.code === -32001) {
                                outcome.ok++;
                            } else {
                                outcome.otherCount++;
                                if (outcome.other.length < 5) outcome.other.push(ans === null || ans === 'timeout' ? String(ans) : JSON.stringify(ans.error ?? ans.result).slice(0, 200));
                            }
                            if (c.isClosed()) break;
                        }
                    };
                    // WINDOW workers on one connection: at most WINDOW requests unanswered at any time
                    await Promise.all(Array.from({ length: WINDOW }, worker));
                } finally {
                    c.destroy();
                }
            }));
        }

        await flood(0, WARMUP); // allocator arenas, caches: grown once, not per URL
        const rssBefore = vmRssKiB(agentPid);
        const t0 = Date.now();
        await flood(WARMUP, TOTAL);
        const floodMs = Date.now() - t0;
        await h.sleep(500); // deleteLater() and friends
        const rssAfter = vmRssKiB(agentPid);
        t.diagnostic(`VmRSS ${rssBefore} → ${rssAfter} KiB (${rssAfter - rssBefore} KiB) over ${TOTAL - WARMUP} URLs in ${floodMs} ms`);
        assert.equal(outcome.otherCount, 0, `every token/get got -32001 (other answers: ${outcome.otherCount}, e.g. ${outcome.other.join(' | ')})`);
        assert.equal(outcome.ok, TOTAL, 'every request was answered');
        const grownKiB = rssAfter - rssBefore;
        assert.ok(grownKiB < 8 * 1024, `the agent's VmRSS grew by ${grownKiB} KiB (${rssBefore} → ${rssAfter} KiB) over ${TOTAL - WARMUP} unknown URLs in ${floodMs} ms`);
        const st = await statusJson(sandbox);
        assert.equal(st.agent?.pid, agentPid, 'the same agent still serves');
        const listed = st.servers.filter(s => String(s.resource).includes('/junk/')).length;
        assert.equal(listed, 0, `no junk URL is listed (${listed} of ${st.servers.length} servers are)`);
    });

    test('allowHttp is loopback-only: server/configure allowHttp + login to plain http off loopback → HTTPS error, no request', { timeout: 60000 }, async t => {
        const url = 'http://mcp.example.invalid/mcp';
        const conf = await rpcOnce(sandbox, 'server/configure', { resource: url, allowHttp: true });
        assert.ok(conf && conf !== 'timeout', `server/configure answered (${conf})`);
        const t0 = Date.now();
        const r = await h.runCli(sandbox, ['login', url], { timeoutMs: CLI_KILL_MS });
        const elapsed = Date.now() - t0;
        assert.equal(r.code, 1, `mcp-auth login fails: ${explain(r)}`);
        assert.ok(elapsed < 5000, `refused within 5 s (took ${elapsed} ms)`);
        const message = assertClearLine(r, 'allowHttp login');
        t.diagnostic(`login (${elapsed} ms): ${clean(message)}`);
        assert.match(message, /HTTPS|plain HTTP/i, `a security error about HTTPS: ${clean(message)}`);
        assert.doesNotMatch(message, /DNS|look ?up|resolv|host not found|unknown host|not found|unreachable/i,
            `not a DNS / host-lookup error: ${clean(message)}`);
        const log = path.join(path.dirname(sandbox.socket), 'agent.log');
        assert.ok(existsSync(log), 'the agent writes a log');
        const requests = readFileSync(log, 'utf8').split('\n').filter(l => /mcpauth\.net/.test(l) && /\brequest\b/.test(l));
        assert.ok(requests.length > 0, 'the log records the requests the agent sends');
        assert.ok(!requests.some(l => l.includes('mcp.example.invalid')), 'no request was sent to mcp.example.invalid');
        const entry = entryFor(await statusJson(sandbox), url);
        assert.ok(!entry || entry.state !== 'signed_in', 'not signed in');
    });
});

describe('the keychain goes away while the agent runs (private bus + keyring)', { timeout: 90000 }, () => {
    let sandbox;
    let priv;
    let agentPid;
    let url;

    before(async () => {
        sandbox = h.makeSandbox('attacks-keychain');
        priv = await startPrivateKeyring(sandbox.root);
        for (const [k, v] of Object.entries(priv.env)) {
            if (k === 'DBUS_SESSION_BUS_ADDRESS' || k.startsWith('GNOME_KEYRING')) sandbox.env[k] = v;
        }
        delete sandbox.env.GNOME_KEYRING_CONTROL;
        if (priv.env.GNOME_KEYRING_CONTROL) sandbox.env.GNOME_KEYRING_CONTROL = priv.env.GNOME_KEYRING_CONTROL;
        url = urlOf('zero-expiry');
    });

    after(async () => {
        if (sandbox) await h.stopAgent(sandbox);
        await killTracked(priv?.keyring);
        await killTracked(priv?.bus);
        sandbox?.remove();
    });

    test('signed in, then a fresh agent (no tokens in memory) finds the keychain available', { timeout: 40000 }, async () => {
        const r = await h.runCli(sandbox, ['login', url], { timeoutMs: CLI_KILL_MS });
        assert.equal(r.code, 0, `mcp-auth login: ${explain(r)}`);
        const items = keychainItems(priv.env);
        assert.ok(items.some(i => itemMentions(i, url)), 'the tokens are in the private keyring');
        const first = h.agentPids(sandbox);
        const stop = await h.stopAgent(sandbox);
        assert.deepEqual(stop.forced, [], 'the first agent shut down when asked');
        const st = await statusJson(sandbox);
        agentPid = st.agent?.pid;
        assert.ok(agentPid && !first.includes(agentPid), 'a new agent process');
        assert.equal(st.agent?.keychain?.available, true, `keychain available at start: ${JSON.stringify(st.agent?.keychain)}`);
        assert.equal(entryFor(st, url)?.state, 'signed_in', 'the new agent lists the server as signed in (from its state file)');
    });

    test('keyring killed: agent/status reports the keychain unavailable', { timeout: 20000 }, async () => {
        assert.ok(agentPid, 'the previous step started the agent');
        await killTracked(priv.keyring);
        assert.ok(!nameHasOwner(priv.env), 'nobody owns org.freedesktop.secrets on the private bus');
        const probe = gdbusCall(priv.env, '/org/freedesktop/secrets', 'org.freedesktop.Secret.Service.SearchItems', '@a{ss} {}');
        assert.notEqual(probe.status, 0, 'and D-Bus does not re-activate a keyring');
        let keychain;
        const deadline = Date.now() + 5000;
        do {
            const ans = await rpcOnce(sandbox, 'agent/status');
            keychain = ans?.result?.keychain;
            if (keychain?.available === false) break;
            await h.sleep(250);
        } while (Date.now() < deadline);
        assert.equal(keychain?.available, false, `agent/status keychain within 5 s of the keyring's exit: ${JSON.stringify(keychain)}`);
    });

    test('keyring gone: mcp-auth token fails with exit 1 "keychain unavailable", not "not signed in"', { timeout: 40000 }, async t => {
        assert.ok(agentPid, 'the first step started the agent');
        assert.ok(!nameHasOwner(priv.env), 'the keyring is gone');
        const r = await h.runCli(sandbox, ['token', url], { timeoutMs: CLI_KILL_MS });
        assert.ok(!r.timedOut, 'mcp-auth token finished');
        assert.equal(r.stdout, '', 'no token printed');
        assert.notEqual(r.code, 3, `not "sign-in required" (exit 3): ${explain(r)}`);
        assert.equal(r.code, 1, `exit 1: ${explain(r)}`);
        const message = assertClearLine(r, 'token without keychain');
        t.diagnostic(`token: ${clean(message)}`);
        assert.match(message, /keychain|secret service|keyring/i, `the message is about the keychain: ${clean(message)}`);
        assert.doesNotMatch(message, /not signed in|sign in again|please sign in|mcp-auth login|log ?in/i, `not a sign-in message: ${clean(message)}`);
        assert.deepEqual(h.agentPids(sandbox), [agentPid], 'the same agent still runs');
    });

    test('after the failed read: agent/status still reports the keychain unavailable; nothing was forgotten', { timeout: 20000 }, async () => {
        assert.ok(agentPid, 'the first step started the agent');
        const ans = await rpcOnce(sandbox, 'agent/status');
        assert.equal(ans?.result?.keychain?.available, false, `agent/status keychain: ${JSON.stringify(ans?.result?.keychain)}`);
        const entry = entryFor(await statusJson(sandbox), url);
        assert.ok(entry && entry.state !== 'signed_out', `the server is not listed as signed out (state ${entry?.state})`);
    });
});
