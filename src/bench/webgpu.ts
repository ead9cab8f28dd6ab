/**
 * webgpu bench section: the notebook model's training and prediction images/s at 150x150 on the
 * WebGPU adapter Node finds through the optional `webgpu` package (Dawn; `npm i webgpu`). Without
 * an adapter the section reports why in one figure and takes no time. The same figures in a
 * browser: test/webgpu/bench-page.ts.
 */
import { benchWebGPU } from '../backend/webgpu/bench.js';

export async function run(opts: { quick: boolean; log: (line: string) => void }): Promise<Record<string, number | string | null>> {
  const r = await benchWebGPU({ batch: opts.quick ? 16 : 128, size: 150, steps: opts.quick ? 1 : 3, log: opts.log });
  if ('error' in r) {
    opts.log(`webgpu: skipped: ${r.error}`);
    return { webgpu: `unavailable: ${r.error}` };
  }
  return {
    adapter: r.adapter, batch: r.batch, train_img_s: Math.round(r.train_img_s * 10) / 10,
    predict_img_s: Math.round(r.predict_img_s * 10) / 10, train_step_ms: Math.round(r.train_step_ms),
  };
}
