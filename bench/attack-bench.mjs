// Attack benchmark (issue 6, docs/security.md §6-7): how a well-behaved client is served while the
// agent's socket is under attack, and what the attacks cost the agent in memory. Real agent, real
// Secret Service (run through bench/run.sh attack). Prints a table; asserts nothing (not a test).
//   baseline         agent/status round trips, nobody else connected
//   starvation       the same while 256 connections hold half-finished lines and one client floods
//                    invalid lines without ever reading its replies
//   junk URLs        token/get for BENCH_JUNK distinct unknown servers: RSS growth
import net from 'node:net';
import { readFileSync } from 'node:fs';
import * as h from '../tests/e2e/lib/harness.mjs';

const ROUNDS = Number(process.env.BENCH_ATTACK_ROUNDS ?? 200);
const HALF_OPEN = Number(process.env.BENCH_HALF_OPEN ?? 256);
const FLOOD_MB = Number(process.env.BENCH_FLOOD_MB ?? 8);
const JUNK = Number(process.env.BENCH_JUNK ?? 50000);

const pct = (xs, p) => {
    const s = [...xs].sort((a, b) => a - b);
    return s[Math.min(s.length - 1, Math.floor((p / 100) * s.length))];
};
const mib = kb => `${(kb / 1024).toFixed(1)} MiB`;
const kbOf = (pid, key) => Number(readFileSync(`/proc/${pid}/status`, 'utf8').match(new RegExp(`^${key}:\\s+(\\d+)`, 'm'))[1]);

function connect(socket) {
    return new Promise((resolve, reject) => {
        const c = net.createConnection(socket);
        c.once('connect', () => resolve(c));
        c.once('error', reject);
    });
}

/** `n` sequential requests on one fresh connection; latencies in ms (first includes connect). */
async function roundTrips(socket, n, make) {
    const t0 = performance.now();
    const c = await connect(socket);
    const lat = [];
    let buf = '';
    await new Promise((resolve, reject) => {
        let started = t0;
        const send = () => c.write(`${JSON.stringify(make(lat.length))}\n`);
        c.on('data', d => {
            buf += d;
            for (let nl; (nl = buf.indexOf('\n')) >= 0;) {
                buf = buf.slice(nl + 1);
                lat.push(performance.now() - started);
                if (lat.length === n) return resolve();
                started = performance.now();
                send();
            }
        });
        c.on('error', reject);
        send();
    });
    c.destroy();
    return lat;
}

const status = i => ({ jsonrpc: '2.0', id: i, method: 'agent/status' });

async function main() {
    const sandbox = h.makeSandbox('bench-attack');
    const sockets = [];
    const rows = [];
    try {
        await h.runCli(sandbox, ['status']); // starts the agent
        const [pid] = h.agentPids(sandbox);
        const base = await roundTrips(sandbox.socket, ROUNDS, status);
        rows.push(['baseline agent/status p50 / p99', `${pct(base, 50).toFixed(2)} / ${pct(base, 99).toFixed(2)} ms`]);
        rows.push(['agent RSS at rest', mib(kbOf(pid, 'VmRSS'))]);

        for (let i = 0; i < HALF_OPEN; ++i) {
            const c = await connect(sandbox.socket);
            c.on('error', () => {});
            c.write('{"jsonrpc":"2.0","id":1,');
            sockets.push(c);
        }
        const flooder = await connect(sandbox.socket);
        flooder.on('error', () => {});
        flooder.pause(); // never reads a reply
        sockets.push(flooder);
        const chunk = Buffer.from('x\n'.repeat(32 * 1024));
        for (let sent = 0; sent < FLOOD_MB * 1024 * 1024; sent += chunk.length) flooder.write(chunk);
        await h.sleep(500);
        const under = await roundTrips(sandbox.socket, ROUNDS, status);
        rows.push([`under attack (${HALF_OPEN} half-open + ${FLOOD_MB} MB flood) first answer`, `${under[0].toFixed(2)} ms`]);
        rows.push(['under attack agent/status p50 / p99', `${pct(under, 50).toFixed(2)} / ${pct(under, 99).toFixed(2)} ms`]);
        rows.push(['agent peak RSS (VmHWM) after the attack', mib(kbOf(pid, 'VmHWM'))]);
        for (const c of sockets.splice(0)) c.destroy();
        await h.sleep(300);

        const before = kbOf(pid, 'VmRSS');
        const t0 = performance.now();
        const window = 64; // the agent's pending-request cap per connection
        const c = await connect(sandbox.socket);
        let buf = '';
        let answered = 0;
        await new Promise(resolve => {
            let next = 0;
            const send = () => {
                const resource = `http://127.0.0.1:9/junk/${next++}`;
                c.write(`${JSON.stringify({ jsonrpc: '2.0', id: next, method: 'token/get', params: { resource } })}\n`);
            };
            c.on('data', d => {
                buf += d;
                for (let nl; (nl = buf.indexOf('\n')) >= 0;) {
                    buf = buf.slice(nl + 1);
                    if (++answered === JUNK) return resolve();
                    if (next < JUNK) send();
                }
            });
            for (let i = 0; i < window; ++i) send();
        });
        c.destroy();
        rows.push([`${JUNK} token/get for unknown URLs`, `${((performance.now() - t0) / 1000).toFixed(2)} s`]);
        rows.push(['agent RSS growth from them', mib(kbOf(pid, 'VmRSS') - before)]);
    } finally {
        for (const c of sockets) c.destroy();
        await h.stopAgent(sandbox);
        sandbox.remove();
    }
    const width = Math.max(...rows.map(r => r[0].length));
    console.log('\nattack benchmark (mcp-auth-agent, one machine, loopback)');
    for (const [k, v] of rows) console.log(`  ${k.padEnd(width)}  ${v}`);
}

await main();
