import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { ImageDataGenerator } from '../../src/data/index.js';
import { buildTree, cleanup, readExpected } from './helpers.js';

const expected = readExpected();
let root = '';
before(async () => { root = await buildTree(); });
after(() => cleanup(root));

const AUG = {
  rotation_range: 40, width_shift_range: 0.2, height_shift_range: 3, shear_range: 10, zoom_range: [0.8, 1.2],
  channel_shift_range: 5, horizontal_flip: true, vertical_flip: true, brightness_range: [0.5, 1.5],
};

for (const cfg of expected.orders) {
  test(`batch order over 3 epochs, seed ${cfg.seed}, batch ${cfg.batch_size}, shuffle ${cfg.shuffle}, augment ${cfg.augment}: Keras's`, async () => {
    const gen = new ImageDataGenerator({ validationSplit: 0.3, rescale: 1 / 255, ...(cfg.augment ? AUG : {}) });
    const it = await gen.flowFromDirectory(root, { targetSize: [12, 16], batchSize: cfg.batch_size, seed: cfg.seed, shuffle: cfg.shuffle, subset: 'training', classMode: 'sparse', workers: 1, verbose: false });
    assert.equal(it.length, cfg.epochs[0].length);
    for (let e = 0; e < 3; e++) {
      for (let i = 0; i < it.length; i++) {
        const b = await it.getBatch(i);
        assert.deepEqual(Array.from(it.lastBatch!.indices), cfg.epochs[e][i], `epoch ${e} batch ${i}`);
        assert.deepEqual(Array.from(b.y!.f32()), cfg.epochs[e][i].map((j: number) => it.classes[j]));
        assert.deepEqual(b.x.shape, [cfg.epochs[e][i].length, 12, 16, 3]);
        if (e === 0 && i === 0) {
          const got = it.lastBatch!.params.map((p) => ({
            theta: p.theta, tx: p.tx, ty: p.ty, shear: p.shear, zx: p.zx, zy: p.zy, flip_horizontal: p.flipHorizontal,
            flip_vertical: p.flipVertical, channel_shift_intensity: p.channelShiftIntensity, brightness: p.brightness,
          }));
          assert.deepEqual(got, cfg.first_batch_params);
        }
        b.x.dispose(); b.y?.dispose();
      }
      it.onEpochEnd();
    }
    await it.close();
  });
}

test('prefetch and out-of-order requests do not change what a batch holds', async () => {
  const gen = new ImageDataGenerator({ validationSplit: 0.3, horizontal_flip: true, rotation_range: 10 });
  const opts = { targetSize: [12, 16] as [number, number], batchSize: 3, seed: 5, subset: 'training' as const, verbose: false };
  const a = await gen.flowFromDirectory(root, { ...opts, prefetch: 0, workers: 0 });
  const b = await gen.flowFromDirectory(root, { ...opts, prefetch: 4, workers: 2 });
  for (let e = 0; e < 2; e++) {
    for (let i = 0; i < a.length; i++) {
      const x = await a.getBatch(i), y = await b.getBatch(i);
      assert.deepEqual(Array.from(x.x.f32()), Array.from(y.x.f32()), `epoch ${e} batch ${i}`);
      assert.deepEqual(Array.from(x.y!.f32()), Array.from(y.y!.f32()));
    }
    a.onEpochEnd(); b.onEpochEnd();
  }
  // Stopping an epoch early (steps_per_epoch): the next order comes from the last batch handed out, not the prefetched ones.
  const c = await gen.flowFromDirectory(root, { ...opts, prefetch: 0, workers: 0 });
  const d = await gen.flowFromDirectory(root, { ...opts, prefetch: 3, workers: 1 });
  await c.getBatch(0); await d.getBatch(0);
  c.onEpochEnd(); d.onEpochEnd();
  assert.deepEqual(Array.from(d.indexArray!), Array.from(c.indexArray!));
  assert.equal(d.totalBatchesSeen, c.totalBatchesSeen);
  await Promise.all([a.close(), b.close(), c.close(), d.close()]);
});

test('class modes give Keras label shapes and values; the last batch is partial', async () => {
  const gen = new ImageDataGenerator({ rescale: 1 / 255 });
  const base = { targetSize: [6, 5] as [number, number], batchSize: 7, shuffle: false, workers: 0, verbose: false };
  const cat = await gen.flowFromDirectory(root, { ...base, classMode: 'categorical' });
  assert.equal(cat.samples, 22);
  assert.equal(cat.length, 4);
  const last = await cat.getBatch(3);
  assert.deepEqual(last.x.shape, [1, 6, 5, 3]);
  assert.deepEqual(last.y!.shape, [1, 4]);
  const b0 = await cat.getBatch(0);
  assert.deepEqual(Array.from(b0.y!.f32().slice(0, 4)), [1, 0, 0, 0]);
  const xs = b0.x.f32();
  assert.ok(xs.every((v) => v >= 0 && v <= 1));
  const input = await gen.flowFromDirectory(root, { ...base, classMode: 'input' });
  const bi = await input.getBatch(0);
  assert.deepEqual(Array.from(bi.y!.f32()), Array.from(bi.x.f32()));
  const none = await gen.flowFromDirectory(root, { ...base, class_mode: null });
  assert.equal((await none.getBatch(0)).y, null);
  await assert.rejects(none.getBatch(4), /has 4 batches/);
  for (const it of [cat, input, none]) await it.close();
});

// Keras's endless next(): expected streams computed once with numpy, replaying Keras's `_flow_index`:
//   bi = total = 0
//   each call: np.random.seed(seed + total); if bi == 0: arr = np.random.permutation(n)
//              cur = bi * bs % n; bi = bi + 1 if n > cur + bs else 0; total += 1; yield arr[cur:cur + bs]
const FLOW: { seed: number; bs: number; stream: number[][] }[] = [
  { seed: 42, bs: 4, stream: [[0, 1, 5, 14], [13, 11, 8, 9], [2, 15, 4, 7], [10, 12, 3, 6], [1, 12, 6, 7], [14, 15, 9, 11], [0, 2, 3, 10], [4, 8, 5, 13]] },
  { seed: 7, bs: 5, stream: [[8, 5, 10, 2, 12], [0, 1, 14, 13, 7], [11, 3, 6, 9, 4], [15], [8, 3, 6, 10, 15], [4, 5, 14, 2, 13], [12, 7, 1, 11, 0], [9], [4, 9, 3, 2, 10]] },
];
for (const f of FLOW) {
  test(`next() streams batches as Keras's _flow_index does (seed ${f.seed}, batch ${f.bs}, wrapping with a fresh order)`, async () => {
    const gen = new ImageDataGenerator({ validationSplit: 0.3 });
    const it = await gen.flowFromDirectory(root, { targetSize: [12, 16], batchSize: f.bs, seed: f.seed, subset: 'training', classMode: 'sparse', workers: 0, verbose: false });
    assert.equal(it.samples, 16);
    for (const [k, want] of f.stream.entries()) {
      const b = await it.next();
      assert.deepEqual(Array.from(it.lastBatch!.indices), want, `call ${k}`);
      assert.deepEqual(Array.from(b.y!.f32()), want.map((j) => it.classes[j]));
      b.x.dispose(); b.y?.dispose();
    }
    it.reset();
    const again = await it.next();
    assert.equal(again.x.shape[0], f.bs, 'reset() starts a new pass');
    await it.close();
  });
}
