// Normalization.adapt computes its statistics with ops on the backend (no read), and adaptAsync takes
// data that arrives asynchronously (a BatchIterator, an async iterable). The same runs on webgpu in
// the page: test/webgpu/async.test.ts.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { tensor, Rng, type Tensor } from '../../src/tensor/index.js';
import { layers } from '../../src/layers/index.js';

/** Mean and population variance in float64 over every axis but the last. */
function host(v: Float32Array, c: number): { mean: number[]; variance: number[] } {
  const n = v.length / c, mean = new Array(c).fill(0), variance = new Array(c).fill(0);
  for (let i = 0; i < v.length; i++) mean[i % c] += v[i] / n;
  for (let i = 0; i < v.length; i++) variance[i % c] += (v[i] - mean[i % c]) ** 2 / n;
  return { mean, variance };
}

test('Normalization.adapt on the backend: batches combined as Keras combines them; adaptAsync from an iterator or an async iterable gives the same', async () => {
  const r = new Rng(3);
  const C = 3, N = 40;
  // A large offset: the one-pass E[x²] - m² in float32 would lose the variance.
  const v = Float32Array.from({ length: N * 2 * 2 * C }, (_, i) => 1000 + (i % C) * 10 + r.normal() * (1 + (i % C)));
  const want = host(v, C);
  const parts = [6, 14, 20].reduce<{ at: number; list: Tensor[] }>((acc, n) => {
    acc.list.push(tensor(v.slice(acc.at * 12, (acc.at + n) * 12), [n, 2, 2, C])); acc.at += n; return acc;
  }, { at: 0, list: [] }).list;
  const check = (l: InstanceType<typeof layers.Normalization>, what: string) => {
    const [m, s, c] = l.weights.map((w) => Array.from(w.value.dataSync()));
    m.forEach((x, i) => assert.ok(Math.abs(x - want.mean[i]) <= 1e-4 * Math.abs(want.mean[i]), `${what}: mean[${i}] ${x} vs ${want.mean[i]}`));
    s.forEach((x, i) => assert.ok(Math.abs(x - want.variance[i]) <= 2e-3 * want.variance[i], `${what}: variance[${i}] ${x} vs ${want.variance[i]}`));
    assert.deepEqual(c, [N * 4], `${what}: count`);
  };
  const one = new layers.Normalization();
  one.adapt(tensor(v, [N, 2, 2, C]));
  check(one, 'one tensor');
  const list = new layers.Normalization();
  list.adapt(parts);
  check(list, 'three batches');
  const fromIter = new layers.Normalization();
  let disposed = 0;
  await fromIter.adaptAsync({
    length: 3, samples: N, batchSize: 20,
    async getBatch(i: number) {
      const x = parts[i].clone();
      const orig = x.dispose.bind(x);
      x.dispose = () => { disposed++; orig(); };
      return { x, y: null };
    },
    onEpochEnd() {}, reset() {},
  });
  check(fromIter, 'BatchIterator');
  assert.equal(disposed, 3, 'the iterator\'s batches are disposed');
  const fromAsync = new layers.Normalization();
  await fromAsync.adaptAsync((async function* () { for (const p of parts) yield p; })());
  check(fromAsync, 'async iterable');
  // Several kept axes, and axis null (one mean over everything).
  const all = new layers.Normalization({ axis: null });
  await all.adaptAsync(parts);
  const flat = host(v, 1);
  assert.ok(Math.abs(all.weights[0].value.dataSync()[0] - flat.mean[0]) < 1e-2);
  assert.ok(Math.abs(all.weights[1].value.dataSync()[0] - flat.variance[0]) < 1e-2 * flat.variance[0]);
  // Refusals name the layer and what to do.
  await assert.rejects(new layers.Normalization({ name: 'nz' }).adaptAsync(42 as never), /Normalization nz: adaptAsync\(\) takes a Tensor, a list of them, a BatchIterator or an async iterable/);
  await assert.rejects(new layers.Normalization({ mean: 1, variance: 1, name: 'given' }).adaptAsync(parts), /given: adapt\(\) cannot be used with a given mean and variance/);
  assert.throws(() => new layers.Normalization({ name: 'e' }).adapt([]), /e: adapt\(\) needs data/);
  assert.throws(() => list.adapt(tensor(new Float32Array(8), [2, 2, 2, 1])), /expects input of shape|shape/);
});
