/** Serves a run folder's report on 127.0.0.1, rebuilt on every request so it follows a run in progress. */
import { constants, createReadStream, existsSync, fstatSync, openSync, closeSync, realpathSync } from 'node:fs';
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

/**
 * Opens `file` for reading only if it is a regular file whose real path (symlinks resolved) lies
 * inside `realRoot`; returns the descriptor, or null. Opened non-blocking so a FIFO cannot hang
 * the server, and checked with fstat on the open descriptor (no swap between check and read).
 */
function openInside(file: string, realRoot: string | null): number | null {
  let real: string;
  try { real = realpathSync(file); } catch { return null; }
  if (realRoot !== null && !real.startsWith(realRoot)) return null;
  let fd: number;
  try { fd = openSync(real, constants.O_RDONLY | (constants.O_NONBLOCK ?? 0) | (constants.O_NOFOLLOW ?? 0)); } catch { return null; }
  try {
    if (fstatSync(fd).isFile()) return fd;
  } catch { /* fall through */ }
  closeSync(fd);
  return null;
}

/**
 * The Host header must name this server (127.0.0.1 or localhost, on its port): a page on another
 * site that rebinds its DNS name to 127.0.0.1 sends its own name and is refused (DNS rebinding).
 */
function hostAllowed(host: string | undefined, port: number): boolean {
  if (!host) return false;
  const m = /^(127\.0\.0\.1|localhost)(?::(\d+))?$/i.exec(host.trim());
  return !!m && (m[2] === undefined ? port === 80 : Number(m[2]) === port);
}

export interface ReportServer { url: string; server: Server; close(): Promise<void> }

/** Starts the server; `port` 0 picks a free port. Only 127.0.0.1 is listened on. */
export function serveReport(dir: string, opts: { port?: number } = {}): Promise<ReportServer> {
  const root = normalize(dir + sep);
  let port = 0;
  const server = createServer((req, res) => {
    const send = (code: number, type: string, body: string) => {
      res.writeHead(code, { 'content-type': type, 'cache-control': 'no-store' });
      res.end(body);
    };
    try {
      if (!hostAllowed(req.headers.host, port)) return send(403, 'text/plain', 'forbidden: this server answers only to 127.0.0.1 and localhost');
      const path = decodeURIComponent(new URL(req.url ?? '/', 'http://127.0.0.1').pathname);
      if (req.method !== 'GET' && req.method !== 'HEAD') return send(405, 'text/plain', 'method not allowed');
      if (path === '/' || path === '/index.html') {
        if (!hasRun(dir)) return send(200, TYPES['.html'], waitingPage(dir));
        // Follow the run live only while it runs: a finished, failed or interrupted run is a static page.
        const input = loadRun(dir);
        return send(200, TYPES['.html'], renderReport({ ...input, live: input.manifest.status === 'running' }));
      }
      if (path === '/live.json') {
        if (!hasRun(dir)) return send(200, TYPES['.json'], JSON.stringify({ sectionCount: -1, status: 'waiting', curves: {} }));
        return send(200, TYPES['.json'], JSON.stringify(liveState(dir)));
      }
      const vendor = VENDOR_SCRIPTS.find((v) => path === `/${ASSETS_DIR}/${v.file}`);
      const file = vendor ? vendorPath(vendor.pkg, vendor.file) : normalize(join(root, path));
      if (!file.startsWith(root) && !vendor) return send(403, 'text/plain', 'forbidden');
      // Only regular files whose real path stays inside the run folder (a symlink to /etc/passwd is not found).
      let realRoot: string | null = null;
      if (!vendor) { try { realRoot = realpathSync(root) + sep; } catch { return send(404, 'text/plain', 'not found'); } }
      const fd = openInside(file, realRoot);
      if (fd === null) return send(404, 'text/plain', 'not found');
      res.writeHead(200, { 'content-type': TYPES[extname(file).toLowerCase()] ?? 'application/octet-stream', 'cache-control': 'no-store' });
      createReadStream('', { fd }).pipe(res);
    } catch (e) {
      send(500, 'text/plain', String((e as Error).message ?? e));
    }
  });
  return new Promise((resolve, reject) => {
    server.once('error', reject);
    server.listen(opts.port ?? 0, '127.0.0.1', () => {
      const addr = server.address();
      port = typeof addr === 'object' && addr ? addr.port : opts.port ?? 0;
      resolve({
        url: `http://127.0.0.1:${port}/`,
        server,
        close: () => new Promise<void>((r) => { server.closeAllConnections?.(); server.close(() => r()); }),
      });
    });
  });
}
