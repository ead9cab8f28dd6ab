/**
 * ImageDataGenerator.flow(x, y): Keras's NumpyArrayIterator over tensors. Its batches are
 * flowFromDirectory's for the same images and seed (the same Iterator bookkeeping and draws), on the
 * host and in the engine (augmentOn 'device').
 */
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { ImageDataGenerator } from '../../src/data/index.js';
import { setBackend } from '../../src/backend/index.js';
import { tensor, type Tensor } from '../../src/tensor/index.js';
import { cast } from '../../src/ops/index.js';
import { buildTree, cleanup } from './helpers.js';

let root = '';
before(async () => { root = await buildTree(); });
after(() => { setBackend('reference'); cleanup(root); });

const AUG = { rotation_range: 20, width_shift_range: 0.1, zoom_range: 0.1, horizontal_flip: true, brightness_range: [0.8, 1.2], rescale: 1 / 255 };
const OPTS = { targetSize: [12, 16] as [number, number], classMode: 'sparse' as const, workers: 0, verbose: false };

/** Every image of the folder, in Keras's file order, as uint8 [n, 12, 16, 3], and the class indices. */
async function arrays(): Promise<{ x: Tensor; y: Tensor; n: number }> {
  const it = await new ImageDataGenerator().flowFromDirectory(root, { ...OPTS, batchSize: 1000, shuffle: false });
  const b = await it.getBatch(0);
  await it.close();
  const x = cast(b.x, 'uint8');
  b.x.dispose();
  return { x, y: b.y!, n: it.samples };
}

async function epochs(it: { length: number; getBatch(i: number): Promise<{ x: Tensor; y: Tensor | null }>; onEpochEnd(): void; lastBatch: any }, n = 2) {
  const out: { x: Float32Array; y: Float32Array; params: unknown }[] = [];
  for (let e = 0; e < n; e++) {
    for (let i = 0; i < it.length; i++) {
      const b = await it.getBatch(i);
      out.push({ x: Float32Array.from(await b.x.data() as Float32Array), y: Float32Array.from(await b.y!.data() as Float32Array), params: it.lastBatch.params });
      b.x.dispose(); b.y?.dispose();
    }
    it.onEpochEnd();
  }
  return out;
}

test("flow(x, y) gives flowFromDirectory's batches for the same images and seed (order, draws, pixels), on the host", async () => {
  setBackend('wasm');
  const { x, y } = await arrays();
  const gen = new ImageDataGenerator(AUG);
  const dir = await gen.flowFromDirectory(root, { ...OPTS, batchSize: 5, seed: 3, augmentOn: 'host' });
  const flow = gen.flow(x, y, { batch_size: 5, seed: 3, augmentOn: 'host' });
  assert.equal(flow.length, dir.length);
  const a = await epochs(dir), b = await epochs(flow);
  await dir.close();
  assert.equal(b.length, a.length);
  a.forEach((r, i) => {
    assert.deepEqual(b[i].params, r.params, `batch ${i}: draws`);
    assert.deepEqual(b[i].y, r.y, `batch ${i}: labels`);
    assert.deepEqual(b[i].x, r.x, `batch ${i}: pixels`);
  });
  x.dispose(); y.dispose();
});

for (const name of ['reference', 'wasm']) {
  test(`flow on ${name}: augmentOn 'device' (rows gathered and augmented in the engine) within 1e-6 of the host; float32 input too`, async () => {
    setBackend(name);
    const { x, y } = await arrays();
    const gen = new ImageDataGenerator({ ...AUG, channel_shift_range: 10, vertical_flip: true, fill_mode: 'reflect' });
    const xf = cast(x, 'float32');
    for (const input of [x, xf]) {
      const host = await epochs(gen.flow(input, y, { batchSize: 4, seed: 9, augmentOn: 'host' }));
      const dev = await epochs(gen.flow(input, y, { batchSize: 4, seed: 9, augmentOn: 'device' }));
      host.forEach((r, i) => {
        assert.deepEqual(dev[i].params, r.params);
        assert.deepEqual(dev[i].y, r.y);
        let max = 0;
        r.x.forEach((v, k) => { max = Math.max(max, Math.abs(v - dev[i].x[k])); });
        assert.ok(max <= 1e-6, `${input.dtype} batch ${i}: max |host - device| ${max}`);
      });
    }
    for (const t of [x, xf, y]) t.dispose();
  });
}

test("flow: Keras's validation split (the first int(n * split) images), next(), and errors that name the argument", async () => {
  setBackend('reference');
  const x = tensor(Uint8Array.from({ length: 10 * 2 * 2 * 1 }, (_, i) => i), [10, 2, 2, 1], 'uint8');
  const y = tensor(Float32Array.from({ length: 10 }, (_, i) => i), [10]);
  const gen = new ImageDataGenerator({ validation_split: 0.25 });
  const val = gen.flow(x, y, { subset: 'validation', shuffle: false, batchSize: 10 });
  const tr = gen.flow(x, y, { subset: 'training', shuffle: false, batchSize: 10 });
  assert.deepEqual([val.samples, tr.samples], [2, 8]);
  assert.deepEqual(Array.from((await val.getBatch(0)).y!.dataSync()), [0, 1]);
  const tb = await tr.getBatch(0);
  assert.deepEqual(Array.from(tb.y!.dataSync()), [2, 3, 4, 5, 6, 7, 8, 9]);
  assert.deepEqual(Array.from(tb.x.dataSync().slice(0, 4)), [8, 9, 10, 11]);
  // next(): Keras's endless stream, the last batch of a pass partial.
  const s = new ImageDataGenerator().flow(x, y, { batchSize: 4, shuffle: false });
  const sizes = [];
  for (let k = 0; k < 4; k++) sizes.push((await s.next()).y!.size);
  assert.deepEqual(sizes, [4, 4, 2, 4]);
  assert.throws(() => gen.flow(x.reshape([10, 4]), y), /flow: x must be images \[n, height, width, channels\], got shape \[10, 4\]/);
  assert.throws(() => gen.flow(x, y.sliceBatch(0, 3)), /x has 10 images but y has 3 rows/);
  assert.throws(() => new ImageDataGenerator().flow(x, y, { subset: 'training' }), /subset needs the generator's validationSplit/);
  assert.throws(() => gen.flow(x, y, { sample_weight: [1] } as any), /option 'sample_weight' is not supported/);
  assert.throws(() => gen.flow(x, y, { augmentOn: 'gpu' } as any), /augmentOn must be 'auto', 'host' or 'device'/);
});
