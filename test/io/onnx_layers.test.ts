// ONNX export of the newer layers, each model run by ONNX Runtime (onnxruntime-web, in Node) and
// compared with `model.predict`: per-channel Rescaling, DepthwiseConv2D, SeparableConv2D,
// Conv2DTranspose (Keras's padding/output_padding sizes), Conv1D and the 1D pools, ReLU's options,
// Resizing. Small shapes: the whole file runs in a few seconds.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { tensor } from '../../src/tensor/index.js';
import { layers, clearSession, type Layer } from '../../src/layers/index.js';
import { Sequential } from '../../src/models/index.js';
import { loadModel, saveModel } from '../../src/io/models/index.js';
import { buildChain, rand, maxAbsDiff } from './helpers.js';

const dir = mkdtempSync(join(tmpdir(), 'convnet-onnx-'));
let seq = 0;

async function ort() {
  const o = await import('onnxruntime-web');
  o.env.wasm.numThreads = 1;
  return o;
}

/** Builds the chain with seeded weights, exports it, runs ORT on `n` inputs and returns the largest difference to predict. */
async function check(label: string, shape: number[], make: () => Layer[], { n = 3, lo = -1, hi = 1, tol = 1e-4 } = {}): Promise<Uint8Array> {
  clearSession();
  const ls = make();
  buildChain(shape, ls, 3 + seq);
  const model = new Sequential([new layers.InputLayer({ shape }), ...ls]);
  const path = join(dir, `m${seq++}.onnx`);
  await saveModel(model, path);
  const bytes = readFileSync(path);
  const o = await ort();
  const session = await o.InferenceSession.create(bytes);
  const x = rand(n * shape.reduce((a, b) => a * b, 1), 77 + seq, lo, hi);
  const r = await session.run({ input: new o.Tensor('float32', x, [n, ...shape]) });
  const want = (await model.predict(tensor(x, [n, ...shape]), { verbose: 0 })).dataSync() as Float32Array;
  const got = r.output.data as Float32Array;
  assert.deepEqual(r.output.dims, [n, ...(model.outputShape as number[]).slice(1)], `${label}: output shape`);
  assert.ok(want.every(Number.isFinite), `${label}: predict gave non-finite values`);
  const d = maxAbsDiff(got, want);
  assert.ok(d < tol, `${label}: ONNX Runtime differs from predict by ${d}`);
  return bytes;
}

test('Rescaling with per-channel scale and offset: predict, config round trip, ONNX without NaN', async () => {
  const r = new layers.Rescaling([1 / 255, 2 / 255, 0.5], [-1, 0, 0.25]);
  const y = r.apply(tensor([[[[255, 255, 2], [0, 51, 4]]]])).dataSync();
  assert.ok(maxAbsDiff(y, [0, 2, 1.25, -1, 0.4, 2.25]) < 1e-6, `per-channel Rescaling gave ${Array.from(y)}`);
  assert.deepEqual([r.getConfig().scale, r.getConfig().offset], [[1 / 255, 2 / 255, 0.5], [-1, 0, 0.25]]);
  // Keras 3 writes a NumPy array as a __numpy__ dict.
  const n = new layers.Rescaling({ scale: { class_name: '__numpy__', config: { value: [2, 3], dtype: 'float32' } } as never });
  assert.deepEqual(Array.from(n.apply(tensor([[1, 1]])).dataSync()), [2, 3]);
  assert.throws(() => new layers.Rescaling([1, 'x'] as never), /Rescaling .*scale must be a number or a non-empty list of numbers/);
  assert.throws(() => new layers.Rescaling([1, 2]).apply(tensor([[[[1, 2, 3]]]])), /scale of shape \[2\] does not broadcast .* one value per channel: 3/);
  const bytes = await check('per-channel Rescaling', [4, 5, 3], () => [
    new layers.Rescaling([1 / 255, 2 / 255, 3 / 255], [-1, 0, 0.5]), new layers.Conv2D(2, 3, { activation: 'relu' }),
    new layers.Rescaling([0.5, 2]), new layers.Flatten(), new layers.Dense(3),
  ], { lo: 0, hi: 255 });
  assert.ok(!Buffer.from(bytes).includes(Buffer.from(new Float32Array([NaN]).buffer)), 'the ONNX file holds a NaN');
  // .keras round trip keeps the lists.
  clearSession();
  const m = new Sequential([new layers.InputLayer({ shape: [2, 2, 3] }), new layers.Rescaling([1, 2, 3], 0.5)]);
  await saveModel(m, join(dir, 'resc.keras'));
  const back = await loadModel(join(dir, 'resc.keras'));
  assert.deepEqual(back.layers[0].getConfig().scale, [1, 2, 3]);
});

test('ONNX: DepthwiseConv2D (group = channels) and SeparableConv2D (depthwise + pointwise) match predict', async () => {
  await check('depthwise', [7, 6, 3], () => [
    new layers.DepthwiseConv2D({ kernelSize: 3, depthMultiplier: 2, padding: 'same', strides: 2, activation: 'relu6' }),
    new layers.DepthwiseConv2D({ kernelSize: [2, 3] }), new layers.GlobalAveragePooling2D(),
  ]);
  await check('separable', [8, 7, 2], () => [
    new layers.SeparableConv2D(4, 3, { padding: 'same', activation: 'relu' }),
    new layers.SeparableConv2D({ filters: 3, kernelSize: 3, depthMultiplier: 2, strides: 2 }), new layers.Flatten(), new layers.Dense(2, { activation: 'softmax' }),
  ]);
});

test('ONNX: Conv2DTranspose with Keras sizes (same/valid, strides, output_padding, dilation) matches predict', async () => {
  const cases: Array<[string, Record<string, unknown>]> = [
    ['k3 s2 same', { kernelSize: 3, strides: 2, padding: 'same' }],
    ['k3 s2 valid', { kernelSize: 3, strides: 2 }],
    ['k4 s2 same', { kernelSize: 4, strides: 2, padding: 'same' }],
    ['k2 s3 valid', { kernelSize: 2, strides: 3 }],
    ['k3 s2 same op1', { kernelSize: 3, strides: 2, padding: 'same', outputPadding: 1 }],
    ['k3x2 s(2,3) valid op(1,0)', { kernelSize: [3, 2], strides: [2, 3], outputPadding: [1, 0] }],
    ['k3 s1 same dilation 2', { kernelSize: 3, padding: 'same', dilationRate: 2 }],
  ];
  for (const [label, args] of cases) {
    await check(`Conv2DTranspose ${label}`, [4, 5, 2], () => [new layers.Conv2DTranspose({ filters: 3, activation: 'tanh', ...args })]);
  }
});

test('ONNX: Conv1D (valid, same, causal, strides, dilation) and the 1D pools match predict', async () => {
  await check('Conv1D chain', [12, 3], () => [
    new layers.Conv1D(4, 3, { activation: 'relu' }), new layers.Conv1D({ filters: 4, kernelSize: 3, padding: 'causal', dilationRate: 2 }),
    new layers.Conv1D({ filters: 5, kernelSize: 2, padding: 'same', strides: 2 }), new layers.MaxPooling1D(2), new layers.GlobalAveragePooling1D(),
    new layers.Dense(2),
  ]);
  await check('1D pools', [11, 2], () => [
    new layers.AveragePooling1D({ poolSize: 3, strides: 2, padding: 'same' }), new layers.Conv1D(3, 2), new layers.GlobalMaxPooling1D({ keepdims: true }),
    new layers.Flatten(),
  ]);
});

test('ONNX: ReLU with max_value, negative_slope and threshold; GlobalAveragePooling2D/1D', async () => {
  const opts: Array<Record<string, number | null>> = [
    { maxValue: 6 }, { maxValue: 0.5 }, { negativeSlope: 0.1 }, { threshold: 0.3 }, { negativeSlope: 0.2, threshold: 0.25 },
    { maxValue: 0.6, negativeSlope: 0.1, threshold: 0.2 }, { maxValue: 0.7, negativeSlope: 0.3 },
  ];
  for (const o of opts) {
    await check(`ReLU ${JSON.stringify(o)}`, [3, 4, 2], () => [new layers.ReLU(o), new layers.GlobalAveragePooling2D()], { lo: -2, hi: 2 });
    await check(`ReLU ${JSON.stringify(o)} rank 3`, [5, 2], () => [new layers.ReLU(o), new layers.GlobalAveragePooling1D()], { lo: -2, hi: 2 });
  }
});

test('ONNX: Resizing (bilinear and nearest, up and down) matches predict', async () => {
  for (const interpolation of ['bilinear', 'nearest'] as const) {
    for (const [h, w] of [[9, 12], [3, 5], [6, 6]]) {
      await check(`Resizing ${interpolation} to ${h}x${w}`, [6, 7, 2], () => [new layers.Resizing(h, w, { interpolation })]);
    }
  }
  clearSession();
  const m = new Sequential([new layers.InputLayer({ shape: [6, 8, 1] }), new layers.Resizing(4, 4, { cropToAspectRatio: true })]);
  await assert.rejects(saveModel(m, join(dir, 'crop.onnx')), /Resizing with crop_to_aspect_ratio is not supported/);
});
