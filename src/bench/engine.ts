/**
 * Engine bench section: GEMM, the notebook model's conv layers, and its training step and
 * prediction on the WebAssembly backend, beside TF.js (pure JS) and PyTorch in the same run.
 *
 * The training step is composed directly from ops + autograd (conv2d/maxPool2d/dense/dropout,
 * binary cross-entropy, Adam kernels), so it measures the engine, not the training loop.
 */
import { spawnSync } from 'node:child_process';
import { existsSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { Tensor, tensor, zeros, scope, Rng } from '../tensor/index.js';
import { backend, setBackend, getThreads, setThreads } from '../backend/index.js';
import type { Conv2DParams } from '../backend/backend.js';
import { conv2d, maxPool2d, dense, dropout, clip, log, mul, sub, add, mean, neg } from '../ops/index.js';
import { valueAndGrad, noGrad } from '../autograd/index.js';

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

function gemm(threads: number, reps: number): number {
  setThreads(threads);
  const n = 512, rng = new Rng(1);
  return scope(() => {
    const a = rand([n, n], rng), b = rand([n, n], rng), c = zeros([n, n]);
    const p = { m: n, n, k: n, transA: false, transB: false, accumulate: false };
    const s = timeIt(() => backend().matmul(a, b, c, p), reps);
    return (2 * n ** 3) / s / 1e9;
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

// ---- the notebook model, composed from ops -------------------------------------------------

interface Model { params: Tensor[]; m: Tensor[]; v: Tensor[]; step: number }

function makeModel(seed: number): Model {
  const rng = new Rng(seed);
  const params: Tensor[] = [];
  let c = 3;
  for (const f of FILTERS) {
    params.push(rand([3, 3, c, f], rng, Math.sqrt(6 / (9 * c))).keep(), zeros([f]).keep());
    c = f;
  }
  const flat = 9 * 9 * 64;
  params.push(rand([flat, 128], rng, Math.sqrt(6 / (flat + 128))).keep(), zeros([128]).keep());
  params.push(rand([128, 1], rng, Math.sqrt(6 / 129)).keep(), zeros([1]).keep());
  return { params, m: params.map((p) => zeros(p.shape as number[]).keep()), v: params.map((p) => zeros(p.shape as number[]).keep()), step: 0 };
}

function flatten(x: Tensor): Tensor {
  return x.reshape([x.shape[0], x.size / x.shape[0]]);
}

function forward(model: Model, x: Tensor, training: boolean, rng: Rng): Tensor {
  const P = model.params;
  let h = x;
  for (let i = 0; i < 4; i++) {
    h = conv2d(h, P[2 * i], { bias: P[2 * i + 1], padding: 'same', activation: 'relu' });
    h = maxPool2d(h, { poolSize: 2 });
  }
  h = flatten(h);
  if (training) h = dropout(h, 0.5, rng);
  h = dense(h, P[8], P[9], 'relu');
  return dense(h, P[10], P[11], 'sigmoid');
}

function bce(p: Tensor, y: Tensor): Tensor {
  const pc = clip(p, 1e-7, 1 - 1e-7);
  return neg(mean(add(mul(y, log(pc)), mul(sub(1, y), log(sub(1, pc))))));
}

/** One training step: forward, backward, Adam update. Every intermediate is freed by the scope. */
function trainStep(model: Model, x: Tensor, y: Tensor, rng: Rng): void {
  scope(() => {
    const { grads } = valueAndGrad(() => bce(forward(model, x, true, rng), y), model.params);
    model.step++;
    noGrad(() => {
      for (let i = 0; i < model.params.length; i++) {
        backend().adamUpdate(model.params[i], grads[i], model.m[i], model.v[i], null,
          { lr: 1e-3, beta1: 0.9, beta2: 0.999, epsilon: 1e-7, step: model.step, weightDecay: 0, amsgrad: false });
      }
    });
  });
}

function batchOf(n: number, rng: Rng): { x: Tensor; y: Tensor } {
  const x = rand([n, SIZE, SIZE, 3], rng, 0.5).keep();
  const y = zeros([n, 1]).keep();
  const yv = y.f32();
  for (let i = 0; i < n; i++) yv[i] = i % 2;
  return { x, y };
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

export async function run(opts: Opts): Promise<Figures> {
  const { quick, log } = opts;
  const out: Figures = {};
  const prevBackend = backend();
  setBackend('wasm');
  const threads = getThreads();
  out.backend = backend().name;
  out.threads = threads;

  // GEMM 512^3.
  const g1 = gemm(1, quick ? 5 : 20);
  const gN = gemm(threads, quick ? 5 : 20);
  out.gemm_gflops_1t = round(g1);
  out.gemm_gflops = round(gN);
  out.gemm_speedup = round(gN / g1, 2);
  log(`gemm 512^3: ${round(g1)} GFLOP/s on 1 thread, ${round(gN)} on ${threads} (x${round(gN / g1, 2)})`);

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

  // Training and prediction of the notebook model.
  const model = makeModel(1);
  const drng = new Rng(3);
  const b32 = batchOf(32, drng);
  const t32 = timeIt(() => trainStep(model, b32.x, b32.y, drng), quick ? 1 : 3);
  out.train_img_s_b32 = round(32 / t32, 2);
  log(`train batch 32: ${round(32 / t32, 2)} images/s`);
  const tp = timeIt(() => scope(() => noGrad(() => forward(model, b32.x, false, drng).dataSync())), quick ? 1 : 3);
  out.predict_img_s = round(32 / tp, 2);
  log(`predict batch 32: ${round(32 / tp, 2)} images/s`);
  b32.x.dispose(); b32.y.dispose();
  const b128 = batchOf(128, drng);
  let peak = rssMb();
  const sampler = setInterval(() => { peak = Math.max(peak, rssMb()); }, 50);
  const t128 = timeIt(() => { trainStep(model, b128.x, b128.y, drng); peak = Math.max(peak, rssMb()); }, quick ? 0 : 2);
  clearInterval(sampler);
  const maxRss = process.resourceUsage().maxRSS / 1024;
  out.train_img_s = round(128 / t128, 2);
  out.peak_rss_mb = Math.round(Math.max(peak, maxRss));
  log(`train batch 128: ${round(128 / t128, 2)} images/s, peak RSS ${out.peak_rss_mb} MB`);
  b128.x.dispose(); b128.y.dispose();
  for (const t of [...model.params, ...model.m, ...model.v]) t.dispose();
  setBackend(prevBackend);

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
    log(`tfjs: not measured (${tfj?.error ?? 'timed out'})`);
  }

  // PyTorch (CPU, same thread count) when importable.
  const py = pythonWithTorch();
  if (py) {
    const tb = quick ? 8 : 32, steps = quick ? 1 : 3;
    const r = peerJson(py, [LIB('bench-torch.py'), String(tb), String(steps), String(threads)], quick ? 60 : 300);
    if (r && typeof r.img_s === 'number') {
      out.torch_train_img_s = round(r.img_s, 2);
      out.torch_batch = tb;
      out.train_vs_torch = round((out.train_img_s as number) / r.img_s, 2);
      log(`pytorch ${r.torch} train batch ${tb}: ${round(r.img_s, 2)} images/s; convnet (batch 128) is ${out.train_vs_torch}x`);
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
