/**
 * Benchmark section `filters`: the 3x3 correlation of a 3000 x 4000 float32 image (12 megapixels),
 * `correlate` against `scipy.ndimage.correlate` run by `python3` in the same run on the same data
 * (SciPy's figures are null when python3 with SciPy is absent), and a check that both give the
 * same numbers at sampled points. Medians of the runs (after one warm-up) and best runs, since
 * the machine may be shared.
 */
import { spawnSync } from 'node:child_process';
import { empty } from '../tensor/index.js';
import { correlate, ndimageWasmAvailable, setNdimageWasm } from '../ops/ndimage.js';

const H = 3000, W = 4000;
const KERNEL = [[-1, -1, -1], [-1, 8, -1], [-1, -1, -1]];
/** Sampled output positions compared with SciPy. */
const SAMPLES = [0, 1, W - 1, W, 12345, 6_000_000, H * W - W, H * W - 1];

function median(xs: number[]): number {
  const s = xs.slice().sort((a, b) => a - b);
  return s[s.length >> 1];
}

const PY = `
import json, sys, time
import numpy as np
from scipy import ndimage
import scipy
H, W, runs = ${H}, ${W}, int(sys.argv[1])
x = np.sin(np.arange(H * W, dtype=np.float64) * 0.37).astype(np.float32).reshape(H, W)
k = np.array(${JSON.stringify(KERNEL)}, dtype=np.float64)
times = []
for _ in range(runs + 1):
    t = time.perf_counter(); y = ndimage.correlate(x, k); times.append((time.perf_counter() - t) * 1000)
times = sorted(times[1:])
flat = y.ravel()
print(json.dumps({'ms': times[len(times) // 2], 'best': times[0], 'version': scipy.__version__, 'samples': [float(flat[i]) for i in ${JSON.stringify(SAMPLES)}]}))
`;

export async function run(opts: { quick: boolean; log: (line: string) => void }): Promise<Record<string, number | string | null>> {
  const runs = opts.quick ? 3 : 10;
  const v = new Float32Array(H * W);
  for (let i = 0; i < v.length; i++) v[i] = Math.sin(i * 0.37);
  const x = empty([H, W], 'float32').write(v);
  const time = (n: number): { ms: number; best: number; out: Float32Array } => {
    const ts: number[] = [];
    let out: Float32Array = new Float32Array(0);
    for (let r = 0; r < n + 1; r++) {
      const t0 = performance.now();
      const y = correlate(x, KERNEL);
      const t1 = performance.now();
      if (r > 0) ts.push(t1 - t0); // the first run warms up (heap growth, compilation)
      if (r === n) out = y.dataSync() as Float32Array;
      y.dispose();
    }
    return { ms: median(ts), best: Math.min(...ts), out };
  };
  const wasm = ndimageWasmAvailable();
  opts.log(`filters: correlate ${H}x${W} float32, 3x3 laplacian, mode reflect, ${runs} runs (${wasm ? 'WebAssembly SIMD' : 'TypeScript loop: build/ndimage.wasm not built'})`);
  const ours = time(runs);
  let tsMs: number | null = null;
  if (!opts.quick && wasm) {
    setNdimageWasm(false);
    try { tsMs = time(2).ms; } finally { setNdimageWasm(true); }
  }
  x.dispose();
  let scipyMs: number | null = null, scipyBest: number | null = null, scipyVersion: string | null = null, matches: string | null = null;
  const py = spawnSync('python3', ['-c', PY, String(runs)], { encoding: 'utf8', timeout: 120_000 });
  if (py.status === 0) {
    try {
      const r = JSON.parse(py.stdout.trim().split('\n').pop()!);
      scipyMs = r.ms; scipyBest = r.best; scipyVersion = r.version;
      matches = SAMPLES.every((i, k) => Object.is(ours.out[i], Math.fround(r.samples[k]))) ? 'yes' : 'no';
    } catch { /* unreadable output: leave SciPy's figures null */ }
  } else {
    opts.log(`filters: python3 with SciPy not available (${(py.stderr || String(py.error ?? '')).trim().split('\n').pop()}); SciPy figures are null`);
  }
  const fig = {
    correlate_ms: round(ours.ms),
    correlate_mpix_s: round((H * W) / 1e3 / ours.ms),
    correlate_kernel: wasm ? 'wasm-simd' : 'typescript',
    correlate_ts_ms: tsMs === null ? null : round(tsMs),
    scipy_correlate_ms: scipyMs === null ? null : round(scipyMs),
    correlate_vs_scipy: scipyMs === null ? null : round(scipyMs / ours.ms),
    correlate_best_ms: round(ours.best),
    scipy_correlate_best_ms: scipyBest === null ? null : round(scipyBest),
    correlate_vs_scipy_best: scipyBest === null ? null : round(scipyBest / ours.best),
    correlate_matches_scipy: matches,
    scipy_version: scipyVersion,
  };
  opts.log(`filters: correlate ${fig.correlate_ms} ms, SciPy ${fig.scipy_correlate_ms ?? 'n/a'} ms, ${fig.correlate_vs_scipy ?? 'n/a'}x`);
  return fig;
}

function round(x: number): number { return Math.round(x * 100) / 100; }
