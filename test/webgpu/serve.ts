// The static server of the webgpu page tests and the bench page: TypeScript sources (src/, and
// test/backend/ for the conformance suite) transpiled file by file (what tsc writes to dist/,
// without the type check), build/*.wasm, lib/ and test/webgpu/, with COOP/COEP. The page imports
// convnet-ts/browser and test/webgpu/<module>.mjs and calls its export named by ?run=.
import { createServer, type Server } from 'node:http';
import { readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { join, normalize, sep } from 'node:path';
import { transpile } from '../browser/transpile.js';

export const CHROMIUM = '/usr/bin/chromium';
/** Chromium's WebGPU on the CPU (SwiftShader): a real WebGPU implementation without a GPU. */
export const WEBGPU_FLAGS = ['--enable-unsafe-webgpu', '--enable-unsafe-swiftshader', '--use-webgpu-adapter=swiftshader'];
const ROOT = fileURLToPath(new URL('../../', import.meta.url));

const PAGE = `<!doctype html><meta charset="utf-8"><title>convnet webgpu test</title>
<script type="importmap">{ "imports": { "convnet-ts/browser": "/src/browser.js" } }</script>
<script type="module">
  const q = new URLSearchParams(location.search);
  const what = q.get('run');
  window.result = Promise.all([import('convnet-ts/browser'), import('/test/webgpu/' + (q.get('module') || 'kernels') + '.mjs')])
    .then(([c, m]) => m[what](c, Object.fromEntries(q)))
    .catch((e) => ({ error: String(e && e.stack || e) }));
  window.result.then(() => { window.done = true; });
</script>`;


export function serve(): Promise<{ server: Server; origin: string }> {
  const server = createServer((req, res) => {
    const path = normalize(decodeURIComponent(new URL(req.url ?? '/', 'http://x').pathname));
    const send = (status: number, type: string, body: string | Buffer) => {
      res.writeHead(status, {
        'Cross-Origin-Opener-Policy': 'same-origin', 'Cross-Origin-Embedder-Policy': 'require-corp',
        'Content-Type': type, 'Cache-Control': 'no-store',
      });
      res.end(body);
    };
    try {
      if (path === '/' || path === '/index.html') return send(200, 'text/html', PAGE);
      const file = join(ROOT, path);
      if (!file.startsWith(ROOT) || file.includes(`${sep}..`)) return send(403, 'text/plain', 'forbidden');
      if ((path.startsWith('/src/') || path.startsWith('/test/backend/')) && path.endsWith('.js')) return send(200, 'text/javascript', transpile(file.replace(/\.js$/, '.ts')));
      if (path.startsWith('/build/') && path.endsWith('.wasm')) return send(200, 'application/wasm', readFileSync(file));
      if ((path.startsWith('/lib/') || path.startsWith('/test/webgpu/')) && path.endsWith('.mjs')) return send(200, 'text/javascript', readFileSync(file));
      if (path === '/test/fixtures/engine/pytorch.json') return send(200, 'application/json', readFileSync(file));
      return send(404, 'text/plain', 'not found');
    } catch {
      return send(404, 'text/plain', 'not found');
    }
  });
  return new Promise((resolve) => server.listen(0, '127.0.0.1', () => {
    resolve({ server, origin: `http://127.0.0.1:${(server.address() as { port: number }).port}` });
  }));
}

/**
 * The page runs of one test file: one headless Chromium (WebGPU on SwiftShader) and one server, both
 * started on the first `result(query)`, which opens `/?<query>`, waits for the page's `window.done` and
 * returns `window.result`, failing on any uncaught error in the page. `close()` goes in the file's `after`.
 */
export function pageRunner(timeoutMs: number): { result(query: string): Promise<any>; close(): Promise<void> } {
  let browser: any;
  let served: { server: Server; origin: string } | undefined;
  return {
    async result(query: string): Promise<any> {
      if (!browser) {
        const { chromium: pw } = await import('playwright-core');
        browser = await pw.launch({ executablePath: CHROMIUM, args: ['--no-sandbox', '--disable-background-networking', ...WEBGPU_FLAGS], timeout: 30000 });
      }
      served ??= await serve();
      const page = await browser.newPage();
      const errors: string[] = [];
      page.on('pageerror', (e: Error) => errors.push(String(e)));
      try {
        await page.goto(`${served.origin}/?${query}`, { timeout: 30000 });
        await page.waitForFunction('window.done === true', null, { timeout: timeoutMs, polling: 100 });
        const r = await page.evaluate('window.result');
        if (errors.length) throw new Error(`uncaught errors in the page: ${errors.join('; ')}`);
        return r;
      } finally {
        await page.close();
      }
    },
    async close(): Promise<void> { await browser?.close(); served?.server.close(); },
  };
}
