// Training speed of the course page against Node, on the same model and data:
//   npx tsx app/bench.ts [--per-class 300] [--size 64] [--epochs 2] [--batch 32] [--filters 32-64-128-64] [--blocks 4]
// Builds the page, serves it with COOP/COEP, trains in headless Chromium (/usr/bin/chromium) with
// every thread and with one (?threads=1), then trains the same model in Node (wasm backend) on the
// same pixels. images/s counts training steps only (epoch start to its last batch), all epochs.
// Also prints the page's load size (what a first visit downloads before the page is ready).
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir, availableParallelism } from 'node:os';
import { join } from 'node:path';
import { parseArgs } from 'node:util';
// @ts-ignore: a plain .mjs build script
import { buildApp } from '../scripts/build-app.mjs';
import { serveApp } from '../src/cli/commands/app.js';
import { compiledModelFromConfig } from '../src/notebook/model.js';
import { renderSample } from '../src/notebook/builtin-data.js';
import { NOTEBOOK_CONFIG, type TrialConfig } from '../src/notebook/space.js';
import { Callback } from '../src/models/index.js';
import { setSeed, tensor } from '../src/tensor/index.js';
import { setThreads, getThreads } from '../src/backend/index.js';
import { clearSession } from '../src/layers/index.js';

const { values: a } = parseArgs({ options: {
  'per-class': { type: 'string', default: '300' }, size: { type: 'string', default: '64' }, epochs: { type: 'string', default: '2' },
  batch: { type: 'string', default: '32' }, filters: { type: 'string', default: '16-32-64' }, blocks: { type: 'string', default: '3' },
  dense: { type: 'string', default: '64' },
} });
const perClass = Number(a['per-class']), size = Number(a.size), epochs = Number(a.epochs), batch = Number(a.batch);
const config: TrialConfig = { ...NOTEBOOK_CONFIG, filters: a.filters!, convBlocks: Number(a.blocks), denseUnits: Number(a.dense), dropout: 0 };

async function page(threads: number | null): Promise<{ ips: number; threads: number; loadKiB: number; fetched: string }> {
  const { chromium } = await import('playwright-core');
  const browser = await chromium.launch({ executablePath: '/usr/bin/chromium', args: ['--no-sandbox', '--disable-gpu'] });
  try {
    const p = await browser.newPage();
    // Every file the page and its workers fetch until ready, by its size in the build.
    const sizes = new Map(files.map((f) => [f.name, f.bytes]));
    const names = new Set<string>();
    p.on('request', (r) => names.add(new URL(r.url()).pathname.slice(1) || 'index.html'));
    await p.goto(`${server.url}${threads ? `?threads=${threads}` : ''}`);
    await p.waitForFunction('window.__app && window.__app.ready === true', null, { timeout: 60000 });
    const loadKiB = [...names].reduce((n, f) => n + (sizes.get(f) ?? 0), 0) / 1024;
    const fetched = [...names].sort().join(' ');
    await p.fill('#per-class', String(perClass));
    await p.fill('#size', String(size));
    await p.click('#load-data');
    await p.waitForFunction('window.__app.data', null, { timeout: 120000 });
    await p.fill('#m-filters', String(config.filters));
    await p.fill('#m-blocks', String(config.convBlocks));
    await p.fill('#m-dense', String(config.denseUnits));
    await p.fill('#m-dropout', '0');
    await p.click('#build');
    await p.waitForFunction('window.__app.modelBuilt', null, { timeout: 60000 });
    await p.fill('#epochs', String(epochs));
    await p.fill('#batch', String(batch));
    await p.click('#train');
    await p.waitForFunction('window.__app.trainDone === true', null, { timeout: 600000 });
    const r = await p.evaluate('({ t: window.__app.trained, b: window.__app.backend })') as { t: { imagesPerSec: number }; b: { threads: number } };
    return { ips: r.t.imagesPerSec, threads: r.b.threads, loadKiB, fetched };
  } finally {
    await browser.close();
  }
}

async function node(threads: number): Promise<number> {
  setThreads(threads);
  setSeed(42);
  clearSession();
  const n = perClass * 2, px = size * size * 3;
  const x = new Float32Array(n * px), y = new Float32Array(n);
  for (let k = 0; k < n; k++) {
    const label = k < perClass ? 0 : 1;
    const img = renderSample(label, k % perClass, size, 42);
    for (let j = 0; j < px; j++) x[k * px + j] = img.data[j] / 255;
    y[k] = label;
  }
  // The page trains on the 80% left after its validation split.
  const train = Math.round(n * 0.8);
  const model = compiledModelFromConfig(config, size, 42, 2);
  let t0 = 0, last = 0, ms = 0, seen = 0;
  const cb = new (class extends Callback {
    async onEpochBegin() { t0 = performance.now(); }
    async onTrainBatchEnd(b: number) { last = performance.now(); seen += Math.min(batch, train - b * batch); }
    async onEpochEnd() { ms += last - t0; }
  })();
  await model.fit(tensor(x.subarray(0, train * px), [train, size, size, 3]), tensor(y.subarray(0, train), [train]), { epochs, batchSize: batch, verbose: 0, callbacks: [cb] });
  return seen / (ms / 1000);
}

const tmp = mkdtempSync(join(tmpdir(), 'convnet-app-bench-'));
const files: { name: string; bytes: number }[] = await buildApp(join(tmp, 'app'));
const server = await serveApp(join(tmp, 'app'), { port: 0 });
try {
  console.log(`load average ${(await import('node:os')).loadavg()[0].toFixed(1)}; model ${JSON.stringify({ filters: config.filters, blocks: config.convBlocks, dense: config.denseUnits })}, ${perClass * 2} images ${size}x${size} (80% trained), ${epochs} epochs, batch ${batch}; ${availableParallelism()} cores`);
  console.log(`build: ${(files.reduce((s, f) => s + f.bytes, 0) / 1024).toFixed(0)} KiB in ${files.length} files`);
  const all = await page(null);
  console.log(`page load: ${all.loadKiB.toFixed(0)} KiB until ready (${all.fetched}); h5wasm (${(Math.max(...files.map((f) => f.bytes)) / 1024).toFixed(0)} KiB) loads only on save/load`);
  console.log(`page, ${all.threads} threads: ${all.ips.toFixed(1)} images/s`);
  const one = await page(1);
  console.log(`page, ${one.threads} thread: ${one.ips.toFixed(1)} images/s`);
  const nAll = await node(availableParallelism());
  console.log(`node, ${getThreads()} threads: ${nAll.toFixed(1)} images/s`);
  const nOne = await node(1);
  console.log(`node, 1 thread: ${nOne.toFixed(1)} images/s`);
} finally {
  await server.close();
  rmSync(tmp, { recursive: true, force: true });
}
