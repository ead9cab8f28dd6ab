/**
 * The decoded-image caches and the uint8 upload: cached pixels equal a cold decode, stale and damaged
 * records are decoded again, augmentation still changes every epoch, and batches uploaded as uint8
 * and rescaled in the engine are bit-identical to the float path.
 */
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { openSync, writeSync, closeSync, readdirSync, readFileSync, statSync, truncateSync, utimesSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { ImageDataGenerator, type DirectoryIterator } from '../../src/data/index.js';
import { FileCache, HEADER_BYTES, PREFIX_BYTES, memoryBudget } from '../../src/data/cache.js';
import { setBackend, getBackendName } from '../../src/backend/index.js';
import { buildTree, cleanup, tempDir, writeImage } from './helpers.js';

let root = '';
before(async () => { root = await buildTree(); });
after(() => cleanup(root));

const opts = { targetSize: [12, 16] as [number, number], batchSize: 5, seed: 7, verbose: false };

async function epoch(it: DirectoryIterator): Promise<number[][]> {
  const out: number[][] = [];
  for (let i = 0; i < it.length; i++) { const b = await it.getBatch(i); out.push(Array.from(b.x.f32())); b.x.dispose(); b.y?.dispose(); }
  it.onEpochEnd();
  return out;
}

async function withEnv<T>(vars: Record<string, string>, fn: () => Promise<T>): Promise<T> {
  const old = Object.fromEntries(Object.keys(vars).map((k) => [k, process.env[k]]));
  Object.assign(process.env, vars);
  try { return await fn(); } finally {
    for (const [k, v] of Object.entries(old)) { if (v === undefined) delete process.env[k]; else process.env[k] = v; }
  }
}

test("cache 'auto' keeps images in memory within the budget, else in a file; hits equal a cold decode", async () => {
  const gen = new ImageDataGenerator({ rescale: 1 / 255 });
  const cold = await gen.flowFromDirectory(root, { ...opts, cache: false });
  const mem = await gen.flowFromDirectory(root, opts);
  assert.equal(mem.cacheInfo.kind, 'memory');
  assert.ok(memoryBudget() > 0);
  const dir = tempDir();
  const lines: string[] = [];
  const disk = await withEnv({ CONVNET_CACHE_MEMORY_MB: '0', CONVNET_CACHE_DIR: dir }, () =>
    gen.flowFromDirectory(root, { ...opts, verbose: true, log: (l) => lines.push(l) }));
  assert.equal(disk.cacheInfo.kind, 'file');
  assert.ok(disk.cacheInfo.path!.startsWith(dir));
  assert.ok(lines.some((l) => l.includes('Caching decoded images in')), lines.join('\n'));
  for (let e = 0; e < 3; e++) {
    const c = await epoch(cold);
    assert.deepEqual(await epoch(mem), c, `memory, epoch ${e}`);
    assert.deepEqual(await epoch(disk), c, `file, epoch ${e}`);
  }
  assert.equal(mem.cacheInfo.count, mem.samples);
  assert.equal(disk.cacheInfo.count, disk.samples);
  // Everything cached and nothing augmented: the decode workers are stopped.
  assert.equal(mem.decodeWorkers, 0);
  assert.ok(cold.decodeWorkers > 0);
  await disk.close();
  // The next run over the same files and settings finds the same file and reads it.
  const again = await withEnv({ CONVNET_CACHE_MEMORY_MB: '0', CONVNET_CACHE_DIR: dir }, () => gen.flowFromDirectory(root, opts));
  assert.equal(again.cacheInfo.path, disk.cacheInfo.path);
  assert.equal(again.cacheInfo.count, again.samples);
  const cold2 = await gen.flowFromDirectory(root, { ...opts, cache: false });
  assert.deepEqual(await epoch(again), await epoch(cold2));
  await Promise.all([cold.close(), cold2.close(), mem.close(), again.close()]);
  await withEnv({ CONVNET_CACHE_MEMORY_MB: 'lots' }, async () => { assert.throws(() => memoryBudget(), /CONVNET_CACHE_MEMORY_MB/); });
  cleanup(dir);
});

test('augmentation still varies per epoch on cached images, the same as without a cache, for a seed', async () => {
  const gen = new ImageDataGenerator({ rescale: 1 / 255, rotation_range: 20, zoom_range: 0.1, horizontal_flip: true });
  const dir = tempDir();
  const plain = await gen.flowFromDirectory(root, { ...opts, cache: false });
  const mem = await gen.flowFromDirectory(root, { ...opts, cache: true });
  const disk = await gen.flowFromDirectory(root, { ...opts, cache: join(dir, 'c.bin') });
  const e: number[][][] = [];
  for (let k = 0; k < 3; k++) {
    const p = await epoch(plain);
    assert.deepEqual(await epoch(mem), p, `memory, epoch ${k}`);
    assert.deepEqual(await epoch(disk), p, `file, epoch ${k}`);
    e.push(p);
  }
  assert.notDeepEqual(e[1], e[2], 'epochs 2 and 3 differ (fresh random transforms on cached pixels)');
  assert.equal(mem.cacheInfo.count, mem.samples);
  assert.ok(mem.decodeWorkers > 0, 'augmenting: the workers keep running');
  await Promise.all([plain.close(), mem.close(), disk.close()]);
  cleanup(dir);
});

test('file cache: stale and damaged records are decoded again; a half-made or foreign file is replaced', async () => {
  const src = tempDir();
  const dir = tempDir();
  const file = join(dir, 'imgs.cache');
  try {
    for (let i = 0; i < 4; i++) await writeImage(join(src, i % 2 ? 'b' : 'a', `${i}.jpg`), 10, 10, i + 3);
    const gen = new ImageDataGenerator({ rescale: 1 / 255 });
    const o = { targetSize: [6, 6] as [number, number], batchSize: 4, shuffle: false, verbose: false, cache: file, workers: 0 };
    const coldIt = await gen.flowFromDirectory(src, { ...o, cache: false });
    const cold = await epoch(coldIt);
    const fill = async (): Promise<{ count: number; x: number[][] }> => {
      const it = await gen.flowFromDirectory(src, o);
      const count = it.cacheInfo.count;
      const x = await epoch(it);
      await it.close();
      return { count, x };
    };
    assert.equal((await fill()).count, 0);
    assert.equal((await fill()).count, 4);
    const stride = PREFIX_BYTES + 6 * 6 * 3;
    const size = statSync(file).size;
    assert.equal(size, HEADER_BYTES + 4 * stride);

    // A record cut short (a kill mid-write): garbage over the second half of record 2's pixels.
    const fd = openSync(file, 'r+');
    writeSync(fd, Buffer.alloc(stride / 2, 0xab), 0, stride / 2, HEADER_BYTES + 2 * stride + stride / 2);
    // A record whose prefix was never written (a hole of zeros).
    writeSync(fd, Buffer.alloc(PREFIX_BYTES), 0, PREFIX_BYTES, HEADER_BYTES + 3 * stride);
    closeSync(fd);
    let r = await fill();
    assert.equal(r.count, 3, 'the zeroed prefix is seen at open; the bad pixels on read');
    assert.deepEqual(r.x, cold);
    assert.equal((await fill()).count, 4, 'both records rewritten');

    // A stale record: the file's modification time moved.
    const f0 = join(src, 'a', '0.jpg');
    const st = statSync(f0);
    utimesSync(f0, st.atime, new Date(st.mtimeMs + 3000));
    r = await fill();
    assert.equal(r.count, 3);
    assert.deepEqual(r.x, cold);

    // A file cut short (a kill while it was being made elsewhere, a full disk): replaced whole.
    truncateSync(file, HEADER_BYTES + stride + 7);
    r = await fill();
    assert.equal(r.count, 0);
    assert.deepEqual(r.x, cold);
    assert.equal(statSync(file).size, size);
    // Other settings under the same name: replaced, never read as this one.
    const other = await gen.flowFromDirectory(src, { ...o, interpolation: 'bilinear' });
    assert.equal(other.cacheInfo.count, 0);
    await epoch(other);
    await other.close();
    assert.equal((await fill()).count, 0);
    // Creation goes through a temporary name: nothing is left beside the cache.
    assert.deepEqual(readdirSync(dir), ['imgs.cache']);
    // A path that is not a regular file is refused, naming it.
    await assert.rejects(gen.flowFromDirectory(src, { ...o, cache: dir }), (e: Error) => e.message.includes(dir) && /not a regular file/.test(e.message));
    writeFileSync(join(dir, 'x'), '');
    await assert.rejects(FileCache.open(join(dir, 'x', 'y'), [], 3, {}), /cache file .*x\/y: cannot be/);
    await coldIt.close();
  } finally {
    cleanup(src);
    cleanup(dir);
  }
});

test('uint8 upload: batches converted and rescaled in the engine are bit-identical to the float path, on each backend (native when built)', async () => {
  // A preprocessing function that changes nothing forces the JavaScript float path.
  const eng = new ImageDataGenerator({ rescale: 1 / 255 });
  const js = new ImageDataGenerator({ rescale: 1 / 255, preprocessing_function: () => {} });
  const raw = new ImageDataGenerator();
  const rawJs = new ImageDataGenerator({ preprocessing_function: () => {} });
  const was = getBackendName();
  try {
    const names = ['reference', 'wasm'];
    const backends = await import('../../src/backend/index.js') as { nativeAvailable?: () => boolean };
    if (backends.nativeAvailable?.()) names.push('native');
    for (const name of names) {
      setBackend(name);
      const its = await Promise.all([eng, js, raw, rawJs].map((g) => g.flowFromDirectory(root, { ...opts, classMode: 'input', cache: true, workers: 0 })));
      for (let e = 0; e < 2; e++) {
        const [a, b, c, d] = await Promise.all(its.map((it) => epoch(it)));
        const bits = (x: number[][]) => x.map((r) => Array.from(new Uint32Array(Float32Array.from(r).buffer)));
        assert.deepEqual(bits(a), bits(b), `${name}: rescaled, epoch ${e}`);
        assert.deepEqual(bits(c), bits(d), `${name}: no rescale, epoch ${e}`);
        assert.ok(a.flat().every((v) => v >= 0 && v <= 1) && c.flat().some((v) => v > 1));
      }
      await Promise.all(its.map((it) => it.close()));
    }
  } finally {
    setBackend(was as 'wasm');
  }
});

test('decode workers run at a lower priority than the compute threads (Linux)', async (t) => {
  if (process.platform !== 'linux') { t.skip('thread niceness is read from /proc on Linux'); return; }
  const niceOf = (tid: string): number => {
    const s = readFileSync(`/proc/self/task/${tid}/stat`, 'utf8');
    return Number(s.slice(s.lastIndexOf(')') + 2).split(' ')[16]);
  };
  const before = new Set(readdirSync('/proc/self/task'));
  const it = await new ImageDataGenerator().flowFromDirectory(root, { ...opts, cache: false, workers: 2 });
  const b = await it.getBatch(0);
  b.x.dispose(); b.y?.dispose();
  const fresh = readdirSync('/proc/self/task').filter((tid) => !before.has(tid));
  const nices = fresh.map((tid) => { try { return niceOf(tid); } catch { return null; } }).filter((n) => n !== null);
  await it.close();
  assert.ok(nices.filter((n) => n === 10).length >= 2, `new threads' niceness: ${nices.join(', ')}`);
  assert.equal(niceOf(String(process.pid)), 0, 'the main thread keeps its priority');
});
