import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { ImageDataGenerator, NumpyRandomState } from '../../src/data/index.js';
import { applyTransform, randomTransform, type TransformParams } from '../../src/data/augment.js';
import { setSeed } from '../../src/tensor/index.js';
import { buildTree, cleanup, tempDir } from './helpers.js';

let root = '';
before(async () => { root = await buildTree(); });
after(() => cleanup(root));

const id: TransformParams = { theta: 0, tx: 0, ty: 0, shear: 0, zx: 1, zy: 1, flipHorizontal: false, flipVertical: false, channelShiftIntensity: null, brightness: null };
const fill = { fillMode: 'nearest' as const, cval: 0, interpolationOrder: 1 as const };

async function epoch(it: Awaited<ReturnType<ImageDataGenerator['flowFromDirectory']>>): Promise<number[][]> {
  const out: number[][] = [];
  for (let i = 0; i < it.length; i++) { const b = await it.getBatch(i); out.push(Array.from(b.x.f32())); b.x.dispose(); b.y?.dispose(); }
  it.onEpochEnd();
  return out;
}

test('augmentations are driven by the seed: same seed, same pixels; another seed, other pixels', async () => {
  const gen = new ImageDataGenerator({ rotation_range: 30, width_shift_range: 0.1, height_shift_range: 0.1, shear_range: 5, zoom_range: 0.2, horizontal_flip: true, brightness_range: [0.7, 1.3], fill_mode: 'reflect', rescale: 1 / 255 });
  const mk = (seed: number) => gen.flowFromDirectory(root, { targetSize: [12, 16], batchSize: 5, seed, verbose: false });
  const [a, b, c] = await Promise.all([mk(3), mk(3), mk(4)]);
  const ea = [await epoch(a), await epoch(a)], eb = [await epoch(b), await epoch(b)], ec = await epoch(c);
  assert.deepEqual(ea, eb);
  assert.notDeepEqual(ea[0], ea[1]);
  assert.notDeepEqual(ea[0], ec);
  // Unseeded iterators repeat under setSeed.
  setSeed(9); const u1 = await gen.flowFromDirectory(root, { targetSize: [12, 16], batchSize: 5, verbose: false }); const e1 = await epoch(u1);
  setSeed(9); const u2 = await gen.flowFromDirectory(root, { targetSize: [12, 16], batchSize: 5, verbose: false }); const e2 = await epoch(u2);
  assert.deepEqual(e1, e2);
  for (const it of [a, b, c, u1, u2]) await it.close();
});

test('flips, shifts and fill modes move pixels where Keras puts them', () => {
  const h = 3, w = 4;
  const src = Float32Array.from({ length: h * w }, (_, i) => i);
  assert.deepEqual(Array.from(applyTransform(src, h, w, 1, { ...id, flipHorizontal: true }, fill)), [3, 2, 1, 0, 7, 6, 5, 4, 11, 10, 9, 8]);
  assert.deepEqual(Array.from(applyTransform(src, h, w, 1, { ...id, flipVertical: true }, fill)), [8, 9, 10, 11, 4, 5, 6, 7, 0, 1, 2, 3]);
  // tx shifts rows: output row r samples input row r + tx.
  assert.deepEqual(Array.from(applyTransform(src, h, w, 1, { ...id, tx: 1 }, fill)), [4, 5, 6, 7, 8, 9, 10, 11, 8, 9, 10, 11]);
  assert.deepEqual(Array.from(applyTransform(src, h, w, 1, { ...id, tx: 1 }, { ...fill, fillMode: 'constant', cval: -1 })), [4, 5, 6, 7, 8, 9, 10, 11, -1, -1, -1, -1]);
  // ty shifts columns.
  assert.deepEqual(Array.from(applyTransform(src, h, w, 1, { ...id, ty: -1 }, { ...fill, fillMode: 'reflect' })), [0, 0, 1, 2, 4, 4, 5, 6, 8, 8, 9, 10]);
  assert.deepEqual(Array.from(applyTransform(src, h, w, 1, { ...id, ty: 0.5 }, fill)), [0.5, 1.5, 2.5, 3, 4.5, 5.5, 6.5, 7, 8.5, 9.5, 10.5, 11]);
  // A half turn about the centre reverses the image.
  const r = applyTransform(src, h, w, 1, { ...id, theta: 180 }, fill);
  assert.ok(Array.from(r).every((v, i) => Math.abs(v - (11 - i)) < 1e-4), Array.from(r).join(','));
  // Brightness: Keras stretches to 0..255, truncates, scales, truncates.
  const br = applyTransform(Float32Array.from([0, 100, 200]), 1, 3, 1, { ...id, brightness: 0.5 }, fill);
  assert.deepEqual(Array.from(br), [0, 63, 127]);
  // Keras always draws the two flip numbers, even with no augmentation.
  const rs = new NumpyRandomState(1), ref = new NumpyRandomState(1);
  const cfg = new ImageDataGenerator().augment;
  randomTransform(cfg, rs, 4, 4); ref.random(); ref.random();
  assert.equal(rs.random(), ref.random());
});

test('cache: true and a cache file give the same batches and skip decoding on later epochs', async () => {
  const gen = new ImageDataGenerator({ rescale: 1 / 255, horizontal_flip: true });
  const opts = { targetSize: [12, 16] as [number, number], batchSize: 6, seed: 11, verbose: false };
  const plain = await gen.flowFromDirectory(root, opts);
  const mem = await gen.flowFromDirectory(root, { ...opts, cache: true });
  const dir = tempDir();
  const file = join(dir, 'cache.bin');
  const disk = await gen.flowFromDirectory(root, { ...opts, cache: file });
  for (let e = 0; e < 2; e++) {
    const p = await epoch(plain), m = await epoch(mem), d = await epoch(disk);
    assert.deepEqual(m, p, `memory cache, epoch ${e}`);
    assert.deepEqual(d, p, `file cache, epoch ${e}`);
  }
  await disk.close();
  assert.ok(existsSync(file));
  // A new iterator over the same files and settings reuses the file.
  const again = await gen.flowFromDirectory(root, { ...opts, cache: file });
  assert.equal((again as any).cache.count, again.samples);
  const fresh = await gen.flowFromDirectory(root, opts);
  assert.deepEqual(await epoch(again), await epoch(fresh));
  await Promise.all([plain.close(), mem.close(), again.close(), fresh.close()]);
  cleanup(dir);
});

test("affine augmentations match Keras's scipy.ndimage version (order 1) for every fill mode", async () => {
  const { readFileSync } = await import('node:fs');
  const { FIXTURES } = await import('./helpers.js');
  const fx = JSON.parse(readFileSync(join(FIXTURES, 'affine.json'), 'utf8'));
  const [h, w, c] = fx.shape;
  for (const cs of fx.cases) {
    const p = { ...id, ...cs.params };
    const out = applyTransform(Float32Array.from(fx.image), h, w, c, p, { fillMode: cs.mode, cval: fx.cval, interpolationOrder: 1 });
    let worst = 0;
    out.forEach((v, i) => { worst = Math.max(worst, Math.abs(v - cs.out[i])); });
    assert.ok(worst < 1e-3, `${JSON.stringify(cs.params)} ${cs.mode}: max difference ${worst}`);
  }
});

test('memory stays bounded: only `prefetch` batches are held ahead; Node exits without close()', async () => {
  const gen = new ImageDataGenerator({ rescale: 1 / 255 });
  const it = await gen.flowFromDirectory(root, { targetSize: [12, 16], batchSize: 2, seed: 1, prefetch: 3, verbose: false });
  for (let i = 0; i < it.length; i++) {
    const b = await it.getBatch(i);
    assert.ok((it as any).plans.size <= 3);
    b.x.dispose(); b.y?.dispose();
  }
  await it.close();
  const { spawnSync } = await import('node:child_process');
  const script = `const { ImageDataGenerator } = await import(${JSON.stringify(new URL('../../src/data/index.ts', import.meta.url).href)});
const it = await new ImageDataGenerator().flowFromDirectory(${JSON.stringify(root)}, { targetSize: [8, 8], batchSize: 4, workers: 2, verbose: false });
await it.getBatch(0); console.log('done');`;
  const r = spawnSync(process.execPath, ['--import', 'tsx', '--input-type=module', '-e', script], { encoding: 'utf8', timeout: 30_000 });
  assert.equal(r.status, 0, r.stderr);
  assert.match(r.stdout, /done/);
});
