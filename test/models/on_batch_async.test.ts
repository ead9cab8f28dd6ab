// trainOnBatchAsync/testOnBatchAsync (one step implementation with the synchronous forms, read with
// await) and metrics whose state lives in backend tensors, read only when a result is asked for.
// The same checks run on webgpu in the page: test/webgpu/async.test.ts.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { tensor, setSeed, heap, Rng, type Tensor } from '../../src/tensor/index.js';
import { backend, setBackend } from '../../src/backend/index.js';
import { layers, clearSession } from '../../src/layers/index.js';
import { Sequential, getMetric, AUC, Precision, Recall, BinaryAccuracy, CategoricalAccuracy, SparseCategoricalAccuracy, metrics } from '../../src/models/index.js';
import { squaresTask } from './helpers.js';

function model(seed: number): Sequential {
  clearSession();
  setSeed(seed);
  const m = new Sequential([
    new layers.Conv2D(4, [3, 3], { activation: 'relu', inputShape: [8, 8, 1] }),
    new layers.GlobalMaxPooling2D(),
    new layers.Dense(1, { activation: 'sigmoid' }),
  ]);
  m.compile({ optimizer: 'adam', loss: 'binary_crossentropy', metrics: ['accuracy', 'auc', 'precision'] });
  return m;
}

for (const name of ['reference', 'wasm']) {
  test(`trainOnBatchAsync / testOnBatchAsync give the synchronous forms' numbers and weights (${name})`, async () => {
    const prev = backend();
    setBackend(name);
    try {
      const { x, y } = squaresTask(12, 8, 4);
      const a = model(9), b = model(9);
      for (let s = 0; s < 3; s++) {
        const ra = a.trainOnBatch(x, y, { classWeight: { 0: 1, 1: 2 }, returnDict: true }) as Record<string, number>;
        const rb = await b.trainOnBatchAsync(x, y, { classWeight: { 0: 1, 1: 2 }, returnDict: true }) as Record<string, number>;
        assert.deepEqual(Object.keys(rb), ['accuracy', 'auc', 'precision', 'loss']);
        assert.deepEqual(rb, ra, `step ${s}`);
      }
      a.weights.forEach((w, i) => assert.deepEqual(b.weights[i].value.dataSync(), w.value.dataSync(), w.path));
      assert.deepEqual(await b.testOnBatchAsync(x, y), a.testOnBatch(x, y));
      // A non-finite input: NaN results and nothing applied (weights, optimizer step) on both forms.
      const bad = tensor(new Float32Array(x.size).fill(NaN), x.shape.slice());
      const before = b.weights.map((w) => w.value.dataSync());
      const iters = b.optimizer!.iterations;
      assert.ok(Number.isNaN((a.trainOnBatch(bad, y) as number[])[0]));
      assert.ok(Number.isNaN(((await b.trainOnBatchAsync(bad, y)) as number[])[0]));
      b.weights.forEach((w, i) => assert.deepEqual(w.value.dataSync(), before[i], w.path));
      assert.equal(b.optimizer!.iterations, iters);
      // Bad input is refused by the awaited form as by the synchronous one, naming the call.
      await assert.rejects(b.trainOnBatchAsync(tensor(new Float32Array(9 * 9), [1, 9, 9, 1]), tensor([1])), /expects input of shape \(None, 8, 8, 1\)/);
      await assert.rejects(b.testOnBatchAsync(x, tensor(new Float32Array(24), [12, 2])), /testOnBatch: labels of shape \(12, 2\)/);
    } finally {
      setBackend(prev);
    }
  });
}

test('trainOnBatch with metrics frees its step: live heap blocks stay level over steps', () => {
  const { x, y } = squaresTask(8, 8, 5);
  const m = model(3);
  m.trainOnBatch(x, y);
  const live = heap().liveBlocks;
  for (let i = 0; i < 4; i++) { m.trainOnBatch(x, y); m.testOnBatch(x, y); }
  assert.equal(heap().liveBlocks, live);
});

// Host versions of the metrics (what they computed before their state moved to the backend).
function hostArgmax(a: ArrayLike<number>, off: number, k: number): number {
  let best = 0, bv = -Infinity;
  for (let j = 0; j < k; j++) if (a[off + j] > bv) { bv = a[off + j]; best = j; }
  return best;
}
function hostAuc(y: ArrayLike<number>, p: ArrayLike<number>, w: ArrayLike<number>, T = 200): number {
  const th = [-1e-7];
  for (let i = 1; i < T - 1; i++) th.push(Math.fround(i / (T - 1)));
  th.push(Math.fround(1 + 1e-7));
  const tp = new Float64Array(T), fp = new Float64Array(T);
  for (let i = 0; i < p.length; i++) for (let t = 0; t < T; t++) if (p[i] > Math.fround(th[t])) { if (y[i] >= 0.5) tp[t] += w[i]; else fp[t] += w[i]; }
  let auc = 0;
  for (let t = 0; t < T - 1; t++) auc += (fp[t] - fp[t + 1]) / fp[0] * (tp[t] / tp[0] + tp[t + 1] / tp[0]) / 2;
  return auc;
}

test('metrics keep their state in backend tensors, updated with ops; result() and resultAsync() agree with host sums', async () => {
  const r = new Rng(11);
  const B = 50, K = 4;
  const pv = Float32Array.from({ length: B }, () => r.uniform(0, 1));
  const yv = Float32Array.from({ length: B }, (_, i) => (pv[i] + r.uniform(-0.4, 0.4) > 0.5 ? 1 : 0));
  const wv = Float32Array.from({ length: B }, () => Math.round(r.uniform(0, 3)));
  const p = tensor(pv, [B, 1]), y = tensor(yv, [B]), w = tensor(wv, [B]);
  // Two batches (the second weighted): the state accumulates.
  const ones = new Float32Array(B).fill(1);
  const both = (f: (yy: ArrayLike<number>, pp: ArrayLike<number>, ww: ArrayLike<number>) => number) =>
    f([...yv, ...yv], [...pv, ...pv], [...ones, ...wv]);
  const close = (a: number, b: number, what: string) => assert.ok(Math.abs(a - b) <= 1e-6 * Math.max(1, Math.abs(b)), `${what}: ${a} vs ${b}`);
  const check = async (m: { updateState(a: Tensor, b: Tensor, c?: Tensor | null): void; result(): number; resultAsync(): Promise<number>; stateTensors: readonly Tensor[] | null; reset(): void }, want: number, what: string) => {
    m.updateState(y, p);
    m.updateState(y, p, w);
    assert.ok(m.stateTensors && m.stateTensors.every((t) => t.kept && t.store === backend()), `${what}: state in kept tensors of the backend in use`);
    const got = m.result();
    assert.equal(await m.resultAsync(), got);
    close(got, want, what);
    m.reset();
    assert.equal(m.stateTensors, null);
    assert.equal(m.result(), 0);
  };
  const conf = (yy: ArrayLike<number>, pp: ArrayLike<number>, ww: ArrayLike<number>) => {
    let tp = 0, fp = 0, fn = 0;
    for (let i = 0; i < pp.length; i++) { const pos = pp[i] > 0.5, t = yy[i] >= 0.5; if (pos && t) tp += ww[i]; else if (pos) fp += ww[i]; else if (t) fn += ww[i]; }
    return { tp, fp, fn };
  };
  await check(new Precision(), both((a, b, c) => { const s = conf(a, b, c); return s.tp / (s.tp + s.fp); }), 'precision');
  await check(new Recall(), both((a, b, c) => { const s = conf(a, b, c); return s.tp / (s.tp + s.fn); }), 'recall');
  await check(new AUC(), both(hostAuc), 'auc');
  await check(new BinaryAccuracy(), both((a, b, c) => { let s = 0, n = 0; for (let i = 0; i < b.length; i++) { s += c[i] * ((b[i] > 0.5 ? 1 : 0) === a[i] ? 1 : 0); n += c[i]; } return s / n; }), 'binary_accuracy');
  await check(new metrics.MeanSquaredError(), both((a, b, c) => { let s = 0, n = 0; for (let i = 0; i < b.length; i++) { s += c[i] * (b[i] - a[i]) ** 2; n += c[i]; } return s / n; }), 'mse');

  // Categorical and sparse accuracy: argmax on the backend, ties to the first index as NumPy's argmax.
  const P = Float32Array.from({ length: B * K }, (_, i) => (i % 7 === 0 ? 0.5 : Math.round(r.uniform(0, 4)) / 4));
  const labels = Float32Array.from({ length: B }, (_, i) => i % K);
  const onehot = new Float32Array(B * K);
  labels.forEach((c, i) => { onehot[i * K + c] = 1; });
  let hits = 0;
  for (let i = 0; i < B; i++) hits += hostArgmax(P, i * K, K) === labels[i] ? 1 : 0;
  for (const [m, yt] of [[new CategoricalAccuracy(), tensor(onehot, [B, K])], [new SparseCategoricalAccuracy(), tensor(labels, [B, 1])], [getMetric('accuracy'), tensor(labels, [B])]] as const) {
    m.updateState(yt, tensor(P, [B, K]));
    close(m.result(), hits / B, m.name);
  }
  assert.throws(() => new Precision().updateState(tensor([1, 0, 1]), tensor([[0.2], [0.9]])), /metric precision: labels of shape \(3,\) do not match predictions of shape \(2, 1\)/);
});
