/**
 * Tensor storage in the shared WebAssembly heap: the `BackendStorage` half of the reference, wasm
 * and native backends (they all compute on heap addresses, so their tensors are interchangeable).
 *
 * A handle is the heap address of a block from `heap().alloc`; a tensor's `offset` is that address
 * plus its byte offset, which the kernels use directly (zero copy). The host-side reads, writes and
 * data-movement ops here are the only code outside the kernels that touches tensor memory.
 */
import type { BackendStorage, DataId, ResizeAxis, FillMode, ImageInterpolation, NdModeCode } from './backend.js';
import { correlateInto } from './heap-ndimage.js';
import * as img from './heap-images.js';
import type { Tensor } from '../tensor/tensor.js';
import { type TypedArray, typedView } from '../tensor/dtype.js';
import { heap } from '../tensor/heap.js';
import type { Rng } from '../tensor/random.js';

/** A live view of a heap-stored tensor's elements (do not hold it across allocations: the heap may grow). */
export function heapView(t: Tensor): TypedArray {
  if (t.offset < 0) throw new Error(`convnet: internal error: tensor ${t} is not stored in the WebAssembly heap (storage '${t.store.storage}')`);
  return typedView(heap().memory.buffer, t.dtype, t.offset, t.size);
}

export abstract class HeapStorage implements BackendStorage {
  readonly storage: string = 'heap';

  /** Converts x into out's dtype (the backend's cast kernel). */
  abstract cast(x: Tensor, out: Tensor): void;

  alloc(bytes: number): DataId { return heap().alloc(bytes); }
  release(id: DataId): void { heap().release(id as number); }

  write(t: Tensor, values: ArrayLike<number>, at = 0): void {
    t.assertLive('write');
    if (!(Number.isInteger(at) && at >= 0 && at + values.length <= t.size)) {
      throw new RangeError(`convnet: write: ${values.length} values at element ${at} do not fit a tensor of ${t.size} elements`);
    }
    heapView(t).set(values, at);
  }

  readSync(t: Tensor): TypedArray {
    t.assertLive('dataSync');
    return heapView(t).slice();
  }

  async read(t: Tensor): Promise<TypedArray> { return this.readSync(t); }

  fill(t: Tensor, value: number): void {
    t.assertLive('fill');
    heapView(t).fill(value);
  }

  copy(src: Tensor, dst: Tensor): void {
    src.assertLive('copy'); dst.assertLive('copy');
    if (src.size !== dst.size) throw new RangeError(`convnet: internal error: copy of ${src.size} elements into ${dst.size}`);
    if (src.dtype === dst.dtype) heapView(dst).set(heapView(src));
    else this.cast(src, dst);
  }

  gatherRows(x: Tensor, indices: ArrayLike<number>, out: Tensor, rowSize: number): void {
    const xv = heapView(x), yv = heapView(out);
    for (let i = 0; i < indices.length; i++) {
      const r = indices[i];
      yv.set(xv.subarray(r * rowSize, (r + 1) * rowSize), i * rowSize);
    }
  }

  concat(xs: Tensor[], out: Tensor, outer: number): void {
    const yv = heapView(out);
    const total = out.size / Math.max(outer, 1);
    let off = 0;
    for (const t of xs) {
      const tv = heapView(t), w = t.size / Math.max(outer, 1);
      for (let o = 0; o < outer; o++) yv.set(tv.subarray(o * w, (o + 1) * w), o * total + off);
      off += w;
    }
  }

  sliceColumns(x: Tensor, out: Tensor, outer: number, start: number): void {
    const xv = heapView(x), yv = heapView(out);
    const total = x.size / Math.max(outer, 1), w = out.size / Math.max(outer, 1);
    for (let o = 0; o < outer; o++) yv.set(xv.subarray(o * total + start, o * total + start + w), o * w);
  }

  randomMask(out: Tensor, rate: number, scale: number, rng: Rng): void {
    const mv = heapView(out);
    for (let i = 0; i < mv.length; i++) mv[i] = rng.random() >= rate ? scale : 0;
  }

  shift2d(x: Tensor, out: Tensor, top: number, left: number): void {
    const [n, h, w, c] = x.shape, [, oh, ow] = out.shape;
    img.shift2d(heapView(x) as Float32Array, heapView(out) as Float32Array, n, h, w, c, oh, ow, top, left);
  }
  upsample2d(x: Tensor, out: Tensor, sh: number, sw: number): void {
    const [n, h, w, c] = x.shape;
    img.upsample2d(heapView(x) as Float32Array, heapView(out) as Float32Array, n, h, w, c, sh, sw);
  }
  upsample2dGrad(dy: Tensor, dx: Tensor, sh: number, sw: number): void {
    const [n, h, w, c] = dx.shape;
    img.upsample2dGrad(heapView(dy) as Float32Array, heapView(dx) as Float32Array, n, h, w, c, sh, sw);
  }
  resize2d(x: Tensor, out: Tensor, ty: ResizeAxis, tx: ResizeAxis): void {
    const [n, h, w, c] = x.shape;
    img.resize2d(heapView(x) as Float32Array, heapView(out) as Float32Array, n, h, w, c, ty, tx);
  }
  resize2dGrad(dy: Tensor, dx: Tensor, ty: ResizeAxis, tx: ResizeAxis): void {
    const [n, h, w, c] = dx.shape;
    img.resize2dGrad(heapView(dy) as Float32Array, heapView(dx) as Float32Array, n, h, w, c, ty, tx);
  }
  flip2d(x: Tensor, out: Tensor, flags: ArrayLike<number>): void {
    const [n, h, w, c] = x.shape;
    img.flip2d(heapView(x) as Float32Array, heapView(out) as Float32Array, n, h, w, c, flags);
  }
  affine2d(x: Tensor, out: Tensor, transforms: readonly ArrayLike<number>[], fillMode: FillMode, interpolation: ImageInterpolation, fillValue: number): void {
    const [n, h, w, c] = x.shape;
    const src = heapView(x) as Float32Array, dst = heapView(out) as Float32Array;
    for (let i = 0; i < n; i++) img.affine(src, dst, i, h, w, c, transforms[i], fillMode, interpolation, fillValue);
  }

  correlate(input: Tensor, weights: Float64Array, wshape: number[], origins: number[], mode: NdModeCode, cval: number, out: Tensor): void {
    correlateInto(input, weights, wshape, origins, mode, cval, out);
  }
}
