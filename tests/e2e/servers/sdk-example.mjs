// Runs the MCP TypeScript SDK's own OAuth example (examples/server/simpleStreamableHttp.js --oauth
// --oauth-strict) from the installed @modelcontextprotocol/sdk on two free loopback ports and prints
// one JSON line {"ready":true,"url":"http://localhost:P/mcp","issuer":"http://localhost:Q",...}.
//
//   node sdk-example.mjs          env SDK_OAUTH_STRICT=0 drops --oauth-strict (then `resource` is not checked)
//
// The example builds its URLs with "localhost" (not 127.0.0.1) and binds all interfaces; the
// loopback-only.mjs preload pins every listen() to 127.0.0.1. Its stdout is swallowed here because it
// logs whole auth objects (bearer tokens included) for every request. SIGTERM/SIGINT stop it.
import { spawn } from 'node:child_process';
import { createRequire } from 'node:module';
import net from 'node:net';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

const here = path.dirname(fileURLToPath(import.meta.url));
const require = createRequire(import.meta.url);
const sdkMain = require.resolve('@modelcontextprotocol/sdk/server/mcp.js'); // .../dist/cjs/server/mcp.js
const example = path.join(sdkMain, '..', '..', '..', 'esm', 'examples', 'server', 'simpleStreamableHttp.js');

function freePort() {
    return new Promise((resolve, reject) => {
        const s = net.createServer();
        s.once('error', reject);
        s.listen(0, '127.0.0.1', () => {
            const { port } = s.address();
            s.close(() => resolve(port));
        });
    });
}

const mcpPort = await freePort();
const authPort = await freePort();
const args = ['--import', path.join(here, 'loopback-only.mjs'), example, '--oauth'];
if (process.env.SDK_OAUTH_STRICT !== '0') args.push('--oauth-strict');
const child = spawn(process.execPath, args, {
    env: { ...process.env, MCP_PORT: String(mcpPort), MCP_AUTH_PORT: String(authPort) },
    stdio: ['ignore', 'pipe', 'pipe']
});

let listening = 0;
let announced = false;
let buffered = '';
child.stdout.on('data', chunk => {
    if (announced) return; // drop everything after start-up: it contains tokens
    buffered += chunk.toString();
    let nl;
    while ((nl = buffered.indexOf('\n')) >= 0) {
        const line = buffered.slice(0, nl);
        buffered = buffered.slice(nl + 1);
        if (/listening on port/i.test(line)) listening += 1;
    }
    if (listening >= 2 && !announced) {
        announced = true;
        process.stdout.write(`${JSON.stringify({
            ready: true,
            url: `http://localhost:${mcpPort}/mcp`,
            issuer: `http://localhost:${authPort}`,
            mcpPort,
            authPort,
            pid: child.pid,
            strict: args.includes('--oauth-strict')
        })}\n`);
    }
});
child.stderr.on('data', chunk => process.stderr.write(chunk));
child.on('exit', (code, signal) => {
    process.stderr.write(`sdk-example: example exited (${code ?? signal})\n`);
    process.exit(code ?? 1);
});
const stop = () => child.kill('SIGINT');
process.on('SIGTERM', stop);
process.on('SIGINT', stop);
