// Self-check of the e2e hosts and era servers without the binaries under test: every host kind of
// hosts.mjs runs the checks of checks.mjs against sdk2-server.mjs and sdk1-server.mjs started in their
// --stdio mode (no auth, no proxy, no HTTP). When a check passes here and fails in eras.test.mjs, the
// difference is `mcp-auth proxy` (and the HTTP leg behind it).
//
//   node tests/e2e/hosts/selfcheck.mjs        (exit 0 when every applicable check passed; ~40 s)
//
// The cells the compatibility matrix says fail (2026-07-28 basic/versioning: a modern-only host
// against a legacy server, a legacy host against a modern-only server) must fail at connect, promptly.
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { CHECKS } from './checks.mjs';
import { HOST_KINDS, openHost } from './hosts.mjs';

const servers = fileURLToPath(new URL('../servers/', import.meta.url));
const SERVERS = [
    { kind: 'sdk2-stateless', script: 'sdk2-server.mjs', args: [] }, // stdio: legacy 'serve' (dual era)
    { kind: 'sdk2-reject', script: 'sdk2-server.mjs', args: ['--legacy', 'reject'] },
    { kind: 'sdk1', script: 'sdk1-server.mjs', args: [] }
];
const mustFail = (hostKind, serverKind) =>
    (hostKind === 'v2-modern' && serverKind === 'sdk1') || (['v2-legacy', 'v1'].includes(hostKind) && serverKind === 'sdk2-reject');

const dir = mkdtempSync(path.join(os.tmpdir(), 'mcp-auth-selfcheck-'));
let failures = 0;
let seq = 0;
const line = (ok, what, detail) => {
    if (!ok) failures += 1;
    process.stdout.write(`${ok ? 'ok  ' : 'FAIL'} ${what}${detail ? ` — ${detail}` : ''}\n`);
};

try {
    for (const srv of SERVERS) {
        for (const kind of HOST_KINDS) {
            const readyFile = path.join(dir, `${srv.kind}-${kind}.json`);
            const args = [path.join(servers, srv.script), '--stdio', ...srv.args, '--ready-file', readyFile];
            const cell = `${kind} × ${srv.kind}`;
            const t0 = Date.now();
            let host;
            try {
                host = await openHost(kind, { command: process.execPath, args, connectTimeoutMs: 15000 });
            } catch (e) {
                line(mustFail(kind, srv.kind) && Date.now() - t0 < 15000, `${cell}: connect`, `failed after ${Date.now() - t0} ms: ${e.message.split('\n')[0]}`);
                continue;
            }
            if (mustFail(kind, srv.kind) && kind !== 'inspector') {
                line(false, `${cell}: connect`, 'connected, but this cell must fail');
                await host.close();
                continue;
            }
            const server = {
                kind: srv.kind,
                stats: async () => {
                    const { statsUrl } = JSON.parse(readFileSync(readyFile, 'utf8'));
                    return (await fetch(`${statsUrl}/__test/stats`, { signal: AbortSignal.timeout(5000) })).json();
                }
            };
            try {
                for (const check of CHECKS.filter(c => c.hosts.includes(kind))) {
                    try {
                        const summary = await check.run({ host, server, viaProxy: false, seq: ++seq });
                        line(true, `${cell}: ${check.title}`, summary);
                    } catch (e) {
                        line(false, `${cell}: ${check.title}`, `${e.message}${host.stderrText ? `; stderr: ${host.stderr(300)}` : ''}`);
                    }
                }
            } finally {
                await host.close();
            }
        }
    }
} finally {
    rmSync(dir, { recursive: true, force: true });
}
process.stdout.write(`${failures ? `${failures} FAILED` : 'all passed'}\n`);
process.exit(failures ? 1 : 0);
