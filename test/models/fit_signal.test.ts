/**
 * fit's stop contract: an AbortSignal stops after the current batch ('interrupted'), a callback's
 * stopTraining gives 'early_stopping', NaN/inf in the loss, a gradient or a weight gives
 * 'non_finite' with the weights and optimizer state from before that batch.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { tensor, setSeed, type Tensor } from '../../src/tensor/index.js';
import { sqrt } from '../../src/ops/index.js';
import { layers, clearSession, Layer } from '../../src/layers/index.js';
import { optimizers } from '../../src/optimizers/index.js';
import { Sequential, ProgbarLogger, Callback } from '../../src/models/index.js';
import { squaresTask } from './helpers.js';

function tiny(): Sequential {
  clearSession();
  return new Sequential([new layers.Flatten({ inputShape: [8, 8, 1] }), new layers.Dense(4, { activation: 'relu' }), new layers.Dense(1, { activation: 'sigmoid' })]);
}

function quietErr<T>(fn: () => Promise<T>): Promise<{ value: T; err: string }> {
  const orig = process.stderr.write;
  let err = '';
  (process.stderr as any).write = (s: string) => { err += s; return true; };
  return fn().then((value) => ({ value, err })).finally(() => { (process.stderr as any).write = orig; });
}

test('an aborted signal stops fit after the current batch, skips validation, runs onTrainEnd; the line shows 3/10 and says interrupted', async () => {
  setSeed(1);
  const { x, y } = squaresTask(80, 8, 3);
  const m = tiny();
  m.compile({ optimizer: 'adam', loss: 'binary_crossentropy', metrics: ['accuracy'] });
  const ac = new AbortController();
  const out: string[] = [];
  const events: string[] = [];
  let batches = 0;
  const spy = new (class extends Callback {
    async onTrainBatchEnd(): Promise<void> { batches++; if (batches === 3) ac.abort(); }
    async onTestBegin(): Promise<void> { events.push('test'); }
    async onTrainEnd(): Promise<void> { events.push('trainEnd'); }
  })();
  const h = await m.fit({ x, y, batchSize: 8, validationSplit: 0 }, {
    epochs: 4, signal: ac.signal, validationData: [x.sliceBatch(0, 16), y.sliceBatch(0, 16)],
    callbacks: [new ProgbarLogger(2, (s) => out.push(s), false), spy],
  });
  assert.equal(batches, 3);
  assert.equal(h.stopReason, 'interrupted');
  assert.equal(m.interrupted, true);
  assert.deepEqual(events, ['trainEnd']);
  assert.deepEqual(h.epoch, [0]);
  assert.equal(h.history.val_loss, undefined);
  const last = out.filter((l) => /\//.test(l)).pop()!;
  assert.match(last, /^ 3\/10 - .* - interrupted\n$/);

  // Already aborted: no batch runs. A fresh fit without a signal completes and clears `interrupted`.
  batches = 0;
  const h2 = await m.fit(x, y, { epochs: 2, batchSize: 8, verbose: 0, signal: AbortSignal.abort(), callbacks: [spy] });
  assert.equal(batches, 0);
  assert.equal(h2.stopReason, 'interrupted');
  const h3 = await m.fit(x, y, { epochs: 2, batchSize: 8, verbose: 0 });
  assert.equal(h3.stopReason, 'completed');
  assert.equal(m.interrupted, false);
  await assert.rejects(m.fit(x, y, { signal: {} as AbortSignal }), /signal must be an AbortSignal/);
  await assert.rejects(m.fit(x, y, { signal: 'stop' as unknown as AbortSignal }), /signal must be an AbortSignal/);
  // No SIGINT listener is left behind by the library.
  assert.equal(process.listenerCount('SIGINT'), 0);
});

test('stopTraining from a callback gives stopReason early_stopping', async () => {
  setSeed(2);
  const { x, y } = squaresTask(32, 8, 4);
  const m = tiny();
  m.compile({ optimizer: 'sgd', loss: 'binary_crossentropy' });
  const h = await m.fit(x, y, { epochs: 5, batchSize: 8, verbose: 0, callbacks: [{ onEpochEnd: (e: number) => { if (e === 1) m.stopTraining = true; } }] });
  assert.equal(h.stopReason, 'early_stopping');
  assert.deepEqual(h.epoch, [0, 1]);
  assert.equal(m.interrupted, false);
});

test('a weight that overflows to inf restores the weights and optimizer state from before that batch (non_finite)', async () => {
  setSeed(3);
  clearSession();
  const m = new Sequential([new layers.Dense(1, { inputShape: [2] })]);
  // A finite loss and finite gradients, but a step so large the float32 weights overflow.
  m.compile({ optimizer: new optimizers.SGD({ learningRate: 1e36 }), loss: 'mse' });
  const x = tensor([[1, 2], [3, 4], [1e3, 1e3], [1, 1]]), y = tensor([[1], [2], [3], [4]]);
  m.build([null, 2]);
  const before = m.getWeights().map((w) => w.dataSync());
  const iterBefore = m.optimizer!.iterations;
  const { value: h, err } = await quietErr(() => m.fit({ x, y, batchSize: 4, shuffle: false }, { epochs: 3, verbose: 0 }));
  assert.equal(h.stopReason, 'non_finite');
  assert.match(err, /weight "dense\/(kernel|bias)" became (infinite|NaN) at epoch 1, batch 1 of 1; training stopped with the weights from before that batch/);
  assert.deepEqual(m.getWeights().map((w) => w.dataSync()), before);
  assert.equal(m.optimizer!.iterations, iterBefore);
  assert.equal(h.epoch.length, 1);
});

/** sqrt(x): finite at 0, but its gradient there is infinite. */
class Sqrt extends Layer {
  static readonly className = 'SqrtForTest';
  call(x: Tensor): Tensor { return sqrt(x); }
}

test('an infinite gradient with a finite loss stops before the update; Adam state stays as it was', async () => {
  setSeed(4);
  clearSession();
  const m = new Sequential([new layers.Dense(1, { inputShape: [2], activation: 'relu' }), new Sqrt()]);
  m.compile({ optimizer: 'adam', loss: 'mse' });
  const x = tensor([[1, 2], [3, 4]]), y = tensor([[1], [2]]);
  m.setWeights([tensor([[0.5], [0.25]]), tensor([0.1])]);
  await m.fit(x, y, { epochs: 1, batchSize: 2, verbose: 0 });
  // Weights that make the Dense output exactly 0: sqrt(0) = 0 is finite, d sqrt/dz = inf.
  m.setWeights([tensor([[0], [0]]), tensor([0])]);
  const w0 = m.getWeights().map((w) => w.dataSync());
  const state = m.optimizer!.variables().map((v) => v.value.dataSync());
  const { value: h, err } = await quietErr(() => m.fit(x, y, { epochs: 2, batchSize: 2, verbose: 0, shuffle: false }));
  assert.equal(h.stopReason, 'non_finite');
  assert.match(err, /the gradient of "dense\/(kernel|bias)" became (NaN|infinite) at epoch 1, batch 1 of 1/);
  assert.deepEqual(m.getWeights().map((w) => w.dataSync()), w0);
  assert.deepEqual(m.optimizer!.variables().map((v) => v.value.dataSync()), state);
});
