/**
 * `convnet bench` section for the data pipeline: decode + resize (150x150, nearest, as Keras's
 * load_img) images per second over ../shared/data/pets-dev, with the decode workers, and Pillow doing
 * the same work on the same files in the same run (one core, /usr/bin/python3), when available.
 */
import { existsSync, readdirSync, writeFileSync, mkdtempSync, mkdirSync, rmSync, symlinkSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { tmpdir, availableParallelism } from 'node:os';
import { spawnSync } from 'node:child_process';
import { DecodePool } from '../data/pool.js';
import { ImageDataGenerator } from '../data/generator.js';
import type { DecodeOptions } from '../data/decode.js';

/** Where the development photos live (beside the repository). */
export function petsDevDir(): string | null {
  const candidates = [resolve(process.cwd(), '../shared/data/pets-dev'), resolve(new URL('../../../shared/data/pets-dev', import.meta.url).pathname)];
  return candidates.find((d) => existsSync(d)) ?? null;
}

/** A temporary folder of the first `perClass` photos of each class of `dir` (links; remove it with rmSync). */
export function linkSubset(dir: string, perClass: number, prefix: string): string {
  const tmp = mkdtempSync(join(tmpdir(), prefix));
  for (const c of readdirSync(dir).filter((d) => !d.startsWith('.')).sort()) {
    mkdirSync(join(tmp, c));
    for (const f of readdirSync(join(dir, c)).sort().slice(0, perClass)) symlinkSync(join(dir, c, f), join(tmp, c, f));
  }
  return tmp;
}

const PILLOW = `
import sys, time
from PIL import Image
import numpy as np
files = open(sys.argv[1]).read().split('\\n')
t = time.perf_counter()
c = time.process_time()
for f in files:
    img = Image.open(f)
    if img.mode != 'RGB':
        img = img.convert('RGB')
    img = img.resize((150, 150), Image.NEAREST)
    x = np.asarray(img, dtype='float32')
print(len(files) / (time.perf_counter() - t), len(files) / (time.process_time() - c))
`;

export async function run(opts: { quick: boolean; log: (line: string) => void }): Promise<Record<string, number | string | null>> {
  const dir = petsDevDir();
  if (!dir) {
    opts.log('decode: ../shared/data/pets-dev not found, skipped');
    return { decode_img_s: null, pillow_decode_img_s: null, decode_vs_pillow: null };
  }
  const files = ['Cat', 'Dog'].flatMap((c) => readdirSync(join(dir, c)).sort().map((f) => join(dir, c, f)));
  const n = opts.quick ? 300 : files.length;
  const chosen = files.slice(0, n);
  const workers = availableParallelism();
  const decode: DecodeOptions = { targetSize: [150, 150], colorMode: 'rgb', interpolation: 'nearest', keepAspectRatio: false, maxPixels: 89_478_485 };
  const task = (path: string) => ({ path, decode, params: null, augment: { fillMode: 'nearest' as const, cval: 0, interpolationOrder: 1 as const }, keepRaw: false });

  const pool = new DecodePool(workers);
  await Promise.all(chosen.slice(0, workers * 2).map((p) => pool.run(task(p)))); // start the workers
  let t = performance.now();
  const cpu0 = process.cpuUsage();
  let failed = 0;
  await Promise.all(chosen.map(async (p) => { if (!(await pool.run(task(p))).ok) failed++; }));
  const decodeRate = n / ((performance.now() - t) / 1000);
  // CPU time of every thread of this process: what the rate would be on one free core (the
  // reference machine is shared, so wall-clock rates depend on what else runs).
  const cpu = process.cpuUsage(cpu0);
  const cpuRate = n / ((cpu.user + cpu.system) / 1e6);
  await pool.close();
  opts.log(`decode: ${n} photos of pets-dev, decode + resize to 150x150 (nearest) with ${workers} workers: ${decodeRate.toFixed(0)} images/s (${cpuRate.toFixed(0)} per CPU-second)${failed ? ` (${failed} failed)` : ''}`);

  // The whole pipeline: scan, decode, rescale into float32 batches of 128.
  const it = await new ImageDataGenerator({ rescale: 1 / 255 }).flowFromDirectory(dir, { targetSize: [150, 150], batchSize: 128, classMode: 'binary', seed: 42, workers, verbose: false, cache: false });
  const batches = Math.ceil(n / 128);
  t = performance.now();
  let imgs = 0;
  for (let i = 0; i < batches; i++) { const b = await it.getBatch(i); imgs += b.x.shape[0]; b.x.dispose(); b.y?.dispose(); }
  const iterRate = imgs / ((performance.now() - t) / 1000);
  await it.close();
  opts.log(`decode: flowFromDirectory batches of 128 (float32, rescaled, shuffled): ${iterRate.toFixed(0)} images/s`);

  let pillow: number | null = null;
  let pillowCpu: number | null = null;
  const tmp = mkdtempSync(join(tmpdir(), 'convnet-bench-'));
  try {
    writeFileSync(join(tmp, 'files.txt'), chosen.join('\n'));
    writeFileSync(join(tmp, 'pil.py'), PILLOW);
    const r = spawnSync('/usr/bin/python3', [join(tmp, 'pil.py'), join(tmp, 'files.txt')], { encoding: 'utf8', timeout: 300_000 });
    if (r.status === 0) [pillow, pillowCpu] = r.stdout.trim().split(/\s+/).map(Number);
    else opts.log(`decode: Pillow not measured (${(r.stderr || r.error?.message || 'python3 failed').trim().split('\n').pop()})`);
  } finally {
    rmSync(tmp, { recursive: true, force: true });
  }
  if (pillow) opts.log(`decode: Pillow (one core) on the same files: ${pillow.toFixed(0)} images/s (${pillowCpu!.toFixed(0)} per CPU-second)`);
  return {
    decode_img_s: Math.round(decodeRate),
    decode_img_per_cpu_s: Math.round(cpuRate),
    decode_iterator_img_s: Math.round(iterRate),
    decode_workers: workers,
    decode_files: n,
    pillow_decode_img_s: pillow === null ? null : Math.round(pillow),
    pillow_img_per_cpu_s: pillowCpu === null ? null : Math.round(pillowCpu),
    decode_per_cpu_vs_pillow: pillowCpu === null ? null : Number((cpuRate / pillowCpu).toFixed(2)),
    decode_vs_pillow: pillow === null ? null : Number((decodeRate / pillow).toFixed(2)),
  };
}
