/** Serves a run folder's report on 127.0.0.1, rebuilt on every request so it follows a run in progress. */
import { createReadStream, existsSync, statSync } from 'node:fs';
import { createServer, type Server } from 'node:http';
import { extname, join, normalize, sep } from 'node:path';
import { ASSETS_DIR, VENDOR_SCRIPTS, vendorPath } from './assets.js';
import { liveState, loadRun, RESULTS_FILE, RUN_FILE, SWEEP_FILE } from './build.js';
import { escapeHtml, renderReport } from './html.js';

const TYPES: Record<string, string> = {
  '.html': 'text/html; charset=utf-8', '.js': 'text/javascript; charset=utf-8', '.json': 'application/json',
  '.png': 'image/png', '.svg': 'image/svg+xml', '.jpg': 'image/jpeg', '.jpeg': 'image/jpeg', '.csv': 'text/csv',
  '.jsonl': 'application/x-ndjson',
};

/** Whether the folder holds a run yet (the server may start before the run does). */
function hasRun(dir: string): boolean {
  return [RUN_FILE, SWEEP_FILE, RESULTS_FILE].some((f) => existsSync(join(dir, f)));
}

/** Shown until the run writes its first file; reloads itself every two seconds. */
function waitingPage(dir: string): string {
  return `<!DOCTYPE html><html><head><meta charset="utf-8"><meta http-equiv="refresh" content="2"><title>convnet report</title></head>
<body style="font-family: system-ui, sans-serif; margin: 2rem"><p>Waiting for a run in <code>${escapeHtml(dir)}</code>...</p></body></html>`;
}

export interface ReportServer { url: string; server: Server; close(): Promise<void> }

/** Starts the server; `port` 0 picks a free port. Only 127.0.0.1 is listened on. */
export function serveReport(dir: string, opts: { port?: number } = {}): Promise<ReportServer> {
  const root = normalize(dir + sep);
  const server = createServer((req, res) => {
    const send = (code: number, type: string, body: string) => {
      res.writeHead(code, { 'content-type': type, 'cache-control': 'no-store' });
      res.end(body);
    };
    try {
      const path = decodeURIComponent(new URL(req.url ?? '/', 'http://127.0.0.1').pathname);
      if (req.method !== 'GET' && req.method !== 'HEAD') return send(405, 'text/plain', 'method not allowed');
      if (path === '/' || path === '/index.html') {
        if (!hasRun(dir)) return send(200, TYPES['.html'], waitingPage(dir));
        return send(200, TYPES['.html'], renderReport({ ...loadRun(dir), live: true }));
      }
      if (path === '/live.json') {
        if (!hasRun(dir)) return send(200, TYPES['.json'], JSON.stringify({ sectionCount: -1, status: 'waiting', curves: {} }));
        return send(200, TYPES['.json'], JSON.stringify(liveState(dir)));
      }
      const vendor = VENDOR_SCRIPTS.find((v) => path === `/${ASSETS_DIR}/${v.file}`);
      const file = vendor ? vendorPath(vendor.pkg, vendor.file) : normalize(join(root, path));
      if (!file.startsWith(root) && !vendor) return send(403, 'text/plain', 'forbidden');
      if (!existsSync(file) || !statSync(file).isFile()) return send(404, 'text/plain', 'not found');
      res.writeHead(200, { 'content-type': TYPES[extname(file).toLowerCase()] ?? 'application/octet-stream', 'cache-control': 'no-store' });
      createReadStream(file).pipe(res);
    } catch (e) {
      send(500, 'text/plain', String((e as Error).message ?? e));
    }
  });
  return new Promise((resolve, reject) => {
    server.once('error', reject);
    server.listen(opts.port ?? 0, '127.0.0.1', () => {
      const addr = server.address();
      const port = typeof addr === 'object' && addr ? addr.port : opts.port;
      resolve({
        url: `http://127.0.0.1:${port}/`,
        server,
        close: () => new Promise<void>((r) => { server.closeAllConnections?.(); server.close(() => r()); }),
      });
    });
  });
}
