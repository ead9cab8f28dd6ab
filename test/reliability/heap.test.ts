/**
 * Reliability (issue 11 §7): tensors made outside any scope and never disposed are freed by the
 * garbage collector, as the README says, even in a loop that never yields. JavaScript's GC did not
 * see the WebAssembly heap, so a loop keeping one live 4 MB tensor died with "out of tensor memory
 * ... 4.00 GiB in use", and trainOnBatch with inputs nobody disposed grew by one input per step.
 * Now the heap, before it grows, has unreachable tensors collected and finalized at once.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { zeros, empty, tensor, heap, scope, Rng } from '../../src/tensor/index.js';
import { garbageCollections, collectGarbageTensors, synchronousCollection } from '../../src/tensor/tensor.js';
import { add } from '../../src/ops/index.js';
import { layers } from '../../src/layers/index.js';
import { Sequential } from '../../src/models/index.js';

const MiB = 2 ** 20;
const collectorOn = synchronousCollection();

test('synchronous collection is available on this project\'s Node (20.16+ on V8 11)', (t) => {
  if (Number(process.versions.v8.split('.')[0]) > 11 || typeof (process as any).getBuiltinModule !== 'function') { t.skip(`V8 ${process.versions.v8}: finalizers run between tasks only`); return; }
  assert.equal(synchronousCollection(), true);
});

test('the issue\'s loop: one live 4 MB tensor, 4.4 GB allocated in a synchronous loop, stays small', (t) => {
  if (!collectorOn) { t.skip(`no synchronous finalization on V8 ${process.versions.v8}`); return; }
  let x = zeros([1 << 20]);
  for (let i = 0; i < 1100; i++) x = add(x, 1); // never disposed, never yields
  assert.equal(x.f32()[123], 1100);
  assert.ok(heap().peakBytes < 1024 * MiB, `peak heap ${(heap().peakBytes / MiB).toFixed(0)} MiB`);
  assert.ok(garbageCollections() > 0);
  // Tensors still referenced are never taken: a kept list of live tensors survives collections.
  const live = Array.from({ length: 80 }, (_, i) => add(zeros([1 << 20]), i));
  for (let i = 0; i < 300; i++) x = add(x, 1);
  live.forEach((l, i) => assert.equal(l.f32()[7], i, `live tensor ${i}`));
  assert.equal(x.f32()[0], 1400);
});

test('trainOnBatch with inputs the caller never disposes does not grow the heap step by step', (t) => {
  if (!collectorOn) { t.skip(`no synchronous finalization on V8 ${process.versions.v8}`); return; }
  const m = new Sequential([new layers.Dense(1, { activation: 'sigmoid', inputShape: [1024] })]);
  m.compile({ optimizer: 'sgd', loss: 'binary_crossentropy' });
  const r = new Rng(1);
  const xs = new Float32Array(512 * 1024).map(() => r.uniform(-1, 1));
  const ys = new Float32Array(512).map((_, i) => i & 1);
  const before = heap().peakBytes;
  for (let i = 0; i < 700; i++) m.trainOnBatch(tensor(xs, [512, 1024]), tensor(ys, [512, 1])); // 2 MB per step, 1.4 GB in all
  const grew = heap().peakBytes - before;
  assert.ok(grew < 700 * MiB, `the heap grew by ${(grew / MiB).toFixed(0)} MiB over 700 steps`);
});

test('scoped code is untouched: no collection while scopes release everything', () => {
  collectGarbageTensors(); // what the tests above left for the collector
  const n = garbageCollections();
  for (let i = 0; i < 200; i++) scope(() => { add(zeros([1 << 20]), 1); });
  assert.equal(garbageCollections(), n);
});

test('out of memory with tensors held outside scopes: the error says how much they hold and what to do', () => {
  // empty() does not touch its pages: the 4 GiB are reserved, not resident.
  const held = [empty([2 ** 28]), empty([2 ** 28]), empty([2 ** 28])]; // 3 GiB, referenced
  assert.throws(() => empty([2 ** 28]), /out of tensor memory: asked for 1\.00 GiB .* 3\.\d\d GiB of it is held by tensors made outside any scope and not disposed: dispose\(\) them, or work inside scope\(\)/);
  for (const t of held) t.dispose();
  const again = empty([2 ** 28]);
  assert.equal(again.size, 2 ** 28, 'usable after the refusal');
  again.dispose();
});
