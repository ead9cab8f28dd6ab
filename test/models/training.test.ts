import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, readFileSync, existsSync, readdirSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { tensor, setSeed, heap, type Tensor } from '../../src/tensor/index.js';
import { layers, clearSession } from '../../src/layers/index.js';
import { optimizers } from '../../src/optimizers/index.js';
import {
  Sequential, EarlyStopping, ModelCheckpoint, CSVLogger, TerminateOnNaN, ReduceLROnPlateau, LearningRateScheduler, Callback, Progbar, ProgbarLogger,
} from '../../src/models/index.js';
import { squaresTask } from './helpers.js';

function smallCnn(size: number): Sequential {
  clearSession();
  return new Sequential([
    new layers.Conv2D(8, [3, 3], { activation: 'relu', inputShape: [size, size, 1] }),
    new layers.MaxPooling2D([2, 2]),
    new layers.Conv2D(8, [3, 3], { activation: 'relu' }),
    new layers.GlobalMaxPooling2D(),
    new layers.Dense(1, { activation: 'sigmoid' }),
  ]);
}


test('a generated image task (bright versus dark squares) reaches >= 95% validation accuracy in a few epochs', async () => {
  setSeed(1);
  const { x, y } = squaresTask(600, 16, 11);
  const model = smallCnn(16);
  model.compile({ optimizer: new optimizers.Adam({ learningRate: 0.01 }), loss: 'binary_crossentropy', metrics: ['accuracy'] });
  const h = await model.fit({ x, y, batchSize: 32, validationSplit: 0.25 }, { epochs: 4, verbose: 0 });
  assert.deepEqual(Object.keys(h.history), ['accuracy', 'loss', 'val_accuracy', 'val_loss']);
  assert.equal(h.history.loss.length, 4);
  const acc = h.history.val_accuracy[h.history.val_accuracy.length - 1];
  assert.ok(acc >= 0.95, `val_accuracy ${acc}`);
  const p = await model.predict(x, { verbose: 0, batchSize: 64 });
  assert.deepEqual(p.shape, [600, 1]);
  const ev = await model.evaluate(x, y, { verbose: 0 }) as number[];
  assert.equal(ev.length, 2);
  assert.ok(ev[1] >= 0.95);
});

test('setSeed makes two runs identical: weights, predictions and history', async () => {
  const run = async () => {
    setSeed(42);
    const { x, y } = squaresTask(96, 12, 3);
    const m = new Sequential([
      new layers.Conv2D(4, 3, { activation: 'relu', inputShape: [12, 12, 1] }), new layers.Flatten(),
      new layers.Dropout(0.3), new layers.Dense(1, { activation: 'sigmoid' }),
    ]);
    m.compile({ optimizer: 'adam', loss: 'binary_crossentropy', metrics: ['accuracy'] });
    const h = await m.fit({ x, y, batchSize: 16, shuffle: true }, { epochs: 2, verbose: 0 });
    return { h: h.history, w: m.getWeights().map((t) => Array.from(t.dataSync())), p: Array.from((await m.predict(x, { verbose: 0 })).dataSync()) };
  };
  const a = await run(), b = await run();
  assert.deepEqual(a, b);
});

test('a training step frees its intermediates: the heap does not grow over steps', async () => {
  setSeed(0);
  const { x, y } = squaresTask(64, 12, 5);
  const m = smallCnn(12);
  m.compile({ optimizer: 'adam', loss: 'binary_crossentropy', metrics: ['accuracy'] });
  m.trainOnBatch(x, y);
  const live = heap().liveBlocks;
  for (let i = 0; i < 5; i++) m.trainOnBatch(x, y);
  assert.equal(heap().liveBlocks, live);
});

test('bad input: fit before compile, no labels, wrong label shape, loss that does not fit the output, wrong input shape', async () => {
  const x = tensor(new Float32Array(4 * 8 * 8), [4, 8, 8, 1]);
  const m = smallCnn(8);
  await assert.rejects(m.fit({ x, y: tensor([0, 1, 0, 1]) }, { verbose: 0 }), /not compiled; call model.compile/);
  m.compile({ optimizer: 'adam', loss: 'binary_crossentropy' });
  await assert.rejects(m.fit({ x, y: tensor(new Float32Array(8), [4, 2]) }, { verbose: 0 }), /labels of shape \(4, 2\) do not fit predictions of shape \(None, 1\)/);
  await assert.rejects(m.fit({ x }, { verbose: 0 }), /no labels/);
  await assert.rejects(m.fit({ x: tensor(new Float32Array(4 * 9 * 9), [4, 9, 9, 1]), y: tensor([0, 1, 0, 1]) }, { verbose: 0 }), /expects input of shape \(None, 8, 8, 1\), got \(4, 9, 9, 1\)/);
  assert.throws(() => m.compile({ optimizer: 'adam', loss: 'categorical_crossentropy' }), /needs one output per class.*use binary_crossentropy/);
  assert.throws(() => m.compile({ optimizer: 'adamx', loss: 'mse' }), /unknown optimizer "adamx"/);
  assert.throws(() => m.compile({ optimizer: 'adam', loss: 'cross' }), /unknown loss "cross"/);
  const m3 = new Sequential([new layers.Dense(3, { activation: 'softmax', inputShape: [5] })]);
  m3.compile({ optimizer: 'sgd', loss: 'categorical_crossentropy' });
  await assert.rejects(m3.fit({ x: tensor(new Float32Array(10), [2, 5]), y: tensor([0, 2]) }, { verbose: 0 }), /integer class labels need loss sparse_categorical_crossentropy/);
  m3.compile({ optimizer: 'sgd', loss: 'sparse_categorical_crossentropy', metrics: ['accuracy'] });
  await assert.rejects(m3.fit({ x: tensor(new Float32Array(10), [2, 5]), y: tensor([0, 3]) }, { verbose: 0 }), /label 3 is not a class index in \[0, 3\)/);
  const h = await m3.fit({ x: tensor(new Float32Array(10), [2, 5]), y: tensor([0, 2]) }, { verbose: 0 });
  assert.ok(Number.isFinite(h.history.loss[0]));
});

test('losses and metrics: categorical, sparse, mse, huber; precision, recall, auc', async () => {
  setSeed(3);
  const m = new Sequential([new layers.Dense(3, { activation: 'softmax', inputShape: [4] })]);
  const x = tensor(new Float32Array(24).map((_, i) => (i % 5) / 5), [6, 4]);
  m.compile({ optimizer: 'adam', loss: 'categorical_crossentropy', metrics: ['accuracy'] });
  const yc = tensor([[1, 0, 0], [0, 1, 0], [0, 0, 1], [1, 0, 0], [0, 1, 0], [0, 0, 1]]);
  const l1 = await m.evaluate(x, yc, { verbose: 0 }) as number[];
  m.compile({ optimizer: 'adam', loss: 'sparse_categorical_crossentropy', metrics: ['accuracy'] });
  const l2 = await m.evaluate(x, tensor([0, 1, 2, 0, 1, 2]), { verbose: 0 }) as number[];
  assert.ok(Math.abs(l1[0] - l2[0]) < 1e-6 && l1[1] === l2[1]);
  const p = m.predictOnBatch(x).dataSync();
  let ce = 0;
  for (let i = 0; i < 6; i++) ce -= Math.log(p[i * 3 + (i % 3)]);
  assert.ok(Math.abs(l1[0] - ce / 6) < 1e-5);

  const r = new Sequential([new layers.Dense(1, { inputShape: [2], kernelInitializer: 'ones', biasInitializer: 'zeros' })]);
  r.compile({ optimizer: 'sgd', loss: 'huber', metrics: ['mae', 'mse'] });
  const d = await r.evaluate(tensor([[0, 0], [1, 2]]), tensor([[0.5], [0]]), { verbose: 0, returnDict: true }) as Record<string, number>;
  // errors: -0.5 and 3 -> huber (0.125 + 2.5) / 2, mae 1.75, mse 4.625
  assert.ok(Math.abs(d.loss - 1.3125) < 1e-6 && Math.abs(d.mae - 1.75) < 1e-6 && Math.abs(d.mse - 4.625) < 1e-6);

  const b = new Sequential([new layers.Activation('linear', { inputShape: [1] })]);
  b.compile({ optimizer: 'sgd', loss: 'mse', metrics: ['precision', 'recall', 'auc', 'accuracy'] });
  const res = await b.evaluate(tensor([[0.9], [0.8], [0.3], [0.6], [0.1]]), tensor([1, 0, 1, 1, 0]), { verbose: 0, returnDict: true }) as Record<string, number>;
  assert.ok(Math.abs(res.precision - 2 / 3) < 1e-9 && Math.abs(res.recall - 2 / 3) < 1e-9 && Math.abs(res.accuracy - 0.6) < 1e-9);
  // AUC: positives 0.9, 0.3, 0.6 vs negatives 0.8, 0.1: 4 of 6 pairs ordered.
  assert.ok(Math.abs(res.auc - 4 / 6) < 0.01, `auc ${res.auc}`);
});

test('progress display: "Epoch i/N" and one Keras line per epoch when output is not a terminal', async () => {
  setSeed(5);
  const { x, y } = squaresTask(40, 8, 9);
  const m = smallCnn(8);
  m.compile({ optimizer: 'adam', loss: 'binary_crossentropy', metrics: ['accuracy'] });
  let out = '';
  await m.fit({ x, y, batchSize: 10, validationSplit: 0.5 }, { epochs: 2, verbose: 0, callbacks: [new ProgbarLogger(2, (s) => { out += s; })] });
  assert.match(out, /^Epoch 1\/2\n2\/2 - \d+s - \d+m?s\/step - accuracy: \d\.\d{4} - loss: \d\.\d{4} - val_accuracy: \d\.\d{4} - val_loss: \d\.\d{4}\nEpoch 2\/2\n2\/2 - /);
  // The live bar on a terminal.
  let live = '';
  const bar = new Progbar(76, { write: (s) => { live += s; }, isTTY: true });
  bar.update(76, [['accuracy', 0.5562], ['loss', 0.6724]], true);
  assert.match(live, /^\r\x1b\[1m76\/76\x1b\[0m \x1b\[32m━{20}\x1b\[0m\x1b\[37m\x1b\[0m \x1b\[1m0s\x1b\[0m \d+us\/step - accuracy: 0\.5562 - loss: 0\.6724\n$/);
});

test('callbacks: EarlyStopping restores the best weights, CSVLogger, LearningRateScheduler, ReduceLROnPlateau, user hooks', async () => {
  setSeed(8);
  const { x, y } = squaresTask(48, 8, 4);
  const m = smallCnn(8);
  m.compile({ optimizer: new optimizers.SGD({ learningRate: 0.05 }), loss: 'binary_crossentropy', metrics: ['accuracy'] });
  const dir = mkdtempSync(join(tmpdir(), 'convnet-cb-'));
  const seen: string[] = [];
  class Spy extends Callback {
    async onTrainBegin() { seen.push('train_begin'); }
    async onEpochEnd(e: number, logs: Record<string, number> = {}) { seen.push(`epoch_${e}:${'val_loss' in logs}`); }
    async onTrainEnd() { seen.push('train_end'); }
  }
  let batches = 0;
  const es = new EarlyStopping({ monitor: 'val_loss', patience: 0, minDelta: 10, restoreBestWeights: true });
  const h = await m.fit({ x, y, batchSize: 16, validationSplit: 0.25 }, {
    epochs: 5, verbose: 0,
    callbacks: [es, new LearningRateScheduler((e) => 0.1 / (e + 1)), new CSVLogger(join(dir, 'log.csv')), new Spy(),
      { onTrainBatchEnd: () => { batches++; } }],
  });
  // minDelta 10: nothing counts as an improvement after epoch 1, so training stops at epoch 2.
  assert.equal(h.epoch.length, 2);
  assert.deepEqual(seen, ['train_begin', 'epoch_0:true', 'epoch_1:true', 'train_end']);
  assert.equal(batches, 2 * 3);
  const csv = readFileSync(join(dir, 'log.csv'), 'utf8').trim().split('\n');
  assert.equal(csv[0], 'epoch,accuracy,learning_rate,loss,val_accuracy,val_loss');
  assert.equal(csv.length, 3);
  assert.ok(Math.abs(m.optimizer!.learningRate - 0.05) < 1e-9);

  const r = new ReduceLROnPlateau({ monitor: 'loss', patience: 1, factor: 0.5, minDelta: 100 });
  m.compile({ optimizer: new optimizers.Adam({ learningRate: 0.01 }), loss: 'binary_crossentropy' });
  await m.fit({ x, y, batchSize: 16 }, { epochs: 3, verbose: 0, callbacks: [r] });
  assert.ok(Math.abs(m.optimizer!.learningRate - 0.0025) < 1e-9, `lr ${m.optimizer!.learningRate}`);
});

test('a NaN loss stops training with a message naming the epoch and batch; weights stay finite', async () => {
  setSeed(2);
  const m = new Sequential([new layers.Dense(1, { inputShape: [2] })]);
  m.compile({ optimizer: 'sgd', loss: 'mse' });
  const x = tensor([[1, 2], [3, 4], [NaN, 1], [1, 1]]), y = tensor([[1], [2], [3], [4]]);
  const orig = process.stderr.write;
  let err = '';
  (process.stderr as any).write = (s: string) => { err += s; return true; };
  let h;
  try { h = await m.fit({ x, y, batchSize: 2, shuffle: false }, { epochs: 3, verbose: 0, callbacks: [new TerminateOnNaN()] }); } finally { (process.stderr as any).write = orig; }
  assert.match(err, /loss became NaN at epoch 1, batch 2 of 2/);
  assert.equal(h.epoch.length, 1);
  assert.ok(m.getWeights().every((w) => w.dataSync().every(Number.isFinite)));
});

test('ModelCheckpoint writes .keras files atomically (saveBestOnly), and Ctrl-C stops after the current batch and saves', async () => {
  setSeed(4);
  const { x, y } = squaresTask(32, 8, 6);
  const m = smallCnn(8);
  m.compile({ optimizer: 'adam', loss: 'binary_crossentropy', metrics: ['accuracy'] });
  const dir = mkdtempSync(join(tmpdir(), 'convnet-ckpt-'));
  const ck = new ModelCheckpoint(join(dir, 'best.keras'), { monitor: 'val_accuracy', saveBestOnly: true, mode: 'max' });
  await m.fit({ x, y, batchSize: 8, validationSplit: 0.25 }, { epochs: 2, verbose: 0, callbacks: [ck] });
  assert.ok(ck.saved.length >= 1 && existsSync(join(dir, 'best.keras')));
  assert.deepEqual(readdirSync(dir), ['best.keras']);
  assert.equal(readFileSync(join(dir, 'best.keras')).subarray(0, 2).toString('latin1'), 'PK');

  // An abort (what the CLI does on Ctrl-C) from a batch hook: fit stops after that batch, the model still predicts, and a checkpoint is written.
  const dir2 = mkdtempSync(join(tmpdir(), 'convnet-int-'));
  let steps = 0;
  const ck2 = new ModelCheckpoint(join(dir2, 'model-{epoch:02d}.keras'));
  const orig = process.stderr.write;
  (process.stderr as any).write = () => true;
  let h;
  const ac = new AbortController();
  try {
    h = await m.fit({ x, y, batchSize: 8 }, {
      epochs: 5, verbose: 0, signal: ac.signal,
      callbacks: [{ onTrainBatchEnd: () => { steps++; if (steps === 2) ac.abort(); } }, ck2],
    });
  } finally { (process.stderr as any).write = orig; }
  assert.equal(steps, 2);
  assert.equal(m.interrupted, true);
  assert.equal(h.stopReason, 'interrupted');
  assert.equal(h.epoch.length, 1);
  assert.deepEqual(readdirSync(dir2), ['model-01.keras']);
  assert.deepEqual((await m.predict(x, { verbose: 0 })).shape, [32, 1]);
});

test('ModelCheckpoint({ saveWeightsOnly: true }) writes Keras 3 .weights.h5 files atomically; loadWeights restores them', async () => {
  setSeed(5);
  const { x, y } = squaresTask(32, 8, 7);
  const m = smallCnn(8);
  m.compile({ optimizer: 'adam', loss: 'binary_crossentropy', metrics: ['accuracy'] });
  assert.throws(() => new ModelCheckpoint('w.h5', { saveWeightsOnly: true }), /must end in \.weights\.h5/);
  const dir = mkdtempSync(join(tmpdir(), 'convnet-wck-'));
  const ck = new ModelCheckpoint(join(dir, 'w-{epoch:02d}.weights.h5'), { saveWeightsOnly: true });
  await m.fit({ x, y, batchSize: 8 }, { epochs: 2, verbose: 0, callbacks: [ck] });
  assert.deepEqual(readdirSync(dir).sort(), ['w-01.weights.h5', 'w-02.weights.h5']);
  // HDF5 signature, not a zip: the weights alone.
  assert.equal(readFileSync(join(dir, 'w-02.weights.h5')).subarray(1, 4).toString('latin1'), 'HDF');
  const want = await m.predict(x, { verbose: 0 });
  const m2 = smallCnn(8);
  m2.compile({ optimizer: 'adam', loss: 'binary_crossentropy', metrics: ['accuracy'] });
  await m2.loadWeights(join(dir, 'w-02.weights.h5'));
  assert.deepEqual((await m2.predict(x, { verbose: 0 })).dataSync(), want.dataSync());
  assert.equal(m2.optimizer!.iterations, m.optimizer!.iterations);
});

test('trainOnBatch / testOnBatch / predictOnBatch, classWeight, fit(x, y, opts), getConfig round trip', async () => {
  setSeed(6);
  const { x, y } = squaresTask(16, 8, 2);
  const m = smallCnn(8);
  m.compile({ optimizer: 'rmsprop', loss: 'binary_crossentropy', metrics: ['accuracy'] });
  const t = m.trainOnBatch(x, y) as number[];
  assert.equal(t.length, 2);
  const e = m.testOnBatch(x, y, { returnDict: true }) as Record<string, number>;
  assert.deepEqual(Object.keys(e), ['accuracy', 'loss']);
  assert.deepEqual(m.predictOnBatch(x).shape, [16, 1]);
  const h = await m.fit(x, y, { epochs: 1, batchSize: 8, verbose: 0, classWeight: { 0: 1, 1: 3 } });
  assert.ok(Number.isFinite(h.history.loss[0]));

  const cfg = JSON.parse(JSON.stringify(m.getConfig()));
  assert.equal(cfg.layers[0].class_name, 'InputLayer');
  assert.deepEqual(cfg.layers[0].config.batch_shape, [null, 8, 8, 1]);
  assert.deepEqual(cfg.layers[1].build_config, { input_shape: [null, 8, 8, 1] });
  const m2 = Sequential.fromConfig(cfg);
  m2.setWeights(m.getWeights());
  assert.deepEqual(m2.predictOnBatch(x).dataSync(), m.predictOnBatch(x).dataSync());
  assert.deepEqual(m2.layers.map((l) => l.name), m.layers.map((l) => l.name));
  const cc = m.compileConfig!;
  assert.equal((cc.optimizer as any).class_name, 'RMSprop');
  assert.equal(cc.loss, 'binary_crossentropy');
  assert.deepEqual(cc.metrics, ['accuracy']);
  const vars = m.optimizer!.variables();
  assert.deepEqual(vars.slice(0, 3).map((v) => v.path), ['rmsprop/iteration', 'rmsprop/learning_rate', 'rmsprop/conv2d_kernel_velocity']);
});
