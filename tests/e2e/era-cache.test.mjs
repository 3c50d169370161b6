// End-to-end test of the proxy's era cache ($XDG_CACHE_HOME/mcp-auth-agent/eras.json): a verdict
// kept across launches, and one that stops holding when the server behind the URL changes era
// (mcp-2026-07-28.md checklist B.10; basic/versioning.mdx: clients "MAY persist it across restarts
// … re-probing if the cached assumption later fails").
//
// One auth server, one sandbox (one agent), one MCP URL http://127.0.0.1:P/mcp, an SDK v1 host:
//   1. P serves SDK v1 (2025-11-25): the host signs in through the scripted browser; eras.json then
//      holds one entry, "legacy", keyed by the SHA-256 of the URL, never the URL itself.
//   2. P is served by SDK v2 modern only (`legacy: 'reject'`) instead: same URL, same resource, so
//      the same token.
//   3. The host again: the cached verdict sends its initialize straight to the 2025 transport (the
//      server sees initialize before any server/discover); the server answers 400 -32022; the proxy
//      forgets the verdict, probes, finds 2026-07-28 and bridges the same initialize. The host sees
//      one answer, a result; tools/list and tools/call work; eras.json says "modern".
//   4. A third launch goes modern from the probe: no initialize reaches the server any more.
// Run through run-e2e.sh; needs MCP_AUTH_BUILD_DIR.
import assert from 'node:assert/strict';
import { createHash } from 'node:crypto';
import { existsSync, readFileSync, statSync } from 'node:fs';
import path from 'node:path';
import { after, before, describe, test } from 'node:test';
import * as h from './lib/harness.mjs';

h.requireNodeModules();

const { openHost } = await import('./hosts/hosts.mjs');

const AT_TTL = 600;             // seconds: no refresh within this file
const FIRST_CONNECT_MS = 45000; // the first launch waits for the browser sign-in
const CONNECT_MS = 20000;
const LEGACY = '2025-11-25';
const MODERN = '2026-07-28';
const REPROBE_LOG = /no longer answers as a 2025-11-25 server; asking it again/;


describe('mcp-auth proxy: the era cache follows a server that changes era at the same URL', { timeout: 120000 }, () => {
    let sandbox;
    let as;
    let server;      // whichever server serves the URL now
    let url;         // http://127.0.0.1:P/mcp, the same for both servers
    let cacheFile;
    const hosts = new Set();

    before(async () => {
        h.binaries();
        sandbox = h.makeSandbox('era-cache');
        cacheFile = path.join(sandbox.XDG_CACHE_HOME, 'mcp-auth-agent', 'eras.json');
        as = await h.startAuthServer({ atTtl: AT_TTL });
        server = await h.startSdk1Server(as.issuer);
        url = server.url;
    });

    after(async () => {
        await Promise.all([...hosts].map(x => x.close()));
        if (sandbox) {
            for (const pid of h.proxyPids(sandbox)) try { process.kill(pid, 'SIGKILL'); } catch { /* gone */ }
            await h.stopAgent(sandbox);
        }
        await h.stopAll();
        sandbox?.remove();
    });

    /** The cache file's entries ({} when there is no file). */
    const cacheEntries = () => (existsSync(cacheFile) ? JSON.parse(readFileSync(cacheFile, 'utf8')).endpoints ?? {} : {});
    const urlKey = () => createHash('sha256').update(url).digest('hex');

    /** One launch of `mcp-auth proxy --debug URL` under an SDK v1 host; runs fn(host), then closes it. */
    async function withHost(name, connectTimeoutMs, fn) {
        const host = await openHost('v1', {
            command: h.binaries().cli, args: ['proxy', '--debug', url], env: sandbox.env, name, connectTimeoutMs
        }).catch(e => { throw new Error(`the v1 host could not connect through the proxy: ${e.message}`); });
        hosts.add(host);
        try {
            return await fn(host);
        } catch (e) {
            throw new Error(`${e.message}\nproxy stderr: ${host.stderr(2000)}`);
        } finally {
            hosts.delete(host);
            await host.close();
            // The proxy exits on stdin EOF; wait for it, so no launch overlaps the next step.
            const deadline = Date.now() + 3000;
            while (h.proxyPids(sandbox).length && Date.now() < deadline) await h.sleep(50);
        }
    }

    /** The one answer the host got to its initialize: a result, never the server's stale error. */
    function assertOneInitializeResult(host) {
        const answers = host.answersTo(host.lastOutbound('initialize')?.id);
        assert.equal(answers.length, 1, 'one answer to initialize');
        assert.equal(answers[0].msg.error, undefined, `no error reaches the host: ${JSON.stringify(answers[0].msg.error)}`);
        assert.equal(answers[0].msg.result?.protocolVersion, LEGACY, 'the host speaks 2025-11-25 with the proxy');
    }

    test('1. a 2025-11-25 server: the first launch signs in and remembers "legacy", hashed', { timeout: FIRST_CONNECT_MS + 15000 }, async t => {
        assert.deepEqual(cacheEntries(), {}, 'nothing is cached before the first launch');
        await withHost('e2e-era-cache-1', FIRST_CONNECT_MS, async host => {
            assertOneInitializeResult(host);
            const names = (await host.listTools()).tools.map(x => x.name);
            assert.ok(names.includes('echo'), `tools/list: ${names.join(', ')}`);
        });
        await h.sleep(300); // the browser is detached; let it write its last log line
        assert.equal(sandbox.browserLaunches(), 1, 'one browser sign-in');

        const entries = cacheEntries();
        assert.deepEqual(Object.keys(entries), [urlKey()], 'one entry, keyed by the SHA-256 of the URL');
        assert.equal(entries[urlKey()].era, 'legacy');
        assert.equal(entries[urlKey()].version, LEGACY);
        assert.ok(Math.abs(entries[urlKey()].checkedAt - Date.now() / 1000) < 120, 'checkedAt is now (Unix seconds)');
        const raw = readFileSync(cacheFile, 'utf8');
        assert.ok(!raw.includes(url) && !raw.includes('127.0.0.1') && !raw.includes(`:${server.port}`), 'the URL is not in the file in plain text');
        assert.equal(statSync(cacheFile).mode & 0o777, 0o600, 'eras.json is 0600');
        t.diagnostic(`eras.json: ${raw.trim()}`);
    });

    test('2. the same URL is now served by SDK v2, 2026-07-28 only', { timeout: 30000 }, async () => {
        const port = server.port;
        await server.stop();
        server = await h.startSdk2Server(as.issuer, { legacy: 'reject', port });
        assert.equal(server.url, url, 'the new server serves the same MCP URL');
    });

    test('3. the cached verdict fails: the proxy probes again and bridges the same initialize', { timeout: CONNECT_MS + 20000 }, async t => {
        // What this step is about: the launch starts from a cached 2025 verdict for this URL.
        assert.equal(cacheEntries()[urlKey()]?.era, 'legacy', 'precondition: eras.json says "legacy" for the URL');
        const launches = sandbox.browserLaunches();
        let stderr = '';
        await withHost('e2e-era-cache-3', CONNECT_MS, async host => {
            assertOneInitializeResult(host);
            const names = (await host.listTools()).tools.map(x => x.name);
            assert.ok(names.includes('echo') && names.includes('whoami'), `tools/list: ${names.join(', ')}`);
            const echoed = await host.callTool('echo', { text: 'era changed' });
            assert.equal(echoed.structuredContent?.echo, 'era changed', `tools/call echo: ${JSON.stringify(echoed)}`);
            stderr = host.stderr(20000);
        });

        const log = (await server.stats()).headerLog.map(e => `${e.jsonrpcMethod}:${e.status}`);
        t.diagnostic(`the server saw: ${log.join(' ')}`);
        // The cache was used: the host's initialize went out first, with no probe before it, and the
        // 2026-07-28 server refused it; only then came the probe and the bridged, modern requests.
        assert.equal(log[0], 'initialize:400', 'the first request is the 2025 initialize, refused');
        assert.equal(log.filter(e => e.startsWith('initialize')).length, 1, 'initialize reached the server once');
        assert.ok(log.indexOf('server/discover:200') > 0, 'then a server/discover, answered');
        assert.ok(log.includes('tools/call:200'), 'the tools/call reached the server');
        assert.match(stderr, REPROBE_LOG, 'the proxy says it asked the server again');

        const entry = cacheEntries()[urlKey()];
        assert.equal(entry?.era, 'modern', 'eras.json now says "modern"');
        assert.equal(entry.version, MODERN);
        assert.equal(Object.keys(cacheEntries()).length, 1, 'still one entry');
        await h.sleep(300);
        t.diagnostic(`browser launches in this step: ${sandbox.browserLaunches() - launches}`);
        assert.equal(sandbox.browserLaunches(), launches, 'the token for the same resource is reused: no sign-in');
    });

    test('4. the next launch is modern from the probe', { timeout: CONNECT_MS + 15000 }, async () => {
        const before = (await server.stats()).headerLog.length;
        let stderr = '';
        await withHost('e2e-era-cache-4', CONNECT_MS, async host => {
            assertOneInitializeResult(host);
            const echoed = await host.callTool('echo', { text: 'third launch' });
            assert.equal(echoed.structuredContent?.echo, 'third launch', `tools/call echo: ${JSON.stringify(echoed)}`);
            stderr = host.stderr(20000);
        });
        const log = (await server.stats()).headerLog.slice(before).map(e => `${e.jsonrpcMethod}:${e.status}`);
        assert.equal(log[0], 'server/discover:200', `probed first: ${log.join(' ')}`);
        assert.ok(!log.some(e => e.startsWith('initialize')), 'no initialize reaches the server');
        assert.doesNotMatch(stderr, REPROBE_LOG, 'nothing to probe again');
        assert.equal(cacheEntries()[urlKey()]?.era, 'modern');
    });

    test('every proxy exited when its host closed, one agent served them all', async () => {
        assert.deepEqual(h.proxyPids(sandbox), [], 'no mcp-auth proxy process is left running');
        assert.equal(h.agentPids(sandbox).length, 1, 'one agent');
    });
});
