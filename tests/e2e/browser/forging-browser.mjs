#!/usr/bin/env node
// MCP_AUTH_BROWSER for attacks.test.mjs: before the real (scripted) browser signs in, two local
// attackers try the agent's loopback callback listener.
//
//   forging-browser.mjs AUTHORIZATION_URL
//
//  (i)  another local user (uid 65534, via setpriv; needs root) sends GET <redirect_uri>?code=forged&state=forged
//       — a callback with a state that is not the sign-in's; the listener must answer 400 and keep waiting;
//  (ii) a DNS-rebinding web page: GET <redirect_uri>?code=forged&state=<the real state> with
//       `Host: evil.example:<port>` — must be refused with 421 before the state is even looked at
//       (were it accepted, the forged code would be exchanged and the sign-in would fail).
// Then runs scripted-browser.mjs with the same URL and exits with its exit code.
//
// Env: E2E_FORGE_LOG  file to append one JSON line to: {"event":"forged","forgedUid","forgedStateStatus",
//                     "evilHostStatus"} (statuses and uids only: never the URL, a code or the state)
//      plus everything scripted-browser.mjs reads (E2E_BROWSER_LOG, ...)
import { spawn } from 'node:child_process';
import { appendFileSync } from 'node:fs';
import http from 'node:http';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

const STEP_TIMEOUT_MS = 10000;
const here = path.dirname(fileURLToPath(import.meta.url));

function log(entry) {
    if (!process.env.E2E_FORGE_LOG) return;
    try {
        appendFileSync(process.env.E2E_FORGE_LOG, `${JSON.stringify({ ts: new Date().toISOString(), pid: process.pid, ...entry })}\n`);
    } catch { /* the test sees the entry missing */ }
}

/** Runs a child to its end (bounded); resolves {code, stdout}. */
function run(cmd, args, { stdio = ['ignore', 'pipe', 'ignore'] } = {}) {
    return new Promise(resolve => {
        const child = spawn(cmd, args, { stdio, cwd: '/' });
        let stdout = '';
        child.stdout?.on('data', c => { stdout += c.toString(); });
        const timer = setTimeout(() => child.kill('SIGKILL'), STEP_TIMEOUT_MS * 3);
        child.on('error', () => { clearTimeout(timer); resolve({ code: -1, stdout }); });
        child.on('close', code => { clearTimeout(timer); resolve({ code, stdout }); });
    });
}

// (i) as uid 65534: prints "<uid> <status>" (or "<uid> error:<code>")
const NOBODY_FETCH = `
fetch(process.argv[1], { redirect: 'manual', signal: AbortSignal.timeout(${STEP_TIMEOUT_MS}) })
  .then(async r => { await r.arrayBuffer().catch(() => {}); console.log(process.getuid() + ' ' + r.status); })
  .catch(e => console.log(process.getuid() + ' error:' + (e.cause?.code ?? e.name)));
`;

async function forgedState(redirectUri) {
    const url = new URL(redirectUri);
    url.search = new URLSearchParams({ code: 'forged', state: 'forged' }).toString();
    const r = await run('setpriv', ['--reuid=65534', '--regid=65534', '--clear-groups', '--', process.execPath, '-e', NOBODY_FETCH, url.href]);
    const [uid, status] = r.stdout.trim().split(' ');
    return { forgedUid: Number(uid), forgedStateStatus: /^\d+$/.test(status ?? '') ? Number(status) : (status ?? `exit-${r.code}`) };
}

// (ii) fetch() cannot set Host: node:http can.
function evilHost(redirectUri, state) {
    const url = new URL(redirectUri);
    const query = new URLSearchParams({ code: 'forged', state });
    return new Promise(resolve => {
        const req = http.request({
            host: url.hostname.replace(/^\[|\]$/g, ''),
            port: url.port,
            method: 'GET',
            path: `${url.pathname}?${query}`,
            headers: { Host: `evil.example:${url.port}`, Connection: 'close' },
            timeout: STEP_TIMEOUT_MS
        }, res => {
            res.resume();
            res.on('end', () => resolve(res.statusCode));
            res.on('error', () => resolve(res.statusCode));
        });
        req.on('timeout', () => req.destroy(new Error('timeout')));
        req.on('error', e => resolve(`error:${e.code ?? e.message}`));
        req.end();
    });
}

async function main() {
    const start = process.argv[2];
    const authUrl = start ? URL.parse(start) : null;
    const redirectUri = authUrl?.searchParams.get('redirect_uri');
    const state = authUrl?.searchParams.get('state') ?? '';
    if (!redirectUri) {
        log({ event: 'forged', error: 'no redirect_uri' });
    } else {
        const first = await forgedState(redirectUri);
        const evilHostStatus = await evilHost(redirectUri, state);
        log({ event: 'forged', ...first, evilHostStatus });
    }
    const r = await run(process.execPath, [path.join(here, 'scripted-browser.mjs'), ...(start ? [start] : [])], { stdio: 'inherit' });
    process.exitCode = r.code ?? 1;
}

main().catch(e => {
    log({ event: 'forged', error: `${e.name}` });
    process.exitCode = 1;
});
