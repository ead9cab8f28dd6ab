/**
 * The layers real models use beyond the notebook's: depthwise, separable and transposed
 * convolutions, ReLU with its options, 1-D layers, preprocessing and noise. Numbers from PyTorch
 * and NumPy (test/fixtures/layers/make_fixtures.py), on both backends.
 */
import test from 'node:test';
import assert from 'node:assert/strict';
import { tensor, scope } from '../../src/tensor/index.js';
import { layers, clearSession, deserializeLayer } from '../../src/layers/index.js';
import { setBackend, getBackendName } from '../../src/backend/index.js';
import { valueAndGrad } from '../../src/autograd/index.js';
import { sum, mul } from '../../src/ops/index.js';
import { runLayerTest, randomInput, fixture, assertClose, checkGradientsNumerically } from './run_layer_test.js';

const initial = getBackendName();
/** The oracle, the wasm kernels, and the default backend when it is another one (native delegates to wasm what it lacks). */
const BACKENDS = [...new Set(['reference', 'wasm', initial])];

for (const be of BACKENDS) {
  test(`DepthwiseConv2D (${be}): PyTorch numbers and gradients; multiplier, strides, dilation, fused relu6`, () => {
    setBackend(be);
    clearSession();
    try {
      runLayerTest({ make: () => new layers.DepthwiseConv2D(3, { depthMultiplier: 2, padding: 'same' }), inputShape: [2, 6, 5, 3], expectedOutputShape: [null, 6, 5, 6], expectedParams: 3 * 3 * 3 * 2 + 6, training: 'same', expected: 'depthwise_same_m2',
        expectedWeights: ['depthwise_conv2d/kernel', 'depthwise_conv2d/bias'] });
      runLayerTest({ make: () => new layers.DepthwiseConv2D([3, 2], { strides: 2 }), inputShape: [2, 7, 8, 6], expectedOutputShape: [null, 3, 4, 6], expectedParams: 3 * 2 * 6 + 6, training: 'same', expected: 'depthwise_valid_s2' });
      runLayerTest({ make: () => new layers.DepthwiseConv2D({ kernel_size: 3, padding: 'same', dilation_rate: 2, use_bias: false, activation: 'relu6' }), inputShape: [1, 7, 6, 4], expectedOutputShape: [null, 7, 6, 4], expectedParams: 36, training: 'same', expected: 'depthwise_dil2_relu6' });
      runLayerTest({ make: () => new layers.DepthwiseConv2D(3, { strides: 2, padding: 'same' }), inputShape: [2, 6, 7, 5], expectedOutputShape: [null, 3, 4, 5], expectedParams: 50, training: 'same', expected: 'depthwise_same_s2_c5' });
    } finally { setBackend(initial); }
  });

  test(`SeparableConv2D, Conv2DTranspose, Conv1D (${be}): PyTorch numbers and gradients`, () => {
    setBackend(be);
    clearSession();
    try {
      runLayerTest({ make: () => new layers.SeparableConv2D(4, 3, { strides: 2, padding: 'same', depthMultiplier: 2 }), inputShape: [2, 6, 6, 3], expectedOutputShape: [null, 3, 3, 4], expectedParams: 54 + 24 + 4, training: 'same', expected: 'separable_same_s2',
        expectedWeights: ['separable_conv2d/depthwise_kernel', 'separable_conv2d/pointwise_kernel', 'separable_conv2d/bias'] });
      runLayerTest({ make: () => new layers.Conv2DTranspose(2, 3, { strides: 2, padding: 'same' }), inputShape: [2, 3, 4, 3], expectedOutputShape: [null, 6, 8, 2], expectedParams: 3 * 3 * 2 * 3 + 2, training: 'same', expected: 'conv_transpose_same_s2' });
      runLayerTest({ make: () => new layers.Conv2DTranspose(3, [2, 3], { useBias: false }), inputShape: [1, 4, 3, 2], expectedOutputShape: [null, 5, 5, 3], expectedParams: 36, training: 'same', expected: 'conv_transpose_valid_s1' });
      runLayerTest({ make: () => new layers.Conv2DTranspose(2, 2, { strides: 3 }), inputShape: [2, 3, 3, 2], expectedOutputShape: [null, 9, 9, 2], expectedParams: 18, training: 'same', expected: 'conv_transpose_valid_s3_k2' });
      runLayerTest({ make: () => new layers.Conv2DTranspose(3, 4, { strides: 2, padding: 'same', useBias: false }), inputShape: [1, 3, 3, 4], expectedOutputShape: [null, 6, 6, 3], expectedParams: 192, training: 'same', expected: 'conv_transpose_same_s2_k4' });
      runLayerTest({ make: () => new layers.Conv2DTranspose(2, 3, { strides: 3, padding: 'same', outputPadding: [2, 1] }), inputShape: [1, 3, 2, 2], expectedOutputShape: [null, 9, 5, 2], expectedParams: 38, training: 'same', expected: 'conv_transpose_same_s3_op21' });
      runLayerTest({ make: () => new layers.Conv2DTranspose({ filters: 2, kernel_size: [3, 2], strides: 2, output_padding: [1, 0], use_bias: false }), inputShape: [2, 3, 3, 2], expectedOutputShape: [null, 8, 6, 2], expectedParams: 24, training: 'same', expected: 'conv_transpose_valid_s2_op1' });
      runLayerTest({ make: () => new layers.Conv2DTranspose(2, 3, { padding: 'same', dilationRate: 2 }), inputShape: [1, 5, 4, 3], expectedOutputShape: [null, 5, 4, 2], expectedParams: 56, training: 'same', expected: 'conv_transpose_same_d2' });
      runLayerTest({ make: () => new layers.Conv2DTranspose(3, [3, 2], { dilationRate: [2, 1], useBias: false }), inputShape: [2, 3, 4, 2], expectedOutputShape: [null, 7, 5, 3], expectedParams: 36, training: 'same', expected: 'conv_transpose_valid_d2' });
      runLayerTest({ make: () => new layers.Conv1D(3, 3, { padding: 'same' }), inputShape: [2, 9, 4], expectedOutputShape: [null, 9, 3], expectedParams: 39, training: 'same', expected: 'conv1d_same' });
      runLayerTest({ make: () => new layers.Conv1D({ filters: 2, kernel_size: [3], padding: 'causal', dilation_rate: 2, use_bias: false }), inputShape: [2, 8, 3], expectedOutputShape: [null, 8, 2], expectedParams: 18, training: 'same', expected: 'conv1d_causal_d2' });
      runLayerTest({ make: () => new layers.Conv1D(3, 4, { strides: 2 }), inputShape: [1, 11, 2], expectedOutputShape: [null, 4, 3], expectedParams: 27, training: 'same', expected: 'conv1d_valid_s2' });
    } finally { setBackend(initial); }
  });
}


test('ReLU: max_value (ReLU6), negative_slope, threshold as Keras computes them; NaN stays NaN', () => {
  for (const [name, args, cfg] of [
    ['relu6', { maxValue: 6 }, { max_value: 6, negative_slope: 0, threshold: 0 }],
    ['relu_max3', { max_value: 3 }, { max_value: 3, negative_slope: 0, threshold: 0 }],
    ['relu_leaky', { negativeSlope: 0.1 }, { max_value: null, negative_slope: 0.1, threshold: 0 }],
    ['relu_all', { maxValue: 4.5, negativeSlope: 0.3, threshold: 0.5 }, { max_value: 4.5, negative_slope: 0.3, threshold: 0.5 }],
    ['relu_threshold', { threshold: 1 }, { max_value: null, negative_slope: 0, threshold: 1 }],
  ] as const) {
    const fx = fixture(name);
    assert.deepEqual([fx.max_value, fx.negative_slope, fx.threshold], [cfg.max_value, cfg.negative_slope, cfg.threshold]);
    runLayerTest({ make: () => new layers.ReLU(args as any), inputShape: [2, 3, 4], expectedOutputShape: [null, 3, 4], expectedParams: 0, training: 'same', expected: name });
    const c = new layers.ReLU(args as any).getConfig();
    assert.deepEqual({ max_value: c.max_value, negative_slope: c.negative_slope, threshold: c.threshold }, cfg);
  }
  runLayerTest({ make: () => new layers.ReLU(), inputShape: [2, 5], expectedOutputShape: [null, 5], expectedParams: 0, training: 'same', expected: (x) => Array.from(x, (v) => Math.max(v, 0)) });
  scope(() => {
    for (const args of [{}, { maxValue: 6 }, { maxValue: 2 }, { negativeSlope: 0.2 }, { maxValue: 3, negativeSlope: 0.1, threshold: 0.5 }]) {
      const y = new layers.ReLU(args).apply(tensor([NaN, -1, 7])).dataSync();
      assert.ok(Number.isNaN(y[0]), `ReLU(${JSON.stringify(args)})(NaN) = ${y[0]}`);
    }
  });
  assert.throws(() => new layers.ReLU({ maxValue: -1 }), /maxValue must be a number in \[0, Infinity\]/);
  assert.throws(() => new layers.ReLU({ negativeSlope: -0.5 }), /negativeSlope/);
  const k = deserializeLayer({ class_name: 'ReLU', config: { name: 're_lu', trainable: true, dtype: 'float32', max_value: 6.0, negative_slope: 0.0, threshold: 0.0 } });
  assert.equal((k as InstanceType<typeof layers.ReLU>).maxValue, 6);
});

test('pooling and 1-D layers: NumPy numbers, keepdims, Keras 3 configs', () => {
  runLayerTest({ make: () => new layers.MaxPooling1D(), inputShape: [2, 9, 3], expectedOutputShape: [null, 4, 3], expectedParams: 0, training: 'same', expected: 'max_pooling1d' });
  runLayerTest({ make: () => new layers.MaxPooling1D({ pool_size: 3, strides: 1, padding: 'same' }), inputShape: [2, 9, 3], expectedOutputShape: [null, 9, 3], expectedParams: 0, training: 'same', expected: 'max_pooling1d_same_s1_p3' });
  runLayerTest({ make: () => new layers.AveragePooling1D(3, 2, 'same'), inputShape: [2, 9, 3], expectedOutputShape: [null, 5, 3], expectedParams: 0, training: 'same', expected: 'average_pooling1d_same_s2_p3' });
  runLayerTest({ make: () => new layers.GlobalAveragePooling1D(), inputShape: [2, 9, 3], expectedOutputShape: [null, 3], expectedParams: 0, training: 'same', expected: 'global_average_pooling1d' });
  runLayerTest({ make: () => new layers.GlobalMaxPooling1D({ keepdims: true }), inputShape: [2, 9, 3], expectedOutputShape: [null, 1, 3], expectedParams: 0, training: 'same', expected: 'global_max_pooling1d_keepdims' });
  clearSession();
  assert.deepEqual(new layers.MaxPooling1D(2).getConfig(), {
    name: 'max_pooling1d', trainable: true, dtype: { module: 'keras', class_name: 'DTypePolicy', config: { name: 'float32' }, registered_name: null },
    pool_size: [2], padding: 'valid', strides: [2], data_format: 'channels_last',
  });
  assert.deepEqual(new layers.GlobalAveragePooling1D().getConfig().keepdims, false);
  // The 1-D ResNet fixture's Conv1D config (Keras 2.15) loads and round-trips the Keras 3 keys.
  const c1 = deserializeLayer({ class_name: 'Conv1D', config: { name: 'conv1d_1', trainable: true, dtype: 'float32', filters: 32, kernel_size: [21], strides: [1], padding: 'same', data_format: 'channels_last', dilation_rate: [1], groups: 1, activation: 'linear', use_bias: true, kernel_initializer: { module: 'keras.initializers', class_name: 'GlorotUniform', config: { seed: null }, registered_name: null }, bias_initializer: { module: 'keras.initializers', class_name: 'Zeros', config: {}, registered_name: null }, kernel_regularizer: null, bias_regularizer: null, activity_regularizer: null, kernel_constraint: null, bias_constraint: null } });
  const cfg = c1.getConfig();
  assert.deepEqual([cfg.kernel_size, cfg.strides, cfg.dilation_rate, cfg.padding, cfg.groups], [[21], [1], [1], 'same', 1]);
});

test('DepthwiseConv2D, SeparableConv2D, Conv2DTranspose: Keras 3 configs and weight names; Keras 2 files load', () => {
  clearSession();
  const d = new layers.DepthwiseConv2D(3, { padding: 'same', useBias: false });
  assert.deepEqual(Object.keys(d.getConfig()), ['name', 'trainable', 'dtype', 'depth_multiplier', 'kernel_size', 'strides', 'padding', 'data_format',
    'dilation_rate', 'activation', 'use_bias', 'depthwise_initializer', 'bias_initializer', 'depthwise_regularizer', 'bias_regularizer',
    'activity_regularizer', 'depthwise_constraint', 'bias_constraint']);
  d.build([null, 4, 4, 8]);
  assert.deepEqual(d.weights.map((w) => [w.path, w.shape]), [['depthwise_conv2d/kernel', [3, 3, 8, 1]]]);
  const s = new layers.SeparableConv2D(16, 3);
  assert.deepEqual(Object.keys(s.getConfig()).slice(3), ['depth_multiplier', 'filters', 'kernel_size', 'strides', 'padding', 'data_format', 'dilation_rate',
    'activation', 'use_bias', 'depthwise_initializer', 'pointwise_initializer', 'bias_initializer', 'depthwise_regularizer', 'pointwise_regularizer',
    'bias_regularizer', 'activity_regularizer', 'depthwise_constraint', 'pointwise_constraint', 'bias_constraint']);
  const t = new layers.Conv2DTranspose(8, 3, { strides: 2 });
  assert.deepEqual(Object.keys(t.getConfig()).slice(3), ['filters', 'kernel_size', 'strides', 'padding', 'output_padding', 'data_format', 'dilation_rate',
    'activation', 'use_bias', 'kernel_initializer', 'bias_initializer', 'kernel_regularizer', 'bias_regularizer', 'activity_regularizer',
    'kernel_constraint', 'bias_constraint']);
  t.build([null, 5, 5, 4]);
  assert.deepEqual(t.weights.map((w) => w.shape), [[3, 3, 8, 4], [8]]);
  assert.throws(() => new layers.Conv2DTranspose(8, 3, { outputPadding: 1 }), /outputPadding must be an integer or a pair, each at least 0 and below its stride/);
  assert.deepEqual(new layers.Conv2DTranspose(8, 3, { strides: 2, outputPadding: 1 }).getConfig().output_padding, [1, 1]);
  // MobileNetV1's DepthwiseConv2D config as Keras 2.4 wrote it (mlcommons vww_96.h5).
  const k2 = deserializeLayer({ class_name: 'DepthwiseConv2D', config: { name: 'depthwise_conv2d_7', trainable: true, dtype: 'float32', kernel_size: [3, 3], strides: [2, 2], padding: 'same', data_format: 'channels_last', dilation_rate: [1, 1], groups: 1, activation: 'linear', use_bias: true, bias_initializer: { class_name: 'Zeros', config: {} }, bias_regularizer: null, activity_regularizer: null, bias_constraint: null, depth_multiplier: 1, depthwise_initializer: { class_name: 'GlorotUniform', config: { seed: null } }, depthwise_regularizer: null, depthwise_constraint: null } });
  assert.deepEqual(k2.computeOutputShape([null, 96, 96, 8]), [null, 48, 48, 8]);
  assert.throws(() => new layers.DepthwiseConv2D(3, { depthMultiplier: 0 }), /depthMultiplier must be a positive integer/);
  assert.throws(() => new layers.DepthwiseConv2D(5).apply(randomInput([1, 3, 3, 2])), /does not fit/);
});

test('depthwise kernels: wasm matches the reference on MobileNet-like shapes (odd channel counts, multiplier 3, stride 2)', () => {
  const initialBe = getBackendName();
  for (const [xs, ks, M, strides, padding] of [[[2, 9, 8, 13], [3, 3], 1, 2, 'same'], [[1, 6, 7, 5], [3, 3], 3, 1, 'valid'], [[2, 12, 12, 32], [3, 3], 1, 1, 'same']] as const) {
    const res: Float32Array[][] = [];
    for (const be of BACKENDS) {
      setBackend(be);
      scope(() => {
        clearSession();
        const l = new layers.DepthwiseConv2D(ks as [number, number], { depthMultiplier: M, strides, padding, biasInitializer: 'glorot_uniform' as any, depthwiseInitializer: { class_name: 'GlorotUniform', config: { seed: 3 } } as any });
        const x = randomInput(xs as unknown as number[], 4);
        l.build([null, ...xs.slice(1)]);
        l.setWeights([randomInput(l.weights[0].shape as number[], 5), randomInput(l.weights[1].shape as number[], 6)]);
        const y = l.apply(x);
        const dy = randomInput(y.shape as number[], 7);
        res.push([y.dataSync() as Float32Array, ...((): Float32Array[] => {
          const { grads } = depthwiseGrads(l, x, dy);
          return grads;
        })()]);
        l.dispose();
      });
    }
    setBackend(initialBe);
    for (const other of res.slice(1)) res[0].forEach((r, i) => assertClose(other[i], r, 2e-5, `depthwise ${JSON.stringify(xs)} M=${M}: ${['output', 'dx', 'dw', 'db'][i]}`));
  }
});

function depthwiseGrads(l: InstanceType<typeof layers.DepthwiseConv2D>, x: ReturnType<typeof randomInput>, dy: ReturnType<typeof randomInput>): { grads: Float32Array[] } {
  const { grads } = valueAndGrad(() => sum(mul(l.apply(x), dy)), [x, l.weights[0].value, l.weights[1].value]);
  return { grads: grads.map((g) => g.dataSync() as Float32Array) };
}

test('Resizing: bilinear and nearest as tf.image.resize (PyTorch half-pixel numbers), crop_to_aspect_ratio, gradients', () => {
  runLayerTest({ make: () => new layers.Resizing(4, 5), inputShape: [1, 7, 9, 2], expectedOutputShape: [null, 4, 5, 2], expectedParams: 0, training: 'same', expected: 'resizing_bilinear_down' });
  runLayerTest({ make: () => new layers.Resizing(7, 6), inputShape: [2, 3, 4, 2], expectedOutputShape: [null, 7, 6, 2], expectedParams: 0, training: 'same', expected: 'resizing_bilinear_up' });
  runLayerTest({ make: () => new layers.Resizing(3, 4, { interpolation: 'nearest' }), inputShape: [1, 5, 7, 3], expectedOutputShape: [null, 3, 4, 3], expectedParams: 0, training: 'same', expected: 'resizing_nearest_down' });
  runLayerTest({ make: () => new layers.Resizing({ height: 5, width: 4, interpolation: 'nearest' }), inputShape: [1, 2, 3, 1], expectedOutputShape: [null, 5, 4, 1], expectedParams: 0, training: 'same', expected: 'resizing_nearest_up' });
  runLayerTest({ make: () => new layers.Resizing(4, 4, { cropToAspectRatio: true }), inputShape: [1, 6, 9, 2], expectedOutputShape: [null, 4, 4, 2], expectedParams: 0, training: 'same', expected: 'resizing_bilinear_crop' });
  runLayerTest({ make: () => new layers.Resizing(3, 4, { crop_to_aspect_ratio: true, interpolation: 'nearest' }), inputShape: [1, 9, 5, 1], expectedOutputShape: [null, 3, 4, 1], expectedParams: 0, training: 'same', expected: 'resizing_nearest_crop' });
  clearSession();
  assert.deepEqual(new layers.Resizing(150, 150).getConfig(), {
    name: 'resizing', trainable: true, dtype: { module: 'keras', class_name: 'DTypePolicy', config: { name: 'float32' }, registered_name: null },
    height: 150, width: 150, interpolation: 'bilinear', crop_to_aspect_ratio: false, pad_to_aspect_ratio: false, fill_mode: 'constant',
    fill_value: 0, antialias: false, data_format: 'channels_last',
  });
  assert.throws(() => new layers.Resizing(4, 4, { interpolation: 'bicubic' as any }), /interpolation must be one of 'bilinear', 'nearest'/);
  assert.throws(() => new layers.Resizing(0, 4), /height must be a positive integer/);
});

test('Normalization: given mean/variance, invert, adapt() (population variance) over one or several kept axes', () => {
  const g = fixture('normalization_given');
  runLayerTest({ make: () => new layers.Normalization({ mean: g.mean as number[], variance: g.variance as number[] }), inputShape: [3, 2, 4], expectedOutputShape: [null, 2, 4], expectedParams: 0, training: 'same', expected: 'normalization_given', tol: 1e-5 });
  runLayerTest({ make: () => new layers.Normalization({ mean: g.mean as number[], variance: g.variance as number[], invert: true }), inputShape: [3, 2, 4], expectedOutputShape: [null, 2, 4], expectedParams: 0, training: 'same', expected: 'normalization_invert', tol: 1e-5 });
  for (const [name, axis] of [['normalization_adapt', -1], ['normalization_adapt_axes12', [1, 2]]] as const) {
    const a = fixture(name);
    scope(() => {
      const data = tensor(Float32Array.from(a.adapt_data as number[]), a.adapt_shape as number[]);
      const n = new layers.Normalization({ axis: axis as any });
      n.adapt(data);
      assertClose(n.weights[0].value.dataSync(), a.adapt_mean as number[], 1e-5, `${name}: mean`);
      assertClose(n.weights[1].value.dataSync(), a.adapt_variance as number[], 1e-4, `${name}: variance`);
      assert.equal(n.weights[2].value.dataSync()[0], axis === -1 ? 20 : 10);
      assertClose(n.apply(tensor(Float32Array.from(a.input), a.input_shape)).dataSync(), a.output, 1e-4, `${name}: output`);
      // The adapted statistics are weights: a copy built from the config and given them computes the same.
      const copy = deserializeLayer({ class_name: 'Normalization', config: JSON.parse(JSON.stringify(n.getConfig())) });
      copy.build([null, ...a.input_shape.slice(1)]);
      copy.setWeights(n.getWeights());
      assertClose(copy.apply(tensor(Float32Array.from(a.input), a.input_shape)).dataSync(), a.output, 1e-4, `${name}: output after the round trip`);
      checkGradientsNumerically(n, tensor(Float32Array.from(a.input), a.input_shape));
    });
  }
  clearSession();
  const c = new layers.Normalization().getConfig();
  assert.deepEqual({ axis: c.axis, invert: c.invert, mean: c.mean, variance: c.variance }, { axis: [-1], invert: false, mean: null, variance: null });
  assert.throws(() => new layers.Normalization({ mean: [1, 2] }), /give both mean and variance/);
  assert.throws(() => new layers.Normalization({ mean: [1], variance: [1] }).adapt(randomInput([2, 3])), /adapt\(\) cannot be used/);
});

test('GaussianNoise and SpatialDropout2D: identity at inference, noise of the right size and whole channels in training', () => {
  runLayerTest({ make: () => new layers.GaussianNoise(0.5, { seed: 3 }), inputShape: [4, 6], expectedOutputShape: [null, 6], expectedParams: 0, training: 'differs', expected: (x) => x });
  runLayerTest({ make: () => new layers.SpatialDropout2D(0.5, { seed: 4 }), inputShape: [4, 3, 3, 6], expectedOutputShape: [null, 3, 3, 6], expectedParams: 0, training: 'differs', expected: (x) => x });
  scope(() => {
    const x = randomInput([8, 16, 16, 4]);
    const noise = new layers.GaussianNoise(0.25, { seed: 1 }).apply(x, { training: true }).dataSync();
    const xv = x.dataSync();
    let s = 0, s2 = 0;
    for (let i = 0; i < xv.length; i++) { const d = noise[i] - xv[i]; s += d; s2 += d * d; }
    const sd = Math.sqrt(s2 / xv.length - (s / xv.length) ** 2);
    assert.ok(Math.abs(sd - 0.25) < 0.01 && Math.abs(s / xv.length) < 0.01, `noise sd ${sd}, mean ${s / xv.length}`);
    const y = new layers.SpatialDropout2D(0.5, { seed: 2 }).apply(x, { training: true }).dataSync();
    let dropped = 0;
    for (let n = 0; n < 8; n++) for (let c = 0; c < 4; c++) {
      const ratios = new Set<number>();
      for (let i = 0; i < 256; i++) { const k = (n * 256 + i) * 4 + c; ratios.add(y[k] === 0 ? 0 : Math.round(y[k] / xv[k] * 1e4) / 1e4); }
      assert.equal(ratios.size, 1, `sample ${n} channel ${c} is kept or dropped as a whole`);
      if (ratios.has(0)) dropped++; else assert.ok(ratios.has(2));
    }
    assert.ok(dropped > 4 && dropped < 28, `${dropped} of 32 maps dropped`);
    // Gradients in training: the noise adds a constant (gradient 1), the dropout mask scales dy.
    for (const layer of [new layers.GaussianNoise(0.3, { seed: 5 }), new layers.SpatialDropout2D(0.5, { seed: 6 })]) {
      let yv: Float32Array | null = null;
      const { grads } = valueAndGrad(() => { const out = layer.apply(x, { training: true }); yv = out.dataSync() as Float32Array; return sum(out); }, [x]);
      const g = grads[0].dataSync();
      const want = layer instanceof layers.GaussianNoise ? Array.from(g, () => 1) : Array.from(yv!, (v, i) => (v === 0 ? 0 : v / xv[i]));
      assertClose(g, want, 1e-3, `${layer.className}: gradient in training`);
    }
  });
  // The concat-bn-cnn fixture's configs (Keras 3.5): SpatialDropout2D writes no `trainable`.
  const sd = deserializeLayer({ class_name: 'SpatialDropout2D', config: { rate: 0.25, seed: null, name: 'spatial_dropout2d_2', dtype: 'float32', data_format: 'channels_last' } });
  assert.deepEqual(sd.getConfig(), { rate: 0.25, seed: null, name: 'spatial_dropout2d_2', dtype: 'float32', data_format: 'channels_last' });
  const gn = deserializeLayer({ class_name: 'GaussianNoise', config: { name: 'gaussian_noise_2', trainable: true, dtype: { module: 'keras', class_name: 'DTypePolicy', config: { name: 'float32' }, registered_name: null }, stddev: 0.1, seed: null } });
  assert.deepEqual([gn.getConfig().stddev, gn.getConfig().seed], [0.1, null]);
});

test('configs written by real Keras (../shared/fixtures/models) load, and Keras 3 ones come back key for key', async (t) => {
  const dir = new URL('../../../shared/fixtures/models/', import.meta.url);
  const { existsSync, readFileSync } = await import('node:fs');
  const file = new URL('ADL-202420-G01_concat-bn-cnn-300x300_3.5.0.keras', dir);
  const file1d = new URL('CS-433_resnet1d-conv1d_2.15.0.keras', dir);
  if (!existsSync(file) || !existsSync(file1d)) { t.skip('../shared/fixtures/models is absent'); return; }
  const { readZip } = await import('../../src/io/models/zip.js');
  const mine = new Set(['GaussianNoise', 'SpatialDropout2D', 'Conv1D', 'GlobalAveragePooling1D', 'MaxPooling1D', 'DepthwiseConv2D', 'ReLU', 'Activation']);
  const seen = new Set<string>();
  for (const [f, exact] of [[file, true], [file1d, false]] as const) {
    const cfg = JSON.parse(new TextDecoder().decode(readZip(readFileSync(f)).get('config.json')!));
    for (const l of cfg.config.layers as { class_name: string; config: Record<string, unknown> }[]) {
      if (!mine.has(l.class_name)) continue;
      seen.add(l.class_name);
      const layer = deserializeLayer(l);
      assert.equal(layer.name, l.config.name);
      if (!exact) continue;
      // Keras 3.5 wrote these: same keys in the same order, same values (dtype policies aside).
      const strip = (c: Record<string, unknown>): Record<string, unknown> => Object.fromEntries(Object.entries(c).map(([k, v]) => [k, k === 'dtype' && typeof v === 'object' ? 'policy' : v]));
      assert.deepEqual(strip(layer.getConfig()), strip(l.config), `${l.class_name} ${l.config.name}`);
    }
  }
  assert.deepEqual([...seen].sort(), ['Activation', 'Conv1D', 'GaussianNoise', 'GlobalAveragePooling1D', 'SpatialDropout2D']);
});

test('NaN goes through the new kernels and layers as in NumPy (depthwise with fused relu6, transposed conv, resize, Normalization)', () => {
  const initialBe = getBackendName();
  try {
    for (const be of BACKENDS) {
      setBackend(be);
      scope(() => {
        const v = randomInput([1, 5, 5, 6], 3).dataSync();
        v[(2 * 5 + 2) * 6 + 1] = NaN; // pixel (2, 2), channel 1
        const x = tensor(v, [1, 5, 5, 6]);
        const y = new layers.DepthwiseConv2D(3, { padding: 'same', activation: 'relu6' }).apply(x).dataSync();
        for (let i = 0; i < 5; i++) for (let j = 0; j < 5; j++) for (let c = 0; c < 6; c++) {
          const inWindow = c === 1 && Math.abs(i - 2) <= 1 && Math.abs(j - 2) <= 1;
          assert.equal(Number.isNaN(y[(i * 5 + j) * 6 + c]), inWindow, `${be}: depthwise output (${i}, ${j}, ${c})`);
        }
        const t = new layers.Conv2DTranspose(2, 3, { strides: 2, padding: 'same' }).apply(x).dataSync();
        assert.ok(t.some(Number.isNaN) && !t.every(Number.isNaN), `${be}: transposed conv spreads NaN to its window only`);
        const r = new layers.Resizing(3, 3).apply(x).dataSync();
        assert.ok(Number.isNaN(r[(1 * 3 + 1) * 6 + 1]), `${be}: resize keeps NaN`);
        assert.ok(Number.isNaN(new layers.Normalization({ mean: 0, variance: 1 }).apply(x).dataSync()[(2 * 5 + 2) * 6 + 1]));
      });
    }
  } finally { setBackend(initialBe); }
});

test('LeakyReLU, ELU, Softmax layers and GaussianDropout: PyTorch numbers, Keras 3 configs (Keras 2 alpha read)', () => {
  runLayerTest({ make: () => new layers.LeakyReLU(), inputShape: [2, 3, 4], expectedOutputShape: [null, 3, 4], expectedParams: 0, training: 'same', expected: 'leaky_relu_layer' });
  runLayerTest({ make: () => new layers.LeakyReLU({ negative_slope: 0.1 }), inputShape: [2, 3, 4], expectedOutputShape: [null, 3, 4], expectedParams: 0, training: 'same', expected: 'leaky_relu_layer_01' });
  runLayerTest({ make: () => new layers.ELU({ alpha: 0.5 }), inputShape: [2, 3, 4], expectedOutputShape: [null, 3, 4], expectedParams: 0, training: 'same', expected: 'elu_layer_05', tol: 1e-5 });
  runLayerTest({ make: () => new layers.Softmax(1), inputShape: [2, 3, 4], expectedOutputShape: [null, 3, 4], expectedParams: 0, training: 'same', expected: 'softmax_layer_axis1', tol: 1e-5 });
  runLayerTest({ make: () => new layers.GaussianDropout(0.3, { seed: 1 }), inputShape: [4, 6], expectedOutputShape: [null, 6], expectedParams: 0, training: 'differs', expected: (x) => x });
  clearSession();
  assert.deepEqual(new layers.LeakyReLU().getConfig().negative_slope, 0.3);
  assert.equal((deserializeLayer({ class_name: 'LeakyReLU', config: { name: 'leaky_re_lu', trainable: true, dtype: 'float32', alpha: 0.2 } }) as InstanceType<typeof layers.LeakyReLU>).negativeSlope, 0.2);
  assert.equal(new layers.ELU({ alpha: 2 }).getConfig().alpha, 2);
  assert.deepEqual(new layers.Softmax().getConfig().axis, -1);
  assert.deepEqual(new layers.GaussianDropout(0.1).getConfig().rate, 0.1);
  scope(() => {
    const x = randomInput([64, 64]);
    const y = new layers.GaussianDropout(0.2, { seed: 4 }).apply(x, { training: true }).dataSync(), xv = x.dataSync();
    const r = Array.from(y, (v, i) => v / xv[i]);
    const m = r.reduce((a, b) => a + b, 0) / r.length, sd = Math.sqrt(r.reduce((a, b) => a + (b - m) ** 2, 0) / r.length);
    assert.ok(Math.abs(m - 1) < 0.02 && Math.abs(sd - 0.5) < 0.02, `GaussianDropout factor mean ${m}, sd ${sd} (want 1, 0.5)`);
  });
});
