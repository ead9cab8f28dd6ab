// Tensor storage behind the Backend seam (issue 14 step 1): tensors hold their backend's handle;
// every read and write goes through the owning backend; heap backends share tensors.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { tensor, zeros, scope, Tensor, Rng } from '../../src/tensor/index.js';
import { setBackend, backend, getBackendName, ReferenceBackend } from '../../src/backend/index.js';
import type { Backend } from '../../src/backend/backend.js';
import { concat, takeRows, dropout } from '../../src/ops/index.js';
import { wasmAvailable } from '../../src/backend/wasm/index.js';
import { nativeAvailable } from '../../src/backend/native/index.js';

const heapBackends = ['reference', ...(wasmAvailable() ? ['wasm'] : []), ...(nativeAvailable() ? ['native'] : [])];

/** A backend whose tensors live in plain JavaScript arrays (not the heap), like a GPU's buffers. */
function offHeapBackend(): Backend {
  const ref = new ReferenceBackend();
  const blocks = new Map<number, Uint8Array>();
  let next = 1;
  const arr = (t: Tensor) => {
    const b = blocks.get(t.dataId as number)!;
    const C = { float32: Float32Array, int32: Int32Array, uint8: Uint8Array, float64: Float64Array }[t.dtype];
    return new C(b.buffer, b.byteOffset + t.byteOffset, t.size);
  };
  const b = Object.create(ref) as Backend & Record<string, unknown>;
  Object.assign(b, {
    name: 'offheap', storage: 'offheap',
    alloc: (bytes: number) => { blocks.set(next, new Uint8Array(Math.ceil(bytes / 8) * 8)); return next++; },
    release: (id: number) => { blocks.delete(id); },
    write: (t: Tensor, v: ArrayLike<number>, at = 0) => arr(t).set(v, at),
    readSync: () => { throw new Error('convnet: dataSync: the offheap backend reads asynchronously; use await t.data()'); },
    read: async (t: Tensor) => arr(t).slice(),
    fill: (t: Tensor, v: number) => arr(t).fill(v),
    copy: (s: Tensor, d: Tensor) => arr(d).set(arr(s)),
    blocks,
  });
  return b;
}

test('storage: writes, reads, fills and copies go through the owning backend on every heap backend', async () => {
  const before = getBackendName();
  try {
    for (const name of heapBackends) {
      setBackend(name);
      scope(() => {
        const t = tensor([[1, 2, 3], [4, 5, 6]]);
        assert.equal(t.store, backend(), name);
        assert.deepEqual(Array.from(t.dataSync()), [1, 2, 3, 4, 5, 6]);
        t.write([9, 8], 1);
        assert.deepEqual(t.toArray(), [[1, 9, 8], [4, 5, 6]]);
        const s = t.sliceBatch(1, 2);
        assert.equal(s.byteOffset, 12);
        assert.deepEqual(s.toArray(), [[4, 5, 6]]);
        backend().fill(s, 7);
        assert.deepEqual(t.toArray(), [[1, 9, 8], [7, 7, 7]], `${name}: a view shares its block`);
        const c = t.clone();
        t.write([0, 0, 0, 0, 0, 0]);
        assert.deepEqual(c.toArray(), [[1, 9, 8], [7, 7, 7]], `${name}: clone copies`);
        const i = tensor([1.9, -2.9], [2], 'float32');
        const j = zeros([2], 'int32');
        backend().copy(i, j);
        assert.deepEqual(Array.from(j.dataSync()), [1, -2], `${name}: copy across dtypes casts`);
        assert.throws(() => t.write([1, 2, 3], 5), /write: 3 values at element 5 do not fit a tensor of 6 elements/);
      });
      const a = await tensor([[1, 2], [3, 4]]).array();
      assert.deepEqual(a, [[1, 2], [3, 4]]);
    }
  } finally {
    setBackend(before);
  }
});

test('storage: tensors made on one heap backend are read and computed on another (one heap)', () => {
  const before = getBackendName();
  try {
    setBackend(heapBackends[heapBackends.length - 1]);
    const x = tensor([[1, 2], [3, 4], [5, 6]]).keep();
    const y = tensor([[7], [8], [9]]).keep();
    setBackend('reference');
    assert.deepEqual(concat([x, y], 1).toArray(), [[1, 2, 7], [3, 4, 8], [5, 6, 9]]);
    assert.deepEqual(takeRows(x, [2, 0, 2]).toArray(), [[5, 6], [1, 2], [5, 6]]);
    x.dispose(); y.dispose();
  } finally {
    setBackend(before);
  }
});

test('storage: data-movement ops give the same numbers on every heap backend (dropout mask from a seeded rng)', () => {
  const before = getBackendName();
  const results: string[] = [];
  try {
    for (const name of heapBackends) {
      setBackend(name);
      results.push(JSON.stringify(scope(() => {
        const x = tensor(Array.from({ length: 24 }, (_, i) => i), [2, 3, 4]);
        const c = concat([x, x.reshape([2, 3, 4])], 1);
        const d = dropout(x, 0.5, new Rng(7));
        return [c.toArray(), d.toArray(), takeRows(x, [1, 1]).toArray()];
      })));
    }
  } finally {
    setBackend(before);
  }
  for (const r of results) assert.equal(r, results[0]);
});

test('storage: a backend whose tensors live off the heap: created, written, viewed and freed through it; sync reads refused clearly', async () => {
  const before = getBackendName();
  const off = offHeapBackend();
  const blocks = (off as unknown as { blocks: Map<number, Uint8Array> }).blocks;
  try {
    setBackend(off);
    const t = tensor([1, 2, 3, 4, 5, 6], [2, 3]);
    assert.equal(t.offset, -1);
    assert.equal(blocks.size, 1);
    assert.deepEqual(Array.from(await t.data()), [1, 2, 3, 4, 5, 6]);
    const row = t.sliceBatch(1, 2);
    assert.deepEqual(await row.array(), [[4, 5, 6]]);
    assert.throws(() => t.dataSync(), /use await t.data\(\)/);
    assert.throws(() => t.view(), /lives on the 'offheap' backend's storage, not in the WebAssembly heap; read it with await t.data\(\)/);
    const c = t.clone();
    assert.equal(blocks.size, 2);
    c.dispose();
    t.dispose();
    assert.equal(blocks.size, 1, 'the view still holds the block');
    row.dispose();
    assert.equal(blocks.size, 0, 'released through the backend');
  } finally {
    setBackend(before);
  }
});
