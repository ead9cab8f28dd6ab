// Model files in convnet-ts/browser without a bundler (the README's import map): saveModelBlob, model.save('blob://'),
// loadModel from a Blob, an ArrayBuffer and a URL, and model.save('downloads://...') as a real
// download that loads in Node and predicts the same. The page imports the TypeScript sources
// transpiled file by file (what tsc writes to dist/), fflate's and h5wasm's ESM builds.
import { test, after } from 'node:test';
import assert from 'node:assert/strict';
import { createServer, type Server } from 'node:http';
import { existsSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { fileURLToPath } from 'node:url';
import { join, normalize } from 'node:path';
import { transpile } from '../browser/transpile.js';
import { loadModel } from '../../src/io/models/index.js';
import { tensor } from '../../src/tensor/index.js';

const CHROMIUM = '/usr/bin/chromium';
const ROOT = fileURLToPath(new URL('../../', import.meta.url));
const T = 30000;

const PAGE = `<!doctype html><meta charset="utf-8"><title>model files</title><link rel="icon" href="data:,">
<script type="importmap">{ "imports": {
  "convnet-ts/browser": "/src/browser.js",
  "fflate": "/node_modules/fflate/esm/browser.js",
  "h5wasm": "/node_modules/h5wasm/dist/esm/hdf5_hl.js" } }</script>
<script type="module">
  import * as c from 'convnet-ts/browser';
  window.result = (async () => {
    c.setSeed(5);
    const model = new c.Sequential([
      new c.layers.Conv2D(3, [3, 3], { activation: 'relu', inputShape: [6, 6, 2] }),
      new c.layers.Flatten(),
      new c.layers.Dense(2, { activation: 'softmax' }),
    ]);
    model.compile({ optimizer: 'adam', loss: 'categorical_crossentropy', metrics: ['accuracy'] });
    const x = c.tensor(Float32Array.from({ length: 4 * 6 * 6 * 2 }, (_, i) => ((i * 7) % 13) / 13), [4, 6, 6, 2]);
    const y = c.tensor([[1, 0], [0, 1], [1, 0], [0, 1]]);
    await model.fit(x, y, { epochs: 2, batchSize: 2, verbose: 0 });
    const want = Array.from((await model.predict(x, { verbose: 0 })).dataSync());
    const blob = await c.saveModelBlob(model, { classNames: ['a', 'b'] });
    const fromBlob = await c.loadModel(blob);
    const fromBuffer = await c.loadModel(await blob.arrayBuffer());
    const url = URL.createObjectURL(blob);
    const fromUrl = await c.loadModel(url);
    const saved = await model.save('blob://');
    const fromSave = await c.loadModel(saved);
    const preds = [];
    for (const m of [fromBlob, fromBuffer, fromUrl, fromSave]) preds.push(Array.from((await m.predict(x, { verbose: 0 })).dataSync()));
    const optimizerSteps = Number(fromBlob.optimizer.variables()[0].value.dataSync()[0]);
    let refused = null;
    try { await c.loadModel(new Uint8Array([1, 2, 3, 4])); } catch (e) { refused = String(e.message); }
    await model.save('downloads://tiny.keras');
    return { x: Array.from(x.dataSync()), want, preds, bytes: blob.size, type: blob.type, savedType: saved instanceof Blob ? saved.type : String(saved), classes: await c.readClassNames(blob), optimizerSteps, refused };
  })().catch((e) => ({ error: String(e && e.stack || e) }));
</script>`;


function serve(): Promise<{ server: Server; origin: string }> {
  const server = createServer((req, res) => {
    const path = normalize(decodeURIComponent(new URL(req.url ?? '/', 'http://x').pathname));
    const send = (status: number, type: string, body: string | Buffer) => {
      res.writeHead(status, { 'Cross-Origin-Opener-Policy': 'same-origin', 'Cross-Origin-Embedder-Policy': 'require-corp', 'Content-Type': type });
      res.end(body);
    };
    try {
      if (path === '/') return send(200, 'text/html', PAGE);
      if (path.includes('..')) return send(403, 'text/plain', 'forbidden');
      const file = join(ROOT, path);
      if (path.startsWith('/src/') && path.endsWith('.js')) return send(200, 'text/javascript', transpile(file.replace(/\.js$/, '.ts')));
      if (path.endsWith('.wasm')) return send(200, 'application/wasm', readFileSync(file));
      if (/^\/(lib|node_modules\/(fflate|h5wasm))\//.test(path) && /\.m?js$/.test(path)) return send(200, 'text/javascript', readFileSync(file));
      return send(404, 'text/plain', 'not found');
    } catch {
      return send(404, 'text/plain', 'not found');
    }
  });
  return new Promise((resolve) => server.listen(0, '127.0.0.1', () => resolve({ server, origin: `http://127.0.0.1:${(server.address() as { port: number }).port}` })));
}

let browser: any;
let server: Server | undefined;
let tmp = '';
after(async () => {
  await browser?.close();
  server?.close();
  if (tmp) rmSync(tmp, { recursive: true, force: true });
});

test('convnet-ts/browser: saveModelBlob, model.save(\'blob://\'), loadModel from a Blob, ArrayBuffer and URL, model.save(\'downloads://x.keras\') loads in Node', async (t) => {
  if (!existsSync(CHROMIUM)) return t.skip(`${CHROMIUM} is absent (apt-get install chromium)`);
  const s = await serve();
  server = s.server;
  const { chromium } = await import('playwright-core');
  browser = await chromium.launch({ executablePath: CHROMIUM, args: ['--no-sandbox', '--disable-gpu', '--disable-background-networking'], timeout: T });
  const page = await (await browser.newContext({ acceptDownloads: true })).newPage();
  const errors: string[] = [];
  page.on('pageerror', (e: Error) => errors.push(String(e)));
  const downloaded = page.waitForEvent('download', { timeout: T });
  downloaded.catch(() => {});
  await page.goto(s.origin, { timeout: T });
  await page.waitForFunction('window.result', null, { timeout: T });
  const r = await page.evaluate('window.result');
  assert.equal(r.error, undefined, r.error);
  assert.deepEqual(errors, []);
  assert.equal(r.type, 'application/x-keras');
  assert.equal(r.savedType, 'application/x-keras', "model.save('blob://') returns a .keras Blob");
  assert.equal(r.preds.length, 4);
  assert.deepEqual(r.classes, ['a', 'b']);
  assert.equal(r.optimizerSteps, 4, 'the optimizer state came back (2 epochs x 2 steps)');
  for (const p of r.preds) assert.deepEqual(p, r.want);
  assert.match(r.refused, /model bytes: not a model file convnet reads/);
  const d = await downloaded;
  assert.equal(d.suggestedFilename(), 'tiny.keras');
  tmp = mkdtempSync(join(tmpdir(), 'convnet-lib-'));
  const file = join(tmp, 'tiny.keras');
  await d.saveAs(file);
  const m = await loadModel(file);
  const p = (await m.predict(tensor(Float32Array.from(r.x), [4, 6, 6, 2]), { verbose: 0 }) as any).dataSync();
  p.forEach((v: number, i: number) => assert.ok(Math.abs(v - r.want[i]) < 1e-6, `prediction ${i}: Node ${v}, page ${r.want[i]}`));
  t.diagnostic(`.keras ${r.bytes} bytes`);
});
