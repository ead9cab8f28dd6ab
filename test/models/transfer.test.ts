/**
 * Transfer learning from a file, end to end, on a small MobileNetV2-shaped model built here
 * (inverted residual blocks: 1x1 expand, depthwise 3x3, 1x1 project, Add, BatchNorm, ReLU6):
 * save it as .keras and legacy .h5, load it, cut it at a layer, freeze it, add a head, train the
 * head, then unfreeze the top block and fine-tune with a low learning rate.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { tensor, setSeed } from '../../src/tensor/index.js';
import { layers, clearSession, Input, type KerasTensor } from '../../src/layers/index.js';
import { optimizers } from '../../src/optimizers/index.js';
import { Model, Sequential, transferModel } from '../../src/models/index.js';
import { loadModel } from '../../src/io/models/index.js';
import { squaresTask } from './helpers.js';

/** MobileNetV2's inverted residual block, with Keras Applications' layer names. */
function invertedResidual(x: KerasTensor, block: number, filters: number, stride: 1 | 2, expansion = 4): KerasTensor {
  const p = `block_${block}_`;
  const inC = x.shape[3] as number;
  let h = new layers.Conv2D(inC * expansion, 1, { padding: 'same', useBias: false, name: `${p}expand` }).apply(x);
  h = new layers.BatchNormalization({ momentum: 0.9, name: `${p}expand_BN` }).apply(h);
  h = new layers.ReLU({ maxValue: 6, name: `${p}expand_relu` }).apply(h);
  h = new layers.DepthwiseConv2D({ kernelSize: 3, strides: stride, padding: 'same', useBias: false, name: `${p}depthwise` }).apply(h);
  h = new layers.BatchNormalization({ momentum: 0.9, name: `${p}depthwise_BN` }).apply(h);
  h = new layers.ReLU({ maxValue: 6, name: `${p}depthwise_relu` }).apply(h);
  h = new layers.Conv2D(filters, 1, { padding: 'same', useBias: false, name: `${p}project` }).apply(h);
  h = new layers.BatchNormalization({ momentum: 0.9, name: `${p}project_BN` }).apply(h);
  return stride === 1 && inC === filters ? new layers.Add({ name: `${p}add` }).apply([x, h]) : h;
}

/** A small MobileNetV2: stem, three inverted residual blocks, Conv_1 + out_relu, and an "ImageNet" head. */
function mobileNetV2Like(size: number): Model {
  clearSession();
  const inputs = Input({ shape: [size, size, 3], name: 'input_1' });
  let x = new layers.Conv2D(8, 3, { strides: 2, padding: 'same', useBias: false, name: 'Conv1' }).apply(inputs);
  x = new layers.BatchNormalization({ momentum: 0.9, name: 'bn_Conv1' }).apply(x);
  x = new layers.ReLU({ maxValue: 6, name: 'Conv1_relu' }).apply(x);
  x = invertedResidual(x, 1, 8, 1);
  x = invertedResidual(x, 2, 16, 2);
  x = invertedResidual(x, 3, 16, 1);
  x = new layers.Conv2D(32, 1, { useBias: false, name: 'Conv_1' }).apply(x);
  x = new layers.BatchNormalization({ momentum: 0.9, name: 'Conv_1_bn' }).apply(x);
  x = new layers.ReLU({ maxValue: 6, name: 'out_relu' }).apply(x);
  x = new layers.GlobalAveragePooling2D({ name: 'global_average_pooling2d' }).apply(x);
  const outputs = new layers.Dense(5, { activation: 'softmax', name: 'predictions' }).apply(x);
  return new Model({ inputs, outputs, name: 'mobilenetv2_tiny' });
}

function rgbSquares(n: number, size: number, seed: number) {
  const { x: g, y } = squaresTask(n, size, seed);
  const v = g.view();
  return { x: tensor(Float32Array.from({ length: v.length * 3 }, (_, i) => v[Math.floor(i / 3)] * 2 - 1), [n, size, size, 3]), y };
}

const values = (m: { getWeights(): { dataSync(): ArrayLike<number> }[] }) => m.getWeights().map((w) => Array.from(w.dataSync()));

for (const ext of ['keras', 'h5']) {
  test(`transfer learning from a .${ext} file: load, cut, freeze, add a head, train it, unfreeze the top block, fine-tune`, async () => {
    const size = 16;
    setSeed(21);
    const pretrained = mobileNetV2Like(size);
    // "Pretraining": a few epochs on a related task (other images), as the ImageNet weights would be.
    const other = rgbSquares(256, size, 99);
    pretrained.compile({ optimizer: new optimizers.Adam({ learningRate: 0.01 }), loss: 'sparse_categorical_crossentropy' });
    await pretrained.fit(other.x, other.y, { epochs: 3, batchSize: 32, verbose: 0 });
    const dir = mkdtempSync(join(tmpdir(), 'convnet-transfer-'));
    const file = join(dir, `mobilenet.${ext}`);
    await pretrained.save(file);
    const { x, y } = rgbSquares(192, size, 8);
    const want = (await pretrained.predict(x.sliceBatch(0, 4), { verbose: 0 })).dataSync();

    // 1. Load it; it computes what was saved.
    const loaded = await loadModel(file);
    assert.deepEqual((await loaded.predict(x.sliceBatch(0, 4), { verbose: 0 })).dataSync(), want);

    // 2. Cut it at a layer (drop the ImageNet head) and freeze it.
    const base = new Model({ inputs: loaded.input, outputs: loaded.getLayer('out_relu').output, name: 'base' });
    base.trainable = false;
    assert.equal(base.trainableWeights.length, 0);

    // 3. A new head on top; the base runs in inference mode (its BatchNorms keep their statistics).
    const inputs = Input({ shape: [size, size, 3] });
    let h = base.apply(inputs, { training: false });
    h = new layers.GlobalAveragePooling2D().apply(h);
    h = new layers.Dropout(0.2).apply(h);
    const model = new Model({ inputs, outputs: new layers.Dense(1, { activation: 'sigmoid' }).apply(h) });
    const lines: string[] = [];
    model.summary({ lineLength: 98, printFn: (l) => lines.push(l) });
    assert.match(lines.join('\n'), /│ base \(Functional\) +│ \(None, 4, 4, 32\) +│/);
    assert.match(lines.join('\n'), /Trainable params: 33 /);

    // 4. Train the head.
    const frozen = values(base);
    model.compile({ optimizer: new optimizers.Adam({ learningRate: 0.05 }), loss: 'binary_crossentropy', metrics: ['accuracy'] });
    const h1 = await model.fit(x, y, { epochs: 6, batchSize: 32, verbose: 0, validationSplit: 0.25 });
    assert.deepEqual(values(base), frozen, 'the frozen base did not move');
    const acc1 = h1.history.val_accuracy.at(-1)!;
    assert.ok(acc1 >= 0.8, `head only: val_accuracy ${acc1}`);

    // 5. Unfreeze the top block (block_3 onwards), keep the rest frozen, fine-tune with a low learning rate.
    base.trainable = true;
    const start = base.layers.findIndex((l) => l.name === 'block_3_expand');
    for (const l of base.layers.slice(0, start)) l.trainable = false;
    model.compile({ optimizer: new optimizers.Adam({ learningRate: 1e-4 }), loss: 'binary_crossentropy', metrics: ['accuracy'] });
    const lower = base.layers.slice(0, start).map((l) => l.getWeights().map((w) => Array.from(w.dataSync())));
    const proj = base.getLayer('block_3_project_BN');
    const [gamma0, , mean0] = proj.getWeights().map((w) => Array.from(w.dataSync()));
    const top0 = Array.from(base.getLayer('block_3_expand').getWeights()[0].dataSync());
    const h2 = await model.fit(x, y, { epochs: 2, batchSize: 32, verbose: 0, validationSplit: 0.25 });
    assert.ok(Number.isFinite(h2.history.loss.at(-1)!));
    assert.ok(h2.history.val_accuracy.at(-1)! >= acc1 - 0.1, `fine-tuned: ${h2.history.val_accuracy}`);
    assert.deepEqual(base.layers.slice(0, start).map((l) => l.getWeights().map((w) => Array.from(w.dataSync()))), lower, 'the lower blocks stayed frozen');
    assert.notDeepEqual(Array.from(base.getLayer('block_3_expand').getWeights()[0].dataSync()), top0, 'the top block moved');
    const [gamma1, , mean1] = proj.getWeights().map((w) => Array.from(w.dataSync()));
    assert.notDeepEqual(gamma1, gamma0);
    assert.deepEqual(mean1, mean0, 'BatchNorm statistics stay (the base is called with training: false)');

    // 6. The fine-tuned model (a model nested in a model) saves and loads as .keras with the same predictions.
    const out = join(dir, 'finetuned.keras');
    await model.save(out);
    const again = await loadModel(out);
    assert.deepEqual((await again.predict(x.sliceBatch(0, 8), { verbose: 0 })).dataSync(), (await model.predict(x.sliceBatch(0, 8), { verbose: 0 })).dataSync());
  });
}

test('transferModel: a file or a model (Sequential too), cut at a layer, frozen, with a new head', async () => {
  setSeed(22);
  const size = 16;
  const pretrained = mobileNetV2Like(size);
  const dir = mkdtempSync(join(tmpdir(), 'convnet-transfer2-'));
  await pretrained.save(join(dir, 'm.keras'));
  const { model, base } = await transferModel({ base: join(dir, 'm.keras'), cutAt: 'block_3_add', numClasses: 3, dropout: 0 });
  assert.deepEqual(base.outputShape, [null, 4, 4, 16]);
  assert.equal(base.trainableWeights.length, 0);
  assert.deepEqual(model.outputShape, [null, 3]);
  assert.equal(model.trainableWeights.length, 2);
  model.compile({ optimizer: 'adam', loss: 'sparse_categorical_crossentropy' });
  const { x, y } = rgbSquares(32, size, 3);
  const h = await model.fit(x, y, { epochs: 1, batchSize: 16, verbose: 0 });
  assert.ok(Number.isFinite(h.history.loss[0]));
  await assert.rejects(transferModel({ base: join(dir, 'm.keras'), cutAt: 'nope' }), /cannot cut .*m\.keras at layer "nope": no layer named "nope"/);
  await assert.rejects(transferModel({ base: join(dir, 'm.keras'), cutAt: 'global_average_pooling2d' }), /image-shaped output/);
  // A Sequential base is cut the same way.
  clearSession();
  const seq = new Sequential([new layers.Conv2D(4, 3, { inputShape: [8, 8, 3], name: 'c1' }), new layers.Conv2D(4, 3, { name: 'c2' }), new layers.Flatten(), new layers.Dense(2)]);
  const t = await transferModel({ base: seq, cutAt: 'c1' });
  assert.deepEqual(t.base.outputShape, [null, 6, 6, 4]);
  assert.deepEqual(t.model.outputShape, [null, 1]);
});
