// The tray under a real X server (issue 9): Xvfb, trayer as the tray host, the agent with its tray
// (not --headless) against oidc-provider and an MCP SDK server, approvals on. The app is
// mcpauth-peer-client running `mcp-auth login`; the user is xdotool at the keyboard and mouse.
// Screenshots (`import -window root`) go to MCPAUTH_SCREENSHOT_DIR, else build/screenshots.
// Never prints a token.
import assert from 'node:assert/strict';
import { spawn, spawnSync } from 'node:child_process';
import { existsSync, mkdirSync, readFileSync, realpathSync } from 'node:fs';
import path from 'node:path';
import { after, before, describe, test } from 'node:test';
import * as h from './lib/harness.mjs';

h.requireNodeModules();

const shots = process.env.MCPAUTH_SCREENSHOT_DIR || path.join(process.env.MCP_AUTH_BUILD_DIR, 'screenshots');
const children = [];

function need(tool) {
    const r = spawnSync('sh', ['-c', `command -v ${tool}`], { encoding: 'utf8' });
    if (r.status !== 0) throw new Error(`${tool} not found: scripts/setup.sh --tests installs it`);
}

function startChild(cmd, args, env) {
    const child = spawn(cmd, args, { env, stdio: ['ignore', 'pipe', 'pipe'], detached: true });
    let out = '';
    child.stdout.on('data', c => { out += c; });
    child.stderr.on('data', c => { out += c; });
    child.output = () => out;
    child.exited = new Promise(resolve => child.on('exit', (code, signal) => resolve({ code, signal })));
    children.push(child);
    return child;
}

const x = (env, ...args) => spawnSync('xdotool', args, { env, encoding: 'utf8', timeout: 10000 });
const screenshot = (env, name) => {
    const file = path.join(shots, name);
    const r = spawnSync('import', ['-window', 'root', file], { env, timeout: 15000 });
    assert.equal(r.status, 0, `import -window root ${file}: ${r.stderr}`);
    return file;
};

function geometry(env, id) {
    const info = args => spawnSync('xwininfo', [...args, '-id', id], { env, encoding: 'utf8' }).stdout || '';
    const out = info([]);
    const num = label => Number((out.match(new RegExp(`${label}:\\s+(-?\\d+)`)) || [])[1]);
    const tree = info(['-children']);
    const parent = (tree.match(/Parent window id: (0x[0-9a-f]+) \(the root window\)/) || [])[1];
    return { id, x: num('Absolute upper-left X'), y: num('Absolute upper-left Y'), w: num('Width'), h: num('Height'),
        embedded: !parent && /Parent window id: 0x/.test(tree) };
}

/** The agent's tray icon: a window of the agent's embedded (XEmbed: its parent is not the root
 *  window) and on screen inside trayer's window. */
function iconIn(env, trayer) {
    const t = geometry(env, trayer);
    return visibleAgentWindows(env).map(id => geometry(env, id)).find(g => g.embedded &&
        g.x >= t.x && g.y >= t.y && g.x + g.w <= t.x + t.w && g.y + g.h <= t.y + t.h) || null;
}

const visibleAgentWindows = env =>
    (x(env, 'search', '--onlyvisible', '--class', 'mcp-auth-agent').stdout || '').trim().split('\n').filter(Boolean);

/** Right-clicks the icon and waits for the menu: a new visible window of the agent's. */
async function openMenu(env, trayer) {
    const icon = iconIn(env, trayer);
    assert.ok(icon, 'the icon is in the tray');
    const before = visibleAgentWindows(env).length;
    x(env, 'mousemove', String(icon.x + Math.floor(icon.w / 2)), String(icon.y + Math.floor(icon.h / 2)));
    x(env, 'click', '3');
    await waitFor(() => visibleAgentWindows(env).length > before, 'the menu opens');
    await h.sleep(300); // drawn
}

async function waitFor(pred, what, ms = 10000) {
    const deadline = Date.now() + ms;
    while (Date.now() < deadline) {
        const v = await pred();
        if (v) return v;
        await h.sleep(100);
    }
    assert.fail(`${what}: not within ${ms} ms`);
}

describe('the tray under Xvfb with a real tray host', { timeout: 180000 }, () => {
    let sandbox, env, as, mcp, agent, peer;
    let trayerWindow;

    before(async () => {
        for (const tool of ['Xvfb', 'trayer', 'xdotool', 'xwininfo', 'import']) need(tool);
        mkdirSync(shots, { recursive: true });
        peer = realpathSync(path.join(process.env.MCP_AUTH_BUILD_DIR, 'tests', 'mcpauth-peer-client'));
        // Xvfb picks a free display and writes its number to fd 3.
        const xvfb = spawn('Xvfb', ['-displayfd', '3', '-screen', '0', '1024x640x24', '-nolisten', 'tcp'],
            { stdio: ['ignore', 'ignore', 'ignore', 'pipe'], detached: true });
        children.push(xvfb);
        const display = await new Promise((resolve, reject) => {
            let got = '';
            xvfb.stdio[3].on('data', c => { got += c; if (got.includes('\n')) resolve(`:${got.trim()}`); });
            xvfb.on('exit', code => reject(new Error(`Xvfb exited (${code})`)));
            setTimeout(() => reject(new Error('Xvfb did not start')), 10000);
        });
        sandbox = h.makeSandbox('tray', { approvals: true, settings: { approvals: { required: true, timeoutSeconds: 60 } } });
        env = { ...sandbox.env, DISPLAY: display, QT_QPA_PLATFORM: 'xcb' };
        delete env.WAYLAND_DISPLAY;
        startChild('trayer', ['--edge', 'top', '--align', 'right', '--widthtype', 'pixel', '--width', '120',
            '--height', '28', '--transparent', 'false', '--tint', '0x333333', '--SetDockType', 'true'], env);
        // trayer's panel: the widest of its visible windows (it has small helper windows too).
        trayerWindow = await waitFor(() => {
            const r = x(env, 'search', '--onlyvisible', '--class', 'trayer');
            const ids = r.status === 0 ? r.stdout.trim().split('\n').filter(Boolean) : [];
            const panel = ids.map(id => geometry(env, id)).sort((a, b) => b.w - a.w)[0];
            return panel && panel.w >= 100 && panel.id;
        }, 'trayer window');
        as = await h.startAuthServer({ atTtl: 600 });
        mcp = await h.startMcpServer(as.issuer);
        const { agent: bin } = h.binaries();
        agent = startChild(bin, ['--socket', sandbox.socket], env);
        // Its socket first: a CLI asking earlier would start a headless agent of its own.
        await waitFor(() => existsSync(sandbox.socket), 'the agent listens', 20000);
    });

    after(async () => {
        if (sandbox && agent && agent.exitCode === null) await h.stopAgent(sandbox);
        for (const c of children.reverse()) try { process.kill(-c.pid, 'SIGKILL'); } catch { /* gone */ }
        await h.stopAll();
        sandbox?.remove();
    });

    test('the icon sits in the tray host', async () => {
        // Embedded (XEmbed) in trayer's window tree, and on screen where trayer is (top right).
        const icon = await waitFor(() => iconIn(env, trayerWindow), 'the icon in trayer\'s window tree').catch(e => {
            const seen = JSON.stringify([trayerWindow, ...visibleAgentWindows(env)].map(id => geometry(env, id)));
            throw new Error(`${e.message}\nwindows: ${seen}\nagent:\n${h.redact(agent.output().slice(-2000))}`);
        });
        assert.ok(icon.w >= 16 && icon.h >= 16, `icon size ${icon.w}x${icon.h}`);
        assert.ok(icon.x >= 1024 - 120 && icon.y < 28, `icon at ${icon.x},${icon.y}: trayer is top right`);
        screenshot(env, 'tray.png');
    });

    test('an app\'s sign-in raises the dialog; Always allow lets it through', async () => {
        const app = startChild(peer, ['--spawn', h.binaries().cli, 'login', mcp.url], env);
        const dialog = await waitFor(() => {
            const r = x(env, 'search', '--name', '^Allow mcpauth-peer-client');
            return r.status === 0 && r.stdout.trim().split('\n')[0];
        }, 'the approval dialog');
        screenshot(env, 'approval-dialog.png');
        // The Allow buttons wake after one second (the dialog's own tests cover the guard and that
        // Enter denies); then Always allow, by its mnemonic.
        await h.sleep(1300);
        x(env, 'windowactivate', '--sync', dialog);
        x(env, 'key', '--window', dialog, 'alt+a');
        const done = await Promise.race([app.exited, h.sleep(30000).then(() => null)]);
        assert.ok(done, 'the sign-in finished');
        assert.equal(done.code, 0, `mcp-auth login as the app: ${h.redact(app.output())}`);
        const grants = JSON.parse((await h.runCli(sandbox, ['grants', '--json'])).stdout);
        assert.ok(grants.some(g => g.executable === peer), `an always grant for the app: ${JSON.stringify(grants)}`);
        const status = JSON.parse((await h.runCli(sandbox, ['status', '--json'])).stdout);
        assert.equal(status.servers[0]?.state, 'signed_in');
    });

    test('the menu opens from the icon', async () => {
        await openMenu(env, trayerWindow);
        screenshot(env, 'tray-menu.png');
        x(env, 'key', 'Escape');
        await waitFor(() => visibleAgentWindows(env).length === 1, 'the menu closes');
    });

    test('Quit from the menu stops the agent cleanly; the keychain keeps the tokens', async () => {
        const before = h.keychainItemCount();
        assert.ok(before > 0, 'tokens in the keychain');
        await openMenu(env, trayerWindow);
        x(env, 'key', 'Up'); // from the top, Up wraps to the last item: Quit
        x(env, 'key', 'Return');
        const exit = await Promise.race([agent.exited, h.sleep(15000).then(() => null)]);
        assert.ok(exit, 'the agent exited');
        assert.equal(exit.code, 0, `exit code; log: ${h.redact(agent.output().slice(-1500))}`);
        assert.ok(!existsSync(sandbox.socket), 'the socket file is gone');
        assert.equal(h.keychainItemCount(), before, 'the keychain holds the same items');
    });
});
