/**
 * Functional models in files: a .keras round trip (predictions, optimizer state, config.json
 * byte-identical when saved again), nested models, the weights layout h5py sees, TF.js, and the
 * functional files written by Keras in ../shared/fixtures/models.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, readFileSync, existsSync } from 'node:fs';
import { execFileSync } from 'node:child_process';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { setSeed, tensor } from '../../src/tensor/index.js';
import { layers, clearSession, Input, type KerasTensor } from '../../src/layers/index.js';
import { Model, Sequential } from '../../src/models/index.js';
import { loadModel } from '../../src/io/models/index.js';
import { readZip } from '../../src/io/models/zip.js';
import { randTensor } from '../helpers.js';

const PY = '/usr/bin/python3';

/** Conv + BN + a 1x1 projection skip (Add), a nested encoder, a Concatenate of two branches, two heads. */
function graphModel(): Model {
  clearSession();
  const inner = (() => {
    const i = Input({ shape: [6] });
    const h = new layers.Dense(4, { activation: 'relu' }).apply(i);
    return new Model({ inputs: i, outputs: new layers.Dense(3).apply(h), name: 'encoder' });
  })();
  const inputs = Input({ shape: [6, 6, 2], name: 'image' });
  let x: KerasTensor = new layers.Conv2D(4, 3, { padding: 'same' }).apply(inputs);
  x = new layers.BatchNormalization().apply(x);
  const skip = new layers.Conv2D(4, 1).apply(inputs);
  x = new layers.ReLU({ maxValue: 6 }).apply(new layers.Add().apply([x, skip]));
  const pooled = new layers.GlobalAveragePooling2D().apply(x);
  const maxed = new layers.GlobalMaxPooling2D().apply(x);
  const both = new layers.Concatenate().apply([pooled, new layers.Dense(2).apply(maxed)]);
  const code = inner.apply(both);
  const out = new layers.Dense(1, { activation: 'sigmoid', name: 'prob' }).apply(code);
  const aux = new layers.Dense(2, { name: 'aux' }).apply(new layers.Multiply().apply([code, code]));
  return new Model({ inputs, outputs: [out, aux], name: 'graph' });
}

test('a functional model (skip Add, nested model, merges, two outputs) round-trips through .keras; config.json is byte-identical when saved again', async () => {
  setSeed(1);
  const m = graphModel();
  m.compile({ optimizer: 'adam', loss: ['binary_crossentropy', 'mse'], lossWeights: [1, 0.5], metrics: [['accuracy'], []] });
  const x = randTensor([12, 6, 6, 2], 2), y1 = tensor(Float32Array.from({ length: 12 }, (_, i) => i % 2), [12, 1]), y2 = randTensor([12, 2], 4);
  await m.fit(x, [y1, y2], { epochs: 1, batchSize: 4, verbose: 0 });
  const dir = mkdtempSync(join(tmpdir(), 'convnet-func-'));
  const p1 = join(dir, 'a.keras'), p2 = join(dir, 'b.keras');
  await m.save(p1);
  const back = await loadModel(p1);
  assert.equal(back.className, 'Functional');
  assert.deepEqual(back.layers.map((l) => l.name), m.layers.map((l) => l.name));
  const want = await m.predictOutputs(x, { verbose: 0 }), got = await back.predictOutputs(x, { verbose: 0 });
  want.forEach((w, i) => assert.deepEqual(got[i].dataSync(), w.dataSync()));
  assert.equal(back.optimizer!.iterations, m.optimizer!.iterations);
  assert.deepEqual(back.optimizer!.variables().map((v) => v.value.dataSync()), m.optimizer!.variables().map((v) => v.value.dataSync()));
  await back.save(p2);
  const cfg1 = readZip(readFileSync(p1)).get('config.json')!, cfg2 = readZip(readFileSync(p2)).get('config.json')!;
  assert.equal(Buffer.from(cfg2).toString('utf8'), Buffer.from(cfg1).toString('utf8'));
  // Keras 3's form: inbound_nodes of { args, kwargs } with __keras_tensor__ arguments, a list for merges.
  const cfg = JSON.parse(Buffer.from(cfg1).toString('utf8'));
  assert.equal(cfg.class_name, 'Functional');
  assert.equal(cfg.module, 'keras.src.models.functional');
  const add = cfg.config.layers.find((l: { class_name: string }) => l.class_name === 'Add');
  assert.deepEqual(add.inbound_nodes[0].args[0].map((t: { config: { keras_history: unknown[] } }) => t.config.keras_history), [['batch_normalization', 0, 0], ['conv2d_1', 0, 0]]);
  const enc = cfg.config.layers.find((l: { name: string }) => l.name === 'encoder');
  assert.equal(enc.class_name, 'Functional');
  // The nested model's first call is its node 1 (node 0 is its own, inputs to outputs).
  const prob = cfg.config.layers.find((l: { name: string }) => l.name === 'prob');
  assert.deepEqual(prob.inbound_nodes[0].args[0].config.keras_history, ['encoder', 1, 0]);
  assert.deepEqual(cfg.config.output_layers, [['prob', 0, 0], ['aux', 0, 0]]);
  assert.deepEqual(cfg.compile_config.loss_weights, [1, 0.5]);
});

test('h5py sees the weights layout Keras expects (InputLayer and merge groups, nested layers, optimizer vars)', async (t) => {
  if (!existsSync(PY)) { t.skip(`${PY} is absent`); return; }
  try { execFileSync(PY, ['-c', 'import h5py'], { stdio: 'ignore' }); } catch { t.skip('h5py is not installed for /usr/bin/python3'); return; }
  setSeed(2);
  const m = graphModel();
  m.compile({ optimizer: 'adam', loss: ['binary_crossentropy', 'mse'] });
  await m.fit(randTensor([4, 6, 6, 2], 2), [randTensor([4, 1], 3, 0, 1), randTensor([4, 2], 4)], { epochs: 1, batchSize: 4, verbose: 0 });
  const dir = mkdtempSync(join(tmpdir(), 'convnet-funch5-'));
  await m.save(join(dir, 'm.keras'));
  const { writeFileSync } = await import('node:fs');
  writeFileSync(join(dir, 'w.h5'), readZip(readFileSync(join(dir, 'm.keras'))).get('model.weights.h5')!);
  const out = execFileSync(PY, ['-c', `
import h5py, json
f = h5py.File(${JSON.stringify(join(dir, 'w.h5'))}, 'r')
names = []
f.visit(names.append)
print(json.dumps({'names': names, 'shapes': {n: list(f[n].shape) for n in names if isinstance(f[n], h5py.Dataset)}}))
`]).toString();
  const { names, shapes } = JSON.parse(out) as { names: string[]; shapes: Record<string, number[]> };
  for (const g of ['layers/input_layer/vars', 'layers/conv2d/vars', 'layers/add/vars', 'layers/concatenate/vars', 'layers/multiply/vars',
    'layers/functional/layers/input_layer/vars', 'layers/functional/vars', 'vars', 'optimizer/vars']) assert.ok(names.includes(g), `${g} in ${names.join(' ')}`);
  assert.deepEqual(shapes['layers/conv2d/vars/0'], [3, 3, 2, 4]);
  assert.deepEqual(shapes['layers/batch_normalization/vars/3'], [4]);
  assert.deepEqual(shapes['layers/functional/layers/dense/vars/0'], [6, 4]);
  assert.deepEqual(shapes['layers/functional/layers/dense_1/vars/0'], [4, 3]);
  assert.deepEqual(shapes['optimizer/vars/0'], []);
});

test('a Sequential nested in a functional model, and a functional model in TF.js format, load back the same', async () => {
  setSeed(3);
  clearSession();
  const head = new Sequential([new layers.Dense(3, { activation: 'relu', inputShape: [5] }), new layers.Dense(1)], 'head');
  const i = Input({ shape: [4] });
  const a = new layers.Dense(5).apply(i), b = new layers.Dense(5).apply(i);
  const m = new Model({ inputs: i, outputs: head.apply(new layers.Average().apply([a, b])) });
  const x = randTensor([7, 4], 5);
  const want = (await m.predict(x, { verbose: 0 })).dataSync();
  const dir = mkdtempSync(join(tmpdir(), 'convnet-funcseq-'));
  await m.save(join(dir, 'm.keras'));
  const k = await loadModel(join(dir, 'm.keras'));
  assert.deepEqual((await k.predict(x, { verbose: 0 })).dataSync(), want);
  assert.equal(k.getLayer('head').className, 'Sequential');
  await m.save(join(dir, 'web'), { format: 'tfjs' });
  const mj = JSON.parse(readFileSync(join(dir, 'web', 'model.json'), 'utf8'));
  assert.equal(mj.modelTopology.model_config.class_name, 'Functional');
  assert.deepEqual(mj.modelTopology.model_config.config.layers.find((l: { class_name: string }) => l.class_name === 'Average').inbound_nodes,
    [[['dense_2', 0, 0, {}], ['dense_3', 0, 0, {}]]]);
  const tj = await loadModel(join(dir, 'web'));
  assert.deepEqual((await tj.predict(x, { verbose: 0 })).dataSync(), want);
});

const shared = join(import.meta.dirname, '..', '..', '..', 'shared', 'fixtures', 'models');
const EXPECTED = JSON.parse(readFileSync(new URL('../fixtures/models/functional_fixtures.json', import.meta.url), 'utf8')) as
  Record<string, { size: number; values: number[]; index?: number[]; sum?: number }>;
const FUNCTIONAL_FIXTURES: { file: string; params: number; out: number[]; softmax: boolean }[] = [
  { file: 'ADL-202420-G01_concat-bn-cnn-300x300_3.5.0.keras', params: 44977, out: [300, 300, 1], softmax: false },
  { file: 'CS-433_resnet1d-conv1d_2.15.0.keras', params: 192739, out: [3], softmax: true },
  { file: 'mlcommons_resnet8-cifar10_2.4.0.h5', params: 78666, out: [10], softmax: true },
  { file: 'mlcommons_mobilenetv1-025-vww96_2.4.0.h5', params: 221794, out: [2], softmax: true },
];

for (const f of FUNCTIONAL_FIXTURES) {
  test(`functional fixture ${f.file} loads and predicts`, async (t) => {
    if (!existsSync(join(shared, f.file))) { t.skip(`../shared/fixtures/models/${f.file} is absent`); return; }
    const m = await loadModel(join(shared, f.file), { warn: () => {} });
    assert.equal(m.className, 'Functional');
    assert.equal(m.countParams(), f.params);
    const s = m.inputShape!.slice(1) as number[];
    const n = s.reduce((a, b) => a * b, 1) * 2;
    const x = tensor(Float32Array.from({ length: n }, (_, i) => Math.sin(i * 0.37) * 0.5 + 0.5), [2, ...s]);
    const y = await m.predict(x, { verbose: 0 });
    assert.deepEqual(y.shape, [2, ...f.out]);
    const v = Array.from(y.dataSync());
    assert.ok(v.every(Number.isFinite));
    if (f.softmax) for (let r = 0; r < 2; r++) assert.ok(Math.abs(v.slice(r * f.out[0], (r + 1) * f.out[0]).reduce((a, b) => a + b, 0) - 1) < 1e-5);
    // The numbers of an independent computation (make_functional_fixtures.py: h5py + PyTorch in float64).
    const want = EXPECTED[f.file];
    assert.equal(v.length, want.size);
    const got = want.index ? want.index.map((i) => v[i]) : Array.from(v);
    want.values.forEach((w, i) => assert.ok(Math.abs(got[i] - w) <= 1e-4 + 1e-4 * Math.abs(w), `${f.file}[${want.index?.[i] ?? i}]: ${got[i]} vs ${w}`));
    if (want.sum !== undefined) assert.ok(Math.abs(v.reduce((a, b) => a + b, 0) - want.sum) <= 1e-3 * Math.max(1, Math.abs(want.sum)), 'sum');
    // Saved again by convnet (.keras and legacy .h5) it reads back to the same numbers (the big image model is skipped for time).
    if (f.softmax) {
      const dir = mkdtempSync(join(tmpdir(), 'convnet-resave-'));
      for (const ext of ['keras', 'h5']) {
        await m.save(join(dir, `m.${ext}`));
        const again = await loadModel(join(dir, `m.${ext}`), { warn: () => {} });
        assert.deepEqual(Array.from((await again.predict(x, { verbose: 0 })).dataSync()), v, ext);
      }
    }
  });
}

test('a functional model saved as legacy .h5: h5py sees model_config, training_config and model_weights as Keras reads them; it loads back the same', async (t) => {
  setSeed(6);
  const m = graphModel();
  m.compile({ optimizer: 'adam', loss: ['binary_crossentropy', 'mse'] });
  const dir = mkdtempSync(join(tmpdir(), 'convnet-funclegacy-'));
  const file = join(dir, 'm.h5');
  await m.save(file);
  const x = randTensor([3, 6, 6, 2], 7);
  const back = await loadModel(file);
  const [a, b] = await m.predictOutputs(x, { verbose: 0 }), [c, d] = await back.predictOutputs(x, { verbose: 0 });
  assert.deepEqual(c.dataSync(), a.dataSync());
  assert.deepEqual(d.dataSync(), b.dataSync());
  if (!existsSync(PY)) { t.skip(`${PY} is absent: layout not checked with h5py`); return; }
  try { execFileSync(PY, ['-c', 'import h5py'], { stdio: 'ignore' }); } catch { t.skip('h5py is not installed for /usr/bin/python3'); return; }
  const out = execFileSync(PY, ['-c', `
import h5py, json
f = h5py.File(${JSON.stringify(file)}, 'r')
cfg = json.loads(f.attrs['model_config'])
tc = json.loads(f.attrs['training_config'])
mw = f['model_weights']
names = [n.decode() if hasattr(n, 'decode') else n for n in mw.attrs['layer_names']]
def wn(g): return [n.decode() if hasattr(n, 'decode') else n for n in g.attrs['weight_names']]
print(json.dumps({'cls': cfg['class_name'], 'add': [l['inbound_nodes'] for l in cfg['config']['layers'] if l['class_name'] == 'Add'][0],
  'opt': tc['optimizer_config']['class_name'], 'names': names, 'conv': wn(mw['conv2d']), 'enc': wn(mw['encoder']),
  'shape': list(mw['conv2d'][wn(mw['conv2d'])[0]].shape), 'enc_shape': list(mw['encoder'][wn(mw['encoder'])[2]].shape)}))
`]).toString();
  const r = JSON.parse(out);
  assert.equal(r.cls, 'Functional');
  assert.deepEqual(r.add, [[['batch_normalization', 0, 0, {}], ['conv2d_1', 0, 0, {}]]]);
  assert.equal(r.opt, 'Adam');
  assert.ok(r.names.includes('encoder') && r.names.includes('conv2d'));
  assert.deepEqual(r.conv, ['conv2d/kernel:0', 'conv2d/bias:0']);
  assert.deepEqual(r.enc, ['dense/kernel:0', 'dense/bias:0', 'dense_1/kernel:0', 'dense_1/bias:0']);
  assert.deepEqual(r.shape, [3, 3, 2, 4]);
  assert.deepEqual(r.enc_shape, [4, 3]);
});

test('ONNX export of a graph with merges (Add skip, Concatenate, Average, Subtract, Maximum, two inputs and outputs): ONNX Runtime matches predict within 1e-4', async () => {
  setSeed(8);
  clearSession();
  const img = Input({ shape: [6, 6, 2], name: 'img' }), vec = Input({ shape: [4], name: 'vec' });
  let x: KerasTensor = new layers.Conv2D(4, 3, { padding: 'same', activation: 'relu' }).apply(img);
  const skip = new layers.Conv2D(4, 1).apply(img);
  x = new layers.BatchNormalization().apply(new layers.Add().apply([x, skip]));
  const cat = new layers.Concatenate().apply([x, skip]);
  const p1 = new layers.GlobalAveragePooling2D().apply(cat), p2 = new layers.GlobalMaxPooling2D().apply(cat);
  const pooled = new layers.Average().apply([p1, p2]);
  const v = new layers.Dense(8).apply(vec);
  const diff = new layers.Subtract().apply([pooled, v]);
  const mx = new layers.Maximum().apply([pooled, v]);
  const out1 = new layers.Dense(1, { activation: 'sigmoid', name: 'p' }).apply(new layers.Concatenate().apply([diff, mx]));
  const out2 = new layers.Dense(3, { activation: 'softmax', name: 'q' }).apply(mx);
  const m = new Model({ inputs: [img, vec], outputs: [out1, out2] });
  // Non-trivial BatchNorm statistics.
  m.getLayer('batch_normalization').setWeights([randTensor([4], 1, 0.5, 1.5), randTensor([4], 2), randTensor([4], 3), randTensor([4], 4, 0.5, 2)]);
  const dir = mkdtempSync(join(tmpdir(), 'convnet-funconnx-'));
  await m.save(join(dir, 'm.onnx'));
  const ort = await import('onnxruntime-web');
  ort.env.wasm.numThreads = 1;
  const session = await ort.InferenceSession.create(readFileSync(join(dir, 'm.onnx')));
  assert.deepEqual(session.inputNames, ['img', 'vec']);
  assert.deepEqual(session.outputNames, ['output_0', 'output_1']);
  const xi = randTensor([3, 6, 6, 2], 5), xv = randTensor([3, 4], 6);
  const r = await session.run({
    img: new ort.Tensor('float32', xi.dataSync() as Float32Array, [3, 6, 6, 2]),
    vec: new ort.Tensor('float32', xv.dataSync() as Float32Array, [3, 4]),
  });
  const want = await m.predictOutputs([xi, xv], { verbose: 0 });
  for (const [k, name] of ['output_0', 'output_1'].entries()) {
    const got = r[name].data as Float32Array, w = want[k].dataSync();
    assert.equal(got.length, w.length);
    for (let i = 0; i < w.length; i++) assert.ok(Math.abs(got[i] - w[i]) < 1e-4, `${name}[${i}]: ${got[i]} vs ${w[i]}`);
  }
  // A nested model is refused with a clear message.
  await assert.rejects(graphModel().save(join(dir, 'nested.onnx')), /layer encoder is a nested model/);
});

for (const file of ['mlcommons_resnet8-cifar10_2.4.0.h5', 'mlcommons_mobilenetv1-025-vww96_2.4.0.h5']) {
  test(`ONNX export of the Keras-written ${file} (Add skips / DepthwiseConv2D) matches predict in ONNX Runtime`, async (t) => {
    if (!existsSync(join(shared, file))) { t.skip(`../shared/fixtures/models/${file} is absent`); return; }
    const m = await loadModel(join(shared, file), { warn: () => {} });
    const dir = mkdtempSync(join(tmpdir(), 'convnet-fixonnx-'));
    await m.save(join(dir, 'm.onnx'));
    const ort = await import('onnxruntime-web');
    ort.env.wasm.numThreads = 1;
    const session = await ort.InferenceSession.create(readFileSync(join(dir, 'm.onnx')));
    const s = m.inputShape!.slice(1) as number[];
    const x = randTensor([2, ...s], 3, 0, 1);
    const r = await session.run({ input: new ort.Tensor('float32', x.dataSync() as Float32Array, [2, ...s]) });
    const want = (await m.predict(x, { verbose: 0 })).dataSync(), got = r.output.data as Float32Array;
    assert.equal(got.length, want.length);
    for (let i = 0; i < want.length; i++) assert.ok(Math.abs(got[i] - want[i]) < 1e-4, `[${i}] ${got[i]} vs ${want[i]}`);
  });
}

test('a nested model with BatchNormalization in a legacy .h5: weights in Keras 2 order (trainable first) and back', async () => {
  setSeed(9);
  clearSession();
  const inner = new Sequential([new layers.Dense(3, { inputShape: [4] }), new layers.BatchNormalization(), new layers.Dense(2)], 'inner');
  const i = Input({ shape: [4] });
  const m = new Model({ inputs: i, outputs: new layers.Dense(1).apply(inner.apply(i)) });
  const bn = inner.layers[1];
  bn.setWeights([randTensor([3], 1, 0.5, 1.5), randTensor([3], 2), randTensor([3], 3), randTensor([3], 4, 0.5, 2)]);
  const dir = mkdtempSync(join(tmpdir(), 'convnet-nestedh5-'));
  await m.save(join(dir, 'm.h5'));
  const x = randTensor([5, 4], 5);
  const back = await loadModel(join(dir, 'm.h5'));
  assert.deepEqual((await back.predict(x, { verbose: 0 })).dataSync(), (await m.predict(x, { verbose: 0 })).dataSync());
  if (!existsSync(PY)) return;
  try { execFileSync(PY, ['-c', 'import h5py'], { stdio: 'ignore' }); } catch { return; }
  const names = JSON.parse(execFileSync(PY, ['-c', `
import h5py, json
g = h5py.File(${JSON.stringify(join(dir, 'm.h5'))}, 'r')['model_weights']['inner']
print(json.dumps([n.decode() if hasattr(n, 'decode') else n for n in g.attrs['weight_names']]))
`]).toString());
  assert.deepEqual(names, ['dense/kernel:0', 'dense/bias:0', 'batch_normalization/gamma:0', 'batch_normalization/beta:0', 'dense_1/kernel:0', 'dense_1/bias:0',
    'batch_normalization/moving_mean:0', 'batch_normalization/moving_variance:0']);
});
