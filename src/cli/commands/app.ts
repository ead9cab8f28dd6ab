/** `convnet app`: serves the course page (built by `npm run build:app` into dist/app/) on 127.0.0.1. */
import { existsSync, readdirSync, readFileSync, statSync } from 'node:fs';
import { createServer, type Server } from 'node:http';
import { extname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import type { Command } from '../main.js';
import { errorLine, parseArgs, UsageError } from '../args.js';

const HELP = `Usage: convnet app [--port 8780] [--dir DIR]

Serves the course as a web page on http://127.0.0.1:PORT: convolution, filters, pooling, your own
photos, and a CNN trained in the browser (a Web Worker keeps the page responsive), saved as .keras.
Nothing is installed and nothing leaves the computer; the page needs no network. Opens nothing by
itself: open the address it prints. Ctrl-C stops.

The page is sent with the headers that let it use every core (Cross-Origin-Opener-Policy and
Cross-Origin-Embedder-Policy); served without them (any static host) it runs on one thread.

  --port N    port (default 8780; 0 picks a free one)
  --dir DIR   serve another build of the page (default: the package's dist/app, written by
              npm run build:app)
`;

/** The page as the package ships it: dist/app next to dist/cli (or src/cli under tsx). */
export const APP_DIR = fileURLToPath(new URL('../../../dist/app/', import.meta.url));

const TYPES: Record<string, string> = {
  '.html': 'text/html; charset=utf-8', '.js': 'text/javascript; charset=utf-8', '.mjs': 'text/javascript; charset=utf-8',
  '.wasm': 'application/wasm', '.json': 'application/json', '.css': 'text/css; charset=utf-8',
};

/** Headers that make the page cross-origin isolated (SharedArrayBuffer, so threads). */
export const ISOLATION_HEADERS = {
  'Cross-Origin-Opener-Policy': 'same-origin',
  'Cross-Origin-Embedder-Policy': 'require-corp',
  'Cross-Origin-Resource-Policy': 'same-origin',
};

export interface AppServer { url: string; server: Server; close(): Promise<void> }

/**
 * Serves the files of a built page (a flat folder) on 127.0.0.1. `isolated: false` leaves the
 * COOP/COEP headers out (the page then runs on one thread, as on a plain static host).
 */
export function serveApp(dir = APP_DIR, opts: { port?: number; isolated?: boolean } = {}): Promise<AppServer> {
  if (!existsSync(join(dir, 'index.html'))) {
    throw new Error(`the page is not built in ${dir}: run 'npm run build:app' (or give --dir a folder written by it)`);
  }
  // The folder is flat: only the names in it are served, read once (a build replaces the folder whole).
  const names = new Set(readdirSync(dir).filter((n) => /^[\w.-]+$/.test(n) && statSync(join(dir, n)).isFile()));
  const isolated = opts.isolated !== false;
  let port = 0;
  const server = createServer((req, res) => {
    const send = (code: number, type: string, body: string | Buffer) => {
      res.writeHead(code, { ...(isolated ? ISOLATION_HEADERS : {}), 'Content-Type': type, 'Cache-Control': 'no-cache', 'X-Content-Type-Options': 'nosniff' });
      res.end(req.method === 'HEAD' ? undefined : body);
    };
    try {
      // Only this server's own names: a page elsewhere that rebinds its DNS name to 127.0.0.1 is refused.
      const host = /^(127\.0\.0\.1|localhost)(?::(\d+))?$/i.exec((req.headers.host ?? '').trim());
      if (!host || Number(host[2] ?? 80) !== port) return send(403, 'text/plain', 'forbidden: this server answers only to 127.0.0.1 and localhost');
      if (req.method !== 'GET' && req.method !== 'HEAD') return send(405, 'text/plain', 'method not allowed');
      let name = decodeURIComponent(new URL(req.url ?? '/', 'http://127.0.0.1').pathname).replace(/^\/+/, '');
      if (name === '') name = 'index.html';
      if (!names.has(name)) return send(404, 'text/plain', 'not found');
      return send(200, TYPES[extname(name)] ?? 'application/octet-stream', readFileSync(join(dir, name)));
    } catch {
      return send(400, 'text/plain', 'bad request');
    }
  });
  return new Promise((resolve, reject) => {
    server.once('error', reject);
    server.listen(opts.port ?? 8780, '127.0.0.1', () => {
      port = (server.address() as { port: number }).port;
      resolve({
        url: `http://127.0.0.1:${port}/`, server,
        close: () => new Promise<void>((r) => { server.closeAllConnections?.(); server.close(() => r()); }),
      });
    });
  });
}

export const command: Command = {
  name: 'app',
  summary: 'serve the course as a web page on 127.0.0.1 (train a CNN in the browser)',
  help: HELP,
  async run(argv) {
    let o: Record<string, any>;
    try {
      const p = parseArgs(argv, { port: { type: 'number', default: 8780 }, dir: { type: 'string' } }, 'app');
      if (p.positionals.length) throw new UsageError(`convnet app: unexpected argument '${p.positionals[0]}'. Run 'convnet app --help'.`);
      o = p.options;
      if (!Number.isInteger(o.port) || o.port < 0 || o.port > 65535) throw new UsageError(`convnet app: --port must be an integer from 0 to 65535, got ${o.port}`);
    } catch (e) {
      console.error((e as Error).message);
      return 2;
    }
    try {
      const server = await serveApp(o.dir ?? APP_DIR, { port: o.port });
      console.log(`Serving the convnet course page on ${server.url} (Ctrl-C to stop)`);
      await new Promise<void>((resolve) => process.once('SIGINT', () => resolve()));
      await server.close();
      return 0;
    } catch (e) {
      const err = e as NodeJS.ErrnoException;
      if (err.code === 'EADDRINUSE') console.error(`convnet app: port ${o.port} is in use: pick another with --port (0 picks a free one)`);
      else console.error(errorLine('app', e));
      return 1;
    }
  },
};
