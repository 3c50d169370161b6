// The checks eras.test.mjs runs for each host × server cell, shared with selfcheck.mjs (which runs them
// with the same hosts against the same servers over stdio, no proxy) so that a check failing through
// `mcp-auth proxy` and passing in the self-check points at the proxy.
//
// A check is {id, title, hosts (the host kinds that can do it), run(ctx)}; run throws an assertion
// error or resolves a one-line summary of what it saw. ctx: {host (hosts.mjs), server: {kind:
// 'sdk2-reject'|'sdk2-stateless'|'sdk1', stats()}, viaProxy (the host talks to mcp-auth proxy, which
// talks HTTP to the server; false in the self-check), seq (a unique number for names)}.
import assert from 'node:assert/strict';
import { HTTP_HOST, MODERN } from './hosts.mjs';

const SDK_HOSTS = ['v2-modern', 'v2-auto', 'v2-legacy', 'v1', HTTP_HOST];
const ALL_HOSTS = [...SDK_HOSTS, 'inspector'];
const BASE_TOOLS = ['whoami', 'echo', 'slow', 'ask', 'regional_echo', 'add_tool'];
const LEGACY = '2025-11-25';

const isSdk2 = server => server.kind.startsWith('sdk2');
const textOf = result => (result?.content ?? []).filter(c => c.type === 'text').map(c => c.text).join('');
const sleep = ms => new Promise(resolve => setTimeout(resolve, ms));

/** The era a host of this kind must end up in against this server (null: no expectation). */
export function expectedEra(hostKind, server) {
    if (hostKind === 'v2-modern') return MODERN;
    if (hostKind === 'v2-auto' || hostKind === HTTP_HOST) return isSdk2(server) ? MODERN : LEGACY;
    if (hostKind === 'inspector') return null;
    return LEGACY;
}

/** Polls server.stats() until pick(stats) is truthy; resolves that value, or null after ms. */
async function waitStats(server, pick, ms = 5000) {
    const deadline = Date.now() + ms;
    for (;;) {
        const value = pick(await server.stats());
        if (value || Date.now() > deadline) return value || null;
        await sleep(50);
    }
}

/** The server's header record of the last POST of tools/call `tool`. */
function lastCallHeaders(stats, tool) {
    return [...stats.headerLog].reverse().find(e => e.jsonrpcMethod === 'tools/call' && e.toolName === tool) ?? null;
}

export const CHECKS = [
    {
        id: 'tools-list',
        title: 'tools/list',
        hosts: ALL_HOSTS,
        async run({ host, server, viaProxy }) {
            const era = host.era();
            const want = expectedEra(host.kind, server);
            if (want) assert.equal(era, want, `the host negotiated ${era}, expected ${want}`);
            const names = (await host.listTools()).tools.map(t => t.name);
            for (const tool of BASE_TOOLS) assert.ok(names.includes(tool), `tools/list has ${tool} (got ${names.join(', ')})`);
            // 2026-07-28 §Schema Extension: an HTTP client MUST drop a tool with an invalid x-mcp-header;
            // through the proxy the proxy is that client (the stdio leg MAY ignore x-mcp-header).
            if (viaProxy && isSdk2(server)) assert.ok(!names.includes('bad_header_tool'), 'bad_header_tool (invalid x-mcp-header) was filtered out');
            return `era ${era}; ${names.length} tools${names.includes('bad_header_tool') ? ' (bad_header_tool listed)' : ''}`;
        }
    },
    {
        id: 'tools-call',
        title: 'tools/call (echo, whoami)',
        hosts: ALL_HOSTS,
        async run({ host, viaProxy }) {
            const value = 'héllo ✓ "quoted"';
            const echo = await host.callTool('echo', { text: value });
            assert.equal(textOf(echo), value, 'echo returned the text unchanged');
            assert.equal(echo.structuredContent?.echo, value, 'echo structuredContent');
            const who = await host.callTool('whoami');
            if (viaProxy) {
                assert.equal(who.structuredContent?.sub, 'alice', 'whoami: the proxy sent the signed-in user\'s token');
                assert.ok(who.structuredContent?.scopes?.includes('mcp:tools'), 'whoami: scope mcp:tools');
            }
            return `echo ok; whoami sub=${who.structuredContent?.sub ?? null}`;
        }
    },
    {
        id: 'headers',
        title: 'MCP headers on the HTTP leg (Mcp-Method, Mcp-Name, Mcp-Param-Region from x-mcp-header)',
        hosts: ALL_HOSTS,
        async run({ host, server, viaProxy }) {
            const result = await host.callTool('regional_echo', { region: 'eu-west', text: 'hi' });
            assert.equal(textOf(result), 'eu-west: hi');
            if (!viaProxy) return 'stdio: no HTTP headers';
            const seen = lastCallHeaders(await server.stats(), 'regional_echo');
            assert.ok(seen, 'the server recorded the tools/call POST');
            const shown = JSON.stringify(Object.fromEntries(Object.entries(seen).filter(([k]) => k.startsWith('mcp-') && k !== 'mcp-session-id')));
            if (isSdk2(server)) {
                // The proxy speaks 2026-07-28 to an SDK v2 server, whatever the host's era.
                assert.equal(seen['mcp-protocol-version'], MODERN, `MCP-Protocol-Version (${shown})`);
                assert.equal(seen['mcp-method'], 'tools/call', `Mcp-Method (${shown})`);
                assert.equal(seen['mcp-name'], 'regional_echo', `Mcp-Name (${shown})`);
                assert.equal(seen['mcp-param-region'], 'eu-west', `Mcp-Param-Region (${shown})`);
                assert.equal(seen['mcp-session-id'], undefined, `no Mcp-Session-Id on a modern exchange (${shown})`);
            } else {
                // 2025-11-25 server: no 2026 headers on legacy exchanges (SDK parity), a session id.
                assert.equal(seen['mcp-method'], undefined, `no Mcp-Method on a legacy exchange (${shown})`);
                assert.equal(seen['mcp-name'], undefined, `no Mcp-Name on a legacy exchange (${shown})`);
                assert.equal(seen['mcp-param-region'], undefined, `no Mcp-Param-Region on a legacy exchange (${shown})`);
                assert.ok(seen['mcp-session-id'], `Mcp-Session-Id on a 2025 session (${shown})`);
            }
            return `server saw ${shown}`;
        }
    },
    {
        id: 'elicitation',
        title: 'elicitation round trip (MRTR input_required / 2025 elicitation/create)',
        hosts: SDK_HOSTS,
        async run({ host, server }) {
            const before = host.elicitations.length;
            const statsBefore = await server.stats();
            const since = Date.now();
            const result = await host.callTool('ask', { question: 'Name, please?' }, { timeoutMs: 15000 });
            assert.equal(textOf(result), 'Hello, Alice', `ask's answer (got ${JSON.stringify(result?.content)})`);
            assert.equal(host.elicitations.length, before + 1, 'the host\'s elicitation handler ran once');
            assert.equal(host.elicitations.at(-1).message, 'Name, please?', 'the elicitation message reached the host');
            const stats = await server.stats();
            if (isSdk2(server)) {
                const round2 = stats.mrtr.slice(statsBefore.mrtr.length).find(r => r.round === 2);
                assert.ok(round2, 'the server got the retry with inputResponses');
                assert.equal(round2.answer, 'Alice');
                assert.equal(round2.stateEchoed, true, 'requestState came back byte-exact');
            } else {
                const got = stats.elicitations.slice(statsBefore.elicitations.length);
                assert.deepEqual(got.map(e => [e.action, e.answer]), [['accept', 'Alice']], 'the server got the elicitation result');
            }
            // How it reached the host: a modern host gets the input_required result (it must never be
            // sent a request, 2026-07-28 stdio); a 2025 host gets an elicitation/create request.
            const inbound = host.inbound(since);
            const requests = inbound.filter(m => 'method' in m && 'id' in m);
            if (host.era() === MODERN) {
                assert.deepEqual(requests.map(m => m.method), [], 'no JSON-RPC request was sent to the modern host');
                assert.ok(inbound.some(m => m.result?.resultType === 'input_required'), 'the host got an input_required result');
                return 'MRTR: input_required → retry with inputResponses and requestState';
            }
            assert.deepEqual(requests.map(m => m.method), ['elicitation/create'], 'the 2025 host got one elicitation/create request');
            return '2025: elicitation/create request → answer';
        }
    },
    {
        id: 'list-changed',
        title: 'notifications/tools/list_changed reaches the host',
        hosts: SDK_HOSTS,
        async run({ host, seq }) {
            const name = `added_${host.kind.replace(/-/g, '_')}_${seq}`;
            const before = host.listChanged.length;
            const t0 = Date.now();
            assert.equal(textOf(await host.callTool('add_tool', { name })), name, 'add_tool registered the tool');
            const got = await host.waitFor(() => host.listChanged.length > before, 5000);
            assert.ok(got, 'a tools/list_changed notification reached the host within 5 s');
            const after = (await host.listTools()).tools.map(t => t.name);
            assert.ok(after.includes(name), `tools/list after the notification lists ${name}`);
            const note = host.inbound(t0).find(m => m.method === 'notifications/tools/list_changed');
            const sub = note?.params?._meta?.['io.modelcontextprotocol/subscriptionId'];
            if (host.era() !== MODERN) assert.equal(sub, undefined, 'no subscriptionId for a 2025 host');
            return `after ${host.listChanged[before] - t0} ms${sub !== undefined ? ` (subscription ${JSON.stringify(sub)})` : ''}`;
        }
    },
    {
        id: 'cancel',
        title: 'cancelling a long call stops it at the server within 1 s',
        hosts: SDK_HOSTS,
        async run({ host, server }) {
            const statsBefore = await server.stats();
            const ac = new AbortController();
            const call = host.callTool('slow', { ms: 20000 }, { signal: ac.signal, timeoutMs: 30000 }).then(
                () => ({ ok: true }), e => ({ ok: false, e }));
            const started = await waitStats(server, s => (s.byTool.slow ?? 0) > (statsBefore.byTool.slow ?? 0));
            assert.ok(started, 'the slow call reached the server');
            const request = host.lastOutbound('tools/call', 'slow');
            const t0 = Date.now();
            ac.abort(new Error('the user cancelled'));
            const outcome = await call;
            assert.equal(outcome.ok, false, 'the call did not complete');
            const seen = await waitStats(server, s => s.cancelled.slice(statsBefore.cancelled.length)[0], 3000);
            assert.ok(seen, 'the server saw the cancellation');
            const ms = seen.atMs - t0;
            assert.ok(ms < 1000, `the server saw the cancellation ${ms} ms after the host cancelled (limit 1000)`);
            // On stdio the host cancels with notifications/cancelled (2026-07-28 too); over modern HTTP
            // the SDK closes the request's stream instead.
            if (host.kind !== HTTP_HOST || host.era() !== MODERN) {
                const sent = host.wire.find(w => w.dir === 'out' && w.msg.method === 'notifications/cancelled' && w.msg.params?.requestId === request?.id);
                assert.ok(sent, 'the host sent notifications/cancelled for that request');
            }
            await sleep(1000);
            const late = host.answersTo(request?.id).filter(w => w.atMs >= t0);
            assert.deepEqual(late.map(w => w.msg), [], 'nothing was written to the host for the cancelled request');
            const done = (await server.stats()).completed.slice(statsBefore.completed.length);
            assert.deepEqual(done, [], 'the slow call did not run to its end');
            return `server saw it after ${ms} ms`;
        }
    },
    {
        id: 'server-error',
        title: 'a server error (-32602) reaches the host unchanged',
        hosts: SDK_HOSTS,
        async run({ host }) {
            const since = Date.now();
            const err = await host.callTool('no_such_tool', {}).then(() => null, e => e);
            assert.ok(err, 'calling an unknown tool failed');
            assert.equal(err.code, -32602, `the host's error code (got ${err.code}: ${err.message})`);
            const request = host.lastOutbound('tools/call', 'no_such_tool');
            const answer = host.answersTo(request?.id).find(w => w.atMs >= since)?.msg;
            assert.ok(answer?.error, 'a JSON-RPC error answered the request');
            assert.equal(answer.error.code, -32602, 'error code on the wire');
            assert.equal(answer.error.message, 'Tool no_such_tool not found', 'the server\'s message on the wire');
            return `${answer.error.code} "${answer.error.message}"`;
        }
    }
];
