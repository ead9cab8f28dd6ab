/**
 * Reliability (issue 11 §4): a refused call allocates nothing and leaves the engine usable.
 * An unknown dtype used to reach the heap as NaN bytes and break every later op ("start offset of
 * Float32Array should be a multiple of 4"). Each refused call below is followed by good ops.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { tensor, zeros, ones, empty, full, scalar, heap, scope, Tensor } from '../../src/tensor/index.js';
import { add, conv2d, matmul, correlate, sum } from '../../src/ops/index.js';

function goodOps(): void { scope(goodOpsIn); }
function goodOpsIn(): void {
  const a = ones([3, 5]), b = full([5, 2], 2);
  const c = matmul(a, b);
  assert.deepEqual(Array.from(c.f32()), [10, 10, 10, 10, 10, 10]);
  const s = add(zeros([7]), 1.5);
  assert.equal(sum(s).f32()[0], 10.5);
  const x = ones([1, 6, 6, 8]), w = ones([3, 3, 8, 8]);
  const y = conv2d(x, w, { padding: 'same' });
  assert.equal(y.f32()[(2 * 6 + 2) * 8], 72);
  const i8 = tensor(new Uint8Array([1, 2, 3]));
  assert.deepEqual(Array.from(i8.view()), [1, 2, 3]);
  const r = correlate(tensor([1, 2, 3, 4], [4], 'float64'), [1, 1], { output: 'float32' });
  assert.equal(r.dtype, 'float32');
  for (const t of [a, b, c, s, x, w, y, i8, r]) t.dispose();
}

const refused: [string, () => unknown, RegExp][] = [
  ["zeros([3], 'int8')", () => zeros([3], 'int8' as any), /zeros: unknown dtype "int8"/],
  ["ones([3], 'int8')", () => ones([3], 'int8' as any), /ones: unknown dtype "int8"/],
  ["empty([3], 'int8')", () => empty([3], 'int8' as any), /empty: unknown dtype "int8"/],
  ["full([2], 1, 'float16')", () => full([2], 1, 'float16' as any), /full: unknown dtype "float16"/],
  ["scalar(1, 'bool')", () => scalar(1, 'bool' as any), /scalar: unknown dtype "bool"/],
  ["tensor([1], undefined, 'int8')", () => tensor([1], undefined, 'int8' as any), /tensor: unknown dtype "int8"/],
  ["new Tensor([2], 'int16')", () => new Tensor([2], 'int16' as any), /Tensor: unknown dtype "int16"/],
  ["correlate(output: 'int8')", () => correlate([1, 2, 3], [1, 1], { output: 'int8' as any }), /correlate: unknown output dtype "int8"/],
  ["correlate(output: 'float16')", () => correlate(new Float32Array(4), [1], { output: 'float16' as any }), /correlate: unknown output dtype "float16"/],
  ['zeros([-1])', () => zeros([-1]), /non-negative integers/],
  ['zeros([NaN])', () => zeros([NaN]), /non-negative integers/],
  ['zeros([2 ** 31]) (8 GiB)', () => zeros([2 ** 31]), /out of tensor memory.*4 GiB/],
  ["tensor(Float32Array(3), [2, 2])", () => tensor(new Float32Array(3), [2, 2]), /3 values do not fill shape \(2, 2\)/],
];

test('each refused call names the problem, allocates nothing, and good ops run after it', () => {
  goodOps();
  for (const [what, call, msg] of refused) {
    const before = heap().bytesInUse, blocks = heap().liveBlocks;
    assert.throws(call, msg, what);
    assert.equal(heap().bytesInUse, before, `${what}: heap bytes in use`);
    assert.equal(heap().liveBlocks, blocks, `${what}: live blocks`);
    goodOps();
  }
});
