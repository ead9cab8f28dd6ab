// The webgpu backend in headless Chromium, whose WebGPU runs on the CPU through SwiftShader
// (--enable-unsafe-webgpu --enable-unsafe-swiftshader --use-webgpu-adapter=swiftshader): a real
// WebGPU implementation in CI. A static server on 127.0.0.1 serves the TypeScript sources transpiled
// file by file, build/*.wasm, lib/ and test/webgpu/ with COOP/COEP; the page imports
// convnet-ts/browser and runs test/webgpu/kernels.mjs: the backend conformance suite
// (test/backend/conformance.ts, one subtest per check), tensors stored on webgpu, a small model
// trained on WebGPU, and fit/evaluate/predict against wasm. Skips visibly without Chromium or an adapter.
import { test, after } from 'node:test';
import assert from 'node:assert/strict';
import { existsSync } from 'node:fs';
import { pageRunner, CHROMIUM } from './serve.js';

const TIMEOUT_MS = 400000;

const chromium = existsSync(CHROMIUM);
const pages = pageRunner(TIMEOUT_MS);
after(() => pages.close());

const runPage = (what: string): Promise<any> => pages.result(`run=${what}`);

let allRuns: Promise<any> | undefined;
/** The page checks run in one page (one device, so pipelines compile once); each test reads its part. */
async function part(name: string): Promise<any> {
  allRuns ??= runPage('all');
  return (await allRuns)[name];
}

function skipReason(r: any): string | null {
  return typeof r.error === 'string' && r.error.startsWith('no WebGPU') ? r.error : null;
}

test('backend conformance suite (test/backend/conformance.ts) on webgpu in Chromium (SwiftShader), PyTorch notebook-model step included', async (t) => {
  if (!chromium) return t.skip(`${CHROMIUM} is absent (apt-get install chromium)`);
  const r = await part('conformance');
  const skip = skipReason(r);
  if (skip) return t.skip(skip);
  assert.equal(r.error, undefined, r.error);
  t.diagnostic(`adapter ${r.adapter}: ${r.results.length} checks in ${(r.ms / 1000).toFixed(1)} s, ${r.pipelines} pipelines`);
  for (const [what, why] of Object.entries(r.lacks)) if (why) t.diagnostic(`webgpu lacks ${what}: ${why}`);
  const ran = r.results.filter((x: any) => !x.skip).map((x: any) => x.name);
  for (const needed of ['matmul', 'conv2d forward', 'PyTorch: the notebook model', 'finite differences', 'training steps', 'determinism']) {
    assert.ok(ran.some((n: string) => n.includes(needed)), `the suite ran no '${needed}' check on webgpu (ran: ${ran.join('; ')})`);
  }
  for (const x of r.results) {
    await t.test(x.name, { skip: x.skip || false }, (st) => {
      st.diagnostic(`${x.ms.toFixed(0)} ms`);
      if (x.error) assert.fail(x.error);
    });
  }
});

test('tensors stored on webgpu: writes, reads, fills, views, takeRows, concat, dropout masks; resize2d (and gradient) and affine2d through the layers', async (t) => {
  if (!chromium) return t.skip(`${CHROMIUM} is absent (apt-get install chromium)`);
  const r = await part('storage');
  const skip = skipReason(r);
  if (skip) return t.skip(skip);
  assert.equal(r.error, undefined, r.error);
  assert.ok(r.checks >= 15, `ran ${r.checks} checks`);
  assert.deepEqual(r.failures, []);
});

test('a small model trains on webgpu in the page; its first-step loss matches wasm', async (t) => {
  if (!chromium) return t.skip(`${CHROMIUM} is absent (apt-get install chromium)`);
  const r = await part('train');
  const skip = skipReason(r);
  if (skip) return t.skip(skip);
  assert.equal(r.error, undefined, r.error);
  const l = r.gpuLosses as number[];
  t.diagnostic(`webgpu losses ${l.map((x) => x.toFixed(4)).join(' ')} (${r.trainMs.toFixed(0)} ms); wasm first ${r.wasmFirst.toFixed(6)}`);
  assert.ok(l.every(Number.isFinite), `finite losses: ${l}`);
  assert.ok(l[l.length - 1] < 0.8 * l[0], `loss falls: ${l}`);
  assert.ok(Math.abs(l[0] - r.wasmFirst) <= 1e-5 + 1e-5 * Math.abs(r.wasmFirst), `first-step loss webgpu ${l[0]} vs wasm ${r.wasmFirst}`);
});

test('model.fit, evaluate and predict on webgpu in the page give the wasm numbers (no synchronous reads on the training path)', async (t) => {
  if (!chromium) return t.skip(`${CHROMIUM} is absent (apt-get install chromium)`);
  const r = await part('fit');
  const skip = skipReason(r);
  if (skip) return t.skip(skip);
  assert.equal(r.error, undefined, r.error);
  const { gpu, wasm } = r;
  t.diagnostic(`webgpu fit (3 epochs of 2 steps, 8x8 images): ${gpu.fitMs.toFixed(0)} ms; losses ${gpu.history.loss.map((x: number) => x.toFixed(4)).join(' ')}`);
  const close = (a: number, b: number, what: string) => assert.ok(Math.abs(a - b) <= 1e-4 + 1e-4 * Math.abs(b), `${what}: webgpu ${a} vs wasm ${b}`);
  assert.deepEqual(gpu.epochs, [0, 1, 2]);
  assert.deepEqual(Object.keys(gpu.history).sort(), ['accuracy', 'loss', 'val_accuracy', 'val_loss']);
  for (const k of Object.keys(wasm.history)) {
    assert.equal(gpu.history[k].length, 3, `${k} has a point per epoch`);
    gpu.history[k].forEach((v: number, i: number) => close(v, wasm.history[k][i], `history ${k}[${i}]`));
  }
  const l = gpu.history.loss as number[];
  assert.ok(l[2] < 0.8 * l[0], `loss falls: ${l}`);
  for (const k of Object.keys(wasm.evaluate)) close(gpu.evaluate[k], wasm.evaluate[k], `evaluate ${k}`);
  assert.equal(gpu.pred.length, 16);
  gpu.pred.forEach((v: number, i: number) => close(v, wasm.pred[i], `predict [${i}]`));
  assert.equal(gpu.iterations, 6);
  for (const k of Object.keys(wasm.pipeline)) gpu.pipeline[k].forEach((v: number, i: number) => close(v, wasm.pipeline[k][i], `uint8 pipeline ${k}[${i}]`));
  assert.match(gpu.badLabel ?? '', /label 5 is not a class index in \[0, 2\)/);
  assert.match(wasm.badLabel ?? '', /label 5 is not a class index in \[0, 2\)/);
  // The progress logger ran on webgpu (verbose 2): one line per epoch with the logs.
  assert.equal(r.logLines.filter((s: string) => /^2\/2 - .* - loss: \d\.\d{4} - val_accuracy/.test(s)).length, 3, r.logLines.join('\n'));
});
