/**
 * Reliability (issue 11 §1, end to end): one NaN pixel in a batch. Before, relu(NaN) = 0 hid it:
 * every conv weight became NaN while the reported loss stayed finite, the "loss became NaN" stop
 * never fired, and ModelCheckpoint saved the broken weights. Now the NaN reaches the loss, fit stops
 * with stopReason 'non_finite' and the weights from before that batch, and nothing broken is saved.
 * Also: Ctrl-C's ModelCheckpoint rescue ("interrupted: saving the model") still works with the
 * AbortSignal.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, existsSync, rmSync, readdirSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { tensor, setSeed, Rng } from '../../src/tensor/index.js';
import { layers, clearSession } from '../../src/layers/index.js';
import { Sequential, ModelCheckpoint, Callback } from '../../src/models/index.js';
import { loadModel } from '../../src/io/models/index.js';

function cnn(): Sequential {
  clearSession();
  return new Sequential([
    new layers.Conv2D(4, [3, 3], { activation: 'relu', padding: 'same', inputShape: [8, 8, 1] }),
    new layers.MaxPooling2D([2, 2]),
    new layers.Flatten(),
    new layers.Dense(1, { activation: 'sigmoid' }),
  ]);
}

function data(nanAt: number | null): { x: ReturnType<typeof tensor>; y: ReturnType<typeof tensor> } {
  const r = new Rng(3);
  const xs = new Float32Array(32 * 64).map(() => r.uniform(0, 1));
  if (nanAt !== null) xs[nanAt * 64 + 27] = NaN; // one pixel of one image
  const ys = new Float32Array(32).map((_, i) => i & 1);
  return { x: tensor(xs, [32, 8, 8, 1]), y: tensor(ys, [32, 1]) };
}

function allFinite(m: { getWeights(): { dataSync(): ArrayLike<number> }[] }): boolean {
  return m.getWeights().every((w) => Array.from(w.dataSync()).every(Number.isFinite));
}

async function quiet<T>(fn: () => Promise<T>): Promise<{ value: T; err: string }> {
  const orig = process.stderr.write;
  let err = '';
  (process.stderr as any).write = (s: string) => { err += s; return true; };
  try { return { value: await fn(), err }; } finally { process.stderr.write = orig; }
}

test('one NaN pixel: the loss says NaN, fit stops with the weights from before that batch, the checkpoint holds finite weights', async () => {
  setSeed(1);
  const d = mkdtempSync(join(tmpdir(), 'convnet-nan-'));
  const m = cnn();
  m.compile({ optimizer: 'adam', loss: 'binary_crossentropy', metrics: ['accuracy'] });
  const { x, y } = data(12); // image 12: in the second batch of 8
  const ck = new ModelCheckpoint(join(d, 'ck-{epoch}.keras'), { monitor: 'loss' });
  const best = new ModelCheckpoint(join(d, 'best.keras'), { monitor: 'loss', saveBestOnly: true });
  const { value: h, err } = await quiet(() => m.fit(x, y, { epochs: 3, batchSize: 8, shuffle: false, verbose: 0, callbacks: [ck, best] }));
  assert.equal(h.stopReason, 'non_finite');
  // The loss itself is NaN (relu passes NaN on), not only a gradient: with relu(NaN) = 0 the loss stayed finite.
  assert.match(err, /the loss became NaN at epoch 1, batch 2 of 4/);
  assert.ok(Number.isNaN(h.history.loss[0]), 'the epoch\'s loss is reported as NaN, not 0.69');
  assert.equal(h.epoch.length, 1, 'no second epoch');
  assert.ok(allFinite(m), 'weights restored to before the NaN batch');
  for (const f of readdirSync(d)) assert.ok(allFinite(await loadModel(join(d, f))), `${f} holds finite weights`);
  assert.ok(!existsSync(join(d, 'best.keras')), 'a NaN loss is never "best"');
  rmSync(d, { recursive: true });
});

test('the same data without the NaN trains normally (the test above fails for the NaN, not the setup)', async () => {
  setSeed(1);
  const m = cnn();
  m.compile({ optimizer: 'adam', loss: 'binary_crossentropy' });
  const { x, y } = data(null);
  const { value: h } = await quiet(() => m.fit(x, y, { epochs: 2, batchSize: 8, shuffle: false, verbose: 0 }));
  assert.equal(h.stopReason, 'completed');
  assert.ok(h.history.loss.every(Number.isFinite));
});

test('Ctrl-C (the signal) with ModelCheckpoint(saveBestOnly) and nothing saved yet: "interrupted: saving the model"', async () => {
  setSeed(1);
  const d = mkdtempSync(join(tmpdir(), 'convnet-int-ck-'));
  const m = cnn();
  m.compile({ optimizer: 'adam', loss: 'binary_crossentropy' });
  const { x, y } = data(null);
  const ac = new AbortController();
  let n = 0;
  const stopper = new (class extends Callback { async onTrainBatchEnd(): Promise<void> { if (++n === 2) ac.abort(); } })();
  const ck = new ModelCheckpoint(join(d, 'model.keras'), { monitor: 'val_loss', saveBestOnly: true });
  const { value: h, err } = await quiet(() => m.fit(x, y, { epochs: 5, batchSize: 8, validationSplit: 0.25, verbose: 0, callbacks: [stopper, ck], signal: ac.signal }));
  assert.equal(h.stopReason, 'interrupted');
  assert.equal(m.interrupted, true);
  assert.match(err, /interrupted: saving the model to .*model\.keras/);
  assert.ok(existsSync(join(d, 'model.keras')));
  assert.ok(allFinite(await loadModel(join(d, 'model.keras'))));
  rmSync(d, { recursive: true });
});
