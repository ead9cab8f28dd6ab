// The course page (app/, `convnet app`) in headless Chromium: built with scripts/build-app.mjs into a
// temporary folder, served by `convnet app`'s server (COOP/COEP: threads), driven by playwright-core.
// Skips visibly when /usr/bin/chromium is absent.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { existsSync, mkdtempSync, mkdirSync, rmSync, statSync, writeFileSync, readdirSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import sharp from 'sharp';
// @ts-ignore: a plain .mjs build script
import { buildApp } from '../../scripts/build-app.mjs';
import { serveApp, type AppServer } from '../../src/cli/commands/app.js';
import { correlate } from '../../src/ops/ndimage.js';
import { getFilter } from '../../src/ops/filters.js';
import { EXAMPLE_MATRIX, EXAMPLE_FILTER, formatMatrix } from '../../src/notebook/examples.js';
import { strings } from '../../src/notebook/i18n.js';
import { tensor } from '../../src/tensor/index.js';
import { loadModel } from '../../src/io/models/index.js';

const CHROMIUM = '/usr/bin/chromium';
const chromium = existsSync(CHROMIUM);
const SKIP = `${CHROMIUM} is absent (apt-get install chromium): the page is not tested`;
const T = 30000;

let tmp = '';
let server: AppServer | undefined;
let browser: any;
let page: any;
const consoleErrors: string[] = [];
const requests: string[] = [];
let loadBytes = 0;

before(async () => {
  if (!chromium) return;
  tmp = mkdtempSync(join(tmpdir(), 'convnet-app-'));
  const files: { name: string; bytes: number }[] = await buildApp(join(tmp, 'app'));
  server = await serveApp(join(tmp, 'app'), { port: 0 });
  const { chromium: pw } = await import('playwright-core');
  browser = await pw.launch({ executablePath: CHROMIUM, args: ['--no-sandbox', '--disable-gpu', '--disable-background-networking'], timeout: T });
  const ctx = await browser.newContext({ acceptDownloads: true });
  page = await ctx.newPage();
  page.on('console', (m: any) => { if (m.type() === 'error') consoleErrors.push(m.text()); });
  page.on('pageerror', (e: Error) => consoleErrors.push(String(e)));
  page.on('request', (r: any) => requests.push(r.url()));
  await page.goto(server.url, { timeout: T });
  await page.waitForFunction('window.__app && window.__app.ready === true', null, { timeout: T, polling: 50 });
  const sizes = new Map(files.map((f) => [f.name, f.bytes]));
  loadBytes = [...new Set(requests)].reduce((n, u) => n + (sizes.get(new URL(u).pathname.slice(1) || 'index.html') ?? 0), 0);
});

after(async () => {
  await browser?.close();
  await server?.close();
  if (tmp) rmSync(tmp, { recursive: true, force: true });
});

const app = (expr: string) => page.evaluate(`window.__app${expr}`);

test('the page loads offline from the local server, with no console errors, threads when isolated', async (t) => {
  if (!chromium) return t.skip(SKIP);
  const origin = new URL(server!.url).origin;
  t.diagnostic(`page load: ${(loadBytes / 1024).toFixed(0)} KiB in ${new Set(requests).size} requests; backend ${JSON.stringify(await app('.backend'))}`);
  assert.ok(requests.length > 3);
  for (const u of requests) assert.ok(u.startsWith(origin) || u.startsWith('blob:') || u.startsWith('data:'), `request outside the local server: ${u}`);
  assert.deepEqual(consoleErrors, []);
  assert.deepEqual(await app('.errors'), []);
  const b = await app('.backend');
  assert.equal(b.backend, 'wasm');
  assert.equal(b.isolated, true);
  assert.equal(b.threads, await page.evaluate('navigator.hardwareConcurrency'));
  assert.match(await page.textContent('#backend'), /WebAssembly SIMD/);
});

test('step 1: the 5x5 example shows the notebook\'s numbers; an edited kernel and mode recompute', async (t) => {
  if (!chromium) return t.skip(SKIP);
  const want = correlate(EXAMPLE_MATRIX, EXAMPLE_FILTER, { mode: 'constant' });
  const text = await page.textContent('#conv-out');
  assert.ok(text.includes(formatMatrix(want.toArray() as number[][])), text);
  // The notebook's printed result, first and last rows.
  assert.ok(text.includes('[[ -4   4   0   3   4]') && text.includes(' [ -5  -1   2   1   3]]'), text);
  assert.equal(await page.textContent('#matrix'), formatMatrix(EXAMPLE_MATRIX));
  await page.fill('#kernel div:nth-child(2) input:nth-child(2)', '2');
  await page.selectOption('#mode', 'reflect');
  await page.click('#correlate');
  const k2 = EXAMPLE_FILTER.map((r, i) => r.map((v, j) => (i === 1 && j === 1 ? 2 : v)));
  assert.deepEqual(await app('.correlate'), correlate(EXAMPLE_MATRIX, k2, { mode: 'reflect' }).toArray());
});

test('step 2: each filter\'s activation map equals correlate in Node, pixel for pixel; pooling has Keras\'s shapes', async (t) => {
  if (!chromium) return t.skip(SKIP);
  // Float32 arrays come back as base64 of their bytes (JSON of 141,066 numbers each is slow).
  const f = await page.evaluate(`(() => {
    const b64 = (a) => { const u = new Uint8Array(a.buffer, a.byteOffset, a.byteLength); let s = ''; for (let i = 0; i < u.length; i += 0x8000) s += String.fromCharCode.apply(null, u.subarray(i, i + 0x8000)); return btoa(s); };
    const f = window.__app.filters;
    return { h: f.h, w: f.w, gray: b64(f.gray), maps: Object.fromEntries(Object.entries(f.maps).map(([k, v]) => [k, b64(v)])) };
  })()`);
  const floats = (s: string) => { const b = Buffer.from(s, 'base64'); return new Float32Array(b.buffer.slice(b.byteOffset, b.byteOffset + b.byteLength)); };
  assert.deepEqual([f.h, f.w], [306, 461]);
  const gray = tensor(floats(f.gray), [f.h, f.w]);
  for (const name of ['vertical-edges', 'horizontal-edges', 'laplacian', 'sobel-x']) {
    const want = correlate(gray, getFilter(name).kernel).dataSync() as Float32Array;
    const got = floats(f.maps[name]);
    let diff = 0;
    for (let i = 0; i < want.length; i++) if (got[i] !== want[i]) diff++;
    assert.equal(diff, 0, `${name}: ${diff} of ${want.length} pixels differ`);
  }
  // An edited kernel redraws as it is typed.
  await page.fill('#custom', '[[1,2,1],[0,0,0],[-1,-2,-1]]');
  await page.waitForFunction('window.__app.filters.maps.custom && window.__app.filters.maps.custom[1000] !== undefined && document.querySelector("#filters").textContent.includes("[[1,2,1]")', null, { timeout: T });
  const custom = await page.evaluate(`(() => { const m = window.__app.filters.maps.custom; return Array.from(m.slice(0, 2000)); })()`);
  const wantCustom = correlate(gray, [[1, 2, 1], [0, 0, 0], [-1, -2, -1]]).dataSync();
  for (let i = 0; i < custom.length; i++) assert.equal(custom[i], wantCustom[i], `custom kernel, pixel ${i}`);
  assert.deepEqual(await app('.pooling'), [
    [[1, 153, 230, 1], [1, 153, 230, 1]], [[1, 76, 115, 1], [1, 76, 115, 1]], [[1, 38, 57, 1], [1, 38, 57, 1]]]);
});

test('Spanish mode shows Spanish text', async (t) => {
  if (!chromium) return t.skip(SKIP);
  await page.click('#lang');
  assert.equal(await page.getAttribute('html', 'lang'), 'es');
  assert.equal(await page.textContent('#s1 h2'), '1. Convolución');
  assert.equal(await page.textContent('#s6 h2'), '6. Entrenamiento');
  assert.equal(await page.textContent('#conv-title'), strings('es').correlate);
  assert.match(await page.textContent('#backend'), /Motor: WebAssembly SIMD, \d+ hilos/);
  assert.equal(await page.textContent('#lang'), 'English');
  await page.click('#lang');
  assert.equal(await page.textContent('#s1 h2'), '1. Convolution');
});

test('steps 4-6: training 2 epochs on the built-in data: curves get points, a click is handled meanwhile; stop stops', async (t) => {
  if (!chromium) return t.skip(SKIP);
  await page.fill('#per-class', '40');
  await page.fill('#size', '32');
  await page.click('#load-data');
  await page.waitForFunction('window.__app.data', null, { timeout: T });
  const data = await page.textContent('#data-out');
  assert.ok(data.includes('Found 64 images belonging to 2 classes.') && data.includes('Found 16 images belonging to 2 classes.'), data);
  assert.ok(data.includes("{'horizontal': 0, 'vertical': 1}"), data);
  // A bad field is refused with its name and what it accepts.
  await page.fill('#m-kernel', '0');
  await page.click('#build');
  await page.waitForFunction('window.__app.errors.length > 0', null, { timeout: T });
  assert.match((await app('.errors'))[0], /'kernelSize' value 0 is not valid \(expected an integer from 1 to 11/);
  await page.evaluate('window.__app.errors.length = 0');
  await page.fill('#m-kernel', '3');
  await page.fill('#m-filters', '8');
  await page.fill('#m-blocks', '2');
  await page.fill('#m-dense', '16');
  await page.fill('#m-dropout', '0');
  await page.click('#build');
  await page.waitForFunction('window.__app.modelBuilt', null, { timeout: T });
  // 3x3x3x8+8, 3x3x8x16+16, 1024x16+16, 16+1
  assert.match(await page.textContent('#summary'), /Total params: 17,809 /);
  await page.fill('#epochs', '2');
  await page.fill('#batch', '8');
  await page.click('#train');
  await page.waitForFunction('window.__app.trainDone === true', null, { timeout: 60000 });
  const h = await app('.history');
  t.diagnostic(`trained: ${JSON.stringify(await app('.trained'))}; loss ${h.loss}`);
  assert.equal(h.loss.length, 2);
  assert.equal(h.val_loss.length, 2);
  assert.equal(h.accuracy.length, 2);
  assert.ok(h.loss.every(Number.isFinite));
  assert.equal((await app('.trained')).stopped, false);
  assert.match(await page.textContent('#train-out'), /Epoch 2\/2/);
  // The curves were drawn: the canvas holds non-white pixels.
  const inked = await page.evaluate(`(() => { const g = document.getElementById('curve-loss').getContext('2d'); const d = g.getImageData(0, 0, 460, 260).data; let n = 0; for (let i = 3; i < d.length; i += 4) if (d[i]) n++; return n; })()`);
  assert.ok(inked > 500, `curve canvas has ${inked} drawn pixels`);
  // Results: the confusion matrix counts the 16 validation images.
  await page.waitForFunction('window.__app.results', null, { timeout: T });
  const r = await app('.results');
  assert.equal(r.n, 16);
  assert.equal(r.confusion.flat().reduce((a: number, b: number) => a + b, 0), 16);
  assert.equal(await page.locator('#grid canvas').count(), 8);

  // Stop: a long run ends within a few batches of the click.
  await page.fill('#epochs', '200');
  await page.evaluate('window.__app.batches = 0');
  await page.click('#train');
  await page.waitForFunction('window.__app.batches >= 3', null, { timeout: T, polling: 10 });
  // The page answers a click while the worker trains: the handler runs, and training goes on.
  const clicks = await app('.clicks');
  await page.click('#correlate');
  assert.equal(await app('.clicks'), clicks + 1);
  assert.equal(await app('.training'), true, 'the click was handled while training ran');
  const before = await app('.batches');
  await page.waitForFunction(`window.__app.batches > ${before}`, null, { timeout: T, polling: 10 });
  await page.click('#stop');
  await page.waitForFunction('window.__app.trainDone === true', null, { timeout: 20000 });
  const s = await app('.trained');
  assert.equal(s.stopped, true);
  assert.ok(s.epochs < 200, `stopped after ${s.epochs} epochs`);
});

test('step 8: the downloaded .keras loads in Node and predicts what the page predicted; it loads back in the page', async (t) => {
  if (!chromium) return t.skip(SKIP);
  const [download] = await Promise.all([page.waitForEvent('download', { timeout: T }), page.click('#save')])
    .catch(async (e) => { throw new Error(`${e.message}; page errors: ${JSON.stringify(await app('.errors'))}`); });
  assert.equal(download.suggestedFilename(), 'cnn-dogs-cats.keras');
  const file = join(tmp, 'cnn-dogs-cats.keras');
  await download.saveAs(file);
  const saved = await app('.saved');
  assert.equal(statSync(file).size, saved.bytes);
  // The page loaded its file back, as the notebook does, and printed the difference.
  assert.equal(saved.diff, 0);
  assert.match(await page.textContent('#files-out'), /Loaded it back: predictions on a validation batch differ by at most 0\.00e\+0/);
  const model = await loadModel(file);
  const p = (await model.predict(tensor(Float32Array.from(saved.check.x), saved.check.shape), { verbose: 0 }) as any).dataSync();
  assert.equal(p.length, saved.check.probs.length);
  for (let i = 0; i < p.length; i++) assert.ok(Math.abs(p[i] - saved.check.probs[i]) < 1e-5, `prediction ${i}: Node ${p[i]}, page ${saved.check.probs[i]}`);
  await page.setInputFiles('#model-input', file);
  await page.waitForFunction('window.__app.loaded', null, { timeout: T });
  assert.deepEqual((await app('.loaded')).classes, ['horizontal', 'vertical']);
  assert.match(await page.textContent('#files-out'), /Loaded cnn-dogs-cats\.keras/);
  // Step 7's "predict a photo" with the loaded model: a bar standing.
  const photo = join(tmp, 'standing.png');
  await sharp({ create: { width: 32, height: 32, channels: 3, background: { r: 250, g: 250, b: 250 } } })
    .composite([{ input: { create: { width: 6, height: 24, channels: 3, background: { r: 10, g: 10, b: 10 } } }, left: 13, top: 4 }]).png().toFile(photo);
  await page.setInputFiles('#predict-input', photo);
  await page.waitForFunction('window.__app.prediction', null, { timeout: T });
  const pr = await app('.prediction');
  assert.equal(pr.probs.length, 1);
  assert.ok(pr.prob >= 0 && pr.prob <= 1);
  assert.match(await page.textContent('#predict-out'), /^Prediction: (horizontal|vertical) \(0\.\d{3}\)$/);
});

test('step 4: a folder with a broken file: the file is skipped and named, the rest is read', async (t) => {
  if (!chromium) return t.skip(SKIP);
  const root = join(tmp, 'photos');
  for (const [cls, colour] of [['cats', { r: 200, g: 40, b: 40 }], ['dogs', { r: 40, g: 40, b: 200 }]] as const) {
    mkdirSync(join(root, cls), { recursive: true });
    for (let i = 0; i < 5; i++) {
      await sharp({ create: { width: 40 + i, height: 30, channels: 3, background: colour } }).png().toFile(join(root, cls, `${cls}.${i}.png`));
    }
  }
  writeFileSync(join(root, 'dogs', 'broken.jpg'), Buffer.from('this is not a JPEG file at all'));
  assert.equal(readdirSync(join(root, 'dogs')).length, 6);
  await page.evaluate('delete window.__app.data');
  await page.setInputFiles('#folder-input', root);
  await page.click('#load-data');
  await page.waitForFunction('window.__app.data', null, { timeout: T });
  const text = await page.textContent('#data-out');
  assert.deepEqual(await app('.skipped'), ['dogs/broken.jpg']);
  assert.match(text, /Skipped dogs\/broken\.jpg: cannot be read as an image/);
  assert.ok(text.includes('Found 8 images belonging to 2 classes.') && text.includes('Found 2 images belonging to 2 classes.'), text);
  assert.ok(text.includes("{'cats': 0, 'dogs': 1}"), text);
  assert.deepEqual(consoleErrors, []);
});

test('served without COOP/COEP (a plain static host) the page runs on one thread and says so', async (t) => {
  if (!chromium) return t.skip(SKIP);
  const plain = await serveApp(join(tmp, 'app'), { port: 0, isolated: false });
  const p = await browser.newPage();
  const errors: string[] = [];
  p.on('pageerror', (e: Error) => errors.push(String(e)));
  try {
    await p.goto(plain.url, { timeout: T });
    await p.waitForFunction('window.__app && window.__app.ready === true', null, { timeout: T, polling: 50 });
    const b = await p.evaluate('window.__app.backend');
    assert.equal(b.isolated, false);
    assert.equal(b.threads, 1);
    assert.match(await p.textContent('#backend'), /one thread \(not cross-origin isolated/);
    assert.deepEqual(errors, []);
  } finally {
    await p.close();
    await plain.close();
  }
});

test('convnet app\'s server: COOP/COEP headers, only the build\'s own files, only to 127.0.0.1/localhost', async (t) => {
  if (!chromium) return t.skip(SKIP);
  const { request } = await import('node:http');
  const port = new URL(server!.url).port;
  const get = (path: string, host = `127.0.0.1:${port}`) => new Promise<{ status: number; headers: Record<string, unknown> }>((resolve, reject) => {
    request({ host: '127.0.0.1', port, path, headers: { host } }, (res) => { res.resume(); res.on('end', () => resolve({ status: res.statusCode!, headers: res.headers })); }).on('error', reject).end();
  });
  const ok = await get('/');
  assert.equal(ok.status, 200);
  assert.equal(ok.headers['cross-origin-opener-policy'], 'same-origin');
  assert.equal(ok.headers['cross-origin-embedder-policy'], 'require-corp');
  assert.equal((await get('/kernels.wasm')).headers['content-type'], 'application/wasm');
  assert.equal((await get('/../package.json')).status, 404);
  assert.equal((await get('/%2e%2e/%2e%2e/package.json')).status, 404);
  assert.equal((await get('/', `evil.example:${port}`)).status, 403);
  assert.throws(() => serveApp(join(tmp, 'nothing-here')), /not built.*npm run build:app/);
});

test('step 2: a photo dropped on the page is turned gray and filtered (rgb2gray\'s weights)', async (t) => {
  if (!chromium) return t.skip(SKIP);
  const png = await sharp({ create: { width: 40, height: 30, channels: 3, background: { r: 200, g: 100, b: 50 } } })
    .composite([{ input: { create: { width: 10, height: 30, channels: 3, background: { r: 0, g: 0, b: 0 } } }, left: 15, top: 0 }]).png().toBuffer();
  const dt = await page.evaluateHandle((b64: string) => {
    const bytes = Uint8Array.from(atob(b64), (ch) => ch.charCodeAt(0));
    const d = new DataTransfer();
    d.items.add(new File([bytes], 'dropped.png', { type: 'image/png' }));
    return d;
  }, png.toString('base64'));
  await page.dispatchEvent('#photo-drop', 'drop', { dataTransfer: dt });
  await page.waitForFunction('window.__app.filters.w === 40', null, { timeout: T });
  const f = await page.evaluate('({ h: window.__app.filters.h, g: Array.from(window.__app.filters.gray.slice(0, 20)), v: Array.from(window.__app.filters.maps["vertical-edges"].slice(0, 40)) })');
  assert.equal(f.h, 30);
  assert.equal(f.g[0], Math.fround((0.2125 * 200 + 0.7154 * 100 + 0.0721 * 50) / 255));
  assert.equal(f.g[15], 0);
  const want = correlate(tensor(Float32Array.from({ length: 40 }, (_, i) => (i >= 15 && i < 25 ? 0 : f.g[0])), [1, 40]), [[-1, 0, 1]]).dataSync();
  // The first row of the vertical-edge map: a 3x3 kernel whose three rows see the same row here (reflect at the top, same colours below).
  for (let i = 0; i < 40; i++) assert.ok(Math.abs(f.v[i] - 3 * want[i]) < 1e-6, `column ${i}: ${f.v[i]} vs ${3 * want[i]}`);
  await page.click('#house');
  await page.waitForFunction('window.__app.filters.w === 461', null, { timeout: T });
});

test('with WebGPU (SwiftShader) the worker trains on webgpu and says so; ?backend=wasm keeps wasm', async (t) => {
  if (!chromium) return t.skip(SKIP);
  const { chromium: pw } = await import('playwright-core');
  const gpuBrowser = await pw.launch({ executablePath: CHROMIUM, args: ['--no-sandbox', '--disable-background-networking', '--enable-unsafe-webgpu', '--enable-unsafe-swiftshader', '--use-webgpu-adapter=swiftshader'], timeout: T });
  try {
    const p = await gpuBrowser.newPage();
    const errors: string[] = [];
    p.on('pageerror', (e: Error) => errors.push(String(e)));
    await p.goto(server!.url, { timeout: T });
    await p.waitForFunction('window.__app && window.__app.ready === true', null, { timeout: T, polling: 50 });
    const b = await p.evaluate('window.__app.backend');
    if (b.backend !== 'webgpu') return t.skip(`no WebGPU adapter in this Chromium: ${b.gpuReason}`);
    assert.ok(b.adapter, 'the adapter is named');
    assert.equal(await p.textContent('#backend'), `Backend: WebGPU (${b.adapter}) for training and predictions; the page's filters on WebAssembly SIMD`);
    // A tiny model, 1 epoch on a few images: the curves get their points.
    await p.fill('#per-class', '5');
    await p.fill('#size', '16');
    await p.click('#load-data');
    await p.waitForFunction('window.__app.data', null, { timeout: T });
    for (const [id, v] of [['#m-kernel', '3'], ['#m-filters', '4'], ['#m-blocks', '1'], ['#m-dense', '8'], ['#m-dropout', '0']]) await p.fill(id, v);
    await p.click('#build');
    await p.waitForFunction('window.__app.modelBuilt', null, { timeout: T });
    await p.fill('#epochs', '1');
    await p.fill('#batch', '4');
    await p.click('#train');
    await p.waitForFunction('window.__app.trainDone === true || window.__app.errors.length > 0', null, { timeout: 120000 });
    assert.deepEqual(await p.evaluate('window.__app.errors'), []);
    const h = await p.evaluate('window.__app.history');
    t.diagnostic(`webgpu (${b.adapter}): loss ${h.loss}, val_loss ${h.val_loss}`);
    assert.equal(h.loss.length, 1);
    assert.ok(h.loss.every(Number.isFinite) && h.accuracy.length === 1);
    assert.match(await p.textContent('#train-out'), /Epoch 1\/1/);
    // Step 7's predictions ran on webgpu too (read back asynchronously): 2 validation images.
    await p.waitForFunction('window.__app.results || window.__app.errors.length > 0', null, { timeout: T });
    assert.deepEqual(await p.evaluate('window.__app.errors'), []);
    assert.equal((await p.evaluate('window.__app.results')).n, 2);
    // A model trained on webgpu saves (the .keras writer reads the weights asynchronously) and its
    // file, loaded back on webgpu, predicts what the model did.
    await p.click('#save');
    await p.waitForFunction('window.__app.saved || window.__app.errors.length > 0', null, { timeout: 120000 });
    assert.deepEqual(await p.evaluate('window.__app.errors'), []);
    const saved = await p.evaluate('window.__app.saved');
    assert.ok(saved.bytes > 1000, `saved ${saved.bytes} bytes`);
    assert.ok(saved.diff !== null && saved.diff < 1e-5, `loaded back: largest prediction difference ${saved.diff}`);
    await p.click('#lang');
    assert.match(await p.textContent('#backend'), /^Motor: WebGPU \(.+\) para entrenar y predecir/);
    // A student can force WebAssembly.
    await p.goto(`${server!.url}?backend=wasm`, { timeout: T });
    await p.waitForFunction('window.__app && window.__app.ready === true', null, { timeout: T, polling: 50 });
    assert.equal((await p.evaluate('window.__app.backend')).backend, 'wasm');
    assert.match(await p.textContent('#backend'), /WebAssembly SIMD/);
    assert.deepEqual(errors, []);
  } finally {
    await gpuBrowser.close();
  }
});
