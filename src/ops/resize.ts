/**
 * Image resizing over [N, H, W, C] as Keras's Resizing layer does it on TensorFlow
 * (`tf.image.resize`, antialias off): half-pixel centres for both 'bilinear' and 'nearest', and
 * an optional centred crop to the target aspect ratio first. Separable per-axis index tables,
 * computed in the front end; the loops are short (preprocessing, a few images at a time).
 */
import { Tensor, fmtShape } from '../tensor/tensor.js';
import { record } from '../autograd/tape.js';
import type { ResizeAxis } from '../backend/backend.js';
import { B, assertFloat, assertRank, out } from './util.js';

export type Interpolation = 'bilinear' | 'nearest';

export interface ResizeOptions {
  interpolation?: Interpolation;
  /** Crop the centre of each image to the target aspect ratio before resizing (no distortion). */
  cropToAspectRatio?: boolean;
}

/** One axis: for each output index, the two source indices and the weight of the second. */
type AxisTable = ResizeAxis;

function axisTable(inLen: number, outLen: number, start: number, interp: Interpolation): AxisTable {
  const lo = new Int32Array(outLen), hi = new Int32Array(outLen), w = new Float32Array(outLen);
  const scale = Math.fround(inLen / outLen);
  for (let i = 0; i < outLen; i++) {
    if (interp === 'nearest') {
      const s = Math.min(Math.floor(Math.fround((i + 0.5) * scale)), inLen - 1);
      lo[i] = hi[i] = start + Math.max(s, 0);
    } else {
      const src = Math.fround(Math.fround((i + 0.5) * scale) - 0.5);
      const f = Math.floor(src);
      lo[i] = start + Math.max(f, 0);
      hi[i] = start + Math.min(Math.ceil(src), inLen - 1);
      w[i] = src - f;
    }
  }
  return { lo, hi, w };
}

/** Keras's centred crop box [start, size] of each axis for `crop_to_aspect_ratio`. */
export function aspectCrop(H: number, W: number, th: number, tw: number): { y0: number; h: number; x0: number; w: number } {
  const h = Math.max(Math.min(H, Math.trunc(Math.fround(Math.fround(W * th) / tw))), 1);
  const w = Math.max(Math.min(W, Math.trunc(Math.fround(Math.fround(H * tw) / th))), 1);
  return { y0: Math.trunc((H - h) / 2), h, x0: Math.trunc((W - w) / 2), w };
}

/** Resizes images x [N, H, W, C] to [N, height, width, C]. Differentiable with respect to x. */
export function resize(x: Tensor, size: [number, number], opts: ResizeOptions = {}): Tensor {
  const op = 'resize';
  assertFloat(x, op); assertRank(x, 4, op, 'x', '[batch, height, width, channels]');
  const [th, tw] = size;
  if (!(Number.isInteger(th) && th > 0 && Number.isInteger(tw) && tw > 0)) throw new RangeError(`convnet: ${op}: size must be two positive integers [height, width], got ${JSON.stringify(size)}`);
  const interp = opts.interpolation ?? 'bilinear';
  if (interp !== 'bilinear' && interp !== 'nearest') throw new RangeError(`convnet: ${op}: interpolation must be 'bilinear' or 'nearest', got ${JSON.stringify(interp)}`);
  const [N, H, W, C] = x.shape;
  if (H === 0 || W === 0) throw new RangeError(`convnet: ${op}: cannot resize an empty image ${fmtShape(x.shape)}`);
  const box = opts.cropToAspectRatio ? aspectCrop(H, W, th, tw) : { y0: 0, h: H, x0: 0, w: W };
  const ty = axisTable(box.h, th, box.y0, interp), tx = axisTable(box.w, tw, box.x0, interp);
  const y = out([N, th, tw, C]);
  B().resize2d(x, y, ty, tx);
  record(op, [x], y, (dy) => {
    const dx = out(x.shape);
    B().resize2dGrad(dy, dx, ty, tx);
    return [dx];
  });
  return y;
}
