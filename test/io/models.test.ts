// Model files end to end: load other tools' files, save/load round trips, what Python, TF.js and
// ONNX Runtime see in convnet's files, and refusals naming the culprit.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { existsSync, mkdtempSync, readFileSync, readdirSync, writeFileSync } from 'node:fs';
import { spawnSync } from 'node:child_process';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { tensor } from '../../src/tensor/index.js';
import { Sequential } from '../../src/models/index.js';
import { loadModel, saveModel, readModelData } from '../../src/io/models/index.js';
import { writeZip } from '../../src/io/models/zip.js';
import { main } from '../../src/cli/main.js';
import { buildChain, cnnLayers, gapLayers, reshapeLayers, forward, inputBatch, maxAbsDiff, rand, CNN_INPUT, GAP_INPUT, RESHAPE_INPUT } from './helpers.js';

const shared = fileURLToPath(new URL('../../../shared/fixtures/models/', import.meta.url));
const tmp = () => mkdtempSync(join(tmpdir(), 'convnet-io-'));

/** A compiled Sequential model with random weights and a built, non-zero Adam state. */
function trainedModel(layers = cnnLayers(), shape = CNN_INPUT): Sequential {
  buildChain(shape, layers);
  const model = new Sequential(layers);
  const units = model.outputShape![1];
  model.compile({ optimizer: 'adam', loss: units === 1 ? 'binary_crossentropy' : 'categorical_crossentropy', metrics: ['accuracy'] });
  const opt = model.optimizer!;
  opt.build(model.trainableWeights);
  opt.iterations = 37;
  opt.variables().slice(2).forEach((v, i) => v.assign(tensor(rand(v.size, 500 + i, 0, 0.01), v.shape.slice())));
  return model;
}

const FIXTURES = ['akshat_mnist.keras', 'aslaskin_digit.keras', 'edwin_mnist_cnn.keras', 'nguyen_testcnn_k2.13.1.keras',
  'brian_digit_k2.15.0.keras', 'brian_digit_my_model.h5', 'tfjs_brian', 'tensorspace_keras_mnist.h5', 'ahmedkamel_mnist_best.h5',
  'tfjs_arieldant', 'tfjs_tensorspace_lenet'];

for (const file of FIXTURES) {
  test(`loadModel ${file}: weights in place, predictions are probabilities`, async (t) => {
    if (!existsSync(join(shared, file))) { t.skip(`../shared/fixtures/models/${file} is absent`); return; }
    const warnings: string[] = [];
    const model = await loadModel(join(shared, file), { warn: (m) => warnings.push(m) });
    assert.deepEqual(warnings, []);
    const x = inputBatch(model.inputShape!.slice(1) as number[], 3, 7, 1);
    // tfjs_tensorspace_lenet is a functional model with every layer as an output (for a visualiser): read the last.
    const y = model.className === 'Functional' ? (await model.predictOutputs(x, { verbose: 0 })).at(-1)!.dataSync() : forward(model.layers, x);
    for (let r = 0; r < 3; r++) {
      const row = y.slice(r * (y.length / 3), (r + 1) * (y.length / 3));
      assert.ok(Math.abs(row.reduce((a, b) => a + b, 0) - 1) < 1e-4, 'softmax rows sum to 1');
    }
  });
}

test('optimizer state from Keras files is restored (iterations and moments)', async (t) => {
  if (!existsSync(join(shared, 'akshat_mnist.keras'))) { t.skip('../shared/fixtures/models/akshat_mnist.keras is absent'); return; }
  const data = await readModelData(join(shared, 'akshat_mnist.keras'));
  const model = await loadModel(join(shared, 'akshat_mnist.keras'));
  assert.equal(model.optimizer.constructor.name, 'Adam');
  const vars = model.optimizer.variables();
  assert.equal(vars.length, data.optimizerVariables!.length);
  assert.equal(model.optimizer.iterations, data.optimizerVariables![0].data[0]);
  assert.ok(model.optimizer.iterations > 0);
  for (let i = 1; i < vars.length; i++) assert.deepEqual(vars[i].value.dataSync(), data.optimizerVariables![i].data);
  // Keras 2.13 saved no learning_rate variable: the moments still line up.
  if (existsSync(join(shared, 'nguyen_testcnn_k2.13.1.keras'))) {
    const n = await loadModel(join(shared, 'nguyen_testcnn_k2.13.1.keras'));
    const nd = await readModelData(join(shared, 'nguyen_testcnn_k2.13.1.keras'));
    assert.equal(n.optimizer.iterations, nd.optimizerVariables![0].data[0]);
    assert.deepEqual(n.optimizer.variables()[2].value.dataSync(), nd.optimizerVariables![1].data);
  }
});

test('the brian trio (.keras from Keras 2.15, legacy .h5, TF.js) predicts the same', async (t) => {
  const files = ['brian_digit_k2.15.0.keras', 'brian_digit_my_model.h5', 'tfjs_brian'];
  if (!files.every((f) => existsSync(join(shared, f)))) { t.skip('../shared/fixtures/models brian files are absent'); return; }
  const x = inputBatch([28, 28], 8, 3, 1);
  const ys = [];
  for (const f of files) ys.push(forward((await loadModel(join(shared, f))).layers, x));
  assert.equal(maxAbsDiff(ys[0], ys[1]), 0);
  assert.equal(maxAbsDiff(ys[0], ys[2]), 0);
});

test('.keras round trip keeps architecture, weights, compile settings and optimizer state', async () => {
  const model = trainedModel();
  const path = join(tmp(), 'cnn.keras');
  await model.save(path);
  const back = await loadModel(path);
  assert.deepEqual(back.layers.map((l: any) => l.className), model.layers.map((l) => l.className));
  assert.deepEqual(back.layers.map((l: any) => l.name), model.layers.map((l) => l.name));
  const x = inputBatch(CNN_INPUT, 4);
  assert.equal(maxAbsDiff(forward(back.layers, x), forward(model.layers, x)), 0);
  assert.deepEqual(back.compileConfig, model.compileConfig);
  assert.equal(back.optimizer.iterations, 37);
  const a = model.optimizer!.variables();
  const b = back.optimizer.variables();
  assert.equal(b.length, a.length);
  for (let i = 0; i < a.length; i++) assert.deepEqual(b[i].value.dataSync(), a[i].value.dataSync());
  // No temporary files left beside the model.
  assert.deepEqual(readdirSync(join(path, '..')), ['cnn.keras']);
});

test('.keras layout: zip entries, metadata, config.json as Keras 3 writes them', async () => {
  const model = trainedModel();
  const path = join(tmp(), 'cnn.keras');
  await saveModel(model, path);
  const { readZip } = await import('../../src/io/models/zip.js');
  const files = readZip(readFileSync(path));
  assert.deepEqual([...files.keys()], ['metadata.json', 'config.json', 'model.weights.h5']);
  const meta = JSON.parse(new TextDecoder().decode(files.get('metadata.json')));
  // Keras 3.4.1's style: layer dtypes as DTypePolicy dicts (the InputLayer's a plain name), as metadata.json says.
  assert.equal(meta.keras_version, '3.4.1');
  assert.match(meta.date_saved, /^\d{4}-\d\d-\d\d@\d\d:\d\d:\d\d$/);
  const cfg = JSON.parse(new TextDecoder().decode(files.get('config.json')));
  assert.deepEqual(Object.keys(cfg), ['module', 'class_name', 'config', 'registered_name', 'build_config', 'compile_config']);
  assert.equal(cfg.module, 'keras');
  assert.equal(cfg.class_name, 'Sequential');
  assert.deepEqual(cfg.build_config, { input_shape: [null, ...CNN_INPUT] });
  const [input, ...layers] = cfg.config.layers;
  assert.deepEqual(input, { module: 'keras.layers', class_name: 'InputLayer', config: { batch_shape: [null, ...CNN_INPUT], dtype: 'float32', sparse: false, name: 'input_layer' }, registered_name: null });
  for (const l of layers) {
    assert.equal(l.module, 'keras.layers');
    assert.equal(l.registered_name, null);
    assert.deepEqual(l.config.dtype, { module: 'keras', class_name: 'DTypePolicy', config: { name: 'float32' }, registered_name: null });
  }
  assert.deepEqual(cfg.config.dtype, { module: 'keras', class_name: 'DTypePolicy', config: { name: 'float32' }, registered_name: null });
  const conv = layers.find((l: any) => l.class_name === 'Conv2D');
  assert.deepEqual(Object.keys(conv.config), ['name', 'trainable', 'dtype', 'filters', 'kernel_size', 'strides', 'padding', 'data_format', 'dilation_rate',
    'groups', 'activation', 'use_bias', 'kernel_initializer', 'bias_initializer', 'kernel_regularizer', 'bias_regularizer', 'activity_regularizer',
    'kernel_constraint', 'bias_constraint']);
  assert.deepEqual(conv.build_config, { input_shape: [null, ...CNN_INPUT] });
  assert.deepEqual(Object.keys(cfg.compile_config), ['optimizer', 'loss', 'loss_weights', 'metrics', 'weighted_metrics', 'run_eagerly', 'steps_per_execution', 'jit_compile']);
  assert.equal(cfg.compile_config.optimizer.class_name, 'Adam');
  assert.ok(!('loss_scale_factor' in cfg.compile_config.optimizer.config));
});

test('h5py sees every group, dataset, shape and dtype Keras 3 looks for in model.weights.h5', async (t) => {
  const py = '/usr/bin/python3';
  if (!existsSync(py) || spawnSync(py, ['-c', 'import h5py'], { encoding: 'utf8' }).status !== 0) { t.skip('h5py is not installed (apt-get install python3-h5py)'); return; }
  const model = trainedModel();
  const path = join(tmp(), 'cnn.keras');
  await saveModel(model, path);
  const script = [
    'import sys, io, json, zipfile, h5py',
    'z = zipfile.ZipFile(sys.argv[1])',
    'f = h5py.File(io.BytesIO(z.read("model.weights.h5")), "r")',
    'out = {}',
    'def visit(name, obj):',
    '    if isinstance(obj, h5py.Dataset): out[name] = [list(obj.shape), str(obj.dtype)]',
    '    else: out[name] = "group"',
    'f.visititems(visit)',
    'print(json.dumps(out))',
  ].join('\n');
  const r = spawnSync(py, ['-c', script, path], { encoding: 'utf8' });
  assert.equal(r.status, 0, r.stderr);
  const seen = JSON.parse(r.stdout);
  const want: Record<string, unknown> = { vars: 'group', layers: 'group', optimizer: 'group', 'optimizer/vars': 'group' };
  const count = new Map<string, number>();
  const snake: Record<string, string> = { Conv2D: 'conv2d', BatchNormalization: 'batch_normalization', MaxPooling2D: 'max_pooling2d', AveragePooling2D: 'average_pooling2d', Flatten: 'flatten', Dropout: 'dropout', Dense: 'dense', Rescaling: 'rescaling' };
  for (const l of model.layers) {
    const base = snake[l.className];
    const n = count.get(base) ?? 0;
    count.set(base, n + 1);
    const key = `layers/${n ? `${base}_${n}` : base}`;
    want[key] = 'group';
    want[`${key}/vars`] = 'group';
    l.variables.forEach((v, i) => { want[`${key}/vars/${i}`] = [v.shape.slice(), 'float32']; });
  }
  const opt = model.optimizer!.variables();
  opt.forEach((v, i) => { want[`optimizer/vars/${i}`] = [v.shape.slice(), i === 0 ? 'int64' : 'float32']; });
  assert.deepEqual(seen, want);
  assert.equal(opt.length, 2 + 2 * model.trainableWeights.length, 'iterations, learning_rate, then m and v per trainable weight');
});

test('saveWeights writes Keras 3 .weights.h5 (the model.weights.h5 of a .keras), atomically; loadWeights restores weights and optimizer state', async () => {
  const model = trainedModel();
  const dir = tmp();
  const path = join(dir, 'cnn.weights.h5');
  await model.saveWeights(path);
  assert.deepEqual(readdirSync(dir), ['cnn.weights.h5']);
  await model.save(join(dir, 'cnn.keras'));
  const { readZip } = await import('../../src/io/models/zip.js');
  const { readH5 } = await import('../../src/io/models/hdf5.js');
  const tree = async (b: Uint8Array) => {
    const out: string[] = [];
    const walk = (g: any, p: string) => { for (const [k, n] of g.children) { out.push(`${p}${k}${n.kind === 'dataset' ? `:${n.shape.join('x')}` : ''}`); if (n.kind === 'group') walk(n, `${p}${k}/`); } };
    walk(await readH5(b, 'x'), '');
    return out;
  };
  const inside = readZip(readFileSync(join(dir, 'cnn.keras'))).get('model.weights.h5')!;
  assert.deepEqual(await tree(new Uint8Array(readFileSync(path))), await tree(inside));
  assert.ok((await tree(inside)).includes('optimizer/vars/0:'), 'optimizer variables included');

  const fresh = trainedModel();
  fresh.layers.forEach((l, i) => l.variables.forEach((v) => v.assign(tensor(rand(v.size, 900 + i), v.shape.slice()))));
  fresh.optimizer!.iterations = 0;
  await fresh.loadWeights(path);
  const x = inputBatch(CNN_INPUT, 4);
  assert.equal(maxAbsDiff(forward(fresh.layers, x), forward(model.layers, x)), 0);
  assert.equal(fresh.optimizer!.iterations, 37);
  // Weights of a whole-model file load the same way.
  const other = trainedModel();
  other.layers.forEach((l, i) => l.variables.forEach((v) => v.assign(tensor(rand(v.size, 700 + i), v.shape.slice()))));
  await other.loadWeights(join(dir, 'cnn.keras'));
  assert.equal(maxAbsDiff(forward(other.layers, x), forward(model.layers, x)), 0);

  await assert.rejects(model.saveWeights(join(dir, 'cnn.h5')), /must end in \.weights\.h5/);
  // Another architecture is refused, naming the weight, and changes nothing.
  const gap = trainedModel(gapLayers(), GAP_INPUT);
  const before = gap.getWeights().map((w) => w.dataSync());
  await assert.rejects(gap.loadWeights(path), /weight conv2d\/kernel of layer "conv2d" \(Conv2D\) has shape \(3, 3, 2, 8\) in the model, \(3, 3, 3, 4\) in the file/);
  gap.getWeights().forEach((w, i) => assert.deepEqual(w.dataSync(), before[i]));
});

test('h5py reads a .weights.h5 file as Keras 3 lays it out', async (t) => {
  const py = '/usr/bin/python3';
  if (!existsSync(py) || spawnSync(py, ['-c', 'import h5py'], { encoding: 'utf8' }).status !== 0) { t.skip('h5py is not installed (apt-get install python3-h5py)'); return; }
  const model = trainedModel(gapLayers(), GAP_INPUT);
  const path = join(tmp(), 'gap.weights.h5');
  await model.saveWeights(path, { includeOptimizer: false });
  const script = 'import sys, json, h5py\nf = h5py.File(sys.argv[1], "r")\nout = []\nf.visititems(lambda n, o: out.append([n, list(o.shape), str(o.dtype)] if isinstance(o, h5py.Dataset) else n))\nprint(json.dumps(out))';
  const r = spawnSync(py, ['-c', script, path], { encoding: 'utf8' });
  assert.equal(r.status, 0, r.stderr);
  assert.deepEqual(JSON.parse(r.stdout), [
    'layers', 'layers/conv2d', 'layers/conv2d/vars', ['layers/conv2d/vars/0', [3, 3, 2, 8], 'float32'], ['layers/conv2d/vars/1', [8], 'float32'],
    'layers/dense', 'layers/dense/vars', ['layers/dense/vars/0', [8, 1], 'float32'], ['layers/dense/vars/1', [1], 'float32'],
    'layers/global_average_pooling2d', 'layers/global_average_pooling2d/vars', 'layers/max_pooling2d', 'layers/max_pooling2d/vars', 'vars',
  ]);
});

/** ONNX Runtime for WebAssembly (onnxruntime-web, a devDependency with no install script), run in Node. */
async function onnxRuntime() {
  const ort = await import('onnxruntime-web');
  ort.env.wasm.numThreads = 1; // one thread: no worker start-up, same numbers every run
  return ort;
}

/** TF.js is an optional peer (heavy; `npm run bench:peers` installs it): its cross-checks skip visibly without it. */
async function hasTfjs(): Promise<boolean> {
  try { await import('@tensorflow/tfjs'); return true; } catch { return false; }
}

async function loadWithTfjs(dir: string) {
  const tf = await import('@tensorflow/tfjs');
  const mj = JSON.parse(readFileSync(join(dir, 'model.json'), 'utf8'));
  const bufs = mj.weightsManifest.flatMap((g: any) => g.paths.map((p: string) => readFileSync(join(dir, p))));
  const all = Buffer.concat(bufs);
  const handler = {
    load: async () => ({
      modelTopology: mj.modelTopology, format: mj.format, generatedBy: mj.generatedBy, convertedBy: mj.convertedBy,
      weightSpecs: mj.weightsManifest.flatMap((g: any) => g.weights),
      weightData: all.buffer.slice(all.byteOffset, all.byteOffset + all.byteLength),
    }),
  };
  return { tf, model: await tf.loadLayersModel(handler as any) };
}

test('.keras round trip of the shape-changing layers (Reshape, ZeroPadding2D, UpSampling2D, Cropping2D, Permute)', async () => {
  const model = trainedModel(reshapeLayers(), RESHAPE_INPUT);
  const path = join(tmp(), 'reshape.keras');
  await model.save(path);
  const { readZip } = await import('../../src/io/models/zip.js');
  const cfg = JSON.parse(new TextDecoder().decode(readZip(readFileSync(path)).get('config.json')));
  const byClass = Object.fromEntries(cfg.config.layers.map((l: any) => [l.class_name, l.config]));
  assert.deepEqual(byClass.Reshape.target_shape, [6, 8, 1]);
  assert.deepEqual(byClass.ZeroPadding2D.padding, [[1, 0], [2, 1]]);
  assert.deepEqual(byClass.Cropping2D.cropping, [[1, 1], [0, 2]]);
  assert.deepEqual([byClass.UpSampling2D.size, byClass.UpSampling2D.interpolation], [[2, 2], 'nearest']);
  assert.deepEqual(byClass.Permute.dims, [2, 1, 3]);
  const back = await loadModel(path);
  assert.deepEqual(back.layers.map((l: any) => l.className), model.layers.map((l) => l.className));
  const x = inputBatch(RESHAPE_INPUT, 3);
  assert.equal(maxAbsDiff(forward(back.layers, x), forward(model.layers, x)), 0);
});

for (const [label, make, shape] of [['CNN with BatchNorm', cnnLayers, CNN_INPUT], ['global-pooling sigmoid net', gapLayers, GAP_INPUT],
  ['reshaping net (Reshape, ZeroPadding2D, UpSampling2D, Cropping2D, Permute)', reshapeLayers, RESHAPE_INPUT]] as const) {
  test(`TF.js: tf.loadLayersModel reads convnet's ${label} and predicts within 1e-5`, async (t) => {
    if (!(await hasTfjs())) { t.skip('@tensorflow/tfjs is not installed (an optional peer: npm run bench:peers installs it)'); return; }
    const model = trainedModel(make(), shape as number[]);
    const dir = join(tmp(), 'web_model');
    await saveModel(model, `tfjs://${dir}`);
    const mj = JSON.parse(readFileSync(join(dir, 'model.json'), 'utf8'));
    assert.equal(mj.format, 'layers-model');
    assert.deepEqual(mj.modelTopology.model_config.config.layers[1].config.batch_input_shape, [null, ...shape]);
    const { tf, model: tfModel } = await loadWithTfjs(dir);
    const x = inputBatch(shape as number[], 5);
    const want = forward(model.layers, x);
    const y = tfModel.predict(tf.tensor(x.dataSync() as Float32Array, [5, ...shape])) as any;
    assert.ok(maxAbsDiff(y.dataSync(), want) < 1e-5, `max diff ${maxAbsDiff(y.dataSync(), want)}`);
    // convnet reads its own TF.js output back.
    const back = await loadModel(dir);
    assert.equal(maxAbsDiff(forward(back.layers, x), want), 0);
  });

  test(`ONNX: ONNX Runtime runs convnet's ${label} (NHWC input) within 1e-4`, async () => {
    const ort = await onnxRuntime();
    const model = trainedModel(make(), shape as number[]);
    const path = join(tmp(), 'model.onnx');
    await saveModel(model, path);
    const session = await ort.InferenceSession.create(readFileSync(path));
    assert.deepEqual(session.inputNames, ['input']);
    const x = inputBatch(shape as number[], 6);
    const r = await session.run({ input: new ort.Tensor('float32', x.dataSync() as Float32Array, [6, ...shape]) });
    const want = forward(model.layers, x);
    assert.ok(maxAbsDiff(r.output.data as Float32Array, want) < 1e-4, `max diff ${maxAbsDiff(r.output.data as Float32Array, want)}`);
  });
}

test('ONNX export of a Keras-written model matches convnet on it', async (t) => {
  if (!existsSync(join(shared, 'akshat_mnist.keras'))) { t.skip('../shared/fixtures/models/akshat_mnist.keras is absent'); return; }
  const ort = await onnxRuntime();
  const out = join(tmp(), 'akshat.onnx');
  assert.equal(await main(['export', join(shared, 'akshat_mnist.keras'), out]), 0);
  const model = await loadModel(join(shared, 'akshat_mnist.keras'));
  const x = inputBatch([28, 28, 1], 4, 11, 1);
  const session = await ort.InferenceSession.create(readFileSync(out));
  const r = await session.run({ input: new ort.Tensor('float32', x.dataSync() as Float32Array, [4, 28, 28, 1]) });
  assert.ok(maxAbsDiff(r.output.data as Float32Array, forward(model.layers, x)) < 1e-4);
});

test('convnet summary prints any model file', async (t) => {
  if (!existsSync(join(shared, 'tfjs_arieldant'))) { t.skip('../shared/fixtures/models/tfjs_arieldant is absent'); return; }
  const lines: string[] = [];
  const log = console.log;
  console.log = (s: string) => lines.push(String(s));
  try {
    assert.equal(await main(['summary', join(shared, 'tfjs_arieldant')]), 0);
  } finally { console.log = log; }
  const text = lines.join('\n');
  assert.match(text, /conv2d_1/);
  assert.match(text, /Total params: 179,926/);
});

// ---- refusals --------------------------------------------------------------------------------------

function kerasArchive(config: unknown, weights: Uint8Array): Uint8Array {
  const enc = new TextEncoder();
  return writeZip([['metadata.json', enc.encode('{"keras_version": "3.4.1", "date_saved": "x"}')], ['config.json', enc.encode(JSON.stringify(config))], ['model.weights.h5', weights]]);
}

test('an unknown layer class is refused, named in the error (no code is run)', async () => {
  const model = trainedModel(gapLayers(), GAP_INPUT);
  const dir = tmp();
  await saveModel(model, join(dir, 'ok.keras'));
  const { readZip } = await import('../../src/io/models/zip.js');
  const files = readZip(readFileSync(join(dir, 'ok.keras')));
  const cfg = JSON.parse(new TextDecoder().decode(files.get('config.json')));
  cfg.config.layers.splice(2, 0, { module: 'keras.layers', class_name: 'Lambda', config: { name: 'evil', function: { class_name: '__lambda__', config: { code: 'ZXZpbA==' } } }, registered_name: null });
  writeFileSync(join(dir, 'evil.keras'), kerasArchive(cfg, files.get('model.weights.h5')!));
  await assert.rejects(loadModel(join(dir, 'evil.keras')), /layer 1 \(Lambda "evil"\): unknown layer class "Lambda"/);
});

test('weights whose shapes do not match the config are refused, naming the weight', async () => {
  const model = trainedModel(gapLayers(), GAP_INPUT);
  const dir = tmp();
  await saveModel(model, join(dir, 'ok.keras'));
  const { readZip } = await import('../../src/io/models/zip.js');
  const files = readZip(readFileSync(join(dir, 'ok.keras')));
  const cfg = JSON.parse(new TextDecoder().decode(files.get('config.json')));
  cfg.config.layers[4].config.units = 2; // the Dense kernel in the file is [8, 1]
  writeFileSync(join(dir, 'bad.keras'), kerasArchive(cfg, files.get('model.weights.h5')!));
  await assert.rejects(loadModel(join(dir, 'bad.keras')), /weight dense\/kernel of layer "dense" \(Dense\) has shape \(8, 2\) in the model, \(8, 1\) in the file/);
});

test('a failed save leaves the previous file intact and no temporary file', async () => {
  const dir = tmp();
  const path = join(dir, 'model.onnx');
  writeFileSync(path, 'previous');
  const model = trainedModel(gapLayers(), GAP_INPUT);
  // Make the export fail half-way: an activation ONNX has no translation for.
  (model.layers[3] as any).activation = 'gelu';
  (model.layers[3] as any).getConfig = function () { return { ...Object.getPrototypeOf(this).getConfig.call(this), activation: 'gelu' }; };
  await assert.rejects(saveModel(model, path), /activation "gelu"/);
  assert.equal(readFileSync(path, 'utf8'), 'previous');
  assert.deepEqual(readdirSync(dir), ['model.onnx']);
});
