/**
 * The functional API: Input, layer.apply on symbolic tensors, new Model({ inputs, outputs }),
 * several inputs/outputs, shared layers, nested models, freezing, per-output losses; the notebook
 * model in both forms trains to the same numbers; a residual CNN trains.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { tensor, setSeed, type Tensor } from '../../src/tensor/index.js';
import { layers, clearSession, Input, KerasTensor, InputLayer } from '../../src/layers/index.js';
import { optimizers } from '../../src/optimizers/index.js';
import { Model, Sequential, Functional } from '../../src/models/index.js';
import { squaresTask, notebookModel, notebookLayers } from './helpers.js';
import { randTensor } from '../helpers.js';

/** The notebook's CNN in functional form (the same layers, in the same order, as helpers' notebookModel). */
function notebookFunctional(dropout = 0.5, size = 150): Model {
  clearSession();
  const stack = notebookLayers(dropout);
  const inputs = Input({ shape: [size, size, 3] });
  let x = inputs;
  for (const l of stack) x = l.apply(x);
  return new Model({ inputs, outputs: x, name: 'notebook' });
}

test('the notebook model builds the same in Sequential and functional form and trains to the same numbers', async () => {
  const size = 32;
  const seqM = notebookModel(0.5, size);
  const funM = notebookFunctional(0.5, size);
  assert.ok(funM instanceof Functional && funM instanceof Model);
  assert.equal(funM.countParams(), seqM.countParams());
  assert.deepEqual(funM.layers.slice(1).map((l) => l.className), seqM.layers.map((l) => l.className));
  assert.ok(funM.layers[0] instanceof InputLayer);
  // Same seed, same initial weights, same shuffles and dropout masks: the same numbers.
  const { x: gray, y } = squaresTask(48, size, 3);
  const x = tensor(Float32Array.from({ length: gray.size * 3 }, (_, i) => gray.view()[Math.floor(i / 3)]), [48, size, size, 3]);
  const run = async (make: () => Model) => {
    setSeed(7);
    const m = make();
    m.compile({ optimizer: new optimizers.Adam({ learningRate: 1e-3 }), loss: 'binary_crossentropy', metrics: ['accuracy'] });
    const h = await m.fit(x, y, { epochs: 2, batchSize: 16, verbose: 0, validationData: [x.sliceBatch(0, 16), y.sliceBatch(0, 16)] });
    const p = (await m.predict(x.sliceBatch(0, 8), { verbose: 0 })).dataSync();
    m.dispose();
    return { h: h.history, p };
  };
  const a = await run(() => notebookModel(0.5, size));
  const b = await run(() => notebookFunctional(0.5, size));
  assert.deepEqual(Object.keys(b.h), ['accuracy', 'loss', 'val_accuracy', 'val_loss']);
  assert.deepEqual(b.h, a.h);
  assert.deepEqual(b.p, a.p);
});

function residualBlock(x: KerasTensor, filters: number): KerasTensor {
  let y = new layers.Conv2D(filters, 3, { padding: 'same', useBias: false }).apply(x);
  y = new layers.BatchNormalization({ momentum: 0.9 }).apply(y);
  y = new layers.Activation('relu').apply(y);
  y = new layers.Conv2D(filters, 3, { padding: 'same' }).apply(y);
  return new layers.Activation('relu').apply(new layers.Add().apply([x, y]));
}

test('a residual CNN (Add skip connections, BatchNorm) trains to >= 95% on the squares task', async () => {
  setSeed(11);
  clearSession();
  const { x, y } = squaresTask(480, 16, 5);
  const inputs = Input({ shape: [16, 16, 1] });
  let h = new layers.Conv2D(8, 3, { padding: 'same', activation: 'relu' }).apply(inputs);
  h = residualBlock(h, 8);
  h = new layers.MaxPooling2D(2).apply(h);
  h = residualBlock(h, 8);
  h = new layers.GlobalMaxPooling2D().apply(h);
  const model = new Model({ inputs, outputs: new layers.Dense(1, { activation: 'sigmoid' }).apply(h) });
  assert.equal(model.name, 'functional');
  model.compile({ optimizer: new optimizers.Adam({ learningRate: 0.01 }), loss: 'binary_crossentropy', metrics: ['accuracy'] });
  const hist = await model.fit(x, y, { epochs: 6, batchSize: 32, verbose: 0, validationSplit: 0.25 });
  const acc = hist.history.val_accuracy.at(-1)!;
  assert.ok(acc >= 0.95, `val_accuracy ${acc}`);
  assert.ok(hist.history.loss.at(-1)! < hist.history.loss[0]);
});

test('two inputs, two outputs: per-output losses, lossWeights and metrics; logs name the outputs', async () => {
  setSeed(3);
  clearSession();
  const a = Input({ shape: [4], name: 'a' }), b = Input({ shape: [3], name: 'b' });
  const shared = new layers.Dense(5, { activation: 'tanh', name: 'trunk' });
  const h = new layers.Concatenate().apply([a, new layers.Dense(4, { name: 'proj' }).apply(b)]);
  const t = shared.apply(new layers.Dense(5, { name: 'mix' }).apply(h));
  const reg = new layers.Dense(1, { name: 'reg' }).apply(t);
  const cls = new layers.Dense(1, { activation: 'sigmoid', name: 'cls' }).apply(t);
  const model = new Model({ inputs: [a, b], outputs: [reg, cls] });
  assert.deepEqual(model.inputNames, ['a', 'b']);
  assert.deepEqual(model.outputNames, ['reg', 'cls']);
  model.compile({ optimizer: 'adam', loss: { reg: 'mse', cls: 'binary_crossentropy' }, lossWeights: [0.5, 2], metrics: { cls: ['accuracy'] } });
  const xa = randTensor([20, 4], 1), xb = randTensor([20, 3], 2);
  const yr = randTensor([20, 1], 3), yc = tensor(Float32Array.from({ length: 20 }, (_, i) => i % 2), [20, 1]);
  const h1 = await model.fit([xa, xb], [yr, yc], { epochs: 2, batchSize: 10, verbose: 0 });
  assert.deepEqual(Object.keys(h1.history).sort(), ['cls_accuracy', 'cls_loss', 'loss', 'reg_loss']);
  // The total is the weighted sum of the outputs' (already weighted) losses.
  const e = await model.evaluate({ a: xa, b: xb }, { reg: yr, cls: yc }, { verbose: 0, returnDict: true }) as Record<string, number>;
  assert.ok(Math.abs(e.loss - (e.reg_loss + e.cls_loss)) < 1e-5, JSON.stringify(e));
  const [pr, pc] = await model.predictOutputs([xa, xb], { verbose: 0 });
  assert.deepEqual(pr.shape, [20, 1]); assert.deepEqual(pc.shape, [20, 1]);
  await assert.rejects(model.predict([xa, xb], { verbose: 0 }), /has 2 outputs.*predictOutputs/);
  assert.throws(() => model.compile({ loss: ['mse'] }), /loss has 1 entries but the model has 2 outputs/);
  await assert.rejects(model.fit([xa, xb], [yr], { verbose: 0 }), /has 2 outputs .* but the data has 1 label arrays/);
  await assert.rejects(model.fit([xa], [yr, yc], { verbose: 0 }), /takes 2 inputs \(a, b\), got 1/);
});

test('a shared layer has one set of weights; a model is a layer of another model; getLayer and layers', async () => {
  setSeed(4);
  clearSession();
  const inner = (() => {
    const i = Input({ shape: [3] });
    return new Model({ inputs: i, outputs: new layers.Dense(2, { name: 'inner_dense' }).apply(i), name: 'encoder' });
  })();
  const x1 = Input({ shape: [3] }), x2 = Input({ shape: [3] });
  const shared = new layers.Dense(3, { name: 'shared' });
  const e1 = inner.apply(shared.apply(x1)), e2 = inner.apply(shared.apply(x2));
  const out = new layers.Subtract().apply([e1, e2]);
  const model = new Model({ inputs: [x1, x2], outputs: out });
  assert.deepEqual(model.layers.map((l) => l.name), ['input_layer_1', 'input_layer_2', 'shared', 'encoder', 'subtract']);
  assert.equal(model.getLayer('encoder'), inner);
  assert.equal(model.getLayer(2), shared);
  assert.throws(() => model.getLayer('nope'), /no layer named "nope"/);
  assert.equal(model.weights.length, 4);
  assert.equal(model.countParams(), 3 * 3 + 3 + 3 * 2 + 2);
  // Equal inputs give equal codes: the subtract is exactly zero.
  const v = randTensor([5, 3], 9);
  const y = (await model.predict([v, v], { verbose: 0 })).dataSync();
  assert.ok(y.every((d) => d === 0));
  // The nested model computes what it computes alone.
  const direct = (await inner.predict(shared.apply(v), { verbose: 0 })).dataSync();
  const nested = model.invoke([v, randTensor([5, 3], 1)], { training: false });
  assert.equal(nested.length, 1);
  assert.equal(direct.length, 10);
  assert.throws(() => shared.output, /called 2 times/);
});

test('layer.trainable = false freezes: weights do not move, the summary counts change; model.trainable propagates', async () => {
  setSeed(5);
  clearSession();
  const i = Input({ shape: [4] });
  const d1 = new layers.Dense(3, { name: 'd1' }), bn = new layers.BatchNormalization({ name: 'bn' }), d2 = new layers.Dense(1, { name: 'd2' });
  const model = new Model({ inputs: i, outputs: d2.apply(bn.apply(d1.apply(i))) });
  const trainableLine = () => model.summary({ lineLength: 98, printFn: () => {} }).split('\n').find((l) => l.includes('Trainable params'))!;
  assert.match(trainableLine(), /Trainable params: 25 /);
  d1.trainable = false;
  bn.trainable = false;
  assert.match(trainableLine(), /Trainable params: 4 /);
  model.compile({ optimizer: 'sgd', loss: 'mse' });
  const before = [...d1.getWeights(), ...bn.getWeights()].map((w) => w.dataSync());
  const after0 = d2.getWeights().map((w) => w.dataSync());
  await model.fit(randTensor([16, 4], 1), randTensor([16, 1], 2), { epochs: 2, batchSize: 8, verbose: 0 });
  assert.deepEqual([...d1.getWeights(), ...bn.getWeights()].map((w) => w.dataSync()), before);
  assert.notDeepEqual(d2.getWeights().map((w) => w.dataSync()), after0);
  model.trainable = true;
  assert.equal(d1.trainable && bn.trainable && d2.trainable, true);
  model.trainable = false;
  assert.equal(model.trainableWeights.length, 0);
  assert.equal(d2.trainable, false);
});

test('bad graphs fail clearly; a 3000-layer chain builds and runs (the walk is iterative)', () => {
  clearSession();
  const a = Input({ shape: [2] }), b = Input({ shape: [2] });
  const out = new layers.Add().apply([a, b]);
  assert.throws(() => new Model({ inputs: a, outputs: out }), /graph disconnected/);
  assert.throws(() => new layers.Add().apply([a, Input({ shape: [3] })]), /same shape/);
  assert.throws(() => new layers.Add().apply(a), /needs at least 2 inputs/);
  assert.throws(() => new Model({ inputs: a, outputs: 3 as unknown as KerasTensor }), /outputs must be/);
  let x: KerasTensor = a;
  for (let i = 0; i < 3000; i++) x = new layers.Activation('linear').apply(x);
  const deep = new Model({ inputs: a, outputs: x });
  assert.equal(deep.layers.length, 3001);
  const y = deep.predictOnBatch(tensor([[1, 2]]) as Tensor);
  assert.deepEqual(Array.from(y.dataSync()), [1, 2]);
});

test('a nested model with two outputs: applyAll gives both, apply refuses; layer.input and layer.output; the config rebuilds the same graph', async () => {
  setSeed(6);
  clearSession();
  const i = Input({ shape: [3] });
  const h = new layers.Dense(4, { activation: 'relu', name: 'h' }).apply(i);
  const two = new Model({ inputs: i, outputs: [new layers.Dense(2, { name: 'o1' }).apply(h), new layers.Dense(1, { name: 'o2' }).apply(h)], name: 'two' });
  assert.equal(two.getLayer('h').input, i);
  assert.deepEqual(two.getLayer('h').output.shape, [null, 4]);
  const x = Input({ shape: [3] });
  assert.throws(() => two.apply(x), /has 2 outputs: use applyAll/);
  const [a, b] = two.applyAll(x);
  const outer = new Model({ inputs: x, outputs: new layers.Concatenate().apply([a, b]) });
  assert.deepEqual(outer.outputShape, [null, 3]);
  const v = randTensor([4, 3], 2);
  const [p1, p2] = await two.predictOutputs(v, { verbose: 0 });
  const y = (await outer.predict(v, { verbose: 0 })).dataSync();
  for (let r = 0; r < 4; r++) assert.deepEqual(Array.from(y.slice(r * 3, r * 3 + 3)), [...p1.dataSync().slice(r * 2, r * 2 + 2), p2.dataSync()[r]]);
  // From its config (with fresh layers and the same weights), the same numbers.
  const again = Functional.fromConfig(JSON.parse(JSON.stringify(outer.getConfig())));
  again.setWeights(outer.getWeights());
  assert.deepEqual((await again.predict(v, { verbose: 0 })).dataSync(), y);
  assert.deepEqual(again.layers.map((l) => l.name), outer.layers.map((l) => l.name));
});
