// ONNX export of the newer layers, each model run by ONNX Runtime (onnxruntime-web, in Node) and
// compared with `model.predict`: per-channel Rescaling.
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
