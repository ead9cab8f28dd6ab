// The progress display off a terminal: one line per epoch as Keras, plus a progress line (step, ETA,
// running metrics) at most every logInterval seconds while a long epoch runs.
// Time comes from a fake clock (the bar's `now` option), so the lines are exact whatever the machine's load.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { Progbar } from '../../src/models/progbar.js';
import { ProgbarLogger } from '../../src/models/callbacks.js';

/** A clock in milliseconds that moves only when told to. */
function fakeClock(startMs = 1000) {
  let t = startMs;
  return { now: () => t, advance: (ms: number) => { t += ms; } };
}

test('verbose 2 off a terminal: a progress line at most every logInterval, then the epoch line', () => {
  const out: string[] = [];
  const clock = fakeClock();
  const bar = new Progbar(50, { verbose: 2, isTTY: false, write: (s) => out.push(s), logInterval: 0.05, now: clock.now });
  for (let i = 1; i <= 50; i++) {
    clock.advance(7);
    bar.update(i, [['accuracy', 0.5 + i / 200], ['loss', 1 / i]]);
  }
  const lines = out.join('').split('\n').filter(Boolean);
  // 7 ms a step, a line once 50 ms have passed since the last one: steps 8, 16, ..., 48.
  const progress = lines.filter((l) => /ETA/.test(l));
  assert.deepEqual(progress.map((l) => Number(l.split('/')[0])), [8, 16, 24, 32, 40, 48], lines.join('\n'));
  for (const l of progress) assert.match(l, /^[ \d]\d\/50 - ETA: 0s - 7ms\/step - accuracy: 0\.\d{4} - loss: \d\.\d{4}$/);
  assert.equal(progress[0], ' 8/50 - ETA: 0s - 7ms/step - accuracy: 0.5400 - loss: 0.1250');
  assert.equal(lines[lines.length - 1], '50/50 - 0s - 7ms/step - accuracy: 0.7500 - loss: 0.0200');
  assert.equal(lines.length, 7);
});

test('the default interval is 30 s: a short epoch off a terminal prints its one line only', () => {
  const out: string[] = [];
  const clock = fakeClock();
  const bar = new Progbar(20, { verbose: 2, isTTY: false, write: (s) => out.push(s), now: clock.now });
  for (let i = 1; i <= 20; i++) { clock.advance(100); bar.update(i, [['loss', 0.5]]); }
  assert.deepEqual(out, ['20/20 - 2s - 100ms/step - loss: 0.5000\n']);
});

test('the default interval is 30 s: a long epoch off a terminal shows a line after 30 s, with its ETA', () => {
  const out: string[] = [];
  const clock = fakeClock(0);
  const bar = new Progbar(76, { verbose: 2, isTTY: false, write: (s) => out.push(s), now: clock.now });
  for (let i = 1; i <= 76; i++) { clock.advance(455); bar.update(i, [['loss', 0.6724]]); }
  // 455 ms a step: 30 s are reached at step 66 (30.03 s), 10 steps (4.55 s) before the end.
  assert.deepEqual(out, ['66/76 - ETA: 4s - 455ms/step - loss: 0.6724\n', '76/76 - 35s - 455ms/step - loss: 0.6724\n']);
});

test('on a terminal, verbose 2 keeps Keras\'s single line per epoch; verbose 1 keeps the live bar', () => {
  const out: string[] = [];
  const clock = fakeClock();
  const bar = new Progbar(30, { verbose: 2, isTTY: true, write: (s) => out.push(s), logInterval: 0.01, now: clock.now });
  for (let i = 1; i <= 30; i++) { clock.advance(20); bar.update(i, [['loss', 0.5]]); }
  assert.equal(out.length, 1);
  const live: string[] = [];
  const b1 = new Progbar(3, { verbose: 1, isTTY: true, write: (s) => live.push(s), interval: 0, now: clock.now });
  for (let i = 1; i <= 3; i++) { clock.advance(20); b1.update(i, [['loss', 0.5]]); }
  assert.equal(live.length, 3);
  assert.ok(live.every((s) => s.startsWith('\r')), 'redrawn in place');
  assert.match(live.join(''), /━/);
});

test('ProgbarLogger feeds every batch to the bar, so fit logs progress inside long epochs', async () => {
  const out: string[] = [];
  const clock = fakeClock();
  const logger = new ProgbarLogger(2, (s) => out.push(s), false, clock.now);
  logger.params = { epochs: 1, steps: 40, verbose: 2 };
  await logger.onTrainBegin();
  await logger.onEpochBegin(0);
  // The logger's bar uses the 30 s default: one second a batch gives a line at batch 30.
  for (let b = 0; b < 40; b++) { clock.advance(1000); await logger.onTrainBatchEnd(b, { loss: 0.3 }); }
  await logger.onEpochEnd(0, { loss: 0.3, val_loss: 0.4 });
  assert.equal(out.join(''), '30/40 - ETA: 10s - 1s/step - loss: 0.3000\n40/40 - 40s - 1s/step - loss: 0.3000 - val_loss: 0.4000\n');
});
