// Reading other tools' model files at the format level (no model built), and refusing hostile files.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { zipSync } from 'fflate';
import { readModelData } from '../../src/io/models/index.js';
import { readZip, writeZip, UnsafeFileError } from '../../src/io/models/zip.js';
import { readH5 } from '../../src/io/models/hdf5.js';
import { readKerasArchive } from '../../src/io/models/keras.js';
import { readTfjs } from '../../src/io/models/tfjs.js';
import { normalizeModelConfig, normalizeCompile, toKeras3Layer } from '../../src/io/models/schema.js';

const shared = fileURLToPath(new URL('../../../shared/fixtures/models/', import.meta.url));
const here = fileURLToPath(new URL('../fixtures/io/', import.meta.url));

function summary(d: Awaited<ReturnType<typeof readModelData>>): string[] {
  return d.spec.layers.map((l, i) => `${l.class_name}[${d.weights[i].map((w) => w.shape.join('x')).join(',')}]`);
}

const EXPECTED: Record<string, { input: (number | null)[]; layers: string[]; optimizer: number | null; loss?: string }> = {
  'akshat_mnist.keras': {
    input: [null, 28, 28, 1], optimizer: 18, loss: 'sparse_categorical_crossentropy',
    layers: ['Conv2D[3x3x1x32,32]', 'MaxPooling2D[]', 'Conv2D[3x3x32x64,64]', 'MaxPooling2D[]', 'Flatten[]', 'Dropout[]', 'Dense[1600x128,128]', 'Dense[128x10,10]'],
  },
  'aslaskin_digit.keras': {
    input: [null, 28, 28, 1], optimizer: 14, loss: 'categorical_crossentropy',
    layers: ['Conv2D[3x3x1x32,32]', 'MaxPooling2D[]', 'Conv2D[3x3x32x64,64]', 'MaxPooling2D[]', 'Flatten[]', 'Dropout[]', 'Dense[1600x10,10]'],
  },
  'edwin_mnist_cnn.keras': {
    input: [null, 28, 28, 1], optimizer: 22,
    layers: ['Conv2D[3x3x1x32,32]', 'MaxPooling2D[]', 'Dropout[]', 'Conv2D[3x3x32x32,32]', 'MaxPooling2D[]', 'Dropout[]', 'Flatten[]', 'Dense[800x128,128]', 'Dense[128x64,64]', 'Dense[64x10,10]'],
  },
  // Keras 2.13.1 on Windows: `_layer_checkpoint_dependencies\conv2d_2` names, numbered unlike the config.
  'nguyen_testcnn_k2.13.1.keras': {
    input: [null, 30, 30, 3], optimizer: 25, loss: 'categorical_crossentropy',
    layers: ['Conv2D[5x5x3x32,32]', 'Conv2D[5x5x32x32,32]', 'MaxPooling2D[]', 'Dropout[]', 'Conv2D[3x3x32x64,64]', 'Conv2D[3x3x64x64,64]', 'MaxPooling2D[]', 'Dropout[]', 'Flatten[]', 'Dense[576x256,256]', 'Dropout[]', 'Dense[256x43,43]'],
  },
  'brian_digit_k2.15.0.keras': { input: [null, 28, 28], optimizer: null, loss: 'sparse_categorical_crossentropy', layers: ['Flatten[]', 'Dense[784x128,128]', 'Dense[128x128,128]', 'Dense[128x10,10]'] },
  'brian_digit_my_model.h5': { input: [null, 28, 28], optimizer: null, loss: 'sparse_categorical_crossentropy', layers: ['Flatten[]', 'Dense[784x128,128]', 'Dense[128x128,128]', 'Dense[128x10,10]'] },
  'tfjs_brian': { input: [null, 28, 28], optimizer: null, layers: ['Flatten[]', 'Dense[784x128,128]', 'Dense[128x128,128]', 'Dense[128x10,10]'] },
  // Keras 2.1.6: the Sequential config is a bare list; weights at model_weights/<layer>/<layer>/kernel:0.
  'tensorspace_keras_mnist.h5': {
    input: [null, 28, 28], optimizer: null, loss: 'sparse_categorical_crossentropy',
    layers: ['Reshape[]', 'Conv2D[5x5x1x6,6]', 'MaxPooling2D[]', 'Conv2D[5x5x6x16,16]', 'MaxPooling2D[]', 'Flatten[]', 'Dense[256x120,120]', 'Dense[120x84,84]', 'Dense[84x10,10]'],
  },
  // Keras 3 writing the legacy format: datasets without ':0'; optimizer_weights in Keras 3's order (iteration, learning_rate, 16 moments).
  'ahmedkamel_mnist_best.h5': {
    input: [null, 28, 28, 1], optimizer: 18, loss: 'sparse_categorical_crossentropy',
    layers: ['Conv2D[3x3x1x32,32]', 'MaxPooling2D[]', 'Conv2D[3x3x32x64,64]', 'MaxPooling2D[]', 'Flatten[]', 'Dense[1600x128,128]', 'Dropout[]', 'Dense[128x10,10]'],
  },
  'tfjs_arieldant': {
    input: [null, 28, 28, 1], optimizer: null,
    layers: ['Conv2D[3x3x1x32,32]', 'MaxPooling2D[]', 'Conv2D[3x3x32x64,64]', 'MaxPooling2D[]', 'Dropout[]', 'Flatten[]', 'Dense[1600x100,100]', 'Dense[100x10,10]'],
  },
  // tfjs-layers 0.7.5 browser save: no `format`, a linear functional `Model`, shard path './mnist.weights.bin'.
  'tfjs_tensorspace_lenet': {
    input: [null, 28, 28, 1], optimizer: null,
    layers: ['ZeroPadding2D[]', 'Conv2D[5x5x1x6,6]', 'MaxPooling2D[]', 'Conv2D[5x5x6x16,16]', 'MaxPooling2D[]', 'Flatten[]', 'Dense[400x120,120]', 'Dense[120x84,84]', 'Dense[84x10,10]'],
  },
};

for (const [file, e] of Object.entries(EXPECTED)) {
  test(`reads ${file} (architecture, every weight, compile settings)`, async (t) => {
    if (!existsSync(join(shared, file))) { t.skip(`../shared/fixtures/models/${file} is absent`); return; }
    const d = await readModelData(join(shared, file));
    assert.deepEqual(d.spec.batchInputShape, e.input);
    assert.deepEqual(summary(d), e.layers);
    assert.equal(d.optimizerVariables?.length ?? null, e.optimizer);
    if (e.loss) assert.equal(d.spec.compile?.loss, e.loss);
    for (const ws of d.weights) for (const w of ws) assert.ok(w.data.every(Number.isFinite));
  });
}

test('the brian trio (.keras 2.15, legacy .h5, TF.js) holds identical weights', async (t) => {
  const files = ['brian_digit_k2.15.0.keras', 'brian_digit_my_model.h5', 'tfjs_brian'];
  if (!files.every((f) => existsSync(join(shared, f)))) { t.skip('../shared/fixtures/models brian files are absent'); return; }
  const [a, b, c] = await Promise.all(files.map((f) => readModelData(join(shared, f))));
  for (let i = 0; i < a.weights.length; i++) {
    for (let j = 0; j < a.weights[i].length; j++) {
      assert.deepEqual(b.weights[i][j].data, a.weights[i][j].data);
      assert.deepEqual(c.weights[i][j].data, a.weights[i][j].data);
    }
  }
});

test('compile configs of every era normalise to one form', () => {
  // Keras 2.15: loss as a builtins function, metrics as nested MeanMetricWrapper lists, legacy optimizer module.
  const k215 = normalizeCompile({
    optimizer: { module: 'keras.optimizers.legacy', class_name: 'Adam', config: { name: 'Adam', learning_rate: 0.001, decay: 0 } },
    loss: { module: 'builtins', class_name: 'function', config: 'sparse_categorical_crossentropy', registered_name: 'function' },
    metrics: [[{ class_name: 'MeanMetricWrapper', config: { name: 'accuracy', fn: 'sparse_categorical_accuracy' } }]],
  });
  assert.deepEqual(k215, {
    optimizer: { module: 'keras.optimizers', class_name: 'Adam', config: { name: 'adam', learning_rate: 0.001 }, registered_name: null },
    loss: 'sparse_categorical_crossentropy', metrics: ['accuracy'],
  });
  // Keras 2.1: optimizer_config with 'lr'.
  const k21 = normalizeCompile({ optimizer_config: { class_name: 'Adam', config: { lr: 0.01, decay: 0 } }, loss: 'binary_crossentropy', metrics: ['acc'] });
  assert.deepEqual(k21?.optimizer, { module: 'keras.optimizers', class_name: 'Adam', config: { learning_rate: 0.01 }, registered_name: null });
  assert.deepEqual(k21?.metrics, ['accuracy']);
});

test('layer configs are written with the keys every Keras 3 version accepts', () => {
  const dense = toKeras3Layer({
    module: 'keras.layers', class_name: 'Dense', registered_name: null, build_config: { input_shape: [null, 4] },
    config: {
      name: 'dense', trainable: true, dtype: { module: 'keras', class_name: 'DTypePolicy', config: { name: 'float32' }, registered_name: null },
      units: 2, activation: 'relu', use_bias: true, quantization_config: null, lora_rank: null,
      kernel_initializer: { module: 'keras.initializers', class_name: 'GlorotUniform', config: { seed: null, input_axes: null }, registered_name: null },
    },
  });
  assert.deepEqual(dense.config, {
    name: 'dense', trainable: true, dtype: { module: 'keras', class_name: 'DTypePolicy', config: { name: 'float32' }, registered_name: null },
    units: 2, activation: 'relu', use_bias: true,
    kernel_initializer: { module: 'keras.initializers', class_name: 'GlorotUniform', config: { seed: null }, registered_name: null },
  });
  assert.deepEqual(dense.build_config, { input_shape: [null, 4] });
  const input = toKeras3Layer({ class_name: 'InputLayer', config: { batch_shape: [null, 2], dtype: 'float32', sparse: false, ragged: false, name: 'in', optional: false } });
  assert.deepEqual(Object.keys(input.config), ['batch_shape', 'dtype', 'sparse', 'name']);
  assert.equal(input.config.dtype, 'float32');
});

test('a branching functional model reads as a functional spec (the graph kept for the runtime)', () => {
  const layer = (name: string, inbound: string[]) => ({ name, class_name: 'Dense', config: { name, units: 1 }, inbound_nodes: inbound.length ? [inbound.map((s) => [s, 0, 0, {}])] : [] });
  const cfg = { class_name: 'Model', config: { name: 'm', layers: [layer('in', []), layer('a', ['in']), layer('b', ['in'])] } };
  const spec = normalizeModelConfig(cfg, 'm.json');
  assert.equal(spec.functional, cfg.config);
  assert.deepEqual(spec.layers.map((l) => l.config.name), ['in', 'a', 'b']);
});

// ---- hostile files -------------------------------------------------------------------------------

test('zip entries that escape the folder are refused', () => {
  for (const name of ['../evil.json', '/etc/evil', 'a/../../evil', 'C:\\evil', '..\\evil']) {
    const z = zipSync({ [name]: new Uint8Array([1]) });
    assert.throws(() => readZip(z, {}, 'x.keras'), (e: Error) => e instanceof UnsafeFileError && /escape/.test(e.message), name);
  }
});

test('zip bombs are refused before they expand', () => {
  const big = new Uint8Array(8 << 20);
  const z = zipSync({ 'model.weights.h5': [big, { level: 9 }] });
  assert.throws(() => readZip(z, { maxTotalBytes: 1 << 20, maxEntryBytes: 1 << 30 }, 'bomb.keras'), /more than the limit/);
  assert.throws(() => readZip(z, { maxEntryBytes: 1 << 20 }, 'bomb.keras'), /expands to 8388608 bytes, more than the limit/);
  assert.throws(() => readZip(z, { maxRatio: 100 }, 'bomb.keras'), /zip bomb/);
  assert.equal(readZip(z).get('model.weights.h5')!.length, big.length);
});

test('a zip entry that inflates past its declared size is refused', () => {
  const z = zipSync({ 'config.json': [new Uint8Array(100000).fill(7), { level: 9 }] });
  // Lower the declared size in both the local and the central header.
  const dv = new DataView(z.buffer);
  dv.setUint32(22, 1000, true);
  for (let p = z.length - 22; p >= 0; p--) {
    if (dv.getUint32(p, true) === 0x02014b50) { dv.setUint32(p + 24, 1000, true); break; }
  }
  assert.throws(() => readZip(z, {}, 'liar.keras'), /expands past its declared size/);
});

test('archives written by writeZip read back, and refuse unsafe names', () => {
  const z = writeZip([['a.json', new TextEncoder().encode('{}')], ['b/c.bin', new Uint8Array([1, 2, 3])]]);
  assert.deepEqual([...readZip(z).keys()], ['a.json', 'b/c.bin']);
  assert.throws(() => writeZip([['../x', new Uint8Array(1)]]), /refusing/);
});

for (const [file, pattern] of [
  ['external_dataset.h5', /refers to another file \("\/etc\/hostname"\)/],
  ['virtual_dataset.h5', /refused the virtual dataset/],
  ['soft_link.h5', /refused the soft link "\/layers\/dense\/vars\/0"/],
  ['external_link.h5', /refused the external link/],
] as const) {
  test(`HDF5 ${file} is refused`, async () => {
    await assert.rejects(readH5(readFileSync(join(here, file)), file), (e: Error) => e instanceof UnsafeFileError && pattern.test(e.message));
  });
}

test('a .keras archive whose weights use an external dataset is refused', async () => {
  const cfg = { module: 'keras', class_name: 'Sequential', config: { name: 's', layers: [] } };
  const z = writeZip([
    ['metadata.json', new TextEncoder().encode('{"keras_version": "3.4.1"}')],
    ['config.json', new TextEncoder().encode(JSON.stringify(cfg))],
    ['model.weights.h5', readFileSync(join(here, 'external_dataset.h5'))],
  ]);
  await assert.rejects(readKerasArchive(z, 'evil.keras'), /refers to another file/);
});

test('TF.js weight paths that leave the folder are refused', async () => {
  const json = { format: 'layers-model', modelTopology: { model_config: { class_name: 'Sequential', config: { name: 's', layers: [] } } }, weightsManifest: [{ paths: ['../../etc/passwd'], weights: [] }] };
  await assert.rejects(readTfjs(json, async () => new Uint8Array(0), 'evil/model.json'), /refused weight shard path/);
  const url = { ...json, weightsManifest: [{ paths: ['https://example.invalid/w.bin'], weights: [] }] };
  await assert.rejects(readTfjs(url, async () => new Uint8Array(0), 'evil/model.json'), /refused weight shard path/);
});
