// The webgpu bench page: the notebook model (150x150, batch 128 unless told) trained and predicted
// in headless Chromium on its WebGPU adapter; prints the figures as one JSON line.
//   npx tsx test/webgpu/bench-page.ts [--batch 128] [--size 150] [--steps 3] [--gpu]
// Without --gpu Chromium runs WebGPU on the CPU through SwiftShader: CPU figures, not GPU figures
// (the output says which adapter ran). --gpu leaves Chromium to pick a hardware adapter.
import { chromium as pw } from 'playwright-core';
import { serve, WEBGPU_FLAGS, CHROMIUM } from './serve.js';

const arg = (name: string, def: string): string => {
  const i = process.argv.indexOf(`--${name}`);
  return i > 0 && process.argv[i + 1] ? process.argv[i + 1] : def;
};
const gpu = process.argv.includes('--gpu');
const { server, origin } = await serve();
const browser = await pw.launch({
  executablePath: CHROMIUM,
  args: ['--no-sandbox', '--disable-background-networking', ...(gpu ? ['--enable-unsafe-webgpu'] : WEBGPU_FLAGS)],
});
try {
  const page = await browser.newPage();
  page.on('console', (m) => process.stderr.write(`page: ${m.text()}\n`));
  const q = new URLSearchParams({ module: 'bench', run: 'bench', batch: arg('batch', '128'), size: arg('size', '150'), steps: arg('steps', '3') });
  await page.goto(`${origin}/?${q}`);
  await page.waitForFunction('window.done === true', null, { timeout: 0, polling: 500 });
  const r = await page.evaluate('window.result') as Record<string, unknown> & { lines?: string[] };
  for (const l of r.lines ?? []) process.stderr.write(`${l}\n`);
  delete r.lines;
  console.log(JSON.stringify({ ...r, swiftshader: !gpu }));
} finally {
  await browser.close();
  server.close();
}
