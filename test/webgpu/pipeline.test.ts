// The data pipeline's device path (augmentOn 'device': affine2d, channel shift, flips, Pillow's brightness,
// rescale and normalisation in the engine) on webgpu in headless Chromium (SwiftShader), against the same
// batch on the reference backend in the same page; and ImageDataGenerator.fit on webgpu (an awaited form).
// Skips visibly without Chromium or an adapter.
import { test, after } from 'node:test';
import assert from 'node:assert/strict';
import { existsSync } from 'node:fs';
import { pageRunner, CHROMIUM } from './serve.js';

const pages = pageRunner(120000);
after(() => pages.close());

test('augmentOn device: a batch augmented on webgpu equals the reference backend\'s (same draws); fit() awaited on webgpu', async (t) => {
  if (!existsSync(CHROMIUM)) return t.skip(`${CHROMIUM} is absent (apt-get install chromium)`);
  const r = await pages.result('module=pipeline&run=augment');
  if (typeof r.error === 'string' && r.error.startsWith('no WebGPU')) return t.skip(r.error);
  assert.equal(r.error, undefined, r.error);
  for (const [name, c] of Object.entries(r.cases) as [string, any][]) t.diagnostic(`${name}: max |webgpu - reference| ${c.max}, ${c.differ} of ${c.n} differ; values ${c.range[0].toFixed(3)}..${c.range[1].toFixed(3)}`);
  t.diagnostic(`page ${r.ms.toFixed(0)} ms`);
  const c = r.cases;
  // Flips and brightness without an affine map: casts, flips and float32 arithmetic only, exact.
  assert.equal(c.flips.max, 0);
  assert.equal(c.brightness.max, 0);
  // The affine map samples at float32 coordinates in WGSL (float64 on the host): values 0..255 move by
  // at most the image's slope times the coordinate's rounding (~1e-5 px).
  for (const k of ['affine', 'constant']) assert.ok(c[k].max <= 2e-3, `${k}: max |webgpu - reference| ${c[k].max}`);
  // Nearest sampling (order 0): a coordinate within rounding of .5 may pick the neighbour; none here.
  assert.ok(c.wrapNearest.differ <= c.wrapNearest.n / 200, `wrap/nearest: ${c.wrapNearest.differ} of ${c.wrapNearest.n} differ`);
  // Brightness truncates to uint8 after the affine map: a pixel may move by one level (x factor), then
  // sample-wise normalisation divides by the image's std (~60 levels): at most ~0.05, on few pixels.
  assert.ok(c.affineBrightness.max <= 0.05, `affine + brightness: max ${c.affineBrightness.max}`);
  assert.ok(c.affineBrightness.differ <= c.affineBrightness.n / 50, `affine + brightness: ${c.affineBrightness.differ} of ${c.affineBrightness.n} differ`);
  // flow(): 'auto' went to the device on webgpu; the host path on the reference backend gave the same
  // order, draws and labels; the pixels (brightness truncated after a float32-coordinate affine map, then
  // rescaled) within one uint8 level x factor on a few pixels.
  t.diagnostic(`flow: ${r.flow.batches} batches, max |webgpu - host| ${r.flow.max}, ${r.flow.differ} of ${r.flow.n} differ`);
  assert.deepEqual(r.flow.onDevice, [false, true]);
  assert.ok(r.flow.sameParams && r.flow.sameLabels, 'flow: same draws and labels');
  assert.ok(r.flow.max <= 1.5 / 255 && r.flow.differ <= r.flow.n / 100, `flow: max ${r.flow.max}, ${r.flow.differ} of ${r.flow.n} differ`);
  // fit(): a Promise on webgpu, synchronous on the reference backend, the same statistics.
  assert.equal(r.fit.ref.promise, false);
  assert.equal(r.fit.gpu.promise, true);
  for (const k of ['mean', 'std']) r.fit.gpu[k].forEach((v: number, i: number) => assert.ok(Math.abs(v - r.fit.ref[k][i]) <= 1e-5, `fit ${k}[${i}]: webgpu ${v} vs host ${r.fit.ref[k][i]}`));
});
