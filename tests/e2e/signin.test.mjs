// End-to-end sign-in tests: the real mcp-auth / mcp-auth-agent binaries against a real oidc-provider
// authorization server, a real MCP SDK server, the MCP SDK's own OAuth example, and a real Secret
// Service. Run through run-e2e.sh (session bus + throwaway gnome-keyring); needs MCP_AUTH_BUILD_DIR.
// Steps within a describe share state and run in order; each step is bounded (≤ 60 s per command).
import assert from 'node:assert/strict';
import { existsSync, readFileSync, statSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { after, before, describe, test } from 'node:test';
import * as h from './lib/harness.mjs';

h.requireNodeModules(); // clear failure when tests/node_modules is missing

const AT_TTL = 12; // seconds; short so that expiry can be waited for
const MIN_VALID = ['--min-valid', '5']; // below AT_TTL so a fresh token is not refreshed again at once

async function waitPastExpiry(token) {
    const exp = h.jwtPayload(token)?.exp;
    assert.ok(exp, 'the access token is a JWT with exp');
    const ms = exp * 1000 - Date.now() + 1500;
    if (ms > 0) await h.sleep(ms);
}

function explain(r) {
    return `exit ${r.code ?? r.signal}${r.timedOut ? ' (timed out)' : ''}; stderr: ${h.redact(r.stderr.trim().slice(0, 800))}`;
}

describe('sign-in against oidc-provider and an MCP SDK server', { timeout: 240000 }, () => {
    let sandbox;
    let as;
    let mcp;
    const seenTokens = [];
    let token; // the latest access token seen
    let signedIn = false;
    let suiteStart = 0; // files written before this cannot hold this run's tokens

    const need = () => assert.ok(signedIn, 'depends on the login step, which failed');

    before(async () => {
        h.binaries();
        suiteStart = Date.now() - 2000;
        sandbox = h.makeSandbox('e2e');
        as = await h.startAuthServer({ atTtl: AT_TTL });
        mcp = await h.startMcpServer(as.issuer);
    });

    after(async () => {
        if (sandbox) await h.stopAgent(sandbox);
        await h.stopAll();
        sandbox?.remove();
    });

    test('a. mcp-auth login signs in through the browser; the token works at the MCP server', { timeout: 90000 }, async () => {
        const r = await h.runCli(sandbox, ['login', mcp.url]);
        assert.equal(r.code, 0, `mcp-auth login: ${explain(r)}`);
        await h.sleep(300); // the browser is detached; let it write its final log line
        assert.equal(sandbox.browserLaunches(), 1, 'exactly one browser launch');
        const done = sandbox.browserEvents().filter(e => e.event === 'done');
        assert.deepEqual(done.map(e => e.outcome), ['ok'], 'the scripted browser completed the login');
        const stats = await as.stats();
        assert.equal(stats.authorizations, 1, 'one authorization at the server');
        assert.equal(stats.authorizationCodeGrants, 1, 'one code exchange at the server');

        token = await h.getToken(sandbox, mcp.url, MIN_VALID);
        seenTokens.push(token);
        const check = await mcp.check(token);
        assert.equal(check.status, 200, `MCP server accepts the token (${check.body.reason ?? ''})`);
        assert.equal(check.body.sub, 'alice');

        const header = await h.runCli(sandbox, ['token', mcp.url, '--header', ...MIN_VALID]);
        assert.equal(header.code, 0, `mcp-auth token --header: ${explain(header)}`);
        // never assert.equal on tokens: a failure would print them
        assert.ok(header.stdout.trim() === `Authorization: Bearer ${token}`, '--header prints "Authorization: Bearer <the same token>"');

        const who = await h.withMcpClient(mcp.url, token, client => client.callTool({ name: 'whoami', arguments: {} }));
        assert.equal(who.structuredContent?.sub, 'alice', 'MCP tools/call whoami through the SDK client');
        assert.ok(who.structuredContent?.scopes.includes('mcp:tools'));
        signedIn = true;
    });

    test('b. after the access token expires, mcp-auth token refreshes without a browser', { timeout: 60000 }, async () => {
        need();
        const before = await as.stats();
        await waitPastExpiry(token);
        assert.equal((await mcp.check(token)).status, 401, 'the old token has expired at the MCP server');
        const fresh = await h.getToken(sandbox, mcp.url, MIN_VALID);
        assert.ok(fresh !== token, 'a new access token');
        assert.equal((await mcp.check(fresh)).status, 200, 'the new token is accepted');
        const after = await as.stats();
        assert.ok(after.refreshGrants > before.refreshGrants, 'a refresh grant happened at the server');
        assert.equal(after.authorizations, before.authorizations, 'no new authorization');
        assert.equal(sandbox.browserLaunches(), 1, 'no new browser launch');
        token = fresh;
        seenTokens.push(token);
    });

    test('c. 30 concurrent mcp-auth token calls after expiry cause exactly one refresh', { timeout: 90000 }, async () => {
        need();
        await waitPastExpiry(token);
        const before = await as.stats();
        // The server holds the refresh 2 s, so all 30 callers arrive while it is in flight.
        await as.setTokenDelay(2000);
        let results;
        try {
            results = await Promise.all(Array.from({ length: 30 }, () => h.runCli(sandbox, ['token', mcp.url, ...MIN_VALID])));
        } finally {
            await as.setTokenDelay(0);
        }
        const after = await as.stats();
        results.forEach((r, i) => assert.equal(r.code, 0, `call ${i}: ${explain(r)}`));
        const tokens = new Set(results.map(r => r.stdout.trim()));
        assert.equal(tokens.size, 1, `all 30 calls print the same token (got ${tokens.size} different)`);
        const [shared] = tokens;
        assert.ok(shared !== token, 'the expired token was replaced');
        assert.equal(after.refreshGrants - before.refreshGrants, 1, 'exactly one refresh grant at the server');
        assert.equal(after.refreshGrantErrors, before.refreshGrantErrors, 'no failed refresh');
        assert.equal((await mcp.check(shared)).status, 200, 'the shared token is accepted');
        assert.equal(sandbox.browserLaunches(), 1, 'no new browser launch');
        token = shared;
        seenTokens.push(token);
    });

    test('e. after an agent restart the token comes from the keychain, without a new login', { timeout: 90000 }, async () => {
        need();
        const pids = h.agentPids(sandbox);
        assert.equal(pids.length, 1, `one agent runs for this session (found ${pids.length})`);
        const before = await as.stats();
        const shutdown = await h.runCli(sandbox, ['shutdown'], { timeoutMs: 15000 });
        assert.equal(shutdown.code, 0, `mcp-auth shutdown: ${explain(shutdown)}`);
        const deadline = Date.now() + 10000;
        while (h.agentPids(sandbox).includes(pids[0]) && Date.now() < deadline) await h.sleep(100);
        assert.ok(!h.agentPids(sandbox).includes(pids[0]), 'the agent process exited after shutdown');

        const again = await h.getToken(sandbox, mcp.url, MIN_VALID);
        const newPids = h.agentPids(sandbox);
        assert.equal(newPids.length, 1, 'mcp-auth token started a new agent');
        assert.notEqual(newPids[0], pids[0]);
        assert.equal((await mcp.check(again)).status, 200, 'the token is accepted');
        const after = await as.stats();
        assert.equal(after.authorizations, before.authorizations, 'no new authorization at the server');
        assert.equal(after.authorizationCodeGrants, before.authorizationCodeGrants, 'no new code exchange');
        assert.equal(after.registrations, before.registrations, 'no new client registration');
        assert.equal(sandbox.browserLaunches(), 1, 'no new browser launch');
        if (again !== token) seenTokens.push(again);
        token = again;
    });

    test('g. no token in any file under HOME or the temp dir; the secrets are in the keychain', { timeout: 90000 }, async () => {
        need();
        const issued = await as.issued();
        assert.ok(issued.refreshTokens.length >= 1, 'the server issued refresh tokens');
        const hashes = new Set([...issued.accessTokens, ...issued.refreshTokens]);
        // The agent logs at debug level here (QT_LOGGING_RULES); its log must exist for the scan to mean much.
        const agentLog = path.join(path.dirname(sandbox.socket), 'agent.log');
        assert.ok(existsSync(agentLog) && statSync(agentLog).size > 1000, 'the agent wrote a debug log');
        assert.ok(/mcpauth\.tokens/.test(readFileSync(agentLog, 'utf8')), 'the agent log has token-handling lines');
        const hits = h.scanForSecrets([sandbox.root, os.tmpdir()], { needles: seenTokens, hashes, modifiedSince: suiteStart });
        assert.deepEqual(hits, [], 'files holding an access or refresh token');
        assert.ok(h.keychainItemCount() >= 1, 'the Secret Service holds at least one item');
    });

    test('f. mcp-auth logout revokes at the server; mcp-auth token then needs a sign-in', { timeout: 90000 }, async () => {
        need();
        const before = await as.stats();
        const itemsBefore = h.keychainItemCount();
        const r = await h.runCli(sandbox, ['logout', mcp.url]);
        assert.equal(r.code, 0, `mcp-auth logout: ${explain(r)}`);
        const after = await as.stats();
        assert.ok(after.revocations > before.revocations, 'a token was revoked at the server (RFC 7009)');
        assert.ok(after.refreshTokenRevocations > before.refreshTokenRevocations, 'the refresh token was revoked');
        assert.ok(h.keychainItemCount() < itemsBefore, 'the secrets were deleted from the keychain');

        const t = await h.runCli(sandbox, ['token', mcp.url]);
        assert.notEqual(t.code, 0, 'mcp-auth token fails after logout');
        assert.ok(t.stdout.trim() === '', 'nothing on stdout');
        assert.ok(/sign[ -]?in|log[ -]?in/i.test(t.stderr), `stderr says a sign-in is needed: ${h.redact(t.stderr.trim().slice(0, 300))}`);
        await h.sleep(300);
        assert.equal(sandbox.browserLaunches(), 1, 'mcp-auth token does not open a browser');
    });

    test('d. the server never saw a refresh token used twice', async () => {
        need();
        const stats = await as.stats();
        assert.ok(stats.refreshGrants >= 2, 'refreshes happened');
        assert.equal(stats.refreshTokenReuse, 0, 'refresh token reuse at the server');
    });
});

describe('sign-in against the MCP SDK example OAuth server (simpleStreamableHttp --oauth)', { timeout: 120000 }, () => {
    let sandbox;
    let sdk;

    before(async () => {
        h.binaries();
        sandbox = h.makeSandbox('sdk');
        sdk = await h.startSdkExample();
    });

    after(async () => {
        if (sandbox) await h.stopAgent(sandbox);
        await h.stopAll();
        sandbox?.remove();
    });

    test('h. mcp-auth login succeeds and the token lists tools through the SDK client', { timeout: 90000 }, async () => {
        const r = await h.runCli(sandbox, ['login', sdk.url]);
        assert.equal(r.code, 0, `mcp-auth login: ${explain(r)}`);
        assert.equal(sandbox.browserLaunches(), 1, 'exactly one browser launch');
        const token = await h.getToken(sandbox, sdk.url, ['--min-valid', '60']);
        const tools = await h.withMcpClient(sdk.url, token, client => client.listTools());
        assert.ok(tools.tools.some(t => t.name === 'greet'), 'tools/list returns the example tools');
    });
});
