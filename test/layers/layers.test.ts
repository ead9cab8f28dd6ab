import { test } from 'node:test';
import assert from 'node:assert/strict';
import { tensor, setSeed, scope } from '../../src/tensor/index.js';
import { layers, clearSession, deserializeLayer, registeredLayers, initializers, getInitializer, regularizers } from '../../src/layers/index.js';
import { runLayerTest, randomInput } from './run_layer_test.js';
import { valueAndGrad } from '../../src/autograd/index.js';
import { sum, mul } from '../../src/ops/index.js';

test('runLayerTest: Conv2D (valid and same, strides, dilation, activations)', () => {
  runLayerTest({ make: () => new layers.Conv2D(4, [3, 3], { activation: 'relu' }), inputShape: [2, 7, 7, 3], expectedOutputShape: [null, 5, 5, 4], expectedParams: 3 * 3 * 3 * 4 + 4, training: 'same', expected: 'conv2d_relu' });
  runLayerTest({ make: () => new layers.Conv2D({ filters: 2, kernel_size: 3, padding: 'same', strides: 2, use_bias: false }), inputShape: [1, 7, 7, 3], expectedOutputShape: [null, 4, 4, 2], expectedParams: 54, training: 'same', expected: 'conv2d_same_s2' });
  runLayerTest({ make: () => new layers.Conv2D(2, 3, { dilationRate: 2, activation: 'softmax' }), inputShape: [1, 9, 9, 1], expectedOutputShape: [null, 5, 5, 2], expectedParams: 20, training: 'same', expected: 'conv2d_dil2_softmax' });
  runLayerTest({ make: () => new layers.Conv2D(3, [2, 3], { padding: 'same', activation: 'elu' }), inputShape: [1, 5, 6, 2], expectedOutputShape: [null, 5, 6, 3], expectedParams: 39, training: 'same', expected: 'conv2d_same_elu' });
});

test('runLayerTest: pooling layers', () => {
  runLayerTest({ make: () => new layers.MaxPooling2D([2, 2]), inputShape: [2, 7, 7, 3], expectedOutputShape: [null, 3, 3, 3], expectedParams: 0, training: 'same', expected: 'max_pooling2d' });
  runLayerTest({ make: () => new layers.MaxPooling2D(3, 2, 'same'), inputShape: [2, 6, 5, 3], expectedOutputShape: [null, 3, 3, 3], expectedParams: 0, training: 'same', expected: 'max_pooling2d_same_s2_p3' });
  runLayerTest({ make: () => new layers.AveragePooling2D(2, 1, 'same'), inputShape: [2, 5, 5, 2], expectedOutputShape: [null, 5, 5, 2], expectedParams: 0, training: 'same', expected: 'average_pooling2d_same' });
  runLayerTest({ make: () => new layers.GlobalAveragePooling2D(), inputShape: [2, 4, 4, 3], expectedOutputShape: [null, 3], expectedParams: 0, training: 'same', expected: 'global_average_pooling2d' });
  runLayerTest({ make: () => new layers.GlobalMaxPooling2D({ keepdims: true }), inputShape: [2, 4, 4, 3], expectedOutputShape: [null, 1, 1, 3], expectedParams: 0, training: 'same', expected: 'global_max_pooling2d_keepdims' });
});

test('runLayerTest: Flatten, Dense, Activation, Rescaling', () => {
  runLayerTest({ make: () => new layers.Flatten(), inputShape: [2, 3, 4, 5], expectedOutputShape: [null, 60], expectedParams: 0, training: 'same', expected: 'flatten' });
  runLayerTest({ make: () => new layers.Dense(5, { activation: 'tanh', kernelRegularizer: 'l2' }), inputShape: [3, 7], expectedOutputShape: [null, 5], expectedParams: 40, training: 'same', expected: 'dense_tanh' });
  runLayerTest({ make: () => new layers.Dense(3, { activation: 'elu' }), inputShape: [2, 4], expectedOutputShape: [null, 3], expectedParams: 15, training: 'same', expected: 'dense_elu' });
  runLayerTest({ make: () => new layers.Dense(2), inputShape: [3, 4, 6], expectedOutputShape: [null, 4, 2], expectedParams: 14, training: 'same', expected: 'dense_rank3' });
  for (const a of ['relu', 'sigmoid', 'softmax', 'tanh', 'linear', 'elu', 'selu', 'leaky_relu', 'gelu', 'swish', 'relu6', 'softplus', 'hard_sigmoid',
    'log_softmax', 'exponential', 'softsign', 'mish', 'hard_silu']) {
    runLayerTest({ make: () => new layers.Activation(a), inputShape: [2, 5], expectedOutputShape: [null, 5], expectedParams: 0, training: 'same', expected: `activation_${a}`, tol: 1e-5 });
  }
  runLayerTest({ make: () => new layers.Rescaling(1 / 255, 0.5), inputShape: [2, 3, 3, 1], expectedOutputShape: [null, 3, 3, 1], expectedParams: 0, training: 'same', expected: 'rescaling' });
});

test('runLayerTest: Dropout, BatchNormalization and augmentation layers change outputs only in training', () => {
  runLayerTest({ make: () => new layers.Dropout(0.5, { seed: 3 }), inputShape: [4, 10], expectedOutputShape: [null, 10], expectedParams: 0, training: 'differs', expected: (x) => x });
  runLayerTest({
    make: () => new layers.BatchNormalization(), inputShape: [4, 3, 3, 2], expectedOutputShape: [null, 3, 3, 2], expectedParams: 8, training: 'differs', expected: 'batch_normalization', gradCheck: 'training',
    expectedWeights: ['batch_normalization/gamma', 'batch_normalization/beta', 'batch_normalization/moving_mean', 'batch_normalization/moving_variance'],
  });
  runLayerTest({ make: () => new layers.RandomFlip('horizontal', { seed: 1 }), inputShape: [8, 4, 5, 3], expectedOutputShape: [null, 4, 5, 3], expectedParams: 0, training: 'differs', expected: (x) => x });
  runLayerTest({ make: () => new layers.RandomRotation(0.2, { seed: 2 }), inputShape: [4, 6, 6, 1], expectedOutputShape: [null, 6, 6, 1], expectedParams: 0, training: 'differs', expected: (x) => x });
  runLayerTest({ make: () => new layers.RandomZoom(0.3, null, { seed: 3 }), inputShape: [4, 6, 6, 1], expectedOutputShape: [null, 6, 6, 1], expectedParams: 0, training: 'differs', expected: (x) => x });
  runLayerTest({ make: () => new layers.RandomTranslation(0.3, 0.3, { seed: 4, fillMode: 'constant' }), inputShape: [4, 6, 6, 1], expectedOutputShape: [null, 6, 6, 1], expectedParams: 0, training: 'differs', expected: (x) => x });
});

test('runLayerTest: Reshape, Permute, ZeroPadding2D, Cropping2D, UpSampling2D', () => {
  runLayerTest({ make: () => new layers.Reshape([28, 28, 1]), inputShape: [2, 28, 28], expectedOutputShape: [null, 28, 28, 1], expectedParams: 0, training: 'same', expected: (x) => x });
  runLayerTest({ make: () => new layers.Reshape({ target_shape: [-1, 4] }), inputShape: [2, 3, 4, 2], expectedOutputShape: [null, 6, 4], expectedParams: 0, training: 'same', expected: 'reshape_m1_4' });
  runLayerTest({ make: () => new layers.Permute([2, 1, 3]), inputShape: [2, 3, 4, 5], expectedOutputShape: [null, 4, 3, 5], expectedParams: 0, training: 'same', expected: 'permute_213' });
  runLayerTest({ make: () => new layers.ZeroPadding2D(2), inputShape: [2, 5, 4, 3], expectedOutputShape: [null, 9, 8, 3], expectedParams: 0, training: 'same', expected: 'zero_padding2d_2' });
  runLayerTest({ make: () => new layers.ZeroPadding2D({ padding: [[1, 0], [0, 2]] }), inputShape: [1, 3, 3, 2], expectedOutputShape: [null, 4, 5, 2], expectedParams: 0, training: 'same', expected: 'zero_padding2d_asym' });
  runLayerTest({ make: () => new layers.Cropping2D([[1, 2], [0, 1]]), inputShape: [2, 6, 5, 3], expectedOutputShape: [null, 3, 4, 3], expectedParams: 0, training: 'same', expected: 'cropping2d' });
  runLayerTest({ make: () => new layers.UpSampling2D([2, 3]), inputShape: [2, 3, 2, 2], expectedOutputShape: [null, 6, 6, 2], expectedParams: 0, training: 'same', expected: 'up_sampling2d_2x3' });
});

test('ZeroPadding2D, Cropping2D, UpSampling2D, Permute: values, Keras 3 configs, gradients', () => {
  clearSession();
  scope(() => {
    const x = tensor([1, 2, 3, 4, 5, 6], [1, 2, 3, 1]);
    const pad = new layers.ZeroPadding2D([[1, 0], [0, 1]]);
    assert.deepEqual(pad.apply(x).toArray(), [[[[0], [0], [0], [0]], [[1], [2], [3], [0]], [[4], [5], [6], [0]]]]);
    assert.deepEqual(pad.getConfig().padding, [[1, 0], [0, 1]]);
    assert.deepEqual(new layers.ZeroPadding2D(2).getConfig().padding, [[2, 2], [2, 2]]);
    const crop = new layers.Cropping2D([[0, 1], [1, 0]]);
    assert.deepEqual(crop.apply(x).toArray(), [[[[2], [3]]]]);
    assert.deepEqual(crop.getConfig().cropping, [[0, 1], [1, 0]]);
    const up = new layers.UpSampling2D(2);
    assert.deepEqual(up.apply(tensor([1, 2], [1, 1, 2, 1])).toArray(), [[[[1], [1], [2], [2]], [[1], [1], [2], [2]]]]);
    assert.deepEqual(up.getConfig(), { ...up.getConfig(), size: [2, 2], data_format: 'channels_last', interpolation: 'nearest' });
    assert.throws(() => new layers.UpSampling2D(2, { interpolation: 'bilinear' as any }), /interpolation must be one of 'nearest'/);
    assert.deepEqual(new layers.Permute([2, 1]).apply(tensor([1, 2, 3, 4, 5, 6], [1, 2, 3])).toArray(), [[[1, 4], [2, 5], [3, 6]]]);
    assert.deepEqual(new layers.Reshape([3, 2]).getConfig().target_shape, [3, 2]);
    assert.throws(() => new layers.Reshape([4, 2]).apply(x), /cannot reshape an input of shape/);
    assert.throws(() => new layers.Cropping2D(1).apply(x), /leaves nothing/);

    // Gradients: sum(w * layer(x)) has d/dx = the layer's adjoint applied to w.
    for (const layer of [new layers.ZeroPadding2D([[1, 2], [2, 0]]), new layers.Cropping2D([[1, 0], [0, 1]]), new layers.UpSampling2D([2, 3])]) {
      const xi = randomInput([2, 3, 4, 2], 5);
      const w = randomInput(layer.computeOutputShape([2, 3, 4, 2]) as number[], 9);
      const { grads } = valueAndGrad(() => sum(mul(layer.apply(xi), w)), [xi]);
      const eps = 1e-2, g = grads[0].dataSync(), base = xi.dataSync();
      for (const k of [0, 7, 13, 22, 47]) {
        const f = (d: number) => { const v = base.slice(); v[k] += d; return sum(mul(layer.apply(tensor(v, xi.shape)), w)).dataSync()[0]; };
        assert.ok(Math.abs((f(eps) - f(-eps)) / (2 * eps) - g[k]) < 1e-3, `${layer.className}: gradient at ${k}`);
      }
    }
  });
});

test('every registered layer class is covered by a runLayerTest above', () => {
  const covered = ['Reshape', 'Permute', 'ZeroPadding2D', 'Cropping2D', 'UpSampling2D', 'InputLayer', 'Conv2D', 'MaxPooling2D', 'AveragePooling2D', 'GlobalAveragePooling2D', 'GlobalMaxPooling2D', 'Flatten', 'Dense',
    'Activation', 'Rescaling', 'Dropout', 'BatchNormalization', 'RandomFlip', 'RandomRotation', 'RandomZoom', 'RandomTranslation',
    'MaxPool2D', 'AvgPool2D', 'GlobalAvgPool2D', 'GlobalMaxPool2D',
    // test/layers/new_layers.test.ts
    'DepthwiseConv2D', 'SeparableConv2D', 'SeparableConvolution2D', 'Conv2DTranspose', 'Convolution2DTranspose', 'Conv1D', 'Convolution1D',
    'ReLU', 'MaxPooling1D', 'MaxPool1D', 'GlobalAveragePooling1D', 'GlobalAvgPool1D', 'GlobalMaxPooling1D', 'GlobalMaxPool1D',
    'Resizing', 'Normalization', 'GaussianNoise', 'SpatialDropout2D', 'LeakyReLU', 'ELU', 'Softmax', 'GaussianDropout', 'AveragePooling1D', 'AvgPool1D'];
  // Merge layers take a list of inputs; their tests live with the functional API (test/models).
  const merge = ['Add', 'Subtract', 'Multiply', 'Average', 'Maximum', 'Minimum', 'Concatenate', 'Merge', 'Dot'];
  for (const name of registeredLayers()) assert.ok(covered.includes(name) || merge.includes(name), `${name} has no runLayerTest`);
});

test('automatic names follow Keras: conv2d, conv2d_1, max_pooling2d, ...; user names are kept', () => {
  clearSession();
  assert.equal(new layers.Conv2D(1, 3).name, 'conv2d');
  assert.equal(new layers.Conv2D(1, 3).name, 'conv2d_1');
  assert.equal(new layers.MaxPooling2D().name, 'max_pooling2d');
  assert.equal(new layers.GlobalAveragePooling2D().name, 'global_average_pooling2d');
  assert.equal(new layers.BatchNormalization().name, 'batch_normalization');
  assert.equal(new layers.Dense(1, { name: 'dense_5' }).name, 'dense_5');
  assert.equal(new layers.Dense(1).name, 'dense_6');
});

test('configs are Keras 3 snake_case dicts, and camelCase or snake_case options both work', () => {
  clearSession();
  const c = new layers.Conv2D(32, [3, 3], { activation: 'relu', padding: 'same', inputShape: [150, 150, 3] });
  assert.deepEqual(c.getConfig(), {
    name: 'conv2d', trainable: true, dtype: { module: 'keras', class_name: 'DTypePolicy', config: { name: 'float32' }, registered_name: null },
    filters: 32, kernel_size: [3, 3], strides: [1, 1], padding: 'same', data_format: 'channels_last', dilation_rate: [1, 1], groups: 1,
    activation: 'relu', use_bias: true,
    kernel_initializer: { module: 'keras.initializers', class_name: 'GlorotUniform', config: { seed: null }, registered_name: null },
    bias_initializer: { module: 'keras.initializers', class_name: 'Zeros', config: {}, registered_name: null },
    kernel_regularizer: null, bias_regularizer: null, activity_regularizer: null, kernel_constraint: null, bias_constraint: null,
  });
  const d = new layers.Dense({ units: 8, kernel_initializer: 'he_normal', bias_regularizer: { class_name: 'L2', config: { l2: 0.5 } } });
  assert.equal((d.getConfig().kernel_initializer as any).class_name, 'HeNormal');
  assert.deepEqual(d.getConfig().bias_regularizer, { module: 'keras.regularizers', class_name: 'L2', config: { l2: 0.5 }, registered_name: null });
  assert.deepEqual(new layers.MaxPooling2D([2, 2]).getConfig().pool_size, [2, 2]);
  assert.deepEqual(new layers.Dropout(0.5).getConfig().rate, 0.5);
  // Keras 3.15's extra keys are accepted when reading.
  const k = deserializeLayer({ class_name: 'Dense', config: { name: 'd9', units: 2, activation: 'softmax', quantization_config: null, dtype: { module: 'keras', class_name: 'DTypePolicy', config: { name: 'float32' } }, kernel_initializer: { class_name: 'GlorotUniform', config: { seed: null, input_axes: null, output_axes: null } } } });
  assert.equal(k.name, 'd9');
});

test('bad layer arguments give clear errors', () => {
  assert.throws(() => new layers.Conv2D(0, 3), /filters must be a positive integer/);
  assert.throws(() => new layers.Conv2D(8, [3, 3], { padding: 'full' as any }), /padding must be one of 'valid', 'same'/);
  assert.throws(() => new layers.Conv2D(8, 3, { kernalSize: 3 } as any), /unknown option "kernalSize"/);
  assert.throws(() => new layers.Dense(4, { activation: 'relux' }), /unknown activation "relux"/);
  assert.throws(() => new layers.Dropout(1), /rate must be below 1/);
  assert.throws(() => new layers.Conv2D(8, 5).apply(randomInput([1, 3, 3, 1])), /does not fit/);
  assert.throws(() => deserializeLayer({ class_name: 'LSTM', config: {} }), /unknown layer class "LSTM"/);
  const d = new layers.Dense(3);
  d.apply(randomInput([2, 4]));
  assert.throws(() => d.apply(randomInput([2, 5])), /expects input of shape \(None, 4\), got \(2, 5\)/);
  assert.throws(() => d.setWeights([randomInput([4, 3])]), /has 2 weights/);
});

test('initializers follow Keras formulas and are repeatable with setSeed', () => {
  setSeed(7);
  const a = getInitializer('glorot_uniform', 'zeros').call([30, 50]).dataSync();
  setSeed(7);
  const b = initializers.glorotUniform().call([30, 50]).dataSync();
  assert.deepEqual(a, b);
  const limit = Math.sqrt(6 / 80);
  assert.ok(a.every((v) => Math.abs(v) <= limit));
  const he = initializers.heNormal({ seed: 1 }).call([200, 100]).dataSync();
  const std = Math.sqrt(Array.from(he).reduce((s, v) => s + v * v, 0) / he.length);
  assert.ok(Math.abs(std - Math.sqrt(2 / 200)) < 0.1 * Math.sqrt(2 / 200), `he_normal std ${std}`);
  assert.deepEqual(initializers.ones().call([2]).dataSync(), new Float32Array([1, 1]));
  const r = regularizers.l2(0.1).call(tensor([1, 2, 3]));
  assert.ok(Math.abs(r.dataSync()[0] - 1.4) < 1e-6);
});

test('BatchNormalization matches the formula and updates moving statistics with momentum 0.99', () => {
  scope(() => {
    const bn = new layers.BatchNormalization();
    const x = tensor([[1, 10], [3, 20], [5, 60]]);
    const y = bn.apply(x, { training: true }).dataSync();
    // column 0: mean 3, biased var 8/3; epsilon 1e-3
    assert.ok(Math.abs(y[0] - (1 - 3) / Math.sqrt(8 / 3 + 1e-3)) < 1e-5);
    const mm = bn.weights[2].value.dataSync(), mv = bn.weights[3].value.dataSync();
    assert.ok(Math.abs(mm[0] - 0.01 * 3) < 1e-6 && Math.abs(mv[0] - (0.99 + 0.01 * 8 / 3)) < 1e-6);
    const yi = bn.apply(x, { training: false }).dataSync();
    assert.ok(Math.abs(yi[0] - (1 - mm[0]) / Math.sqrt(mv[0] + 1e-3)) < 1e-5);
  });
});

test('RandomFlip flips left-right exactly; augmentation is repeatable with a seed', () => {
  const x = tensor([[[[1], [2], [3]]]]); // [1, 1, 3, 1]
  const outs = new Set<string>();
  const f = new layers.RandomFlip('horizontal', { seed: 5 });
  for (let i = 0; i < 20; i++) outs.add(Array.from(f.apply(x, { training: true }).dataSync()).join(','));
  assert.deepEqual([...outs].sort(), ['1,2,3', '3,2,1']);
  const img = randomInput([2, 8, 8, 3]);
  const a = new layers.RandomRotation(0.25, { seed: 9 }).apply(img, { training: true }).dataSync();
  const b = new layers.RandomRotation(0.25, { seed: 9 }).apply(img, { training: true }).dataSync();
  assert.deepEqual(a, b);
  // A zoom factor of 0 is the identity.
  assert.deepEqual(new layers.RandomZoom([0, 0]).apply(img, { training: true }).dataSync(), img.dataSync());
});

test('InputLayer: batch_shape config as Keras 3 writes it', () => {
  clearSession();
  const i = new layers.InputLayer({ inputShape: [28, 28, 1] });
  assert.deepEqual(i.getConfig(), { batch_shape: [null, 28, 28, 1], dtype: 'float32', sparse: false, ragged: false, name: 'input_layer', optional: false });
  const back = deserializeLayer({ class_name: 'InputLayer', config: i.getConfig() });
  assert.deepEqual(back.batchInputShape, [null, 28, 28, 1]);
  assert.throws(() => new layers.InputLayer({}), /needs inputShape/);
});
