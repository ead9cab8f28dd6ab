// convnet-ts/browser in headless Chromium: a static server on 127.0.0.1 serves the TypeScript sources
// transpiled file by file (what tsc writes to dist/, without the type check), build/*.wasm and
// lib/wasm-worker.mjs; an import map maps 'convnet-ts/browser' to src/browser.ts. The page runs
// test/browser/checks.mjs on each backend; this side checks the numbers against direct loops.
// Without COOP/COEP headers the page is not cross-origin isolated: one thread, ordinary memory.
import { test, after } from 'node:test';
import assert from 'node:assert/strict';
import { createServer, type Server } from 'node:http';
import { existsSync, readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { join, normalize, sep } from 'node:path';
import { transpile } from './transpile.js';
import { convInputs } from './inputs.mjs';

const CHROMIUM = '/usr/bin/chromium';
const ROOT = fileURLToPath(new URL('../../', import.meta.url));
const TIMEOUT_MS = 20000;

const PAGE = `<!doctype html><meta charset="utf-8"><title>convnet browser test</title>
<script type="importmap">{ "imports": { "convnet-ts/browser": "/src/browser.js" } }</script>
<script type="module">
  const q = new URLSearchParams(location.search);
  const backend = q.get('backend');
  window.result = q.has('worker')
    ? new Promise((resolve) => {
        const w = new Worker('/test/browser/worker.mjs', { type: 'module' });
        w.onmessage = (e) => resolve(e.data);
        w.onerror = (e) => resolve({ error: 'worker: ' + (e.message || 'failed to load') });
        w.postMessage({ backend });
      })
    : Promise.all([import('convnet-ts/browser'), import('/test/browser/checks.mjs')])
        .then(([c, m]) => m.run(c, backend))
        .catch((e) => ({ error: String(e && e.stack || e) }));
  window.result.then(() => { window.done = true; });
</script>`;


/** Serves the page, src/ (as .js), build/, lib/ and test/browser/; with COOP/COEP headers when `isolated`. */
function serve(isolated: boolean): Promise<{ server: Server; origin: string }> {
  const server = createServer((req, res) => {
    const path = normalize(decodeURIComponent(new URL(req.url ?? '/', 'http://x').pathname));
    const headers: Record<string, string> = isolated
      ? { 'Cross-Origin-Opener-Policy': 'same-origin', 'Cross-Origin-Embedder-Policy': 'require-corp' } : {};
    const send = (status: number, type: string, body: string | Buffer) => {
      res.writeHead(status, { ...headers, 'Content-Type': type, 'Cache-Control': 'no-store' });
      res.end(body);
    };
    try {
      if (path === '/' || path === '/index.html') return send(200, 'text/html', PAGE);
      const file = join(ROOT, path);
      if (!file.startsWith(ROOT) || file.includes(`${sep}..`)) return send(403, 'text/plain', 'forbidden');
      if (path.startsWith('/src/') && path.endsWith('.js')) return send(200, 'text/javascript', transpile(file.replace(/\.js$/, '.ts')));
      if (path.startsWith('/build/') && path.endsWith('.wasm')) return send(200, 'application/wasm', readFileSync(file));
      if ((path.startsWith('/lib/') || path.startsWith('/test/browser/')) && path.endsWith('.mjs')) {
        return send(200, 'text/javascript', readFileSync(file));
      }
      return send(404, 'text/plain', 'not found');
    } catch {
      return send(404, 'text/plain', 'not found');
    }
  });
  return new Promise((resolve) => server.listen(0, '127.0.0.1', () => {
    const addr = server.address() as { port: number };
    resolve({ server, origin: `http://127.0.0.1:${addr.port}` });
  }));
}

/** Direct 'same' conv2d (stride 1, NHWC, HWIO) of checks.mjs's inputs: the expected numbers. */
function directConv(): number[] {
  const { x, w, bias } = convInputs();
  const H = 5, W = 6, C = 2, K = 3, O = 3, out: number[] = [];
  for (let i = 0; i < H; i++) for (let j = 0; j < W; j++) for (let o = 0; o < O; o++) {
    let s = bias[o];
    for (let di = 0; di < K; di++) for (let dj = 0; dj < K; dj++) for (let ch = 0; ch < C; ch++) {
      const yi = i + di - 1, xj = j + dj - 1;
      if (yi < 0 || yi >= H || xj < 0 || xj >= W) continue;
      s += x[(yi * W + xj) * C + ch] * w[((di * K + dj) * C + ch) * O + o];
    }
    out.push(s);
  }
  return out;
}

function bigMatmulTrace(n = 67): number {
  const a = Array.from({ length: n * n }, (_, i) => Math.fround(((i * 3) % 17) / 16 - 0.5));
  let t = 0;
  for (let i = 0; i < n; i++) for (let k = 0; k < n; k++) t += a[i * n + k] * a[k * n + i];
  return t;
}

function checkCommon(r: any, backend: string): void {
  assert.equal(r.error, undefined, r.error);
  assert.equal(r.backend, backend);
  assert.deepEqual(r.matmul, [[19, 22], [43, 50]]);
  assert.deepEqual(r.addScalar, [[2, 3], [4, 5]]);
  assert.deepEqual(r.mulBroadcast, [[10, 200], [30, 400]]);
  assert.deepEqual(r.sumAxis0, [4, 6]);
  assert.deepEqual(r.reshape, [1, 2, 3, 4]);
  assert.ok(Math.abs(r.softmaxRow[0] - 0.25) < 1e-6 && Math.abs(r.softmaxRow[1] - 0.75) < 1e-6, `softmax ${r.softmaxRow}`);
  assert.ok(Math.abs(r.bigMatmulTrace - bigMatmulTrace()) < 1e-3, `matmul trace ${r.bigMatmulTrace} vs ${bigMatmulTrace()}`);
  // conv2d: float32 against a float64 loop, |error| <= 1e-5 (sums of 18 products of size ~1).
  assert.deepEqual(r.convShape, [1, 5, 6, 3]);
  const want = directConv();
  assert.equal(r.conv.length, want.length);
  r.conv.forEach((v: number, i: number) => assert.ok(Math.abs(v - want[i]) <= 1e-5, `conv2d[${i}]: ${v} vs ${want[i]}`));
  // correlate: integers, exact.
  const correlated = [[-4, 4, 0, 3, 4], [-9, 3, 1, 7, 8], [-10, 5, 3, 3, 7], [-10, -2, 3, 5, 7], [-5, -1, 2, 1, 3]];
  assert.deepEqual(r.correlate, correlated);
  assert.deepEqual(r.correlateF32, correlated);
  assert.ok(r.summaryHasParams, 'summary prints Total params');
  assert.equal(r.loss.length, 8);
  assert.ok(r.loss.every(Number.isFinite), `loss ${r.loss}`);
  assert.ok(r.loss[7] < r.loss[0], `loss decreases: ${r.loss}`);
  assert.deepEqual(r.predictShape, [64, 1]);
  assert.ok(r.predictFinite);
}

const chromium = existsSync(CHROMIUM);
const servers: Server[] = [];
let browser: any;
after(async () => {
  await browser?.close();
  for (const s of servers) s.close();
});

async function runPage(isolated: boolean, backend: string, inWorker = false): Promise<any> {
  if (!browser) {
    const { chromium: pw } = await import('playwright-core');
    browser = await pw.launch({
      executablePath: CHROMIUM, args: ['--no-sandbox', '--disable-gpu', '--disable-background-networking'], timeout: TIMEOUT_MS,
    });
  }
  const { server, origin } = await serve(isolated);
  servers.push(server);
  const page = await browser.newPage();
  const errors: string[] = [];
  page.on('pageerror', (e: Error) => errors.push(String(e)));
  try {
    await page.goto(`${origin}/?backend=${backend}${inWorker ? '&worker' : ''}`, { timeout: TIMEOUT_MS });
    // window.result is a promise: wait until it settled (evaluate itself would wait without a limit).
    await page.waitForFunction('window.done === true', null, { timeout: TIMEOUT_MS, polling: 50 });
    const r = await page.evaluate('window.result');
    assert.deepEqual(errors, [], 'no uncaught errors in the page');
    assert.equal(r.error, undefined, r.error);
    return r;
  } finally {
    await page.close();
  }
}

test('convnet-ts/browser in Chromium, cross-origin isolated: wasm backend on every core', async (t) => {
  if (!chromium) return t.skip(`${CHROMIUM} is absent (apt-get install chromium)`);
  const r = await runPage(true, 'wasm');
  t.diagnostic(`hardwareConcurrency ${r.hardwareConcurrency}, threads ${r.threads} (${r.readyWorkers} workers), fit 8 epochs ${r.fitMs?.toFixed(0)} ms, loss ${r.loss?.map((l: number) => l.toFixed(3)).join(' ')}`);
  assert.equal(r.wasmLoadError, null);
  assert.equal(r.isolated, true);
  assert.equal(r.heapShared, true);
  assert.equal(r.threads, r.hardwareConcurrency);
  assert.equal(r.readyWorkers, r.threads - 1, 'every kernel worker started');
  assert.ok(r.ndimageWasm && r.ndimageWasmCalls > 0, 'correlate ran in WebAssembly');
  checkCommon(r, 'wasm');
});

test('convnet-ts/browser in Chromium, not isolated: wasm backend on one thread with ordinary memory', async (t) => {
  if (!chromium) return t.skip(`${CHROMIUM} is absent (apt-get install chromium)`);
  const r = await runPage(false, 'wasm');
  t.diagnostic(`threads ${r.threads}, fit 8 epochs ${r.fitMs?.toFixed(0)} ms`);
  assert.equal(r.isolated, false);
  assert.equal(r.heapShared, false);
  assert.equal(r.threads, 1);
  assert.equal(r.readyWorkers, 0);
  assert.ok(r.ndimageWasm && r.ndimageWasmCalls > 0, 'correlate ran in WebAssembly');
  checkCommon(r, 'wasm');
});

test('convnet-ts/browser in a Web Worker (isolated): wasm backend on every core, the worker blocks in Atomics.wait', async (t) => {
  if (!chromium) return t.skip(`${CHROMIUM} is absent (apt-get install chromium)`);
  const r = await runPage(true, 'wasm', true);
  t.diagnostic(`threads ${r.threads} (${r.readyWorkers} workers), fit 8 epochs ${r.fitMs?.toFixed(0)} ms`);
  assert.equal(r.inWorker, true);
  assert.equal(r.threads, r.hardwareConcurrency);
  assert.equal(r.readyWorkers, r.threads - 1);
  checkCommon(r, 'wasm');
});

test('convnet-ts/browser in Chromium: reference backend', async (t) => {
  if (!chromium) return t.skip(`${CHROMIUM} is absent (apt-get install chromium)`);
  const r = await runPage(true, 'reference');
  t.diagnostic(`fit 8 epochs ${r.fitMs?.toFixed(0)} ms`);
  checkCommon(r, 'reference');
});
