import { test } from 'node:test';
import assert from 'node:assert/strict';
import { tensor, zeros, ones, full, scope, startScope, endScope, heap, Rng, setSeed, rng, fmtShape, Tensor } from '../../src/tensor/index.js';

test('creation from nested arrays, typed arrays, and back', () => {
  const t = tensor([[1, 2, 3], [4, 5, 6]]);
  assert.deepEqual(t.shape, [2, 3]);
  assert.equal(t.dtype, 'float32');
  assert.deepEqual(t.toArray(), [[1, 2, 3], [4, 5, 6]]);
  const u = tensor(new Uint8Array([1, 2, 3, 4]), [2, 2]);
  assert.equal(u.dtype, 'uint8');
  assert.deepEqual(u.toArray(), [[1, 2], [3, 4]]);
  assert.deepEqual(tensor([1, 2], undefined, 'int32').dataSync(), new Int32Array([1, 2]));
  assert.deepEqual(zeros([2]).toArray(), [0, 0]);
  assert.deepEqual(ones([1, 2], 'int32').toArray(), [[1, 1]]);
  assert.equal(full([], 7).toArray(), 7);
});

test('bad shapes and values give clear errors', () => {
  assert.throws(() => tensor([[1, 2], [3]]), /ragged nested array/);
  assert.throws(() => tensor([1, 2, 3], [2, 2]), /3 values do not fill shape \(2, 2\)/);
  assert.throws(() => zeros([2, -1]), /non-negative integers/);
  assert.throws(() => tensor([1], undefined, 'float16' as any), /unknown dtype/);
  assert.throws(() => tensor([1, 2, 3, 4]).reshape([3, -1]), /cannot reshape \(4,\)/);
});

test('reshape and sliceBatch share data without copying', () => {
  const t = tensor([[1, 2], [3, 4], [5, 6]]);
  const r = t.reshape([2, -1]);
  assert.deepEqual(r.shape, [2, 3]);
  const s = t.sliceBatch(1, 3);
  assert.deepEqual(s.toArray(), [[3, 4], [5, 6]]);
  s.view()[0] = 30;
  assert.equal((t.toArray() as number[][])[1][0], 30);
  assert.throws(() => t.sliceBatch(2, 4), /out of range/);
  t.dispose();
  assert.deepEqual(s.toArray(), [[30, 4], [5, 6]], 'a view keeps the storage alive');
  assert.throws(() => t.view(), /already released/);
});

test('scopes free what they made, keep what is returned or kept', () => {
  const before = heap().liveBlocks;
  let kept!: Tensor, inner!: Tensor;
  const ret = scope(() => {
    inner = zeros([100]);
    kept = zeros([10]).keep();
    return { a: ones([3]) };
  });
  assert.ok(inner.disposed);
  assert.ok(!kept.disposed);
  assert.ok(!ret.a.disposed);
  kept.dispose(); ret.a.dispose();
  assert.equal(heap().liveBlocks, before);
  startScope();
  const z = zeros([5]);
  endScope(undefined);
  assert.ok(z.disposed);
  assert.throws(() => scope(() => { zeros([1]); throw new Error('boom'); }), /boom/);
});

test('the heap reuses released blocks', () => {
  const a = zeros([1000]); const off = a.offset; a.dispose();
  const b = zeros([1000]); assert.equal(b.offset, off); b.dispose();
});

test('seeded random streams repeat; shapes print like Python', () => {
  const a = new Rng(42), b = new Rng(42);
  for (let i = 0; i < 5; i++) assert.equal(a.nextU32(), b.nextU32());
  setSeed(7); const x = rng().random(); setSeed(7); assert.equal(rng().random(), x);
  const r = new Rng(1); let s = 0, s2 = 0;
  for (let i = 0; i < 20000; i++) { const v = r.normal(); s += v; s2 += v * v; }
  assert.ok(Math.abs(s / 20000) < 0.03 && Math.abs(s2 / 20000 - 1) < 0.05);
  assert.equal(fmtShape([1, 153, 230, 1]), '(1, 153, 230, 1)');
  assert.equal(fmtShape([null, 32]), '(None, 32)');
  assert.equal(fmtShape([5]), '(5,)');
});

import { glorotUniform, heNormal, randomNormal } from '../../src/tensor/index.js';
test('seeded initializers: Glorot bounds, He spread, repeatable', () => {
  const g = glorotUniform([3, 3, 32, 64], { seed: 1 }).f32();
  const l = Math.sqrt(6 / (288 + 576));
  assert.ok(g.every((v) => v >= -l && v < l));
  assert.deepEqual(glorotUniform([4, 4], { seed: 3 }).dataSync(), glorotUniform([4, 4], { seed: 3 }).dataSync());
  const h = heNormal([1000, 10], { seed: 2 }).f32();
  const sd = Math.sqrt(h.reduce((s, v) => s + v * v, 0) / h.length);
  assert.ok(Math.abs(sd - Math.sqrt(2 / 1000)) < 0.1 * Math.sqrt(2 / 1000));
  assert.ok(randomNormal([10], { seed: 1 }).f32().some((v) => v !== 0));
});

import { Heap } from '../../src/tensor/heap.js';
test('large blocks are split, reused best-fit and coalesced; the top comes back down', () => {
  const h = new Heap(1 << 20);
  const base = h.bytesReserved;
  const a = h.alloc(4 << 20), b = h.alloc(4 << 20), c = h.alloc(2 << 20);
  const top = h.bytesReserved;
  h.release(a); h.release(b);
  // a and b coalesce into one 8 MiB region that a 6 MiB request reuses (split), below c.
  const d = h.alloc(6 << 20);
  assert.equal(d, a);
  assert.equal(h.bytesReserved, top);
  const e = h.alloc(2 << 20);
  assert.equal(e, a + (6 << 20), 'the split remainder is reused');
  h.release(c);
  h.release(d); h.release(e);
  assert.equal(h.bytesReserved, base, 'freeing everything lowers the top back');
  assert.equal(h.peakBytes, top);
  assert.equal(h.liveBlocks, 0);
  // A small request rounding up to exactly 1 MiB stays on the small path.
  const s = h.alloc((1 << 20) - 1); h.release(s);
  assert.equal(h.alloc((1 << 20) - 5), s);
  assert.throws(() => h.release(12345), /double free/);
});
