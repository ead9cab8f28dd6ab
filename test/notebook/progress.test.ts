// The progress display off a terminal: one line per epoch as Keras, plus a progress line (step, ETA,
// running metrics) at most every logInterval seconds while a long epoch runs.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { Progbar } from '../../src/models/progbar.js';
import { ProgbarLogger } from '../../src/models/callbacks.js';

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

test('verbose 2 off a terminal: a progress line at most every logInterval, then the epoch line', async () => {
  const out: string[] = [];
  const bar = new Progbar(50, { verbose: 2, isTTY: false, write: (s) => out.push(s), logInterval: 0.08 });
  const t0 = performance.now();
  for (let i = 1; i <= 50; i++) {
    bar.update(i, [['accuracy', 0.5 + i / 200], ['loss', 1 / i]]);
    await sleep(i < 50 ? 5 : 0);
  }
  const elapsed = (performance.now() - t0) / 1000;
  const lines = out.join('').split('\n').filter(Boolean);
  const progress = lines.filter((l) => /ETA/.test(l));
  // At least 250 ms of steps at one line per 80 ms at most: a few lines, never one per step.
  assert.ok(progress.length >= 1 && progress.length <= Math.floor(elapsed / 0.08), `${progress.length} progress lines in ${elapsed.toFixed(2)} s\n${lines.join('\n')}`);
  for (const l of progress) assert.match(l, /^\d{1,2}\/50 - ETA: \d+s - \d+ms\/step - accuracy: 0\.\d{4} - loss: \d\.\d{4}$/);
  // Steps go forward.
  const steps = progress.map((l) => Number(l.split('/')[0]));
  assert.deepEqual(steps, [...steps].sort((a, b) => a - b));
  assert.match(lines[lines.length - 1], /^50\/50 - \d+s - \d+ms\/step - accuracy: 0\.7500 - loss: 0\.0200$/);
});

test('the default interval is 30 s: a short epoch off a terminal prints its one line only', async () => {
  const out: string[] = [];
  const bar = new Progbar(20, { verbose: 2, isTTY: false, write: (s) => out.push(s) });
  for (let i = 1; i <= 20; i++) bar.update(i, [['loss', 0.5]]);
  assert.equal(out.length, 1);
  assert.match(out[0], /^20\/20 - \d+s - /);
});

test('on a terminal, verbose 2 keeps Keras\'s single line per epoch; verbose 1 keeps the live bar', async () => {
  const out: string[] = [];
  const bar = new Progbar(30, { verbose: 2, isTTY: true, write: (s) => out.push(s), logInterval: 0.01 });
  for (let i = 1; i <= 30; i++) { bar.update(i, [['loss', 0.5]]); await sleep(1); }
  assert.equal(out.length, 1);
  const live: string[] = [];
  const b1 = new Progbar(3, { verbose: 1, isTTY: true, write: (s) => live.push(s), interval: 0 });
  for (let i = 1; i <= 3; i++) b1.update(i, [['loss', 0.5]]);
  assert.ok(live.every((s) => s.startsWith('\r')), 'redrawn in place');
  assert.match(live.join(''), /━/);
});

test('ProgbarLogger feeds every batch to the bar, so fit logs progress inside long epochs', async () => {
  const out: string[] = [];
  const logger = new ProgbarLogger(2, (s) => out.push(s), false);
  logger.params = { epochs: 1, steps: 40, verbose: 2 };
  await logger.onTrainBegin();
  await logger.onEpochBegin(0);
  // The logger's bar uses the 30 s default; reach in to shorten it for the test.
  (logger as unknown as { bar: { logInterval: number } }).bar.logInterval = 0.03;
  for (let b = 0; b < 40; b++) { await logger.onTrainBatchEnd(b, { loss: 0.3 }); await sleep(3); }
  await logger.onEpochEnd(0, { loss: 0.3, val_loss: 0.4 });
  const text = out.join('');
  assert.match(text, /\/40 - ETA: /);
  assert.match(text, /40\/40 - \d+s - .* - val_loss: 0\.4000\n$/);
});
