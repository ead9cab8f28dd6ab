// Files of older Keras eras: initializer configs that carry keys Keras ignores, legacy .h5 optimizer
// state (restored, and carried through `convnet export`), and how a save target picks its format.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { tensor } from '../../src/tensor/index.js';
import { getInitializer, VarianceScaling } from '../../src/layers/initializers.js';
import { Sequential } from '../../src/models/index.js';
import { layers } from '../../src/layers/index.js';
import { loadModel, readModelData, saveModel, formatForSave } from '../../src/io/models/index.js';
import { writeKerasArchive } from '../../src/io/models/keras.js';
import { modelData } from '../../src/io/models/index.js';
import { command as exportCommand } from '../../src/cli/commands/export.js';

const here = fileURLToPath(new URL('../fixtures/io/', import.meta.url));
const shared = fileURLToPath(new URL('../../../shared/fixtures/models/', import.meta.url));
const EXPECTED = JSON.parse(readFileSync(join(here, 'legacy_h5.json'), 'utf8')) as Record<string, { input: number[]; output: number[]; iterations: number; slots: number[][][] }>;
const quiet = { log: console.log, error: console.error };
async function silently<T>(f: () => Promise<T>): Promise<T> {
  console.log = () => {}; console.error = () => {};
  try { return await f(); } finally { console.log = quiet.log; console.error = quiet.error; }
}

test('initializer configs: keys some Keras era wrote and Keras ignores are accepted; others still refused', () => {
  // TF 1.x initializers wrote their dtype (Zeros and Ones too); Keras 2's from_config pops it.
  assert.equal(getInitializer({ class_name: 'GlorotUniform', config: { seed: 5, dtype: 'float32' } }, 'zeros').className, 'GlorotUniform');
  for (const cls of ['Zeros', 'Ones', 'HeNormal', 'LecunUniform', 'GlorotNormal', 'HeUniform', 'LecunNormal']) {
    assert.equal(getInitializer({ class_name: cls, config: { dtype: 'float32' } }, 'zeros').className, cls);
  }
  assert.equal(getInitializer({ class_name: 'RandomNormal', config: { mean: 0, stddev: 0.1, seed: null, dtype: 'float32' } }, 'zeros').className, 'RandomNormal');
  assert.equal(getInitializer({ class_name: 'RandomUniform', config: { minval: -1, maxval: 1, seed: null, dtype: 'float32' } }, 'zeros').className, 'RandomUniform');
  assert.equal(getInitializer({ class_name: 'TruncatedNormal', config: { mean: 0, stddev: 0.1, seed: null, dtype: 'float32' } }, 'zeros').className, 'TruncatedNormal');
  const c = getInitializer({ class_name: 'Constant', config: { value: 0.25, dtype: 'float32', verify_shape: false } }, 'zeros');
  assert.deepEqual(Array.from(c.call([3]).dataSync()), [0.25, 0.25, 0.25]);
  // Keras 3.15's einsum axes on VarianceScaling presets.
  assert.equal(getInitializer({ class_name: 'HeNormal', config: { seed: null, input_axes: null, output_axes: null } }, 'zeros').className, 'HeNormal');
  // TF 1.x's (and TF.js's) 'normal' distribution is the truncated normal, as Keras maps it.
  const vs = getInitializer({ class_name: 'VarianceScaling', config: { scale: 1, mode: 'fan_avg', distribution: 'normal', seed: 3, dtype: 'float32' } }, 'zeros') as VarianceScaling;
  assert.equal(vs.distribution, 'truncated_normal');
  const w = vs.call([40, 40]).dataSync();
  const lim = 2 * Math.sqrt(1 / 40) / 0.87962566103423978;
  assert.ok(Array.from(w).every((v) => Math.abs(v) <= lim + 1e-6), 'truncated at two standard deviations');
  // Anything else is still an error naming the key.
  assert.throws(() => getInitializer({ class_name: 'GlorotUniform', config: { seed: null, gain: 2 } }, 'zeros'), /unknown option "gain"/);
  assert.throws(() => new VarianceScaling({ distribution: 'gaussian' as never }), /distribution must be/);
  assert.throws(() => new VarianceScaling({ mode: 'fan_mid' as never }), /mode must be/);
});

test('tf.keras 2.1.6 (TF 1.x), 2.4 and 2.15 legacy .h5: initializers with dtype load, outputs match numpy, optimizer state restored', async () => {
  const cases = [['tf1_adam.h5', 'Adam', ['momentum', 'velocity']], ['tf2_rmsprop.h5', 'RMSprop', ['velocity', 'momentum']], ['tf215_adam.h5', 'Adam', ['momentum', 'velocity']]] as const;
  for (const [file, kind, slots] of cases) {
    const e = EXPECTED[file];
    const warnings: string[] = [];
    const model = await loadModel(join(here, file), { warn: (m) => warnings.push(m) });
    assert.deepEqual(warnings, [], file);
    const y = (await model.predict(tensor(Float32Array.from(e.input), [1, 6, 6, 1]), { verbose: 0 })).dataSync();
    e.output.forEach((v, i) => assert.ok(Math.abs(y[i] - v) < 1e-5, `${file} output ${i}: ${y[i]} vs numpy ${v}`));
    const opt = model.optimizer;
    assert.equal(opt.className, kind);
    assert.equal(opt.iterations, e.iterations, `${file}: the iteration count`);
    // Each slot of each trainable weight is where the optimizer looks for it.
    const trainable = model.trainableWeights;
    const seen = new Map<string, number>();
    for (const v of opt.variables().slice(2)) {
      const k = seen.get(v.name) ?? 0;
      seen.set(v.name, k + 1);
      assert.deepEqual(v.shape, trainable[k].shape);
      const want = e.slots[k][slots.indexOf(v.name as never)];
      assert.ok(want, `${file}: slot ${v.name}`);
      assert.deepEqual(Array.from(v.value.dataSync()), Array.from(Float32Array.from(want)), `${file}: ${v.name} of ${trainable[k].path}`);
    }
    assert.deepEqual([...seen.values()], slots.map(() => trainable.length));
    // loadWeights into a compiled model of the same architecture restores the state too.
    const twin = await loadModel(join(here, file), { compile: true });
    twin.optimizer.iterations = 0;
    await twin.loadWeights(join(here, file));
    assert.equal(twin.optimizer.iterations, e.iterations, `${file}: loadWeights restores the iteration count`);
    twin.dispose();
    // Training goes on from there.
    await model.fit(tensor(Float32Array.from(e.input), [1, 6, 6, 1]), tensor(new Float32Array([0, 1, 0]), [1, 3]), { epochs: 1, verbose: 0 });
    assert.equal(opt.iterations, e.iterations + 1);
    model.dispose();
  }
});

test('convnet export carries a legacy .h5 optimizer state into .keras (Keras 3 order: iteration, learning_rate, then per weight m, v)', async () => {
  const root = mkdtempSync(join(tmpdir(), 'convnet-legacy-'));
  try {
    const out = join(root, 'tf1.keras');
    assert.equal(await silently(() => exportCommand.run([join(here, 'tf1_adam.h5'), out])), 0);
    const d = await readModelData(out);
    const e = EXPECTED['tf1_adam.h5'];
    const ov = d.optimizerVariables!;
    assert.equal(ov.length, 2 + 2 * 4);
    assert.equal(ov[0].data[0], 17);
    assert.ok(Math.abs(ov[1].data[0] - 0.001) < 1e-9);
    for (let k = 0; k < 4; k++) {
      assert.deepEqual(Array.from(ov[2 + 2 * k].data), Array.from(Float32Array.from(e.slots[k][0])), `m of weight ${k}`);
      assert.deepEqual(Array.from(ov[3 + 2 * k].data), Array.from(Float32Array.from(e.slots[k][1])), `v of weight ${k}`);
    }
    const back = await loadModel(out);
    assert.equal(back.optimizer.iterations, 17);
    back.dispose();
  } finally {
    rmSync(root, { recursive: true, force: true });
  }
});

test('real Keras 2.1.6 and Keras 3 legacy .h5 files: the optimizer state is restored', async (t) => {
  const cases: [string, number][] = [['tensorspace_keras_mnist.h5', 9375], ['ahmedkamel_mnist_best.h5', 9000]];
  for (const [file, iterations] of cases) {
    if (!existsSync(join(shared, file))) { t.skip(`../shared/fixtures/models/${file} is absent`); continue; }
    const warnings: string[] = [];
    const model = await loadModel(join(shared, file), { warn: (m) => warnings.push(m) });
    assert.deepEqual(warnings, []);
    assert.equal(model.optimizer.iterations, iterations, file);
    const moments = model.optimizer.variables().slice(2);
    assert.equal(moments.length, 2 * model.trainableWeights.length);
    assert.ok(moments.every((v: { value: { dataSync(): Float32Array } }) => v.value.dataSync().some((x) => x !== 0)), `${file}: every moment restored`);
    model.dispose();
  }
});

test('TF.js model.json and .keras with initializer configs carrying dtype load', async () => {
  const root = mkdtempSync(join(tmpdir(), 'convnet-legacy-'));
  try {
    const dense = {
      class_name: 'Dense',
      config: {
        name: 'dense_1', trainable: true, batch_input_shape: [null, 4], dtype: 'float32', units: 2, activation: 'linear', use_bias: true,
        kernel_initializer: { class_name: 'GlorotUniform', config: { seed: 1, dtype: 'float32' } },
        bias_initializer: { class_name: 'Zeros', config: { dtype: 'float32' } },
        kernel_regularizer: null, bias_regularizer: null, activity_regularizer: null, kernel_constraint: null, bias_constraint: null,
      },
    };
    const w = new Float32Array([1, 2, 3, 4, 5, 6, 7, 8, 0.5, -0.5]);
    // A TF.js converter output of the TF 1.x era.
    const dir = join(root, 'web');
    mkdirSync(dir);
    writeFileSync(join(dir, 'group1-shard1of1.bin'), new Uint8Array(w.buffer));
    writeFileSync(join(dir, 'model.json'), JSON.stringify({
      format: 'layers-model', generatedBy: 'keras v2.1.6-tf', convertedBy: 'TensorFlow.js Converter v1.0.0',
      modelTopology: { keras_version: '2.1.6-tf', backend: 'tensorflow', model_config: { class_name: 'Sequential', config: [dense] } },
      weightsManifest: [{ paths: ['group1-shard1of1.bin'], weights: [{ name: 'dense_1/kernel', shape: [4, 2], dtype: 'float32' }, { name: 'dense_1/bias', shape: [2], dtype: 'float32' }] }],
    }));
    const a = await loadModel(dir);
    const ya = Array.from((await a.predict(tensor(new Float32Array([1, 0, 0, 1]), [1, 4]), { verbose: 0 })).dataSync());
    assert.deepEqual(ya, [1 + 7 + 0.5, 2 + 8 - 0.5]);
    // A .keras whose initializers carry dtype (as a hand-edited or converted file may).
    const m = new Sequential();
    m.add(new layers.Dense(2, { inputShape: [4] }));
    m.build([null, 4]);
    m.layers[0].setWeights([tensor(w.slice(0, 8), [4, 2]), tensor(w.slice(8), [2])]);
    const data = modelData(m);
    const cfg = data.layers[0].object.config as Record<string, any>;
    cfg.kernel_initializer = { module: 'keras.initializers', class_name: 'GlorotUniform', config: { seed: null, dtype: 'float32' }, registered_name: null };
    cfg.bias_initializer = { module: 'keras.initializers', class_name: 'Zeros', config: { dtype: 'float32' }, registered_name: null };
    // The writer keeps only the keys Keras reads: put dtype back into the written config.json.
    const bytes = await writeKerasArchive(data);
    const { readZip, writeZip } = await import('../../src/io/models/zip.js');
    const files = readZip(bytes);
    const conf = JSON.parse(new TextDecoder().decode(files.get('config.json')));
    assert.deepEqual(conf.config.layers[1].config.kernel_initializer.config, { seed: null });
    conf.config.layers[1].config.kernel_initializer.config.dtype = 'float32';
    conf.config.layers[1].config.bias_initializer.config.dtype = 'float32';
    const enc = new TextEncoder();
    writeFileSync(join(root, 'd.keras'), writeZip([['metadata.json', files.get('metadata.json')!], ['config.json', enc.encode(JSON.stringify(conf))], ['model.weights.h5', files.get('model.weights.h5')!]]));
    const b = await loadModel(join(root, 'd.keras'));
    assert.deepEqual(Array.from((await b.predict(tensor(new Float32Array([1, 0, 0, 1]), [1, 4]), { verbose: 0 })).dataSync()), ya);
    a.dispose(); b.dispose(); m.dispose();
  } finally {
    rmSync(root, { recursive: true, force: true });
  }
});

test('the save target decides the format: folders for TF.js, hints for names that look like other files', async () => {
  const root = mkdtempSync(join(tmpdir(), 'convnet-legacy-'));
  try {
    assert.equal(formatForSave('m.keras'), 'keras');
    assert.equal(formatForSave('m.onnx'), 'onnx');
    assert.equal(formatForSave('web_model'), 'tfjs');
    assert.equal(formatForSave('out.keras_tfjs'), 'tfjs');
    assert.equal(formatForSave('out/'), 'tfjs');
    assert.equal(formatForSave('tfjs://out.keras'), 'tfjs');
    mkdirSync(join(root, 'exists.keras'));
    assert.equal(formatForSave(join(root, 'exists.keras')), 'tfjs');
    assert.equal(formatForSave('m.pb', { format: 'onnx' }), 'onnx');
    assert.throws(() => formatForSave('m.kears'), /did you mean \.keras\?.*pass \{ format \}/);
    assert.throws(() => formatForSave('m.pb'), /\.pb is another tool's file type.*pass \{ format \}/);
    assert.equal(formatForSave('m.h5'), 'h5');
    assert.throws(() => formatForSave('m.weights.h5'), /weights-only name: save it with saveWeights/);

    // The command: `export m.keras out.keras_tfjs` writes a TF.js folder; a file-like name hints --format.
    const m = new Sequential();
    m.add(new layers.Dense(2, { inputShape: [3] }));
    m.build([null, 3]);
    const src = join(root, 'm.keras');
    await saveModel(m, src, { classNames: ['no', 'yes'] });
    assert.equal(await silently(() => exportCommand.run([src, join(root, 'out.keras_tfjs')])), 0);
    const tf = JSON.parse(readFileSync(join(root, 'out.keras_tfjs', 'model.json'), 'utf8'));
    assert.equal(tf.format, 'layers-model');
    // Class names travel with the model.
    assert.deepEqual(tf.userDefinedMetadata, { class_names: ['no', 'yes'] });
    assert.deepEqual((await readModelData(join(root, 'out.keras_tfjs'))).classNames, ['no', 'yes']);
    await assert.rejects(silently(() => exportCommand.run([src, join(root, 'm.pb')])), /pass --format keras, tfjs or onnx/);
    m.dispose();
  } finally {
    rmSync(root, { recursive: true, force: true });
  }
});
