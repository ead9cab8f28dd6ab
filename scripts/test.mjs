#!/usr/bin/env node
// Runs the whole suite with Node's built-in test runner over the TypeScript sources (via tsx), one file
// at a time, each in its own process group under a hard time limit, and prints one TAP stream ending
// with the test runner's summary (`# pass N`, `# fail N`, ...), which CI reads.
// Usage: node scripts/test.mjs [substring filters...]
//
// Why not one `node --test` over all files: Node's runner waits for each file's process and for every
// process that inherited its output, so a test that leaves a redis-server, a worker or a Chromium
// behind, or that hangs on an open connection, stalls the whole suite until CI's own limit. Here each
// file runs as `node --import tsx --test-reporter=tap --test-force-exit <file>`: it exits once its
// tests have finished even with handles still open; whatever it started and left running is listed and
// killed with its process group; and a file still running after CONVNET_TEST_FILE_TIMEOUT seconds
// (default 600) is killed and counted as a failure naming the test that was running. Node's runner
// has no per-file limit (--test-timeout is per test), hence this small driver.
import { readdirSync, statSync } from 'node:fs';
import { join, relative } from 'node:path';
import { spawn, spawnSync } from 'node:child_process';

const root = new URL('..', import.meta.url).pathname;
const files = [];
(function walk(dir) {
  for (const name of readdirSync(dir).sort()) {
    const p = join(dir, name);
    if (name === 'fixtures' || name === 'node_modules') continue;
    if (statSync(p).isDirectory()) walk(p);
    else if (name.endsWith('.test.ts')) files.push(relative(root, p));
  }
})(join(root, 'test'));
const filters = process.argv.slice(2);
const chosen = filters.length ? files.filter((f) => filters.some((s) => f.includes(s))) : files;
if (chosen.length === 0) { console.error('no test files match', filters); process.exit(1); }

const limitS = Number(process.env.CONVNET_TEST_FILE_TIMEOUT ?? 600);
if (!(limitS > 0)) { console.error(`CONVNET_TEST_FILE_TIMEOUT must be a number of seconds > 0 (got ${process.env.CONVNET_TEST_FILE_TIMEOUT})`); process.exit(2); }

const KEYS = ['tests', 'suites', 'pass', 'fail', 'cancelled', 'skipped', 'todo'];
const total = Object.fromEntries(KEYS.map((k) => [k, 0]));
const summaryLine = new RegExp(`^# (${KEYS.join('|')}|duration_ms) (\\d+(?:\\.\\d+)?)$`);
const testPoint = /^(not ok|ok) \d+(.*)$/;
const out = (s) => process.stdout.write(s);
const durations = [];
let point = 0;
let current = null; // the running file's process (its pid is also its process group)

function killGroup(pid, signal) {
  try { process.kill(-pid, signal); return true; } catch { return false; }
}
function groupAlive(pid) {
  try { process.kill(-pid, 0); return true; } catch { return false; }
}
function leftovers(pid) {
  const r = spawnSync('ps', ['-e', '-o', 'pid=,pgid=,stat=,args='], { encoding: 'utf8' });
  return (r.stdout ?? '').split('\n').map((l) => l.trim().split(/\s+/))
    .filter((f) => f[1] === String(pid) && !f[2]?.startsWith('Z')) // zombies are already gone
    .map(([p, , , ...args]) => `${p} ${args.join(' ').slice(0, 120)}`);
}
function failPoint(name, message) {
  point++;
  total.tests++; total.fail++;
  out(`not ok ${point} - ${name}\n  ---\n  error: ${JSON.stringify(message)}\n  ...\n`);
}
const sleep = (ms) => new Promise((r) => setTimeout(r, ms));

for (const sig of ['SIGINT', 'SIGTERM', 'SIGHUP']) {
  process.on(sig, () => {
    if (current) killGroup(current.pid, 'SIGKILL');
    process.exit(130);
  });
}

async function runFile(file) {
  const t0 = performance.now();
  const child = spawn(process.execPath, ['--import', 'tsx', '--test-reporter=tap', '--test-force-exit', file], {
    cwd: root, detached: true, stdio: ['ignore', 'pipe', 'inherit'], env: { ...process.env, CONVNET_TEST: '1' },
  });
  current = child;
  const counts = Object.fromEntries(KEYS.map((k) => [k, 0]));
  const seen = Object.fromEntries(KEYS.map((k) => [k, 0])); // from the top-level test points, for a file killed before its summary
  let sawSummary = false;
  let running = null; // the last top-level test that started
  let partial = '';
  const onLine = (line) => {
    const s = summaryLine.exec(line);
    if (s) { sawSummary = true; if (s[1] !== 'duration_ms') counts[s[1]] = Number(s[2]); return; }
    if (line === 'TAP version 13' || /^1\.\.\d+$/.test(line)) return;
    const sub = /^# Subtest: (.*)$/.exec(line);
    if (sub) running = sub[1];
    const p = testPoint.exec(line);
    if (p) {
      point++;
      out(`${p[1]} ${point}${p[2]}\n`);
      const kind = p[1] === 'not ok' ? 'fail' : /# SKIP/i.test(p[2]) ? 'skipped' : /# TODO/i.test(p[2]) ? 'todo' : 'pass';
      seen[kind]++; seen.tests++;
      return;
    }
    out(line + '\n');
  };
  child.stdout.setEncoding('utf8');
  child.stdout.on('data', (chunk) => {
    const lines = (partial + chunk).split('\n');
    partial = lines.pop();
    for (const l of lines) onLine(l);
  });
  let timedOut = false;
  const timer = setTimeout(async () => {
    timedOut = true;
    killGroup(child.pid, 'SIGTERM');
    await sleep(5000);
    killGroup(child.pid, 'SIGKILL');
  }, limitS * 1000);
  const [code, signal] = await new Promise((resolve) => child.on('exit', (c, s) => resolve([c, s])));
  clearTimeout(timer);
  // The file's own process has ended; anything left in its group was started by it and not stopped.
  await sleep(100);
  const left = timedOut ? [] : leftovers(child.pid);
  if (groupAlive(child.pid)) {
    killGroup(child.pid, 'SIGTERM');
    for (let i = 0; i < 20 && groupAlive(child.pid); i++) await sleep(100);
    killGroup(child.pid, 'SIGKILL');
  }
  // Its output ends when the last holder of the pipe has gone (a process that left the group may keep it).
  await Promise.race([new Promise((resolve) => (child.stdout.closed ? resolve() : child.stdout.on('close', resolve))), sleep(5000)]);
  child.stdout.destroy();
  if (partial) onLine(partial);
  current = null;
  const seconds = (performance.now() - t0) / 1000;
  const used = sawSummary ? counts : seen;
  for (const k of KEYS) total[k] += used[k];
  if (timedOut) {
    failPoint(file, `killed after ${limitS} s (the per-file limit, CONVNET_TEST_FILE_TIMEOUT)${running ? `; the last test that started: ${running}` : ''}`);
  } else if (code !== 0 && counts.fail === 0 && counts.cancelled === 0) {
    failPoint(file, `the file's process ended with ${signal ? `signal ${signal}` : `exit code ${code}`} and no failed test (an error outside any test, or process.exit); see its stderr above`);
  } else if (!sawSummary) {
    failPoint(file, 'the file ended without the test runner\'s summary (process.exit inside a test?)');
  }
  if (left.length) out(`# ${file}: left ${left.length} process(es) running after its tests ended (killed now): ${left.join(' | ')}\n`);
  durations.push([seconds, file]);
  out(`# ${file}: ${seconds.toFixed(1)} s, ${used.pass} passed, ${used.fail} failed, ${used.skipped} skipped${timedOut ? ', KILLED (time limit)' : ''}\n`);
  return code === 0 && !timedOut && sawSummary;
}

out('TAP version 13\n');
const t0 = performance.now();
let ok = true;
for (const file of chosen) ok = (await runFile(file)) && ok;
if (chosen.length > 1) {
  out('# slowest files:\n');
  for (const [s, f] of durations.sort((a, b) => b[0] - a[0]).slice(0, 12)) out(`#   ${s.toFixed(1).padStart(6)} s  ${f}\n`);
}
out(`1..${point}\n`);
for (const k of KEYS) out(`# ${k} ${total[k]}\n`);
out(`# duration_ms ${(performance.now() - t0).toFixed(3)}\n`);
process.exit(ok && total.fail === 0 && total.cancelled === 0 ? 0 : 1);
