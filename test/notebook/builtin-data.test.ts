import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, readdirSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import sharp from 'sharp';
import { generateBuiltinData, renderSample, renderHouse, sampleBars, BUILTIN_CLASSES, type Bar } from '../../src/notebook/builtin-data.js';
import { BUILTIN_DEFAULTS } from '../../src/notebook/runner.js';

/** Gray image downsampled by averaging `f`x`f` blocks. */
function gray(label: number, index: number, size: number, f: number): Float64Array {
  const img = renderSample(label, index, size);
  const n = size / f, out = new Float64Array(n * n);
  for (let y = 0; y < size; y++) for (let x = 0; x < size; x++) {
    const o = (y * size + x) * 3;
    out[Math.floor(y / f) * n + Math.floor(x / f)] += (0.2125 * img.data[o] + 0.7154 * img.data[o + 1] + 0.0721 * img.data[o + 2]) / 255 / (f * f);
  }
  return out;
}

test('samples are deterministic and differ between indices', () => {
  const a = renderSample(0, 3), b = renderSample(0, 3), c = renderSample(0, 4);
  assert.deepEqual(a.data, b.data);
  assert.notDeepEqual(a.data, c.data);
  assert.equal(a.data.length, 64 * 64 * 3);
});

test('a linear model on the pixels stays near chance', () => {
  const per = 300, size = 32, f = 2, d = (size / f) ** 2;
  const xs: Float64Array[] = [], ys: number[] = [];
  for (let i = 0; i < per; i++) for (const label of [0, 1]) { xs.push(gray(label, i, size, f)); ys.push(label); }
  const nTrain = Math.floor(xs.length * 0.75);
  const w = new Float64Array(d); let b = 0;
  for (let it = 0; it < 300; it++) { // full-batch gradient descent on the logistic loss
    const gw = new Float64Array(d); let gb = 0;
    for (let i = 0; i < nTrain; i++) {
      let z = b; for (let j = 0; j < d; j++) z += w[j] * xs[i][j];
      const g = 1 / (1 + Math.exp(-z)) - ys[i];
      for (let j = 0; j < d; j++) gw[j] += g * xs[i][j];
      gb += g;
    }
    for (let j = 0; j < d; j++) w[j] -= (0.5 * gw[j]) / nTrain;
    b -= (0.5 * gb) / nTrain;
  }
  let right = 0;
  for (let i = nTrain; i < xs.length; i++) {
    let z = b; for (let j = 0; j < d; j++) z += w[j] * xs[i][j];
    if ((z > 0 ? 1 : 0) === ys[i]) right++;
  }
  const acc = right / (xs.length - nTrain);
  assert.ok(acc < 0.7, `linear validation accuracy ${acc} should be near chance`);
});

test("the notebook's edge filters tell the classes apart", () => {
  // Energy of the vertical-edge filter versus the horizontal-edge filter: what a CNN's first layer can learn.
  const size = 64;
  let right = 0, n = 0;
  for (let i = 0; i < 200; i++) for (const label of [0, 1]) {
    const g = gray(label, i, size, 1);
    let ev = 0, eh = 0;
    for (let y = 1; y < size - 1; y++) for (let x = 1; x < size - 1; x++) {
      let v = 0, h = 0;
      for (let k = -1; k <= 1; k++) {
        v += g[(y + k) * size + x + 1] - g[(y + k) * size + x - 1];
        h += g[(y + 1) * size + x + k] - g[(y - 1) * size + x + k];
      }
      ev += Math.abs(v); eh += Math.abs(h);
    }
    if ((ev > eh ? 1 : 0) === label) right++;
    n++;
  }
  assert.ok(right / n > 0.9, `edge-energy accuracy ${right / n}`);
});

test('generateBuiltinData writes class folders of JPEGs and a house picture, identically twice', async () => {
  const a = mkdtempSync(join(tmpdir(), 'convnet-bd-'));
  const b = mkdtempSync(join(tmpdir(), 'convnet-bd-'));
  try {
    const da = await generateBuiltinData(a, { perClass: 5, size: 32 });
    await generateBuiltinData(b, { perClass: 5, size: 32 });
    assert.deepEqual(readdirSync(da.dataDir).sort(), [...BUILTIN_CLASSES]);
    for (const c of BUILTIN_CLASSES) {
      const files = readdirSync(join(da.dataDir, c)).sort();
      assert.equal(files.length, 5);
      for (const f of files) assert.deepEqual(readFileSync(join(da.dataDir, c, f)), readFileSync(join(b, 'shapes', c, f)));
      const meta = await sharp(join(da.dataDir, c, files[0])).metadata();
      assert.equal(meta.format, 'jpeg');
      assert.equal(meta.width, 32);
    }
    const house = await sharp(da.imagePath).metadata();
    assert.deepEqual([house.width, house.height, house.format], [461, 306, 'jpeg']);
    assert.equal(renderHouse().data.length, 461 * 306 * 3);
  } finally {
    rmSync(a, { recursive: true, force: true });
    rmSync(b, { recursive: true, force: true });
  }
});

/**
 * The contrast of a bar in a decoded image: mean luminance of the pixels it covers wholly, against
 * the mean of a ring 2 to 3 pixels outside it (inside the image, away from every bar).
 */
function barContrast(px: Uint8Array, size: number, bar: Bar, all: Bar[]): { contrast: number; inner: number; ring: number } {
  const lum = (x: number, y: number) => { const o = (y * size + x) * 3; return 0.2126 * px[o] + 0.7152 * px[o + 1] + 0.0722 * px[o + 2]; };
  let si = 0, ni = 0, sr = 0, nr = 0;
  for (let y = 0; y < size; y++) for (let x = 0; x < size; x++) {
    if (x >= bar.x0 && x + 1 <= bar.x1 && y >= bar.y0 && y + 1 <= bar.y1) { si += lum(x, y); ni++; continue; }
    const cx = x + 0.5, cy = y + 0.5;
    const d = Math.max(bar.x0 - cx, cx - bar.x1, bar.y0 - cy, cy - bar.y1);
    const nearAny = all.some((b) => Math.max(b.x0 - cx, cx - b.x1, b.y0 - cy, cy - b.y1) < 2);
    if (d >= 2 && d <= 3 && !nearAny) { sr += lum(x, y); nr++; }
  }
  return { contrast: Math.abs(si / ni - sr / nr), inner: ni, ring: nr };
}

test('every built-in image shows its bars: each bar stands out from the background around it (all 2000 images, as decoded)', async (t) => {
  const dir = mkdtempSync(join(tmpdir(), 'convnet-bd-'));
  try {
    const { perClass, size } = BUILTIN_DEFAULTS;
    const d = await generateBuiltinData(dir, { perClass, size });
    let worst = Infinity, where = '', bars = 0;
    for (const [label, c] of BUILTIN_CLASSES.entries()) {
      for (let i = 0; i < perClass; i++) {
        const all = sampleBars(label, i, size);
        assert.ok(all.length >= 1, `${c}.${i} has a bar`);
        const { data } = await sharp(join(d.dataDir, c, `${c}.${i}.jpg`)).raw().toBuffer({ resolveWithObject: true });
        for (const b of all) {
          assert.ok(b.x0 >= 0 && b.y0 >= 0 && b.x1 <= size && b.y1 <= size, `${c}.${i}: a bar leaves the image`);
          const m = barContrast(new Uint8Array(data), size, b, all);
          assert.ok(m.inner > 0 && m.ring > 0, `${c}.${i}: nothing to measure`);
          if (m.contrast < worst) { worst = m.contrast; where = `${c}/${c}.${i}.jpg`; }
          bars++;
        }
      }
    }
    t.diagnostic(`${bars} bars; the faintest differs by ${worst.toFixed(1)} luminance levels from its surroundings (${where})`);
    // 60 levels were drawn apart; JPEG and noise take a little of it.
    assert.ok(worst >= 45, `${where}: a bar differs by only ${worst.toFixed(1)} luminance levels from the background around it`);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});

test('bad options are refused', async () => {
  await assert.rejects(generateBuiltinData(join(tmpdir(), 'never'), { perClass: 1 }), /perClass/);
});
