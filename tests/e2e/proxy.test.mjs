// End-to-end tests of `mcp-auth proxy` (issue 3): a real stdio MCP host (the MCP SDK's Client with
// StdioClientTransport) spawns the real proxy, which takes its tokens from the real agent and talks to a
// real oidc-provider + MCP SDK server, or to a misbehaving plain node:http MCP server. Run through
// run-e2e.sh (session bus + throwaway gnome-keyring); needs MCP_AUTH_BUILD_DIR. Steps within a describe
// share state and run in order; every MCP call is bounded so a hang fails instead of stalling.
import assert from 'node:assert/strict';
import { existsSync } from 'node:fs';
import path from 'node:path';
import { after, before, describe, test } from 'node:test';
import * as h from './lib/harness.mjs';

h.requireNodeModules(); // clear failure when tests/node_modules is missing

const { Client } = await import('@modelcontextprotocol/sdk/client/index.js');
const { StdioClientTransport } = await import('@modelcontextprotocol/sdk/client/stdio.js');

const AT_TTL = 12;              // seconds; short so that expiry can be waited for
const CONNECT_TIMEOUT_MS = 45000; // initialize may wait for a browser sign-in
const CALL_TIMEOUT_MS = 10000;    // any single call after that

const proxies = new Set(); // every host (and so every proxy process) a test opened; closed in after()

/**
 * A host: an SDK Client whose StdioClientTransport spawns `mcp-auth proxy URL` with the sandbox env.
 * Resolves {client, pid, stderr(), close()} once initialize went through the proxy.
 */
async function openHost(sandbox, url, { name = 'proxy-e2e-host', args = [] } = {}) {
    const { cli } = h.binaries();
    const transport = new StdioClientTransport({
        command: cli,
        args: ['proxy', url, ...args],
        env: sandbox.env,
        stderr: 'pipe'
    });
    let err = '';
    transport.stderr.on('data', c => { err = (err + c.toString()).slice(-20000); });
    const client = new Client({ name, version: '1.0.0' });
    const host = {
        client,
        transport,
        get pid() { return transport.pid; },
        stderr: () => h.redact(err.slice(-1500)),
        async close() {
            proxies.delete(host);
            await client.close().catch(() => {});
        }
    };
    proxies.add(host);
    try {
        await client.connect(transport, { timeout: CONNECT_TIMEOUT_MS });
    } catch (e) {
        await host.close();
        throw new Error(`initialize through the proxy failed: ${e.message}; proxy stderr: ${host.stderr()}`);
    }
    return host;
}

const alive = pid => !!pid && existsSync(`/proc/${pid}`);

async function callTool(host, name, args = {}) {
    return host.client.callTool({ name, arguments: args }, undefined, { timeout: CALL_TIMEOUT_MS });
}

async function closeAllHosts() {
    await Promise.all([...proxies].map(p => p.close()));
}

describe('mcp-auth proxy against oidc-provider and an MCP SDK server', { timeout: 150000 }, () => {
    let sandbox;
    let as;
    let mcp;
    let host; // the host of steps a and b
    let lastUse = 0;

    const need = () => assert.ok(host, 'depends on step a, which failed');

    before(async () => {
        h.binaries();
        sandbox = h.makeSandbox('proxy');
        as = await h.startAuthServer({ atTtl: AT_TTL });
        mcp = await h.startMcpServer(as.issuer);
    });

    after(async () => {
        await closeAllHosts();
        if (sandbox) await h.stopAgent(sandbox);
        await h.stopAll();
        sandbox?.remove();
    });

    test('a. a stdio host signs in through the proxy, lists tools and calls whoami', { timeout: 60000 }, async () => {
        const h0 = await openHost(sandbox, mcp.url); // initialize meets the 401 → one browser sign-in
        await h.sleep(300); // the browser is detached; let it write its final log line
        assert.equal(sandbox.browserLaunches(), 1, 'exactly one browser launch');
        assert.deepEqual(sandbox.browserEvents().filter(e => e.event === 'done').map(e => e.outcome), ['ok'],
            'the scripted browser completed the login');
        const stats = await as.stats();
        assert.equal(stats.authorizations, 1, 'one authorization at the server');
        assert.equal(stats.authorizationCodeGrants, 1, 'one code exchange at the server');

        const tools = await h0.client.listTools(undefined, { timeout: CALL_TIMEOUT_MS });
        assert.deepEqual(tools.tools.map(t => t.name), ['whoami'], 'tools/list through the proxy');
        const who = await callTool(h0, 'whoami');
        assert.equal(who.structuredContent?.sub, 'alice', `whoami through the proxy (stderr: ${h0.stderr()})`);
        assert.ok(who.structuredContent?.scopes.includes('mcp:tools'));
        assert.equal(h.agentPids(sandbox).length, 1, 'the proxy started one agent');
        lastUse = Date.now();
        host = h0;
    });

    test('b. after the access token expires the same session goes on with a refreshed token, no browser', { timeout: 60000 }, async () => {
        need();
        const before = await as.stats();
        const mcpBefore = await mcp.stats();
        // Whatever token the proxy holds was issued before lastUse; AT_TTL later it has expired.
        await h.sleep(Math.max(0, lastUse + AT_TTL * 1000 + 1500 - Date.now()));
        const who = await callTool(host, 'whoami');
        assert.equal(who.structuredContent?.sub, 'alice', `whoami after expiry (stderr: ${host.stderr()})`);
        const after = await as.stats();
        const mcpAfter = await mcp.stats();
        // The proxy knows the token's expiry and fetches a refreshed one from the agent before sending,
        // so the expired token never reaches the server.
        assert.equal(mcpAfter.mcpUnauthorized, mcpBefore.mcpUnauthorized, 'no 401: the proxy refreshed ahead of expiry');
        assert.ok(after.refreshGrants > before.refreshGrants, 'the agent refreshed at the server');
        assert.equal(after.refreshGrantErrors, before.refreshGrantErrors, 'no failed refresh');
        assert.equal(after.authorizations, before.authorizations, 'no new authorization');
        assert.equal(after.authorizationCodeGrants, before.authorizationCodeGrants, 'no new code exchange');
        assert.equal(sandbox.browserLaunches(), 1, 'no new browser launch');
        const tools = await host.client.listTools(undefined, { timeout: CALL_TIMEOUT_MS });
        assert.equal(tools.tools.length, 1, 'the session keeps serving');

        // The host closing stdin ends the proxy by itself (the transport waits 2 s before SIGTERM).
        const pid = host.pid;
        const t0 = Date.now();
        await host.close();
        assert.ok(Date.now() - t0 < 1900 && !alive(pid), `the proxy exited on stdin EOF (took ${Date.now() - t0} ms)`);
    });

    test('c. five proxies started at once with no stored tokens cause one browser sign-in', { timeout: 90000 }, async () => {
        // A fresh sandbox: no agent, no registration, nothing in the keychain for it.
        const fresh = h.makeSandbox('proxy5');
        try {
            const before = await as.stats();
            const hosts = await Promise.all(Array.from({ length: 5 }, (_, i) => openHost(fresh, mcp.url, { name: `host-${i}` })));
            const lists = await Promise.all(hosts.map(x => x.client.listTools(undefined, { timeout: CALL_TIMEOUT_MS })));
            lists.forEach((l, i) => assert.deepEqual(l.tools.map(t => t.name), ['whoami'], `host ${i} lists tools`));
            const whos = await Promise.all(hosts.map(x => callTool(x, 'whoami')));
            whos.forEach((w, i) => assert.equal(w.structuredContent?.sub, 'alice', `host ${i} calls whoami`));
            await h.sleep(300);
            const after = await as.stats();
            assert.equal(fresh.browserLaunches(), 1, 'exactly one browser launch for five proxies');
            assert.equal(after.authorizations - before.authorizations, 1, 'exactly one authorization at the server');
            assert.equal(after.authorizationCodeGrants - before.authorizationCodeGrants, 1, 'exactly one code exchange');
            assert.equal(after.registrations - before.registrations, 1, 'one client registration');
            assert.equal(h.agentPids(fresh).length, 1, 'the five proxies share one agent');
            await Promise.all(hosts.map(x => x.close()));
        } finally {
            await closeAllHosts();
            await h.stopAgent(fresh);
            fresh.remove();
        }
    });
});

describe('mcp-auth proxy against a misbehaving MCP server (no auth)', { timeout: 60000 }, () => {
    let sandbox;
    let flaky;
    let host;

    before(async () => {
        h.binaries();
        sandbox = h.makeSandbox('flaky');
        flaky = await h.startServer('flaky-mcp-server', [path.join(h.E2E_DIR, 'servers', 'flaky-mcp-server.mjs'), '0']);
        flaky.stats = async () => (await fetch(new URL('/__test/stats', flaky.url), {
            headers: { Connection: 'close' }, signal: AbortSignal.timeout(10000)
        })).json();
    });

    after(async () => {
        await closeAllHosts();
        if (sandbox) await h.stopAgent(sandbox);
        await h.stopAll();
        sandbox?.remove();
    });

    test('the agent has no token for the server: the proxy goes on without one', { timeout: 30000 }, async () => {
        host = await openHost(sandbox, flaky.url);
        const tools = await host.client.listTools(undefined, { timeout: CALL_TIMEOUT_MS });
        assert.ok(tools.tools.some(t => t.name === 'drop'), 'tools/list through the proxy');
        const echo = await callTool(host, 'echo', { text: 'hello' });
        assert.equal(echo.structuredContent?.echo, 'hello');
        const sse = await callTool(host, 'sse-echo', { text: 'streamed' });
        assert.equal(sse.structuredContent?.echo, 'streamed', 'an SSE answer after a notification');
        assert.equal((await flaky.stats()).authorized, 0, 'no Authorization header was sent');
        assert.equal(sandbox.browserLaunches(), 0, 'no browser');
    });

    const cases = [
        ['drop', 'an SSE stream dropped mid-response (no event ids)', /stream|closed|ended/i],
        // Qt resends a request by itself when the connection closes before any answer; the proxy
        // must not (RFC 9110 §9.2.2): the tool ran, or may have, and must not run twice.
        ['reset', 'the connection cut before any response byte (not resent)', /closed/i],
        // Issue 7: a 4xx/5xx whose body is a JSON-RPC error reaches the host as that error.
        ['http500', 'HTTP 500 with the server\'s JSON-RPC error', /flaky: internal server error/],
        ['badjson', 'a JSON body that is not JSON', /JSON/],
        ['badsse', 'an SSE event whose data is not JSON', /JSON/]
    ];
    for (const [tool, what, pattern] of cases) {
        test(`${tool}: ${what} → a JSON-RPC error for that call; the next call succeeds`, { timeout: 30000 }, async t => {
            assert.ok(host, 'depends on the first step, which failed');
            const t0 = Date.now();
            const err = await callTool(host, tool, { text: tool }).then(
                () => assert.fail(`tools/call ${tool} succeeded`),
                e => e);
            const ms = Date.now() - t0;
            assert.ok(!/timed out/i.test(err.message), `an error, not a timeout (${err.message}); stderr: ${host.stderr()}`);
            assert.ok(ms < CALL_TIMEOUT_MS, `answered in ${ms} ms`);
            assert.equal(err.code, -32603, `JSON-RPC internal error code (got ${err.code}: ${err.message})`);
            t.diagnostic(`${tool}: ${err.code} ${err.message}`);
            assert.match(err.message, pattern);
            assert.equal((await flaky.stats()).calls[tool], 1, 'the server saw that call once');

            assert.ok(alive(host.pid), 'the proxy process is still running');
            const echo = await callTool(host, 'echo', { text: `after ${tool}` });
            assert.equal(echo.structuredContent?.echo, `after ${tool}`, 'the next call through the same proxy succeeds');
        });
    }

    test('a same-origin 307 on every POST is followed with the same body', { timeout: 30000 }, async () => {
        const moved = await openHost(sandbox, new URL('/moved', flaky.url).href, { name: 'moved-host' });
        const before = await flaky.stats();
        const echo = await callTool(moved, 'echo', { text: 'redirected' });
        assert.equal(echo.structuredContent?.echo, 'redirected');
        const after = await flaky.stats();
        assert.ok(after.redirects > before.redirects, 'the call met the redirect');
        assert.equal(after.calls.echo - before.calls.echo, 1, 'and reached the tool once');
        await moved.close();
    });

    test('a failing call and good calls in flight together: each gets its own answer', { timeout: 30000 }, async () => {
        assert.ok(host, 'depends on the first step, which failed');
        const results = await Promise.allSettled([
            callTool(host, 'echo', { text: 'one' }),
            callTool(host, 'drop'),
            callTool(host, 'sse-echo', { text: 'two' }),
            callTool(host, 'http500'),
            callTool(host, 'echo', { text: 'three' })
        ]);
        assert.deepEqual(results.map(r => r.status), ['fulfilled', 'rejected', 'fulfilled', 'rejected', 'fulfilled']);
        assert.deepEqual([0, 2, 4].map(i => results[i].value.structuredContent?.echo), ['one', 'two', 'three']);
        const pid = host.pid;
        await host.close();
        await h.sleep(200);
        assert.ok(!alive(pid), 'the proxy exited after the host closed');
    });
});
