/**
 * Reliability (issue 11 §3): Ctrl-C in `convnet notebook` is recorded as an interruption
 * everywhere. Before: the epoch line said 80/80 after 11 batches, the exit code was 0, run.json
 * said "finished"; after a second Ctrl-C run.json stayed "running" and `convnet report` built a page
 * claiming to follow a live run. Now: the first Ctrl-C stops training after the current batch
 * (fit's AbortSignal), the later steps run on the model so far, run.json says "interrupted" with
 * the epoch, the page says so, and the exit code is 130; a second Ctrl-C writes run.json
 * "interrupted" and exits 130 at once. A run.json left "running" by a killed process reads as
 * interrupted.
 */
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, readFileSync, rmSync, writeFileSync, mkdirSync, existsSync } from 'node:fs';
import { spawn } from 'node:child_process';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { generateBuiltinData } from '../../src/notebook/builtin-data.js';
import { loadRun, renderReport, buildReport } from '../../src/report/index.js';
import { RunLog } from '../../src/report/run-log.js';

const MAIN = new URL('../../src/cli/main.ts', import.meta.url).href;
let root: string, data: string;

before(async () => {
  root = mkdtempSync(join(tmpdir(), 'convnet-int-'));
  data = (await generateBuiltinData(join(root, 'bd'), { perClass: 40, size: 32 })).dataDir;
});
after(() => rmSync(root, { recursive: true, force: true }));

/**
 * Starts `convnet notebook` in a child; sends SIGINT once training has begun and, for `times` 2, a
 * second one once the first has been acknowledged (two signals sent before the child runs again
 * would reach it as one: Linux does not queue a pending SIGINT, which a loaded machine made happen).
 */
function notebookWithCtrlC(out: string, times: number): Promise<{ code: number | null; out: string; ms: number }> {
  return cliWithCtrlC(['notebook', '--data', data, '--out', out, '--epochs', '300', '--batch-size', '4', '--target-size', '16'], /Epoch 3\/300/, times);
}

/** `ms`: from the last SIGINT sent to the exit. */
async function cliWithCtrlC(args: string[], started: RegExp, times: number): Promise<{ code: number | null; out: string; ms: number }> {
  const child = spawn(process.execPath, ['--import', 'tsx', '--input-type=module', '-e',
    `import { main } from ${JSON.stringify(MAIN)}; process.exitCode = await main(process.argv.slice(1));`, ...args],
  { stdio: ['ignore', 'pipe', 'pipe'], env: { ...process.env, CONVNET_THREADS: '1' } });
  let text = '';
  let sent = 0, t0 = 0;
  const onData = (b: Buffer) => {
    text += String(b);
    if (sent === 0 && started.test(text)) {
      sent = 1; t0 = Date.now();
      child.kill('SIGINT');
    } else if (sent === 1 && times > 1 && /stopping after the current batch/.test(text)) {
      sent = 2; t0 = Date.now();
      child.kill('SIGINT');
    }
  };
  child.stdout!.on('data', onData);
  child.stderr!.on('data', onData);
  const killer = setTimeout(() => child.kill('SIGKILL'), 90_000);
  const code: number | null = await new Promise((r) => child.on('exit', (c) => r(c)));
  clearTimeout(killer);
  return { code, out: text, ms: Date.now() - t0 };
}

test('first Ctrl-C: training stops, the notebook finishes on the model so far, everything says interrupted, exit 130', async () => {
  const out = join(root, 'one');
  const r = await notebookWithCtrlC(out, 1);
  assert.equal(r.code, 130, r.out.slice(-2000));
  assert.match(r.out, /stopping after the current batch/);
  assert.match(r.out, /\d+\/16 - [^\n]*interrupted/, `the epoch line shows the batches done and says interrupted:\n${r.out.slice(-1500)}`);
  assert.doesNotMatch(r.out, /Epoch 300\/300/);
  const run = JSON.parse(readFileSync(join(out, 'run.json'), 'utf8'));
  assert.equal(run.status, 'interrupted');
  assert.match(run.error, /training stopped by Ctrl-C in epoch \d+ of 300/);
  assert.ok(existsSync(join(out, 'cnn-dogs-cats.keras')), 'the later steps ran on the model so far');
  const html = readFileSync(join(out, 'index.html'), 'utf8');
  assert.match(html, /class="status interrupted"><strong>Interrupted<\/strong>: training stopped by Ctrl-C in epoch \d+ of 300; [^<]*\. What the run did until then is below\./);
  assert.doesNotMatch(html, /follows the run live/);
  const history = JSON.parse(readFileSync(join(out, 'history.json'), 'utf8'));
  assert.ok(history.epochs >= 3 && history.epochs < 300);
});

test('second Ctrl-C: run.json says interrupted and the process exits 130 at once', async () => {
  const out = join(root, 'two');
  const r = await notebookWithCtrlC(out, 2);
  assert.equal(r.code, 130, r.out.slice(-2000));
  assert.match(r.out, /interrupted twice; exiting now/);
  assert.ok(r.ms < 5000, `exited ${r.ms} ms after the second Ctrl-C`);
  const run = JSON.parse(readFileSync(join(out, 'run.json'), 'utf8'));
  assert.equal(run.status, 'interrupted');
  assert.match(run.error, /second Ctrl-C/);
  const html = readFileSync(buildReport(out), 'utf8');
  assert.match(html, /Interrupted/);
  assert.doesNotMatch(html, /follows the run live|still going/);
});

test('a run.json left "running" by a process that is gone reads as interrupted; a live one stays running', () => {
  const dir = join(root, 'killed');
  mkdirSync(dir);
  const log = new RunLog(dir, { kind: 'notebook', title: 't', lang: 'en' });
  log.add({ type: 'text', title: 'x', text: 'y' });
  assert.equal(loadRun(dir).manifest.status, 'running', 'this process is alive');
  assert.match(renderReport({ ...loadRun(dir), live: false }), /still going when this page was built/);
  const m = JSON.parse(readFileSync(join(dir, 'run.json'), 'utf8'));
  m.pid = 2 ** 22 + 12345; // above Linux's pid_max: no such process
  writeFileSync(join(dir, 'run.json'), JSON.stringify(m));
  const input = loadRun(dir);
  assert.equal(input.manifest.status, 'interrupted');
  assert.match(input.manifest.error!, /process \(pid \d+\) ended before the run finished/);
  assert.doesNotMatch(renderReport({ ...input, live: false }), /follows the run live/);
  assert.equal(RunLog.markInterrupted(dir, 'by hand'), true);
  assert.equal(JSON.parse(readFileSync(join(dir, 'run.json'), 'utf8')).status, 'interrupted');
  assert.equal(RunLog.markInterrupted(dir, 'again'), false, 'only a running run changes');
});

test('convnet sweep: Ctrl-C once or twice records run.json as interrupted and exits 130', async () => {
  writeFileSync(join(root, 'space.json'), JSON.stringify({ filters: [8, 16], convBlocks: [2] }));
  for (const times of [1, 2]) {
    const out = join(root, `sweep${times}`);
    const r = await cliWithCtrlC(['sweep', data, '--epochs', '300', '--space', join(root, 'space.json'), '--strategy', 'grid',
      '--target-size', '16', '--out', out], /(ms\/step[^]*){3}/, times);
    assert.equal(r.code, 130, r.out.slice(-2000));
    const run = JSON.parse(readFileSync(join(out, 'run.json'), 'utf8'));
    assert.equal(run.status, 'interrupted', `Ctrl-C x${times}`);
    assert.match(run.error, /rerun the same command to resume/);
  }
});
