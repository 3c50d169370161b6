// Helpers for the node:test e2e tests: private sandboxes (HOME, XDG_*, socket), the real servers,
// running `mcp-auth`, finding and stopping the agent. Every process started here is stopped here:
// servers via stopAll() (SIGTERM, then SIGKILL) and on process exit; the agent via `mcp-auth shutdown`,
// then SIGTERM/SIGKILL by pid. Nothing here prints a token.
import { spawn, spawnSync } from 'node:child_process';
import { createHash } from 'node:crypto';
import { existsSync, mkdirSync, mkdtempSync, readFileSync, readdirSync, readlinkSync, rmSync, statSync, lstatSync, writeFileSync } from 'node:fs';
import net from 'node:net';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

export const E2E_DIR = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..');
export const TESTS_DIR = path.resolve(E2E_DIR, '..');
export const BROWSER = path.join(E2E_DIR, 'browser', 'scripted-browser.mjs');
export const STEP_TIMEOUT_MS = 60000;

export const sleep = ms => new Promise(resolve => setTimeout(resolve, ms));

/** Throws a clear error when the npm dependencies are not installed. */
export function requireNodeModules() {
    const marker = path.join(TESTS_DIR, 'node_modules', 'oidc-provider', 'package.json');
    if (!existsSync(marker)) {
        throw new Error(`npm dependencies missing (${path.join(TESTS_DIR, 'node_modules')}): run tests/e2e/setup.sh (npm ci in tests/) first`);
    }
}

/** Paths of the binaries under test, from MCP_AUTH_BUILD_DIR; throws a clear error when absent. */
export function binaries() {
    const build = process.env.MCP_AUTH_BUILD_DIR;
    if (!build) throw new Error('MCP_AUTH_BUILD_DIR is not set (the CMake build directory holding app/mcp-auth)');
    const cli = path.join(path.resolve(build), 'app', 'mcp-auth');
    const agent = path.join(path.resolve(build), 'app', 'mcp-auth-agent');
    for (const bin of [cli, agent]) {
        if (!existsSync(bin)) throw new Error(`binary under test not found: ${bin} (build the project first)`);
    }
    return { cli, agent };
}

// ---------------------------------------------------------------------------------------------
// Processes

const running = new Set(); // child processes started by the harness

function killTree(child, signal) {
    try {
        process.kill(-child.pid, signal); // each child leads its own process group
    } catch {
        try { child.kill(signal); } catch { /* gone */ }
    }
}

process.on('exit', () => {
    for (const child of running) killTree(child, 'SIGKILL');
});

/** Spawns a server that prints one JSON line with ready:true; resolves with that object plus stop(). */
export function startServer(name, args, { env = {}, timeoutMs = 20000 } = {}) {
    return new Promise((resolve, reject) => {
        const child = spawn(process.execPath, args, {
            cwd: TESTS_DIR,
            env: { ...process.env, ...env },
            stdio: ['ignore', 'pipe', 'pipe'],
            detached: true
        });
        running.add(child);
        let out = '';
        let err = '';
        let ready = false;
        const timer = setTimeout(() => {
            killTree(child, 'SIGKILL');
            reject(new Error(`${name} not ready after ${timeoutMs} ms; stderr: ${err.slice(-2000)}`));
        }, timeoutMs);
        child.stdout.on('data', chunk => {
            if (ready) return;
            out += chunk.toString();
            for (const line of out.split('\n')) {
                try {
                    const msg = JSON.parse(line);
                    if (msg.ready) {
                        ready = true;
                        clearTimeout(timer);
                        resolve({ ...msg, name, pid: child.pid, stderr: () => err, stop: () => stopChild(child) });
                        return;
                    }
                } catch { /* not the ready line yet */ }
            }
        });
        child.stderr.on('data', chunk => { err = (err + chunk.toString()).slice(-20000); });
        child.on('exit', (code, signal) => {
            running.delete(child);
            if (!ready) {
                clearTimeout(timer);
                reject(new Error(`${name} exited before ready (${code ?? signal}); stderr: ${err.slice(-2000)}`));
            }
        });
    });
}

function stopChild(child) {
    if (child.exitCode !== null || child.signalCode !== null) return Promise.resolve();
    return new Promise(resolve => {
        const hard = setTimeout(() => killTree(child, 'SIGKILL'), 3000);
        child.once('exit', () => {
            clearTimeout(hard);
            resolve();
        });
        killTree(child, 'SIGTERM');
    });
}

export async function stopAll() {
    await Promise.all([...running].map(stopChild));
}

// ---------------------------------------------------------------------------------------------
// Servers

async function getJson(url) {
    // Connection: close — a kept-alive socket that the server times out while a long test step
    // runs would otherwise fail the next fetch with "other side closed".
    const res = await fetch(url, { signal: AbortSignal.timeout(10000), headers: { Connection: 'close' } });
    if (!res.ok) throw new Error(`GET ${url} -> ${res.status}`);
    return res.json();
}

/** Real oidc-provider AS. atTtl: JWT access-token lifetime in seconds. */
export async function startAuthServer({ atTtl = 12, env = {} } = {}) {
    const as = await startServer('auth-server', [path.join(E2E_DIR, 'servers', 'auth-server.mjs'), '0'], {
        env: { AT_TTL: String(atTtl), ...env }
    });
    as.stats = () => getJson(`${as.issuer}/__test/stats`);
    as.issued = () => getJson(`${as.issuer}/__test/issued`);
    as.setTokenDelay = ms => getJson(`${as.issuer}/__test/config?tokenDelayMs=${ms}`);
    return as;
}

/** Real MCP SDK server trusting `issuer`. */
export async function startMcpServer(issuer) {
    const mcp = await startServer('mcp-server', [path.join(E2E_DIR, 'servers', 'mcp-server.mjs'), '--issuer', issuer]);
    const base = new URL(mcp.url).origin;
    mcp.check = async token => {
        const res = await fetch(`${base}/__test/check`, {
            headers: { Authorization: `Bearer ${token}`, Connection: 'close' },
            signal: AbortSignal.timeout(10000)
        });
        return { status: res.status, body: await res.json() };
    };
    mcp.stats = () => getJson(`${base}/__test/stats`);
    return mcp;
}

/** The MCP TypeScript SDK's own example server with its demo OAuth server (--oauth --oauth-strict). */
export function startSdkExample() {
    return startServer('sdk-example', [path.join(E2E_DIR, 'servers', 'sdk-example.mjs')]);
}

/** An SDK Client over Streamable HTTP with a fixed Authorization header; runs fn(client), then closes. */
export async function withMcpClient(url, token, fn) {
    const { Client } = await import('@modelcontextprotocol/sdk/client/index.js');
    const { StreamableHTTPClientTransport } = await import('@modelcontextprotocol/sdk/client/streamableHttp.js');
    const client = new Client({ name: 'mcp-auth-e2e', version: '1.0.0' });
    const transport = new StreamableHTTPClientTransport(new URL(url), {
        requestInit: { headers: { Authorization: `Bearer ${token}` } }
    });
    await client.connect(transport);
    try {
        return await fn(client);
    } finally {
        await transport.terminateSession().catch(() => {});
        await client.close().catch(() => {});
    }
}

/** Pids of `mcp-auth proxy` processes started with this sandbox's environment and still running. */
export function proxyPids(sandbox) {
    const out = [];
    for (const entry of readdirSync('/proc')) {
        if (!/^\d+$/.test(entry)) continue;
        try {
            const cmd = readFileSync(`/proc/${entry}/cmdline`, 'utf8').split('\0');
            if (!cmd.includes('proxy') || !cmd.some(a => a.endsWith('/mcp-auth'))) continue;
            if (/^\d+ \(.*\) Z/.test(readFileSync(`/proc/${entry}/stat`, 'utf8'))) continue;
            if (readFileSync(`/proc/${entry}/environ`, 'utf8').split('\0').includes(`MCP_AUTH_SOCK=${sandbox.socket}`)) out.push(Number(entry));
        } catch { /* gone */ }
    }
    return out;
}

// ---------------------------------------------------------------------------------------------
// Sandbox: a private HOME/XDG tree, socket path and browser log per test suite

/**
 * A private sandbox. `approvals: true` leaves the agent's approvals on (the product's default), so
 * every new app waits for `mcp-auth approve`; otherwise the sandbox's settings turn them off, as on
 * a single-user machine, for tests about everything else. `settings`: more of the agent's
 * settings.json (e.g. `{ approvals: { timeoutSeconds: 5 } }`), written before any agent starts.
 */
export function makeSandbox(label = 'e2e', { approvals = false, settings = {} } = {}) {
    const root = mkdtempSync(path.join(os.tmpdir(), `mcp-auth-${label}-`));
    const dirs = {
        HOME: path.join(root, 'home'),
        XDG_DATA_HOME: path.join(root, 'home', '.local', 'share'),
        XDG_CONFIG_HOME: path.join(root, 'home', '.config'),
        XDG_CACHE_HOME: path.join(root, 'home', '.cache'),
        XDG_STATE_HOME: path.join(root, 'home', '.local', 'state'),
        XDG_RUNTIME_DIR: path.join(root, 'run')
    };
    for (const dir of Object.values(dirs)) mkdirSync(dir, { recursive: true, mode: 0o700 });
    const written = { ...settings, approvals: { ...settings.approvals, ...(!approvals && { required: false }) } };
    if (!approvals || Object.keys(settings).length) {
        mkdirSync(path.join(dirs.XDG_CONFIG_HOME, 'mcp-auth-agent'), { recursive: true, mode: 0o700 });
        writeFileSync(path.join(dirs.XDG_CONFIG_HOME, 'mcp-auth-agent', 'settings.json'), JSON.stringify(written), { mode: 0o600 });
    }
    const socket = path.join(dirs.XDG_RUNTIME_DIR, 'mcp-auth.sock');
    const browserLog = path.join(root, 'browser.log');
    const env = {
        ...process.env,
        ...dirs,
        MCP_AUTH_SOCK: socket,
        MCP_AUTH_BROWSER: BROWSER,
        E2E_BROWSER_LOG: browserLog,
        QT_QPA_PLATFORM: 'offscreen',
        // Every agent log line at every level, so the secret scan (test g) covers the most verbose log.
        QT_LOGGING_RULES: 'mcpauth.*=true'
    };
    return {
        root,
        ...dirs,
        socket,
        browserLog,
        env,
        /** Browser log entries ({event:'launch'|'done', outcome, hosts}). */
        browserEvents() {
            if (!existsSync(browserLog)) return [];
            return readFileSync(browserLog, 'utf8').split('\n').filter(Boolean).map(line => JSON.parse(line));
        },
        browserLaunches() {
            return this.browserEvents().filter(e => e.event === 'launch').length;
        },
        remove() {
            rmSync(root, { recursive: true, force: true });
        }
    };
}

/** Runs `mcp-auth ARGS` with the sandbox env; resolves {code, signal, stdout, stderr}. Never logs stdout. */
export function runCli(sandbox, args, { timeoutMs = STEP_TIMEOUT_MS, env = {} } = {}) {
    const { cli } = binaries();
    return new Promise(resolve => {
        const child = spawn(cli, args, { env: { ...sandbox.env, ...env }, stdio: ['ignore', 'pipe', 'pipe'] });
        let stdout = '';
        let stderr = '';
        let timedOut = false;
        const timer = setTimeout(() => {
            timedOut = true;
            child.kill('SIGKILL');
        }, timeoutMs);
        child.stdout.on('data', c => { stdout += c.toString(); });
        child.stderr.on('data', c => { stderr += c.toString(); });
        child.on('close', (code, signal) => {
            clearTimeout(timer);
            resolve({ code, signal, stdout, stderr, timedOut });
        });
    });
}

/** `mcp-auth token URL ...` that must succeed; returns the token (stdout trimmed). */
export async function getToken(sandbox, url, extra = []) {
    const r = await runCli(sandbox, ['token', url, ...extra]);
    if (r.code !== 0) throw new Error(`mcp-auth token exited ${r.code ?? r.signal}${r.timedOut ? ' (timeout)' : ''}: ${redact(r.stderr.trim().slice(0, 500))}`);
    const token = r.stdout.trim();
    if (!token || /\s/.test(token)) throw new Error('mcp-auth token printed something other than one token');
    return token;
}

/** Unverified JWT payload (for exp); null for opaque tokens. */
export function jwtPayload(token) {
    const parts = token.split('.');
    if (parts.length !== 3) return null;
    try {
        return JSON.parse(Buffer.from(parts[1], 'base64url').toString('utf8'));
    } catch {
        return null;
    }
}

// ---------------------------------------------------------------------------------------------
// The agent: found through /proc (its environment carries this sandbox's MCP_AUTH_SOCK)

function procEnv(pid) {
    try {
        return readFileSync(`/proc/${pid}/environ`, 'utf8').split('\0');
    } catch {
        return [];
    }
}

function procCmdline(pid) {
    try {
        return readFileSync(`/proc/${pid}/cmdline`, 'utf8').split('\0').filter(Boolean);
    } catch {
        return [];
    }
}

function pidsMatching(predicate) {
    const out = [];
    for (const entry of readdirSync('/proc')) {
        if (!/^\d+$/.test(entry)) continue;
        const pid = Number(entry);
        if (pid === process.pid) continue;
        try {
            if (predicate(pid)) out.push(pid);
        } catch { /* raced with exit */ }
    }
    return out;
}

function isZombie(pid) {
    try {
        return /^\d+ \(.*\) Z/.test(readFileSync(`/proc/${pid}/stat`, 'utf8'));
    } catch {
        return true;
    }
}

/** Pids of live mcp-auth-agent processes serving this sandbox. */
export function agentPids(sandbox) {
    return pidsMatching(pid => {
        const cmd = procCmdline(pid);
        // argv[0] for the binary; argv[1] when an interpreter runs it 
        if (!cmd.slice(0, 2).some(a => path.basename(a).startsWith('mcp-auth-agent'))) {
            let exe = '';
            try { exe = readlinkSync(`/proc/${pid}/exe`); } catch { return false; }
            if (!path.basename(exe).startsWith('mcp-auth-agent')) return false;
        }
        if (isZombie(pid)) return false;
        return cmd.includes(sandbox.socket) || procEnv(pid).includes(`MCP_AUTH_SOCK=${sandbox.socket}`);
    });
}

/** Scripted-browser processes launched for this sandbox and still running. */
export function browserPids(sandbox) {
    return pidsMatching(pid => procCmdline(pid).some(a => a.endsWith('scripted-browser.mjs'))
        && procEnv(pid).includes(`E2E_BROWSER_LOG=${sandbox.browserLog}`) && !isZombie(pid));
}

async function waitGone(pids, ms) {
    const deadline = Date.now() + ms;
    let alive = pids;
    while (alive.length && Date.now() < deadline) {
        await sleep(100);
        alive = alive.filter(pid => existsSync(`/proc/${pid}`) && !isZombie(pid));
    }
    return alive;
}

/**
 * Stops this sandbox's agent: `mcp-auth shutdown`, then SIGTERM, then SIGKILL by pid. Also stops any
 * scripted browser still running for it. Resolves {shutdownExit, forced: [pids signalled]}.
 */
export async function stopAgent(sandbox, { viaCli = true } = {}) {
    const pids = agentPids(sandbox);
    let shutdownExit = null;
    let haveCli = false;
    try { haveCli = !!binaries().cli; } catch { /* nothing built: signals only */ }
    if (viaCli && haveCli && pids.length) {
        const r = await runCli(sandbox, ['shutdown'], { timeoutMs: 15000 });
        shutdownExit = r.code;
    }
    let alive = await waitGone(pids, 10000);
    const forced = [...alive];
    for (const pid of alive) try { process.kill(pid, 'SIGTERM'); } catch { /* gone */ }
    alive = await waitGone(alive, 3000);
    for (const pid of alive) try { process.kill(pid, 'SIGKILL'); } catch { /* gone */ }
    for (const pid of browserPids(sandbox)) try { process.kill(pid, 'SIGKILL'); } catch { /* gone */ }
    return { shutdownExit, forced };
}

// ---------------------------------------------------------------------------------------------
// Secrets on disk and in the keychain

const sha256 = v => createHash('sha256').update(v).digest('hex');

/**
 * Scans regular files under `roots` for any of `needles` (exact strings) and for any token whose
 * sha256 is in `hashes` (candidates: runs of base64url/JWT characters). Returns the offending paths
 * (never the contents). Unreadable files, sockets and files over 8 MB are skipped.
 */
/**
 * Files under `roots` that hold one of `needles` or a token whose SHA-256 is in `hashes`.
 * `modifiedSince` (ms epoch) skips files last written before then: whatever the processes under test
 * wrote during the run is newer, and a busy shared /tmp would otherwise make the scan slow.
 */
export function scanForSecrets(roots, { needles = [], hashes = new Set(), skip = [], modifiedSince = 0 } = {}) {
    const hits = [];
    const seen = new Set();
    const candidate = /[A-Za-z0-9_\-.]{20,}/g;
    const walk = dir => {
        let entries;
        try { entries = readdirSync(dir, { withFileTypes: true }); } catch { return; }
        for (const e of entries) {
            const p = path.join(dir, e.name);
            if (skip.some(s => p === s || p.startsWith(`${s}${path.sep}`))) continue;
            if (e.isDirectory()) {
                if (e.name === 'node_modules' || p === '/tmp/.X11-unix') continue;
                walk(p);
            } else if (e.isFile()) {
                let st;
                try { st = lstatSync(p); } catch { continue; }
                if (st.size > 8 * 1024 * 1024 || st.mtimeMs < modifiedSince || seen.has(`${st.dev}:${st.ino}`)) continue;
                seen.add(`${st.dev}:${st.ino}`);
                let data;
                try { data = readFileSync(p, 'latin1'); } catch { continue; }
                let hit = needles.some(n => n && data.includes(n));
                if (!hit && hashes.size) {
                    for (const m of data.matchAll(candidate)) {
                        // a JWT or opaque token may sit inside a longer run (e.g. "Bearer.x"): try dot-separated parts too
                        if (hashes.has(sha256(m[0])) || m[0].split('.').some(part => part.length >= 20 && hashes.has(sha256(part)))) {
                            hit = true;
                            break;
                        }
                    }
                }
                if (hit) hits.push(p);
            }
        }
    };
    for (const root of roots) if (existsSync(root) && statSync(root).isDirectory()) walk(root);
    return hits;
}

/**
 * Number of Secret Service items on the session bus (all of them, or those with attribute
 * E2E_SECRET_ATTR=E2E_SECRET_VALUE when set), via org.freedesktop.Secret.Service.SearchItems, which
 * returns item paths only, never secrets. run-e2e.sh gives every run a throwaway keyring, so every
 * item in it was written by the binaries under test.
 */
export function keychainItemCount() {
    const attr = process.env.E2E_SECRET_ATTR;
    const filter = attr ? `{'${attr}': '${process.env.E2E_SECRET_VALUE ?? ''}'}` : '@a{ss} {}';
    const r = spawnSync('gdbus', ['call', '--session', '--dest', 'org.freedesktop.secrets', '--object-path', '/org/freedesktop/secrets',
        '--method', 'org.freedesktop.Secret.Service.SearchItems', filter], { encoding: 'utf8', timeout: 15000 });
    if (r.status !== 0) throw new Error(`Secret Service search failed: ${(r.stderr || '').trim()}`);
    return (r.stdout.match(/\/org\/freedesktop\/secrets\/collection\//g) ?? []).length;
}

/** Replaces anything token-shaped in text meant for test output. */
export function redact(text) {
    return String(text).replace(/[A-Za-z0-9_\-.~]{24,}/g, '[redacted]');
}

/** JSON-RPC over the agent's socket, one JSON object per line, for tests that misbehave on purpose. */
export function rpcSocket(socketPath) {
    const sock = net.createConnection(socketPath);
    const lines = [];
    const waiters = [];
    let buffer = '';
    let closed = false;
    let closeWaiters = [];
    sock.setEncoding('utf8');
    sock.on('data', data => {
        buffer += data;
        for (let nl; (nl = buffer.indexOf('\n')) >= 0;) {
            lines.push(buffer.slice(0, nl));
            buffer = buffer.slice(nl + 1);
        }
        while (lines.length && waiters.length) waiters.shift()(lines.shift());
    });
    sock.on('error', () => { /* EPIPE/ECONNRESET when the agent hangs up on us: seen as 'close' */ });
    sock.on('close', () => {
        closed = true;
        for (const w of waiters.splice(0)) w(null);
        for (const w of closeWaiters.splice(0)) w(true);
    });
    return {
        ready: new Promise((resolve, reject) => {
            sock.once('connect', resolve);
            sock.once('error', reject);
        }),
        write: data => new Promise(resolve => {
            if (closed) return resolve(false);
            sock.write(data, err => resolve(!err));
        }),
        /** The next line, or null when the connection closed, or 'timeout'. */
        nextLine(ms = 5000) {
            if (lines.length) return Promise.resolve(lines.shift());
            if (closed) return Promise.resolve(null);
            return new Promise(resolve => {
                const timer = setTimeout(() => {
                    waiters.splice(waiters.indexOf(done), 1);
                    resolve('timeout');
                }, ms);
                const done = line => {
                    clearTimeout(timer);
                    resolve(line);
                };
                waiters.push(done);
            });
        },
        /** Resolves true once the agent closed the connection, false after ms. */
        waitClosed(ms = 5000) {
            if (closed) return Promise.resolve(true);
            return new Promise(resolve => {
                const timer = setTimeout(() => resolve(false), ms);
                closeWaiters.push(v => {
                    clearTimeout(timer);
                    resolve(v);
                });
            });
        },
        pendingLines: () => [...lines],
        destroy: () => sock.destroy()
    };
}

// ---------------------------------------------------------------------------------------------
// Era servers and a token without the binaries under test (eras.test.mjs)

/**
 * An SDK v2 server (servers/sdk2-server.mjs) trusting `issuer`; legacy: 'reject' (modern only) or
 * 'stateless' (dual era); port: a fixed port (default any free one), e.g. to replace a stopped server
 * at the same URL. Adds stats(), addTool(name) and the server's `kind`.
 */
export async function startSdk2Server(issuer, { legacy = 'stateless', port = 0 } = {}) {
    const srv = await startServer(`sdk2-server-${legacy}`, [path.join(E2E_DIR, 'servers', 'sdk2-server.mjs'), '--issuer', issuer, '--legacy', legacy,
        '--port', String(port)]);
    return withEraTestEndpoints(srv, `sdk2-${legacy}`);
}

/** An SDK v1 server with 2025 sessions (servers/sdk1-server.mjs) trusting `issuer`; port as above. */
export async function startSdk1Server(issuer, { port = 0 } = {}) {
    const srv = await startServer('sdk1-server', [path.join(E2E_DIR, 'servers', 'sdk1-server.mjs'), '--issuer', issuer, '--port', String(port)]);
    return withEraTestEndpoints(srv, 'sdk1');
}

function withEraTestEndpoints(srv, kind) {
    const base = new URL(srv.url).origin;
    srv.kind = kind;
    srv.stats = () => getJson(`${base}/__test/stats`);
    srv.addTool = name => getJson(`${base}/__test/add-tool?name=${encodeURIComponent(name)}`);
    return srv;
}

/**
 * Signs in to `mcpUrl` by hand, the way tools/manual-flow.mjs does (RFC 9728 discovery from the 401,
 * DCR, PKCE S256, resource indicator, the scripted browser as the user) and resolves the access token.
 * For checks that must not depend on the binaries under test. Never logs the token.
 */
export async function signInByHand(mcpUrl, { scope = 'mcp:tools', browserLog } = {}) {
    const b64url = buf => buf.toString('base64url');
    const getJsonNoThrow = async (url, init = {}) => {
        const res = await fetch(url, { ...init, signal: AbortSignal.timeout(10000), headers: { Connection: 'close', ...init.headers } });
        return { status: res.status, headers: res.headers, body: await res.json().catch(() => null) };
    };
    const probe = await getJsonNoThrow(mcpUrl, {
        method: 'POST',
        headers: { 'Content-Type': 'application/json', Accept: 'application/json, text/event-stream' },
        body: '{}'
    });
    const prmUrl = /resource_metadata="([^"]+)"/.exec(probe.headers.get('www-authenticate') ?? '')?.[1];
    if (probe.status !== 401 || !prmUrl) throw new Error(`signInByHand: expected a 401 with resource_metadata, got ${probe.status}`);
    const prm = (await getJsonNoThrow(prmUrl)).body;
    const issuer = new URL(prm.authorization_servers[0]);
    const asm = (await getJsonNoThrow(`${issuer.origin}/.well-known/oauth-authorization-server${issuer.pathname === '/' ? '' : issuer.pathname}`)).body;

    // A one-shot loopback callback listener, like the client's.
    const { createServer } = await import('node:http');
    const { randomBytes } = await import('node:crypto');
    let deliver;
    const got = new Promise(resolve => { deliver = resolve; });
    const cb = createServer((req, res) => {
        const url = new URL(req.url, 'http://127.0.0.1');
        if (url.pathname !== '/callback') return res.writeHead(404).end();
        res.writeHead(200, { 'Content-Type': 'text/plain' }).end('signed in');
        deliver(Object.fromEntries(url.searchParams));
    });
    await new Promise(resolve => cb.listen(0, '127.0.0.1', resolve));
    try {
        const redirectUri = `http://127.0.0.1:${cb.address().port}/callback`;
        const reg = await getJsonNoThrow(asm.registration_endpoint, {
            method: 'POST',
            headers: { 'Content-Type': 'application/json' },
            body: JSON.stringify({
                client_name: 'mcp-auth e2e by hand', application_type: 'native', token_endpoint_auth_method: 'none',
                grant_types: ['authorization_code', 'refresh_token'], response_types: ['code'], redirect_uris: [redirectUri]
            })
        });
        if (reg.status !== 201) throw new Error(`signInByHand: DCR answered ${reg.status}`);
        const verifier = b64url(randomBytes(32));
        const state = b64url(randomBytes(16));
        const authUrl = new URL(asm.authorization_endpoint);
        authUrl.search = new URLSearchParams({
            response_type: 'code', client_id: reg.body.client_id, redirect_uri: redirectUri, state, scope, resource: prm.resource,
            code_challenge: b64url(createHash('sha256').update(verifier).digest()), code_challenge_method: 'S256'
        }).toString();
        const browser = spawn(BROWSER, [authUrl.href], {
            env: { ...process.env, ...(browserLog && { E2E_BROWSER_LOG: browserLog }) },
            stdio: 'ignore'
        });
        const timeout = sleep(30000).then(() => null);
        const params = await Promise.race([got, timeout]);
        browser.kill('SIGKILL');
        if (!params?.code || params.state !== state) throw new Error('signInByHand: the scripted browser delivered no code');
        const tok = await getJsonNoThrow(asm.token_endpoint, {
            method: 'POST',
            headers: { 'Content-Type': 'application/x-www-form-urlencoded' },
            body: new URLSearchParams({
                grant_type: 'authorization_code', code: params.code, redirect_uri: redirectUri, client_id: reg.body.client_id,
                code_verifier: verifier, resource: prm.resource
            }).toString()
        });
        if (tok.status !== 200 || !tok.body?.access_token) throw new Error(`signInByHand: code exchange answered ${tok.status}`);
        return tok.body.access_token;
    } finally {
        cb.close();
        cb.closeAllConnections?.();
    }
}
