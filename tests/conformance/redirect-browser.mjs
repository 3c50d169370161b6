#!/usr/bin/env node
// The "browser" for the conformance suite's mock authorization server, used as MCP_AUTH_BROWSER.
//
//   redirect-browser.mjs AUTHORIZATION_URL
//
// The mock AS answers GET /authorize at once with a 302 to the redirect_uri (code, state, iss): no login
// page, no consent. So: fetch the authorization URL without following redirects, follow at most a few
// redirects that stay on the AS's own origin, then GET the Location that leaves it (the agent's loopback
// callback), which must answer 2xx. Exit 0 on success, 1 otherwise.
//
// Env: CONFORMANCE_BROWSER_LOG  file to append JSON lines to: {"event":"launch"} and
//                               {"event":"done","outcome":...,"status":...} (never codes, states or URLs
//                               with their query)
import { appendFileSync } from 'node:fs';

const STEP_TIMEOUT_MS = 10000;
const MAX_SAME_ORIGIN_REDIRECTS = 3;
const logFile = process.env.CONFORMANCE_BROWSER_LOG;

function log(entry) {
    if (!logFile) return;
    try {
        appendFileSync(logFile, `${JSON.stringify({ ts: new Date().toISOString(), pid: process.pid, ...entry })}\n`);
    } catch {
        // nowhere to report; the exit code still tells
    }
}

// Origin and path only: the query carries state, code and PKCE values.
const where = url => `${url.origin}${url.pathname}`;

async function run(authorizationUrl) {
    let url = new URL(authorizationUrl);
    const asOrigin = url.origin;
    for (let hop = 0; ; ++hop) {
        const res = await fetch(url, { redirect: 'manual', signal: AbortSignal.timeout(STEP_TIMEOUT_MS) });
        await res.body?.cancel();
        const location = res.headers.get('location');
        if (res.status < 300 || res.status >= 400 || !location) {
            return { outcome: 'no_redirect', status: res.status, at: where(url) };
        }
        url = new URL(location, url);
        if (url.origin !== asOrigin) break;
        if (hop >= MAX_SAME_ORIGIN_REDIRECTS) return { outcome: 'too_many_redirects', at: where(url) };
    }
    // The redirect left the AS: this is the client's redirect_uri. Deliver it.
    const callback = await fetch(url, { redirect: 'manual', signal: AbortSignal.timeout(STEP_TIMEOUT_MS) });
    await callback.body?.cancel();
    const ok = callback.status >= 200 && callback.status < 300;
    return { outcome: ok ? 'delivered' : 'callback_refused', status: callback.status, at: where(url) };
}

const target = process.argv[2];
log({ event: 'launch' });
if (!target) {
    log({ event: 'done', outcome: 'usage' });
    console.error('usage: redirect-browser.mjs AUTHORIZATION_URL');
    process.exit(2);
}
try {
    const result = await run(target);
    log({ event: 'done', ...result });
    if (result.outcome !== 'delivered') {
        console.error(`redirect-browser: ${result.outcome} (${result.status ?? '-'}) at ${result.at}`);
        process.exitCode = 1;
    }
} catch (e) {
    log({ event: 'done', outcome: 'error', error: e.name });
    console.error(`redirect-browser: ${e.name}: ${e.message}`.replace(/[?#].*/s, ''));
    process.exitCode = 1;
}
