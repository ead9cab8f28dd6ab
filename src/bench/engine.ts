/**
 * Engine bench section: GEMM, the notebook model's conv layers, and its training step and
 * prediction on the selected backend (`convnet bench --backend native|wasm|reference`, default: the
 * default backend), beside, in the same run: the wasm backend training the same model
 * (`wasm_train_img_s`), PyTorch (`torch_train_img_s`), ONNX Runtime predicting the same model exported
 * to ONNX (`ort_predict_img_s`), numpy's OpenBLAS SGEMM on one thread (`openblas_gflops_1t`) and TF.js.
 *
 * Training and prediction run the real Keras-style path (`Sequential` of src/models, `compile` with
 * Adam and binary cross-entropy, `trainOnBatch` / `predictOnBatch`), so the figures are what a user
 * gets; the models section (src/bench/models.ts) measures what `fit` adds on top. Every timing is
 * given as wall clock and per CPU-second (process CPU time, all threads), since the machine is shared.
 */
import { spawnSync } from 'node:child_process';
import { existsSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { Tensor, tensor, zeros, scope, Rng, setSeed } from '../tensor/index.js';
import { backend, setBackend, getThreads, setThreads } from '../backend/index.js';
import { wasmAvailable } from '../backend/wasm/index.js';
import type { Conv2DParams } from '../backend/backend.js';
import { clearSession } from '../layers/index.js';
import type { Sequential } from '../models/index.js';
import { modelFromConfig } from '../notebook/model.js';
import { NOTEBOOK_CONFIG } from '../notebook/space.js';

type Figures = Record<string, number | string | null>;
interface Opts { quick: boolean; log: (line: string) => void }

const FILTERS = [32, 64, 128, 64];
const SIZE = 150;

function rand(shape: number[], rng: Rng, scale = 1): Tensor {
  const n = shape.reduce((a, b) => a * b, 1);
  const a = new Float32Array(n);
  for (let i = 0; i < n; i++) a[i] = (rng.random() * 2 - 1) * scale;
  return tensor(a, shape);
}

/** Best-of-`reps` seconds of fn after one warm-up call (reps 0: the warm-up call's time), stopping early past `budget` seconds. */
function timeIt(fn: () => void, reps: number, budget = 30): number {
  const t0 = performance.now();
  fn();
  if (reps === 0) return (performance.now() - t0) / 1000;
  let best = Infinity;
  const start = performance.now();
  for (let r = 0; r < reps; r++) {
    const t = performance.now();
    fn();
    best = Math.min(best, (performance.now() - t) / 1000);
    if ((performance.now() - start) / 1000 > budget) break;
  }
  return best;
}

const round = (x: number, d = 1): number => Math.round(x * 10 ** d) / 10 ** d;

/** GFLOP/s of a 512^3 GEMM: best wall clock, and per CPU-second (all threads). */
function gemm(threads: number, reps: number): { wall: number; cpu: number } {
  setThreads(threads);
  const n = 512, rng = new Rng(1);
  return scope(() => {
    const a = rand([n, n], rng), b = rand([n, n], rng), c = zeros([n, n]);
    const p = { m: n, n, k: n, transA: false, transB: false, accumulate: false };
    const s = timeBoth(() => backend().matmul(a, b, c, p), reps);
    return { wall: (2 * n ** 3) / s.wall / 1e9, cpu: (2 * n ** 3) / s.cpu / 1e9 };
  });
}

/** The four conv layers of the notebook model ('same' padding, 3x3, stride 1). */
function convLayers(): Conv2DParams[] {
  const out: Conv2DParams[] = [];
  let h = SIZE, c = 3;
  for (const f of FILTERS) {
    out.push({ batch: 0, inH: h, inW: h, inC: c, outH: h, outW: h, outC: f, kH: 3, kW: 3, strideH: 1, strideW: 1,
      dilationH: 1, dilationW: 1, padTop: 1, padLeft: 1, activation: 'relu', alpha: 0 });
    h = Math.floor(h / 2); c = f;
  }
  return out;
}

// ---- the notebook model, through Sequential ----------------------------------------------

function notebookModel(): Sequential {
  clearSession();
  setSeed(1);
  const m = modelFromConfig(NOTEBOOK_CONFIG, SIZE);
  m.compile({ optimizer: 'adam', loss: 'binary_crossentropy' });
  return m;
}

function batchOf(n: number, rng: Rng): { x: Tensor; y: Tensor } {
  const x = rand([n, SIZE, SIZE, 3], rng, 0.5).keep();
  const y = zeros([n]).keep();
  y.write(Array.from({ length: n }, (_, i) => i % 2));
  return { x, y };
}

/** Best-of-`reps` wall and CPU seconds of fn (after a warm-up call unless reps is 0). */
function timeBoth(fn: () => void, reps: number): { wall: number; cpu: number } {
  const once = (): { wall: number; cpu: number } => {
    const t = performance.now(), c = process.cpuUsage();
    fn();
    const u = process.cpuUsage(c);
    return { wall: (performance.now() - t) / 1000, cpu: (u.user + u.system) / 1e6 };
  };
  const first = once();
  if (reps === 0) return first;
  let wall = Infinity, cpu = Infinity;
  for (let r = 0; r < reps; r++) { const o = once(); wall = Math.min(wall, o.wall); cpu = Math.min(cpu, o.cpu); }
  return { wall, cpu };
}

function rssMb(): number { return process.memoryUsage().rss / (1 << 20); }

// ---- peers -----------------------------------------------------------------------------------

const LIB = (name: string): string => fileURLToPath(new URL(`../../lib/${name}`, import.meta.url));

function peerJson(cmd: string, args: string[], timeoutS: number): Record<string, unknown> | null {
  const r = spawnSync(cmd, args, { encoding: 'utf8', timeout: timeoutS * 1000, maxBuffer: 1 << 20 });
  const line = (r.stdout || '').trim().split('\n').pop();
  if (!line) return null;
  try { return JSON.parse(line) as Record<string, unknown>; } catch { return null; }
}

function pythonWithTorch(): string | null {
  for (const py of ['/usr/bin/python3', 'python3']) {
    if (py.startsWith('/') && !existsSync(py)) continue;
    const r = spawnSync(py, ['-c', 'import torch'], { timeout: 60000 });
    if (r.status === 0) return py;
  }
  return null;
}

/** numpy's SGEMM on 512^3, one thread (the `python3` first on PATH: pip numpy with OpenBLAS). */
function openblasGflops(reps: number): { gflops: number; config: string } | { error: string } {
  const env: NodeJS.ProcessEnv = { ...process.env, OPENBLAS_NUM_THREADS: '1', OMP_NUM_THREADS: '1', MKL_NUM_THREADS: '1' };
  // The machine's OpenBLAS settings are tuned for other jobs; this one measure runs with the library's own.
  delete env.OPENBLAS_CORETYPE; delete env.OPENBLAS_L2_SIZE;
  const code = [
    'import json, time, numpy as np',
    'n = 512; a = np.random.rand(n, n).astype(np.float32); b = np.random.rand(n, n).astype(np.float32)',
    'a @ b',
    'best = min((lambda t: (a @ b, time.perf_counter() - t)[1])(time.perf_counter()) for _ in range(' + reps + '))',
    'cfg = ""',
    'try:\n  import numpy.__config__ as c; info = c.CONFIG["Build Dependencies"]["blas"]; cfg = info.get("name", "") + " " + str(info.get("version", ""))\nexcept Exception: pass',
    'print(json.dumps({"gflops": 2 * n ** 3 / best / 1e9, "numpy": np.__version__, "blas": cfg}))',
  ].join('\n');
  const r = spawnSync('python3', ['-c', code], { encoding: 'utf8', timeout: 120000, env });
  const line = (r.stdout || '').trim().split('\n').pop();
  try {
    const j = JSON.parse(line ?? '') as { gflops: number; numpy: string; blas: string };
    return { gflops: j.gflops, config: `numpy ${j.numpy}, ${j.blas.trim() || 'BLAS unknown'}` };
  } catch {
    return { error: (r.stderr || r.error?.message || 'no output').trim().split('\n').pop()!.slice(0, 160) };
  }
}

/** Trains the notebook model at batch `n` on the current backend: best-of wall and CPU seconds. */
function trainRate(n: number, reps: number, rng: Rng): { wall: number; cpu: number; peak: number } {
  const model = notebookModel();
  const b = batchOf(n, rng);
  let peak = rssMb();
  const sampler = setInterval(() => { peak = Math.max(peak, rssMb()); }, 50);
  const t = timeBoth(() => { model.trainOnBatch(b.x, b.y); peak = Math.max(peak, rssMb()); }, reps);
  clearInterval(sampler);
  b.x.dispose(); b.y.dispose();
  model.dispose();
  return { ...t, peak };
}

export async function run(opts: Opts): Promise<Figures> {
  const { quick, log } = opts;
  const out: Figures = {};
  const main = backend();
  const threads = getThreads();
  out.backend = main.name;
  const isa = (main as { isa?: unknown }).isa;
  if (typeof isa === 'string') out.isa = isa;
  out.threads = threads;
  log(`backend ${main.name}${typeof isa === 'string' ? ` (${isa})` : ''}, ${threads} threads`);

  // GEMM 512^3.
  const g1 = gemm(1, quick ? 5 : 20);
  const gN = gemm(threads, quick ? 5 : 20);
  out.gemm_gflops_1t = round(g1.wall);
  out.gemm_gflops = round(gN.wall);
  out.gemm_speedup = round(gN.wall / g1.wall, 2);
  out.gemm_gflops_per_cpu_1t = round(g1.cpu);
  out.gemm_gflops_per_cpu = round(gN.cpu);
  log(`gemm 512^3: ${out.gemm_gflops_1t} GFLOP/s on 1 thread, ${out.gemm_gflops} on ${threads} (x${out.gemm_speedup}); ` +
    `per CPU-second ${out.gemm_gflops_per_cpu_1t} and ${out.gemm_gflops_per_cpu}`);
  // What one core's multiply-add units do today (native only): no GEMM can pass it.
  const peakOf = (main as { fmaPeak?: () => { wall: number; cpu: number; lanes: number } }).fmaPeak;
  if (typeof peakOf === 'function') {
    setThreads(1);
    const pk = peakOf.call(main);
    setThreads(threads);
    out.fma_peak_gflops_1t = round(pk.wall);
    out.gemm_vs_peak = round(g1.wall / pk.wall, 2);
    log(`fma peak, 1 thread (24 chains of ${pk.lanes}-lane multiply-adds): ${out.fma_peak_gflops_1t} GFLOP/s; the GEMM is ${out.gemm_vs_peak}x of it`);
  }
  const ob = openblasGflops(quick ? 5 : 20);
  if ('gflops' in ob) {
    out.openblas_gflops_1t = round(ob.gflops);
    out.openblas_config = ob.config;
    out.gemm_vs_openblas = round(g1.wall / ob.gflops, 2);
    log(`numpy sgemm 512^3 on 1 thread (${ob.config}): ${out.openblas_gflops_1t} GFLOP/s; convnet is ${out.gemm_vs_openblas}x`);
  } else {
    out.openblas_gflops_1t = null; out.gemm_vs_openblas = null;
    log(`numpy/OpenBLAS: not measured (${ob.error})`);
  }

  // Conv layers at batch 32 (quick: 8), forward and backward (input + filter gradients).
  const cb = quick ? 8 : 32;
  const rng = new Rng(7);
  convLayers().forEach((p0, i) => {
    const p = { ...p0, batch: cb };
    scope(() => {
      const x = rand([cb, p.inH, p.inW, p.inC], rng), w = rand([3, 3, p.inC, p.outC], rng, 0.1), b = zeros([p.outC]);
      const y = zeros([cb, p.outH, p.outW, p.outC]), dx = zeros(x.shape as number[]), dw = zeros(w.shape as number[]);
      const flops = 2 * cb * p.outH * p.outW * p.outC * 9 * p.inC;
      const tf = timeIt(() => backend().conv2d(x, w, b, y, p), quick ? 1 : 3);
      const tb = timeIt(() => { backend().conv2dGradInput(y, w, dx, p); backend().conv2dGradFilter(x, y, dw, p); }, quick ? 1 : 3);
      out[`conv${i + 1}_fwd_gflops`] = round(flops / tf / 1e9);
      out[`conv${i + 1}_bwd_gflops`] = round(2 * flops / tb / 1e9);
      log(`conv${i + 1} ${p.inH}x${p.inW}x${p.inC}->${p.outC} batch ${cb}: forward ${round(flops / tf / 1e9)} GFLOP/s, backward ${round(2 * flops / tb / 1e9)} GFLOP/s`);
    });
  });

  // Training and prediction of the notebook model (Sequential, trainOnBatch / predictOnBatch).
  const model = notebookModel();
  const drng = new Rng(3);
  const b32 = batchOf(32, drng);
  const t32 = timeBoth(() => { model.trainOnBatch(b32.x, b32.y); }, quick ? 1 : 3);
  out.train_img_s_b32 = round(32 / t32.wall, 2);
  out.train_img_per_cpu_s_b32 = round(32 / t32.cpu, 2);
  log(`train batch 32: ${out.train_img_s_b32} images/s, ${out.train_img_per_cpu_s_b32} images per CPU-second`);
  const tp = timeBoth(() => { model.predictOnBatch(b32.x).dispose(); }, quick ? 1 : 5);
  out.predict_img_s = round(32 / tp.wall, 2);
  out.predict_img_per_cpu_s = round(32 / tp.cpu, 2);
  log(`predict batch 32: ${out.predict_img_s} images/s, ${out.predict_img_per_cpu_s} images per CPU-second`);
  b32.x.dispose(); b32.y.dispose();
  // The same model in ONNX, for ONNX Runtime below.
  const onnxDir = mkdtempSync(join(tmpdir(), 'convnet-bench-'));
  const onnxPath = join(onnxDir, 'notebook.onnx');
  let onnxError: string | null = null;
  try { await model.save(onnxPath); } catch (e) { onnxError = e instanceof Error ? e.message : String(e); }
  model.dispose();
  const t128 = trainRate(128, quick ? 0 : 2, drng);
  const maxRss = process.resourceUsage().maxRSS / 1024;
  out.train_img_s = round(128 / t128.wall, 2);
  out.train_img_per_cpu_s = round(128 / t128.cpu, 2);
  out.peak_rss_mb = Math.round(Math.max(t128.peak, maxRss));
  log(`train batch 128: ${out.train_img_s} images/s, ${out.train_img_per_cpu_s} images per CPU-second, peak RSS ${out.peak_rss_mb} MB`);

  // The wasm backend on the same model and batch, in the same run.
  if (main.name === 'wasm') {
    out.wasm_train_img_s = out.train_img_s;
    out.train_vs_wasm = 1;
  } else if (wasmAvailable()) {
    setBackend('wasm');
    setThreads(threads);
    const tw = trainRate(128, quick ? 0 : 1, drng);
    setBackend(main);
    out.wasm_train_img_s = round(128 / tw.wall, 2);
    out.wasm_train_img_per_cpu_s = round(128 / tw.cpu, 2);
    out.train_vs_wasm = round((out.train_img_s as number) / (out.wasm_train_img_s as number), 2);
    out.train_vs_wasm_per_cpu = round((out.train_img_per_cpu_s as number) / (out.wasm_train_img_per_cpu_s as number), 2);
    log(`wasm backend, train batch 128: ${out.wasm_train_img_s} images/s, ${out.wasm_train_img_per_cpu_s} per CPU-second; ` +
      `${main.name} is ${out.train_vs_wasm}x wall, ${out.train_vs_wasm_per_cpu}x per CPU-second`);
  } else {
    out.wasm_train_img_s = null; out.train_vs_wasm = null;
    log('wasm backend: not measured (build/kernels.wasm is missing)');
  }

  // ONNX Runtime predicting the same model (onnxruntime-node if installed, or in $CONVNET_BENCH_PEERS, else
  // onnxruntime-web in Node; the figure says which).
  if (onnxError) {
    out.ort_predict_img_s = null; out.predict_vs_ort = null;
    log(`onnx runtime: not measured (export failed: ${onnxError})`);
  } else {
    const r = peerJson(process.execPath, [LIB('bench-ort.mjs'), onnxPath, '32', quick ? '2' : '5', String(threads)], quick ? 120 : 300);
    if (r && typeof r.img_s === 'number') {
      out.ort_predict_img_s = round(r.img_s, 2);
      out.ort_runtime = `${r.runtime}${r.version ? ' ' + r.version : ''}`;
      out.predict_vs_ort = round((out.predict_img_s as number) / r.img_s, 2);
      if (typeof r.img_per_cpu_s === 'number') {
        out.ort_predict_img_per_cpu_s = round(r.img_per_cpu_s, 2);
        out.predict_vs_ort_per_cpu = round((out.predict_img_per_cpu_s as number) / r.img_per_cpu_s, 2);
      }
      log(`onnx runtime (${out.ort_runtime}) predict batch 32: ${out.ort_predict_img_s} images/s, ${out.ort_predict_img_per_cpu_s ?? '-'} per CPU-second; ` +
        `convnet is ${out.predict_vs_ort}x wall, ${out.predict_vs_ort_per_cpu ?? '-'}x per CPU-second`);
    } else {
      out.ort_predict_img_s = null; out.predict_vs_ort = null;
      const err = String(r?.error ?? 'timed out');
      log(`onnx runtime: not measured (${/Cannot find (package|module)/.test(err) ? 'npm run bench:peers' : err})`);
    }
  }
  rmSync(onnxDir, { recursive: true, force: true });

  // TF.js, pure-JS CPU backend: one image per step; --quick times a 30x30 image and scales by pixels.
  const tfSize = quick ? 30 : SIZE;
  const tfj = peerJson(process.execPath, [LIB('bench-tfjs.mjs'), '1', String(tfSize), quick ? '15' : '400'], quick ? 60 : 600);
  if (tfj && typeof tfj.img_s === 'number') {
    const v = tfj.img_s * (tfSize / SIZE) ** 2;
    out.tfjs_train_img_s = round(v, 4);
    out.tfjs_method = quick ? `batch 1 at ${tfSize}x${tfSize}, scaled by pixels` : 'batch 1 at 150x150';
    out.train_vs_tfjs = round(out.train_img_s / v, 0);
    log(`tfjs (cpu backend) train: ${round(v, 4)} images/s (${out.tfjs_method}); convnet is ${out.train_vs_tfjs}x`);
  } else {
    out.tfjs_train_img_s = null; out.train_vs_tfjs = null;
    const err = String(tfj?.error ?? 'timed out');
    log(`tfjs: not measured (${/Cannot find (package|module)/.test(err) ? 'npm run bench:peers' : err})`);
  }

  // PyTorch (CPU, same thread count) when importable.
  const py = pythonWithTorch();
  if (py) {
    const tb = quick ? 8 : 128, steps = quick ? 1 : 2; // best of `steps` after a warm-up step
    const r = peerJson(py, [LIB('bench-torch.py'), String(tb), String(steps), String(threads)], quick ? 60 : 300);
    if (r && typeof r.img_s === 'number') {
      out.torch_train_img_s = round(r.img_s, 2);
      out.torch_batch = tb;
      out.train_vs_torch = round((out.train_img_s as number) / r.img_s, 2);
      if (typeof r.img_per_cpu_s === 'number') {
        out.torch_train_img_per_cpu_s = round(r.img_per_cpu_s, 2);
        out.train_vs_torch_per_cpu = round((out.train_img_per_cpu_s as number) / r.img_per_cpu_s, 2);
      }
      log(`pytorch ${r.torch} train batch ${tb}: ${round(r.img_s, 2)} images/s, ${out.torch_train_img_per_cpu_s ?? '-'} per CPU-second; ` +
        `convnet (batch 128) is ${out.train_vs_torch}x wall, ${out.train_vs_torch_per_cpu ?? '-'}x per CPU-second`);
    } else {
      out.torch_train_img_s = null; out.train_vs_torch = null;
      log(`pytorch: not measured (${r?.error ?? 'timed out'})`);
    }
  } else {
    out.torch_train_img_s = null; out.train_vs_torch = null;
    log('pytorch: not measured (import torch failed)');
  }
  return out;
}
