#!/usr/bin/env node
// Reads what the conformance runner wrote (-o DIR/RUN: one <scenario>-<timestamp>/ folder with checks.json,
// stdout.txt, stderr.txt per scenario; RUN/run.json from run-conformance.sh says which suite version,
// requirement set and host the run was) and prints one table per run, then one line per run.
//
//   node conformance/summarize.mjs RESULTS_DIR [EXPECTED_FAILURES_FILE]
//
// A scenario passes when it has no FAILURE and no WARNING check, and the client printed
// "conformance-client: exit=0" (exit≠0 is accepted for the scenarios the suite marks allowClientError;
// no marker at all means the client was killed, e.g. by the 30 s timeout). This is the runner's
// single-scenario rule, applied to every run: with --suite the runner ignores exit codes and timeouts,
// and with --requirements it ignores WARNINGs; our acceptance forbids both.
// A --requirements run scores exactly the client scenarios of requirements/<revision>.yaml (the suite's
// own file): the others it runs (extensions, added after the release) are listed as "unscored" and never
// fail the run; a scored scenario without a result (the run was complete, run.json "complete") fails it.
// EXPECTED_FAILURES_FILE lists scenario names or RUN:scenario (one a line, # comments) that are expected to
// fail: they print XFAIL and do not fail the run; one that passes prints XPASS and does.
// Exit 0 when every scored scenario passed (or failed as expected), 1 otherwise.
import { existsSync, readFileSync, readdirSync, statSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

const TESTS = path.dirname(path.dirname(fileURLToPath(import.meta.url)));
// Scenarios whose client may exit non-zero (allowClientError in the suite's sources, 0.1.16 and 0.2.0-alpha.12)
const ALLOW_CLIENT_ERROR = new Set(['auth/scope-retry-limit', 'auth/resource-mismatch', 'auth/iss-supported-missing',
    'auth/iss-wrong-issuer', 'auth/iss-unexpected', 'auth/iss-normalized', 'auth/metadata-issuer-mismatch',
    'http-invalid-tool-headers']);

const [root, expectedFile] = process.argv.slice(2);
if (!root) {
    console.error('usage: summarize.mjs RESULTS_DIR [EXPECTED_FAILURES_FILE]');
    process.exit(2);
}
const expected = new Set(expectedFile && existsSync(expectedFile)
    ? readFileSync(expectedFile, 'utf8').split('\n').map(l => l.replace(/#.*/, '').trim()).filter(Boolean) : []);

/** The `client:` list of the suite's requirements/<revision>.yaml (a flat YAML list; no parser needed). */
function scoredClientScenarios(suiteDir, revision) {
    const file = path.join(TESTS, 'node_modules', suiteDir, 'requirements', `${revision}.yaml`);
    const list = [];
    let inClient = false;
    for (const line of readFileSync(file, 'utf8').split('\n')) {
        if (/^\S/.test(line)) inClient = /^client:\s*$/.test(line);
        else if (inClient && /^\s+-\s+\S/.test(line)) list.push(line.replace(/^\s+-\s+/, '').trim());
    }
    if (!list.length) throw new Error(`${file}: no client scenarios`);
    return new Set(list);
}

function* resultDirs(dir) {
    for (const name of readdirSync(dir).sort()) {
        const full = path.join(dir, name);
        if (!statSync(full).isDirectory()) continue;
        if (existsSync(path.join(full, 'checks.json'))) yield full;
        else yield* resultDirs(full);
    }
}

function readRun(dir) {
    const set = path.basename(dir);
    const meta = existsSync(path.join(dir, 'run.json')) ? JSON.parse(readFileSync(path.join(dir, 'run.json'), 'utf8')) : {};
    const scored = meta.requirements ? scoredClientScenarios(meta.suiteDir ?? 'conformance-next', meta.requirements) : null;
    const rows = [];
    for (const result of resultDirs(dir)) {
        const scenario = path.relative(dir, result).split(path.sep).join('/').replace(/-\d{4}-\d\d-\d\dT[\d-]+Z$/, '');
        const checks = JSON.parse(readFileSync(path.join(result, 'checks.json'), 'utf8'));
        const count = status => checks.filter(c => c.status === status).length;
        const stdout = existsSync(path.join(result, 'stdout.txt')) ? readFileSync(path.join(result, 'stdout.txt'), 'utf8') : '';
        const marker = [...stdout.matchAll(/^conformance-client: exit=(\d+)$/gm)].at(-1);
        const exit = marker ? Number(marker[1]) : null;
        const problems = checks.filter(c => c.status === 'FAILURE' || c.status === 'WARNING')
            .map(c => `${c.status === 'WARNING' ? 'warning ' : ''}${c.id}${c.name && c.name !== c.id && !/^NotObserved$/.test(c.name) ? ` (${c.name})` : ''}`);
        if (exit === null) problems.push('client killed or timed out (no exit marker)');
        else if (exit !== 0 && !ALLOW_CLIENT_ERROR.has(scenario)) {
            // the host's own account (host.mjs prints "FAILED: why", tokens already redacted)
            const stderr = existsSync(path.join(result, 'stderr.txt')) ? readFileSync(path.join(result, 'stderr.txt'), 'utf8') : '';
            const why = [...stderr.matchAll(/^\[client [\d.]+s\] FAILED: (.*)$/gm)].at(-1)?.[1];
            problems.push(`client exit ${exit}${why ? `: ${why.slice(0, 200)}` : ''}`);
        }
        const ok = problems.length === 0;
        const isExpected = expected.has(scenario) || expected.has(`${set}:${scenario}`);
        let verdict = ok ? (isExpected ? 'XPASS' : 'PASS') : (isExpected ? 'XFAIL' : 'FAIL');
        if (scored && !scored.has(scenario)) verdict = ok ? 'unscored pass' : 'unscored fail';
        rows.push({ scenario, pass: count('SUCCESS'), fail: count('FAILURE'), warn: count('WARNING'), exit: exit ?? '-',
            verdict, problems: [...new Set(problems)] });
    }
    if (scored && meta.complete) {
        for (const scenario of scored) {
            if (rows.some(r => r.scenario === scenario)) continue;
            rows.push({ scenario, pass: 0, fail: 0, warn: 0, exit: '-', verdict: 'FAIL', problems: ['no result (scenario did not run)'] });
        }
    }
    // requirement-file order for the scored, then the unscored
    const rank = r => (scored?.has(r.scenario) ? [...scored].indexOf(r.scenario) : 1000);
    rows.sort((a, b) => rank(a) - rank(b) || a.scenario.localeCompare(b.scenario));
    return { set, meta, rows };
}

const runs = readdirSync(root).sort().map(name => path.join(root, name))
    .filter(dir => statSync(dir).isDirectory()).map(readRun).filter(run => run.rows.length);
runs.sort((a, b) => (a.meta.order ?? 99) - (b.meta.order ?? 99) || a.set.localeCompare(b.set));

const isBad = r => r.verdict === 'FAIL' || r.verdict === 'XPASS';
const tally = rows => ({
    scored: rows.filter(r => !r.verdict.startsWith('unscored')),
    unscored: rows.filter(r => r.verdict.startsWith('unscored'))
});

function printTable(rows) {
    const header = ['scenario', 'ok', 'fail', 'warn', 'exit', 'verdict'];
    const table = [header, ...rows.map(r => [r.scenario, r.pass, r.fail, r.warn, r.exit, r.verdict].map(String))];
    const widths = header.map((_, i) => Math.max(...table.map(row => row[i].length)));
    for (const [i, row] of table.entries()) {
        console.log(`  ${row.map((cell, j) => (j >= 1 && j <= 4 ? cell.padStart(widths[j]) : cell.padEnd(widths[j]))).join('  ').trimEnd()}`);
        const r = rows[i - 1];
        if (i > 0 && r.problems.length && (r.verdict === 'FAIL' || r.verdict === 'XPASS')) {
            console.log(`      ${r.problems.join('; ')}`);
        }
    }
}

const summary = [];
for (const run of runs) {
    const { scored, unscored } = tally(run.rows);
    const title = run.meta.title ?? run.set;
    console.log(`\n== ${run.set}: ${title}`);
    printTable(run.rows);
    const passed = scored.filter(r => r.verdict === 'PASS').length;
    const xfail = scored.filter(r => r.verdict === 'XFAIL').length;
    const bad = scored.filter(isBad).length;
    const checks = status => scored.reduce((n, r) => n + r[status], 0);
    console.log(`  ${scored.length} scored: ${passed} passed${xfail ? `, ${xfail} failed as expected` : ''}, ${bad} failed` +
        ` (checks ${checks('pass')} ok, ${checks('fail')} FAILURE, ${checks('warn')} WARNING)` +
        (unscored.length ? `; ${unscored.length} unscored, ${unscored.filter(r => r.verdict === 'unscored pass').length} passing` : ''));
    summary.push({ run: run.set, title, scored: scored.length, passed, xfail, failed: bad,
        ok: checks('pass'), failures: checks('fail'), warnings: checks('warn') });
}

console.log('\n== summary');
printSummary(summary);
const total = summary.reduce((n, s) => n + s.scored, 0);
const failed = summary.reduce((n, s) => n + s.failed, 0);
console.log(`\n${runs.length} runs, ${total} scored scenario runs: ${summary.reduce((n, s) => n + s.passed, 0)} passed, ` +
    `${summary.reduce((n, s) => n + s.xfail, 0)} failed as expected, ${failed} unexpected`);
if (!total) console.log('no results found');
process.exit(failed || !total ? 1 : 0);

function printSummary(lines) {
    const header = ['run', 'scored', 'passed', 'failed', 'FAILURE', 'WARNING', 'what'];
    const table = [header, ...lines.map(s => [s.run, s.scored, s.passed + (s.xfail ? `+${s.xfail}x` : ''), s.failed, s.failures, s.warnings, s.title].map(String))];
    const widths = header.map((_, i) => Math.max(...table.map(row => row[i].length)));
    for (const row of table) {
        console.log(`  ${row.map((cell, j) => (j >= 1 && j <= 5 ? cell.padStart(widths[j]) : cell.padEnd(widths[j]))).join('  ').trimEnd()}`);
    }
}
