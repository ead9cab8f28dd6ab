// What reads asynchronously on webgpu, in headless Chromium (SwiftShader), against wasm/reference in the
// same page (test/webgpu/async.mjs): trainOnBatchAsync/testOnBatchAsync and device metrics, adapt and
// adaptAsync, correlate/correlateAsync with webgpu in use, float64 casts in WGSL. Skips visibly without
// Chromium or an adapter.
import { test, after } from 'node:test';
import assert from 'node:assert/strict';
import { existsSync } from 'node:fs';
import { pageRunner, CHROMIUM } from './serve.js';

const chromium = existsSync(CHROMIUM);
const pages = pageRunner(180000);
after(() => pages.close());

let run: Promise<any> | undefined;
/** One page for all four parts (one device: pipelines compile once); each test reads its part. */
function part(name: string): Promise<any> {
  run ??= pages.result('module=async&run=all');
  return run.then((r) => (typeof r.error === 'string' ? r : { adapter: r.adapter, ...r[name] }));
}

function skipped(t: { skip(m: string): void }, r: any): boolean {
  if (typeof r.error === 'string' && r.error.startsWith('no WebGPU')) { t.skip(r.error); return true; }
  return false;
}
const close = (a: number, b: number, tol: number, what: string) =>
  assert.ok(Math.abs(a - b) <= tol + tol * Math.abs(b), `${what}: webgpu ${a} vs wasm ${b}`);

test('trainOnBatchAsync / testOnBatchAsync and device metrics on webgpu give the wasm numbers; the synchronous forms refuse, naming the awaited ones', async (t) => {
  if (!chromium) return t.skip(`${CHROMIUM} is absent (apt-get install chromium)`);
  const r = await part('onBatch');
  if (skipped(t, r)) return;
  assert.equal(r.error, undefined, r.error);
  t.diagnostic(`${r.adapter}: ${r.ms.toFixed(0)} ms`);
  const { gpu, wasm } = r;
  gpu.steps.forEach((s: Record<string, number>, i: number) => {
    assert.deepEqual(Object.keys(s), ['accuracy', 'auc', 'precision', 'loss']);
    for (const k of Object.keys(s)) close(s[k], wasm.steps[i][k], 1e-4, `step ${i} ${k}`);
  });
  for (const k of Object.keys(wasm.test)) close(gpu.test[k], wasm.test[k], 1e-4, `testOnBatchAsync ${k}`);
  assert.ok(gpu.steps[2].loss < gpu.steps[0].loss, 'the loss falls');
  close(gpu.auc, wasm.auc, 1e-6, 'AUC.resultAsync');
  assert.ok(gpu.auc > 0 && gpu.auc < 1);
  assert.match(gpu.syncTrain, /trainOnBatch: the webgpu backend cannot read synchronously; use await model\.trainOnBatchAsync/);
  assert.match(gpu.syncTest, /testOnBatch: the webgpu backend cannot read synchronously; use await model\.testOnBatchAsync/);
  assert.match(gpu.syncResult, /metric auc: .*use await metric\.resultAsync\(\)/);
  assert.equal(gpu.weightsKept, true, 'a refused trainOnBatch changes no weight');
  assert.equal(gpu.auc2, gpu.auc);
});

test('Normalization.adapt and adaptAsync on webgpu give the wasm statistics', async (t) => {
  if (!chromium) return t.skip(`${CHROMIUM} is absent (apt-get install chromium)`);
  const r = await part('adapt');
  if (skipped(t, r)) return;
  assert.equal(r.error, undefined, r.error);
  const { gpu, wasm } = r;
  for (const k of ['a', 's']) {
    gpu[k].forEach((w: number[], i: number) => w.forEach((v, j) => close(v, wasm[k][i][j], 1e-5, `${k} weight ${i}[${j}]`)));
  }
  assert.deepEqual(gpu.a[2], [120]);
  assert.deepEqual(gpu.s[2], [30]);
  gpu.y.forEach((v: number, i: number) => close(v, wasm.y[i], 1e-4, `normalized [${i}]`));
});

test('correlate / convolve with webgpu in use: float64 on the host backend, results on webgpu equal to wasm bit for bit', async (t) => {
  if (!chromium) return t.skip(`${CHROMIUM} is absent (apt-get install chromium)`);
  const r = await part('correlate');
  if (skipped(t, r)) return;
  assert.equal(r.error, undefined, r.error);
  const { gpu, wasm } = r;
  for (const k of ['ints', 'f64', 'fromDevice', 'u8']) assert.deepEqual(gpu[k], wasm[k], k);
  assert.deepEqual([gpu.ints.dtype, gpu.f64.dtype, gpu.fromDevice.dtype, gpu.u8.dtype], ['int32', 'float64', 'float32', 'uint8']);
  assert.equal(gpu.storage, 'webgpu', 'the result lives on the backend in use');
  assert.match(gpu.sync, /correlate: the input lives on the webgpu backend and cannot be read synchronously; use await correlateAsync/);
  assert.match(gpu.badMode, /correlate: unknown mode "nope"/);
});

test('float64 casts on webgpu (WGSL on the IEEE bits) equal the reference backend bit for bit', async (t) => {
  if (!chromium) return t.skip(`${CHROMIUM} is absent (apt-get install chromium)`);
  const r = await part('casts');
  if (skipped(t, r)) return;
  assert.equal(r.error, undefined, r.error);
  assert.equal(r.checks, 14);
  assert.deepEqual(r.failures, []);
});
