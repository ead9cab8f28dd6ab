/**
 * Models bench section: the notebook's model (150x150x3, 830,849 parameters) training and
 * predicting, and what the training loop adds over the bare step (fit over in-memory tensors
 * versus the same number of trainOnBatch calls).
 */
import { tensor, setSeed, type Tensor } from '../tensor/index.js';
import { getThreads } from '../backend/index.js';
import { clearSession } from '../layers/index.js';
import type { Sequential } from '../models/index.js';
import { modelFromConfig } from '../notebook/model.js';
import { NOTEBOOK_CONFIG } from '../notebook/space.js';

function notebookModel(): Sequential {
  clearSession();
  return modelFromConfig(NOTEBOOK_CONFIG, 150);
}

function batch(n: number): { x: Tensor; y: Tensor } {
  const x = new Float32Array(n * 150 * 150 * 3);
  for (let i = 0; i < x.length; i++) x[i] = ((i * 2654435761) >>> 0) / 4294967296;
  return { x: tensor(x, [n, 150, 150, 3]), y: tensor(Array.from({ length: n }, (_, i) => i % 2), [n]) };
}

export async function run(opts: { quick: boolean; log: (line: string) => void }): Promise<Record<string, number | string | null>> {
  setSeed(0);
  const B = opts.quick ? 16 : 128;
  const steps = opts.quick ? 2 : 3;
  const model = notebookModel();
  model.compile({ optimizer: 'adam', loss: 'binary_crossentropy', metrics: ['accuracy'] });
  const { x, y } = batch(B);
  model.trainOnBatch(x, y); // warm-up: builds the optimizer state, grows the heap
  let t = performance.now();
  for (let i = 0; i < steps; i++) model.trainOnBatch(x, y);
  const stepMs = (performance.now() - t) / steps;
  opts.log(`notebook model train step, batch ${B}: ${stepMs.toFixed(0)} ms (${(B / stepMs * 1000).toFixed(1)} images/s, ${getThreads()} threads)`);

  const xs = tensor(new Float32Array(B * steps * 150 * 150 * 3), [B * steps, 150, 150, 3]);
  const ys = tensor(new Float32Array(B * steps), [B * steps]);
  t = performance.now();
  await model.fit({ x: xs, y: ys, batchSize: B, shuffle: true }, { epochs: 1, verbose: 0 });
  const fitMs = (performance.now() - t) / steps;
  opts.log(`fit over tensors (shuffled), batch ${B}: ${fitMs.toFixed(0)} ms/step (${((fitMs / stepMs - 1) * 100).toFixed(1)}% over trainOnBatch)`);

  t = performance.now();
  await model.predict(xs, { batchSize: B, verbose: 0 });
  const predImgS = (B * steps) / ((performance.now() - t) / 1000);
  opts.log(`predict: ${predImgS.toFixed(1)} images/s`);
  model.dispose();
  return {
    train_batch: B, train_step_ms: Math.round(stepMs), train_img_s: Number((B / stepMs * 1000).toFixed(1)),
    fit_step_ms: Math.round(fitMs), fit_overhead_pct: Number(((fitMs / stepMs - 1) * 100).toFixed(1)),
    predict_img_s: Number(predImgS.toFixed(1)), threads: getThreads(),
  };
}
