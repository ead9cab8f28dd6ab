#!/usr/bin/env node
// Builds the course page (app/) into a static folder: `npm run build:app` writes dist/app/
// (`node scripts/build-app.mjs <dir>` writes elsewhere). esbuild bundles app/main.ts (the page) and
// app/worker.ts (training in a Web Worker) with everything they import, split into shared chunks;
// the kernels (build/*.wasm) and the thread-pool worker (lib/wasm-worker.mjs) are copied beside them.
// The page then needs no network and no server beyond static files; threads need the COOP/COEP
// headers (`convnet app` sends them; see app/README in the output for other hosts).
import { build } from 'esbuild';
import { cpSync, existsSync, mkdirSync, readFileSync, rmSync, statSync, readdirSync, writeFileSync, renameSync } from 'node:fs';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';

const ROOT = resolve(dirname(fileURLToPath(import.meta.url)), '..');

/**
 * Files the engine finds with `new URL('../../build/x.wasm', import.meta.url)`: in the bundle every
 * chunk sits in one folder beside the copied files, so those URLs become `./x.wasm`.
 */
const assetUrls = {
  name: 'asset-urls',
  setup(b) {
    b.onLoad({ filter: /[\\/]src[\\/].*\.ts$/ }, (args) => {
      const text = readFileSync(args.path, 'utf8');
      const contents = text.replace(/new URL\((['"])(?:\.\.\/)+(?:build|lib)\/([\w.-]+)\1, import\.meta\.url\)/g, "new URL('./$2', import.meta.url)");
      return { contents, loader: 'ts' };
    });
  },
};

/**
 * Node modules the notebook's sources import but the page never calls (sharp, node:fs, ...): static
 * imports get an empty module, dynamic ones (taken only under Node) stay as they are.
 */
const nodeOnly = {
  name: 'node-only',
  setup(b) {
    b.onResolve({ filter: /^(node:|sharp$|@napi-rs\/canvas$)/ }, (args) => (
      args.kind === 'dynamic-import' ? { path: args.path, external: true } : { path: args.path, namespace: 'node-only' }));
    b.onLoad({ filter: /.*/, namespace: 'node-only' }, () => ({ contents: 'module.exports = {};', loader: 'js' }));
  },
};

/** Builds the page into `outDir` (replaced); returns the files written with their sizes. */
export async function buildApp(outDir = join(ROOT, 'dist', 'app'), { minify = true } = {}) {
  for (const f of ['build/kernels.wasm', 'build/ndimage.wasm', 'lib/wasm-worker.mjs']) {
    if (!existsSync(join(ROOT, f))) throw new Error(`build:app: ${f} is missing: run npm run build:kernels first`);
  }
  const tmp = `${outDir}.tmp-${process.pid}`;
  rmSync(tmp, { recursive: true, force: true });
  mkdirSync(tmp, { recursive: true });
  await build({
    entryPoints: { main: join(ROOT, 'app/main.ts'), worker: join(ROOT, 'app/worker.ts') },
    outdir: tmp,
    bundle: true,
    splitting: true,
    format: 'esm',
    platform: 'browser',
    target: 'es2022',
    minify,
    sourcemap: false,
    legalComments: 'none',
    chunkNames: 'chunk-[hash]',
    logLevel: 'warning',
    plugins: [assetUrls, nodeOnly],
    define: { 'process.env.NODE_ENV': '"production"' },
  });
  cpSync(join(ROOT, 'app/index.html'), join(tmp, 'index.html'));
  cpSync(join(ROOT, 'build/kernels.wasm'), join(tmp, 'kernels.wasm'));
  cpSync(join(ROOT, 'build/ndimage.wasm'), join(tmp, 'ndimage.wasm'));
  cpSync(join(ROOT, 'lib/wasm-worker.mjs'), join(tmp, 'wasm-worker.mjs'));
  writeFileSync(join(tmp, '_headers'), '/*\n  Cross-Origin-Opener-Policy: same-origin\n  Cross-Origin-Embedder-Policy: require-corp\n');
  rmSync(outDir, { recursive: true, force: true });
  mkdirSync(dirname(outDir), { recursive: true });
  renameSync(tmp, outDir);
  return readdirSync(outDir).map((name) => ({ name, bytes: statSync(join(outDir, name)).size }));
}

if (process.argv[1] && resolve(process.argv[1]) === fileURLToPath(import.meta.url)) {
  const out = resolve(process.argv[2] ?? join(ROOT, 'dist', 'app'));
  const files = await buildApp(out);
  const total = files.reduce((s, f) => s + f.bytes, 0);
  console.log(`build:app: ${out} (${files.length} files, ${(total / 1024).toFixed(0)} KiB)`);
}
