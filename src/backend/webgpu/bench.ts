/**
 * Figures of the webgpu backend on the notebook's model (the course network: 4 conv blocks
 * 32-64-128-64, Dense 128, Dense 1; 830,849 parameters at 150x150x3): training and prediction
 * images/s. Browser-safe (no Node modules): the bench page (test/webgpu/bench-page.ts) and
 * `convnet bench --backend webgpu` both call `benchWebGPU`.
 *
 * A training step is the front end's forward, backward and Adam update on GPU-resident tensors,
 * then one asynchronous read of the loss (what fit does per step); prediction is a forward pass
 * and a read of the outputs. Best of `steps` timed steps after one warm-up step (which compiles the
 * pipelines). Images are synthetic: this measures the engine, not the input pipeline.
 */
import { tensor, setSeed, startScope, endScope, type Tensor } from '../../tensor/index.js';
import { setBackend, backend } from '../index.js';
import { layers } from '../../layers/index.js';
import { Sequential } from '../../models/index.js';
import { BinaryCrossentropy } from '../../models/losses.js';
import { Adam } from '../../optimizers/index.js';
import { valueAndGrad, noGrad } from '../../autograd/index.js';
import { initWebGPU, webgpuUnavailableReason } from './index.js';

export interface WebGPUBenchResult {
  adapter: string;
  batch: number;
  size: number;
  train_step_ms: number;
  train_img_s: number;
  predict_img_s: number;
  first_loss: number;
}

/** The notebook's model (as src/notebook/model.ts builds it from NOTEBOOK_CONFIG). */
export function notebookModel(size = 150): Sequential {
  const m = new Sequential();
  [32, 64, 128, 64].forEach((f, i) => {
    m.add(new layers.Conv2D(f, [3, 3], { activation: 'relu', padding: 'same', ...(i === 0 ? { inputShape: [size, size, 3] } : {}) }));
    m.add(new layers.MaxPooling2D([2, 2]));
  });
  m.add(new layers.Flatten());
  m.add(new layers.Dropout(0.5, { seed: 1 }));
  m.add(new layers.Dense(128, { activation: 'relu' }));
  m.add(new layers.Dense(1, { activation: 'sigmoid' }));
  m.compile({ optimizer: new Adam({ learningRate: 0.001 }), loss: 'binary_crossentropy' });
  return m;
}

/** Runs the figures on webgpu (then restores the backend that was in use); null with the reason when no adapter. */
export async function benchWebGPU(opts: { batch?: number; size?: number; steps?: number; log?: (l: string) => void } = {}):
  Promise<WebGPUBenchResult | { error: string }> {
  const g = await initWebGPU();
  if (!g) return { error: webgpuUnavailableReason() };
  const B = opts.batch ?? 128, S = opts.size ?? 150, steps = opts.steps ?? 3;
  const log = opts.log ?? (() => {});
  const before = backend();
  setBackend(g);
  try {
    setSeed(1);
    const model = notebookModel(S);
    const xv = new Float32Array(B * S * S * 3);
    for (let i = 0; i < xv.length; i++) xv[i] = ((i * 2654435761) >>> 0) / 4294967296;
    const x = tensor(xv, [B, S, S, 3]).keep(), y = tensor(Array.from({ length: B }, (_, i) => i % 2), [B, 1]).keep();
    const loss = new BinaryCrossentropy();
    noGrad(() => { startScope(); model.apply(x); endScope(undefined); });
    const vars = model.trainableWeights;
    const trainStep = async (): Promise<number> => {
      startScope();
      const { value, grads } = valueAndGrad(() => loss.call(y, model.apply(x, { training: true }) as Tensor), vars.map((v) => v.value));
      model.optimizer!.applyGradients(grads, vars);
      const l = (await value.data())[0];
      endScope(undefined);
      return l;
    };
    const predictStep = async (): Promise<void> => {
      startScope();
      const out = noGrad(() => model.apply(x) as Tensor);
      await out.data();
      endScope(undefined);
    };
    let t = performance.now();
    const first = await trainStep();
    log(`webgpu: warm-up training step (compiles the pipelines) ${(performance.now() - t).toFixed(0)} ms, loss ${first.toFixed(4)}`);
    let best = Infinity;
    for (let i = 0; i < steps; i++) { t = performance.now(); await trainStep(); best = Math.min(best, performance.now() - t); }
    await predictStep();
    let bestP = Infinity;
    for (let i = 0; i < steps; i++) { t = performance.now(); await predictStep(); bestP = Math.min(bestP, performance.now() - t); }
    x.dispose(); y.dispose();
    const r = {
      adapter: g.adapterName, batch: B, size: S, train_step_ms: best, train_img_s: (B / best) * 1000,
      predict_img_s: (B / bestP) * 1000, first_loss: first,
    };
    log(`webgpu (${r.adapter}): notebook model ${S}x${S} batch ${B}: training ${r.train_img_s.toFixed(1)} images/s (${best.toFixed(0)} ms/step), prediction ${r.predict_img_s.toFixed(1)} images/s`);
    return r;
  } finally {
    setBackend(before);
  }
}
