#!/usr/bin/env node
// The modern host the MCP conformance suite spawns: the MCP TypeScript SDK v2 `Client`
// (@modelcontextprotocol/client 2.4.0) over its stdio transport, running `mcp-auth proxy <serverUrl>`,
// doing through it what the scenario expects (host.mjs). client.mjs is the same with the SDK v1 host.
//
//   node conformance/client-v2.mjs <serverUrl>          (the runner appends the URL as the last argument)
//
// Era: when the runner's wire (MCP_CONFORMANCE_PROTOCOL_VERSION) is 2026-07-28, versionNegotiation
// {mode: 'auto'}, as the SDK's own conformance client (everythingClient.ts) and a real dual-era host do:
// `server/discover` first, modern on a DiscoverResult, `initialize` otherwise. After the scenario the host
// insists on having been modern (exit 1 otherwise), so a proxy that makes it fall back to 2025 fails the
// scenario instead of quietly testing the bridge. At 2025-11-25: the plain `initialize` (mode 'legacy').
// Auth scenarios whose sign-in succeeds (host.mjs, reconnectsAfterSignIn) connect twice when the host
// negotiates: without a token the proxy answers `server/discover` with -32001 (sign-in required, no
// browser from a probe), so the first connection of a first run ends legacy, bridged; after its steps the
// host closes it, connects again in the same sandbox (same agent, token held) and runs the steps again,
// and it is this second connection that must end modern. Every other scenario connects once.
// On stdio the SDK probes on a throw-away sibling process (same command, stderr discarded, killed after
// the verdict); the session process then gets modern requests with no `server/discover` of its own.
//
// Env (besides host.mjs's): MCP_CONFORMANCE_V2_NEGOTIATION = auto | pin | legacy overrides the mode
// (pin = {pin: '2026-07-28'}: no fallback at all; an auth scenario's sign-in connection still negotiates
// auto, since the proxy refuses every probe until it holds a token, and its second connection is pinned); MCP_CONFORMANCE_V2_PROBE=inplace probes on the session
// process itself (a StdioClientTransport subclass, which the SDK does not clone) instead of a sibling;
// MCP_CONFORMANCE_TRACE=1 logs every stdio message; MCP_CONFORMANCE_DIRECT=1 is the baseline without proxy
// and agent: SDK v2's Streamable HTTP transport straight to the server URL, with the SDK's own OAuth
// (direct-oauth.mjs), one OAuth state for both connections (as the agent's token is for both proxies).
import { Client, StreamableHTTPClientTransport } from '@modelcontextprotocol/client';
import { StdioClientTransport } from '@modelcontextprotocol/client/stdio';
import { oauthFetch } from './direct-oauth.mjs';
import { CAPABILITIES, CIMD_URL, REQUEST_TIMEOUT_MS, context, hostMain, isModernWire, proxySpawnParams, redact,
    reconnectsAfterSignIn, registerHandlers, say, scenario, serverUrl } from './host.mjs';

const MODERN = '2026-07-28';

/** Probes in place: the SDK clones only its base StdioClientTransport onto a sibling. */
class InPlaceStdioClientTransport extends StdioClientTransport {}

// MCP_CONFORMANCE_TRACE=1: every JSON-RPC message on the stdio pipes, the sibling probe's too (the
// transport keeps `onmessage` as an own field, so the hook is its read loop and send).
if (process.env.MCP_CONFORMANCE_TRACE) {
    const trace = (dir, transport, message) => say(`${dir} [${transport.pid ?? '-'}] ${redact(JSON.stringify(message)).slice(0, 600)}`);
    const { send, processReadBuffer } = StdioClientTransport.prototype;
    StdioClientTransport.prototype.send = function (message) {
        trace('->', this, message);
        return send.call(this, message);
    };
    StdioClientTransport.prototype.processReadBuffer = function () {
        const handler = this.onmessage;
        const traced = handler && (message => { trace('<-', this, message); handler(message); });
        this.onmessage = traced;
        try {
            processReadBuffer.call(this);
        } finally {
            if (this.onmessage === traced) this.onmessage = handler; // a handler set meanwhile stays
        }
    };
}

function negotiationMode() {
    const mode = process.env.MCP_CONFORMANCE_V2_NEGOTIATION || (isModernWire ? 'auto' : 'legacy');
    if (mode === 'pin') return { pin: MODERN };
    if (mode !== 'auto' && mode !== 'legacy') throw new Error(`MCP_CONFORMANCE_V2_NEGOTIATION=${mode}: auto, pin or legacy`);
    return mode;
}

function create(sandbox) {
    const mode = negotiationMode();
    const negotiates = mode !== 'legacy';
    // Auth scenarios whose sign-in succeeds connect twice when the host negotiates (host.mjs,
    // reconnectsAfterSignIn): the first connection signs in and may end legacy, the second must end modern.
    const connections = negotiates && reconnectsAfterSignIn ? 2 : 1;
    const options = { timeout: REQUEST_TIMEOUT_MS };
    // The baseline's OAuth state (its token) lives as long as the host, as the agent's does for the proxy.
    const directFetch = process.env.MCP_CONFORMANCE_DIRECT
        ? oauthFetch(serverUrl, { context, clientMetadataUrl: CIMD_URL }) : null;
    let client = null; // the SDK client of the current connection: a fresh one per connection
    let connection = 0;
    const host = {
        listTools: () => client.listTools(undefined, options),
        callTool: (name, args) => client.callTool({ name, arguments: args }, options),
        listResources: () => client.listResources(undefined, options),
        readResource: uri => client.readResource({ uri }, options),
        listPrompts: () => client.listPrompts(undefined, options),
        getPrompt: (name, args) => client.getPrompt({ name, arguments: args }, options),
        // 2026-07-28: SDK v2 refuses a result without resultType (it does not retry, either)
        rejectsMissingResultType: true
    };
    const describe = () => `${client.getProtocolEra()} era, protocol ${client.getNegotiatedProtocolVersion()}`;
    return {
        host,
        connections,
        async connect() {
            connection++;
            // pin has no fallback, and without a token the proxy refuses every probe: a pinned host could
            // never sign in. So an auth scenario's first connection (the sign-in) negotiates auto, and the
            // second, which must end modern, is the pinned one.
            const signIn = connection === 1 && scenario.startsWith('auth/');
            const mine = signIn && typeof mode === 'object' ? 'auto' : mode;
            client = new Client({ name: 'mcp-auth-host-sdk-v2', version: '1.0.0' },
                { capabilities: CAPABILITIES, versionNegotiation: { mode: mine } });
            const sdk = client;
            registerHandlers(host, (method, handler) => sdk.setRequestHandler(method, request => handler(request.params)));
            let transport;
            if (directFetch) {
                say(`${scenario}: direct to ${serverUrl} (no proxy), versionNegotiation ${JSON.stringify(mine)}`);
                transport = new StreamableHTTPClientTransport(new URL(serverUrl), { fetch: directFetch });
            } else {
                const Transport = process.env.MCP_CONFORMANCE_V2_PROBE === 'inplace' ? InPlaceStdioClientTransport : StdioClientTransport;
                transport = new Transport({ ...proxySpawnParams(sandbox), stderr: 'inherit' });
                say(`versionNegotiation ${JSON.stringify(mine)}, probe ${Transport === StdioClientTransport ? 'on a sibling' : 'in place'}`);
            }
            await client.connect(transport, options);
            const version = client.getServerVersion();
            say(`connected${connections > 1 ? ` (connection ${connection} of ${connections})` : ''}: ${describe()}, ` +
                `server ${version?.name ?? '?'} ${version?.version ?? ''}`);
            // First connection of a first run, no token yet: the proxy answered the probe -32001, the host
            // went legacy (bridged). Said, not failed: the check is on the last connection.
            if (negotiates && connection < connections && client.getProtocolEra() !== 'modern') {
                say(`connection ${connection} ended ${describe()} (expected on a first run: without a token the ` +
                    `proxy answers the probe -32001); connection ${connections} must end modern`);
            }
        },
        // After the scenario (all its connections), so that its checks still say what the fallback path did.
        async verify() {
            if (negotiates && client.getProtocolEra() !== 'modern') {
                throw new Error(`${connections > 1 ? `connection ${connection}, with the token held, ` : 'the host '}` +
                    `fell back to ${client.getNegotiatedProtocolVersion()}: the proxy did not answer its ` +
                    'server/discover with a 2026-07-28 DiscoverResult (MCP_CONFORMANCE_TRACE=1 shows the exchange)');
            }
        },
        close: () => client?.close() ?? Promise.resolve()
    };
}

await hostMain(create);
