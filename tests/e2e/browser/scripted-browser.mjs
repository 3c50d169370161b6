#!/usr/bin/env node
// Scripted "user with a browser", used as MCP_AUTH_BROWSER in the e2e tests.
//
//   scripted-browser.mjs AUTHORIZATION_URL
//
// Plain HTTP (fetch, redirect: 'manual', a tiny per-origin cookie jar): GET the authorization URL, follow
// redirects, fill any HTML form it meets (oidc-provider's devInteractions login form gets
// login=$E2E_USER (default "alice") and a password; its consent form is just submitted), until a redirect
// points at the redirect_uri of the authorization request (loopback). That URL is then fetched, which
// delivers code/state/iss to the client's listener, and must answer 200.
// Also works with the MCP SDK example server, whose /authorize redirects straight back.
//
// Env: E2E_BROWSER_LOG     file to append JSON lines to: one {"event":"launch"} per run, then one
//                          {"event":"done","outcome":...,"hosts":[...]} (never codes, states or tokens)
//      E2E_USER            login name (default alice)
//      E2E_BROWSER_ACTION  "login" (default) or "abandon" (log the launch, visit nothing, exit 0)
// Exit 0 when the callback answered 200 with a code, non-zero otherwise.
import { appendFileSync } from 'node:fs';

const STEP_TIMEOUT_MS = 15000;
const MAX_STEPS = 25;
const logFile = process.env.E2E_BROWSER_LOG;
const hosts = [];

function log(entry) {
    if (!logFile) return;
    try {
        appendFileSync(logFile, `${JSON.stringify({ ts: new Date().toISOString(), pid: process.pid, ...entry })}\n`);
    } catch {
        // nowhere to report; the exit code still tells
    }
}

function finish(outcome, code) {
    log({ event: 'done', outcome, hosts });
    process.exitCode = code;
}

class CookieJar {
    #byOrigin = new Map();
    store(url, response) {
        const jar = this.#byOrigin.get(url.origin) ?? new Map();
        for (const line of response.headers.getSetCookie()) {
            const [pair, ...attrs] = line.split(';');
            const eq = pair.indexOf('=');
            if (eq < 1) continue;
            const name = pair.slice(0, eq).trim();
            const value = pair.slice(eq + 1).trim();
            const expired = attrs.some(a => /^\s*max-age=0\s*$/i.test(a) || (/^\s*expires=/i.test(a) && Date.parse(a.split('=')[1]) < Date.now()));
            if (expired || value === '') jar.delete(name);
            else jar.set(name, value);
        }
        this.#byOrigin.set(url.origin, jar);
    }
    header(url) {
        const jar = this.#byOrigin.get(url.origin);
        return jar && jar.size ? [...jar].map(([k, v]) => `${k}=${v}`).join('; ') : undefined;
    }
}

const decodeEntities = s => s.replace(/&amp;/g, '&').replace(/&quot;/g, '"').replace(/&#39;|&#x27;/g, "'").replace(/&lt;/g, '<').replace(/&gt;/g, '>');
const attr = (tag, name) => {
    const m = new RegExp(`\\s${name}\\s*=\\s*("([^"]*)"|'([^']*)'|([^\\s>]+))`, 'i').exec(tag);
    return m ? decodeEntities(m[2] ?? m[3] ?? m[4] ?? '') : undefined;
};

// First <form> of the page: its action, method and the fields a user would send.
function parseForm(html, baseUrl) {
    const formMatch = /<form\b[^>]*>([\s\S]*?)<\/form>/i.exec(html);
    if (!formMatch) return null;
    const formTag = /<form\b[^>]*>/i.exec(formMatch[0])[0];
    const fields = new URLSearchParams();
    for (const [input] of formMatch[1].matchAll(/<input\b[^>]*>/gi)) {
        const name = attr(input, 'name');
        if (!name) continue;
        const type = (attr(input, 'type') ?? 'text').toLowerCase();
        if (type === 'password') fields.set(name, process.env.E2E_PASSWORD ?? 'e2e-password');
        else if (type === 'hidden') fields.set(name, attr(input, 'value') ?? '');
        else if (name === 'login' || name === 'username' || name === 'email') fields.set(name, process.env.E2E_USER ?? 'alice');
        else if (type !== 'submit' && type !== 'button') fields.set(name, attr(input, 'value') ?? '');
    }
    return {
        action: new URL(attr(formTag, 'action') ?? baseUrl.href, baseUrl),
        method: (attr(formTag, 'method') ?? 'get').toUpperCase(),
        fields
    };
}

function isCallback(url, redirectUri) {
    if (!redirectUri) return ['127.0.0.1', 'localhost', '[::1]'].includes(url.hostname) && url.pathname.endsWith('/callback');
    // RFC 8252 §7.3: the port of a loopback redirect may differ from the registered one; the
    // authorization request carries the real one, so compare exactly.
    return url.origin === redirectUri.origin && url.pathname === redirectUri.pathname;
}

async function main() {
    const start = process.argv[2];
    log({ event: 'launch' });
    if (!start) return finish('no-url', 2);
    if ((process.env.E2E_BROWSER_ACTION ?? 'login') === 'abandon') return finish('abandoned', 0);

    let url = URL.parse(start);
    if (!url) return finish('bad-url', 2);
    const redirectParam = url.searchParams.get('redirect_uri');
    const redirectUri = redirectParam ? URL.parse(redirectParam) : null;
    const jar = new CookieJar();
    let method = 'GET';
    let body;

    for (let step = 0; step < MAX_STEPS; step += 1) {
        if (!hosts.includes(url.host)) hosts.push(url.host);
        if (isCallback(url, redirectUri)) {
            const params = method === 'POST' ? body : url.searchParams;
            const res = await fetch(url, {
                method,
                body: method === 'POST' ? body : undefined,
                redirect: 'manual',
                signal: AbortSignal.timeout(STEP_TIMEOUT_MS)
            });
            await res.arrayBuffer().catch(() => {});
            if (params.get('error')) return finish(`authorization-error:${params.get('error')}`, 1);
            if (!params.get('code')) return finish('callback-without-code', 1);
            if (res.status !== 200) return finish(`callback-status-${res.status}`, 1);
            return finish('ok', 0);
        }
        const headers = { 'User-Agent': 'mcp-auth-e2e-scripted-browser/1', Accept: 'text/html,*/*' };
        const cookie = jar.header(url);
        if (cookie) headers.Cookie = cookie;
        if (method === 'POST') headers['Content-Type'] = 'application/x-www-form-urlencoded';
        const res = await fetch(url, {
            method,
            headers,
            body: method === 'POST' ? body.toString() : undefined,
            redirect: 'manual',
            signal: AbortSignal.timeout(STEP_TIMEOUT_MS)
        });
        jar.store(url, res);
        if (res.status >= 300 && res.status < 400) {
            await res.arrayBuffer().catch(() => {});
            const location = res.headers.get('location');
            if (!location) return finish(`redirect-without-location-${res.status}`, 1);
            url = new URL(location, url);
            method = 'GET';
            body = undefined;
            continue;
        }
        const text = await res.text();
        if (res.status !== 200) return finish(`http-${res.status}-at-${url.host}${url.pathname}`, 1);
        const form = parseForm(text, url);
        if (!form) return finish(`page-without-form-at-${url.host}${url.pathname}`, 1);
        url = form.action;
        method = form.method;
        if (method === 'GET') {
            url.search = form.fields.toString();
            body = undefined;
        } else {
            body = form.fields;
        }
    }
    return finish('too-many-steps', 1);
}

main().catch(e => finish(`exception:${e.name}:${e.cause?.code ?? e.message}`.slice(0, 200), 1));
