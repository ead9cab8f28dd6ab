/** Preprocessing layers: Rescaling (x · scale + offset, e.g. `new Rescaling(1 / 255)`), Resizing, Normalization. */
import { Tensor, tensor, zeros, scope } from '../tensor/index.js';
import { add, mul, sub, div, sqrt, square, maximum, resize, cast, mean as meanOp } from '../ops/index.js';
import type { BatchIterator } from '../data/types.js';
import { Layer, Variable, layerOptions, positional, registerLayer, type LayerArgs, type Shape } from './layer.js';
import { checkNumber, oneOf } from './config.js';
import { getInitializer } from './initializers.js';

/** A number, or (per channel, as Keras allows) a list or nested list broadcast against the input's trailing axes. */
export type RescalingValue = number | number[] | number[][] | number[][][];
export interface RescalingArgs extends LayerArgs { scale?: RescalingValue; offset?: RescalingValue }

/**
 * A Rescaling `scale` or `offset` as a shape and float32 values: a number, a (nested) list, or the
 * `{ class_name: '__numpy__', config: { value } }` dict Keras 3 writes for a NumPy array.
 * Shared with the ONNX exporter.
 */
export function rescalingArray(v: unknown, what: string, where: string): { shape: number[]; data: Float32Array; value: RescalingValue } {
  if (v && typeof v === 'object' && !Array.isArray(v) && (v as { class_name?: unknown }).class_name === '__numpy__') {
    v = (v as { config?: { value?: unknown } }).config?.value;
  }
  if (typeof v === 'number') {
    checkNumber(v, what, where);
    return { shape: [], data: new Float32Array([v]), value: v };
  }
  const shape: number[] = [];
  for (let e: unknown = v; Array.isArray(e); e = e[0]) shape.push(e.length);
  const flat: number[] = [];
  const walk = (e: unknown, d: number): boolean => {
    if (d === shape.length) { if (typeof e !== 'number' || !Number.isFinite(e)) return false; flat.push(e); return true; }
    return Array.isArray(e) && e.length === shape[d] && e.every((x) => walk(x, d + 1));
  };
  if (!Array.isArray(v) || shape.length > 3 || shape.includes(0) || !walk(v, 0)) {
    throw new RangeError(`convnet: ${where}: ${what} must be a number or a non-empty list of numbers (one per channel), got ${JSON.stringify(v)}`);
  }
  return { shape, data: Float32Array.from(flat), value: v as RescalingValue };
}

/** x · scale + offset; `scale` and `offset` are numbers or per-channel lists (broadcast as NumPy does). */
export class Rescaling extends Layer {
  static readonly className = 'Rescaling';
  readonly scale: RescalingValue; readonly offset: RescalingValue;
  private readonly scaleArr: { shape: number[]; data: Float32Array; value: RescalingValue };
  private readonly offsetArr: { shape: number[]; data: Float32Array; value: RescalingValue };
  constructor(scale: RescalingValue, offset?: RescalingValue, args?: LayerArgs);
  constructor(args: RescalingArgs);
  constructor(...a: unknown[]) {
    const o = layerOptions(positional(a, ['scale', 'offset']), ['scale', 'offset'], 'Rescaling');
    super(o);
    this.scaleArr = rescalingArray(o.scale, 'scale', `Rescaling ${this.name}`);
    this.offsetArr = rescalingArray(o.offset ?? 0, 'offset', `Rescaling ${this.name}`);
    this.scale = this.scaleArr.value; this.offset = this.offsetArr.value;
  }
  build(inputShape: Shape): void {
    for (const [what, arr] of [['scale', this.scaleArr], ['offset', this.offsetArr]] as const) {
      const tail = inputShape.slice(inputShape.length - arr.shape.length);
      if (arr.shape.length > inputShape.length - 1 || arr.shape.some((d, i) => d !== 1 && tail[i] !== null && tail[i] !== d)) {
        throw new RangeError(`convnet: Rescaling ${this.name}: ${what} of shape [${arr.shape.join(', ')}] does not broadcast against inputs of shape (${inputShape.map((d) => d ?? 'None').join(', ')}) (give one value per channel: ${inputShape[inputShape.length - 1]})`);
      }
    }
    super.build(inputShape);
  }
  private static operand(arr: { shape: number[]; data: Float32Array }): Tensor | number {
    return arr.shape.length === 0 ? arr.data[0] : tensor(arr.data, arr.shape);
  }
  call(x: Tensor): Tensor {
    const s = Rescaling.operand(this.scaleArr), o = Rescaling.operand(this.offsetArr);
    const y = s === 1 ? x : mul(x, s);
    return o === 0 ? y : add(y, o);
  }
  getConfig(): Record<string, unknown> { return { ...super.getConfig(), scale: this.scale, offset: this.offset }; }
}
registerLayer('Rescaling', Rescaling);

export interface ResizingArgs extends LayerArgs {
  height?: number; width?: number;
  interpolation?: 'bilinear' | 'nearest';
  cropToAspectRatio?: boolean;
  padToAspectRatio?: boolean;
  fillMode?: 'constant';
  fillValue?: number;
  antialias?: boolean;
  dataFormat?: 'channels_last';
}

/**
 * Resizes images [N, H, W, C] to [N, height, width, C] as Keras's Resizing on TensorFlow
 * (half-pixel centres, no antialiasing); `cropToAspectRatio` crops the centre first.
 */
export class Resizing extends Layer {
  static readonly className = 'Resizing';
  readonly height: number; readonly width: number;
  readonly interpolation: 'bilinear' | 'nearest';
  readonly cropToAspectRatio: boolean;
  constructor(height: number, width: number, args?: ResizingArgs);
  constructor(args: ResizingArgs);
  constructor(...a: unknown[]) {
    const o = layerOptions(positional(a, ['height', 'width']), ['height', 'width', 'interpolation', 'cropToAspectRatio', 'padToAspectRatio',
      'fillMode', 'fillValue', 'antialias', 'dataFormat'], 'Resizing');
    super(o);
    const w = `Resizing ${this.name}`;
    for (const k of ['height', 'width'] as const) {
      if (!(Number.isInteger(o[k]) && (o[k] as number) > 0)) throw new RangeError(`convnet: ${w}: ${k} must be a positive integer, got ${JSON.stringify(o[k])}`);
    }
    this.height = o.height as number; this.width = o.width as number;
    this.interpolation = oneOf(o.interpolation ?? 'bilinear', ['bilinear', 'nearest'] as const, 'interpolation', w);
    this.cropToAspectRatio = !!o.cropToAspectRatio;
    if (o.padToAspectRatio) throw new RangeError(`convnet: ${w}: padToAspectRatio is not supported (use cropToAspectRatio or none)`);
    if (o.antialias) throw new RangeError(`convnet: ${w}: antialias is not supported`);
    if (o.fillMode !== undefined) oneOf(o.fillMode, ['constant'] as const, 'fillMode', w);
    if (o.dataFormat !== undefined && o.dataFormat !== null) oneOf(o.dataFormat, ['channels_last'] as const, 'dataFormat', w);
  }
  build(inputShape: Shape): void {
    if (inputShape.length !== 4) throw new RangeError(`convnet: Resizing ${this.name} expects 4-D input [batch, height, width, channels], got rank ${inputShape.length}`);
    super.build(inputShape);
  }
  computeOutputShape(s: Shape): Shape { return [s[0], this.height, this.width, s[3]]; }
  call(x: Tensor): Tensor {
    return resize(x, [this.height, this.width], { interpolation: this.interpolation, cropToAspectRatio: this.cropToAspectRatio });
  }
  getConfig(): Record<string, unknown> {
    return {
      ...super.getConfig(), height: this.height, width: this.width, interpolation: this.interpolation,
      crop_to_aspect_ratio: this.cropToAspectRatio, pad_to_aspect_ratio: false, fill_mode: 'constant', fill_value: 0.0,
      antialias: false, data_format: 'channels_last',
    };
  }
}
registerLayer('Resizing', Resizing);

export interface NormalizationArgs extends LayerArgs {
  axis?: number | number[] | null;
  mean?: number | number[] | null;
  variance?: number | number[] | null;
  invert?: boolean;
}

/** Keras's backend epsilon: the floor of the standard deviation. */
const EPSILON = 1e-7;

/**
 * Feature-wise normalization (x - mean) / max(sqrt(variance), 1e-7) over the kept `axis` (the
 * last by default); `invert: true` undoes it. Give `mean` and `variance`, or call `adapt(data)`,
 * which computes them (population variance) into the non-trainable weights mean, variance, count.
 */
export class Normalization extends Layer {
  static readonly className = 'Normalization';
  readonly axis: number[];
  readonly invert: boolean;
  readonly inputMean: number | number[] | null;
  readonly inputVariance: number | number[] | null;
  private meanVar: Variable | null = null;
  private varianceVar: Variable | null = null;
  private countVar: Variable | null = null;
  private keep: number[] = [];

  constructor(args: NormalizationArgs = {}) {
    const o = layerOptions(args, ['axis', 'mean', 'variance', 'invert'], 'Normalization');
    super(o);
    const w = `Normalization ${this.name}`;
    const ax = o.axis === undefined ? [-1] : o.axis === null ? [] : typeof o.axis === 'number' ? [o.axis] : o.axis;
    if (!Array.isArray(ax) || !ax.every((d) => Number.isInteger(d))) throw new RangeError(`convnet: ${w}: axis must be an integer, a list of them or null, got ${JSON.stringify(o.axis)}`);
    this.axis = ax as number[];
    this.invert = !!o.invert;
    const m = (o.mean ?? null) as number | number[] | null, v = (o.variance ?? null) as number | number[] | null;
    if ((m === null) !== (v === null)) throw new RangeError(`convnet: ${w}: give both mean and variance, or neither (then call adapt())`);
    const len = (x: number | number[]): number => (Array.isArray(x) ? x.length : 0);
    if (m !== null && v !== null && len(m) !== len(v)) throw new RangeError(`convnet: ${w}: mean and variance must have the same shape`);
    this.inputMean = m; this.inputVariance = v;
  }

  build(inputShape: Shape): void {
    const n = inputShape.length, w = `Normalization ${this.name}`;
    this.keep = [...new Set(this.axis.map((a) => {
      if (a < -n || a >= n) throw new RangeError(`convnet: ${w}: axis ${a} is out of range for inputs of rank ${n}`);
      return a < 0 ? a + n : a;
    }))].sort((a, b) => a - b);
    const shape = this.keep.map((d) => {
      const s = inputShape[d];
      if (s === null) throw new RangeError(`convnet: ${w}: the size of kept axis ${d} must be known, got ${JSON.stringify(inputShape)}`);
      return s;
    });
    if (this.inputMean === null) {
      this.meanVar = this.addWeight('mean', shape, getInitializer('zeros', 'zeros'), { trainable: false });
      this.varianceVar = this.addWeight('variance', shape, getInitializer('ones', 'ones'), { trainable: false });
      this.countVar = new Variable(zeros([], 'int32'), 'count', `${this.name}/count`, false);
      this._weights.push(this.countVar);
    } else {
      const size = shape.reduce((a, b) => a * b, 1);
      for (const [k, val] of [['mean', this.inputMean], ['variance', this.inputVariance]] as const) {
        if (Array.isArray(val) && val.length !== size && val.length !== 1) {
          throw new RangeError(`convnet: ${w}: ${k} has ${val.length} values but the kept axes ${JSON.stringify(this.keep)} have ${size}`);
        }
      }
    }
    super.build(inputShape);
  }

  /** [1, ..., size, ..., 1]: the statistics' broadcast shape for inputs of `rank`. */
  private statShape(rank: number, inputShape: readonly number[]): number[] {
    return Array.from({ length: rank }, (_, d) => (this.keep.includes(d) ? inputShape[d] : 1));
  }

  private stats(inputShape: readonly number[]): [Tensor, Tensor] {
    const shape = this.statShape(inputShape.length, inputShape);
    if (this.meanVar && this.varianceVar) return [this.meanVar.value.reshape(shape), this.varianceVar.value.reshape(shape)];
    const n = shape.reduce((a, b) => a * b, 1);
    const arr = (v: number | number[]): Float32Array => Float32Array.from({ length: n }, (_, i) => (Array.isArray(v) ? (v.length === 1 ? v[0] : v[i]) : v));
    return [tensor(arr(this.inputMean!), shape), tensor(arr(this.inputVariance!), shape)];
  }

  call(x: Tensor): Tensor {
    const [m, v] = this.stats(x.shape);
    const sd = maximum(sqrt(v), EPSILON);
    return this.invert ? add(m, mul(x, sd)) : div(sub(x, m), sd);
  }

  /**
   * Computes mean and (population) variance of `data` over every axis but the kept ones, and
   * stores them. `data`: one tensor [samples, ...] or a list of batches. The statistics are
   * computed with ops on the backend in use (webgpu included) and never read back; batches are
   * combined as Keras combines them (each batch's mean and variance, weighted by its count).
   */
  adapt(data: Tensor | Tensor[]): void {
    const batches = Array.isArray(data) ? data : [data];
    if (batches.length === 0) throw new RangeError(`convnet: Normalization ${this.name}: adapt() needs data`);
    const run = this.startAdapt(batches[0]);
    for (const b of batches) run.add(b);
    run.finish();
  }

  /**
   * `adapt` for data that arrives asynchronously: also a BatchIterator (e.g. `flowFromDirectory`, its
   * batches' x; they are disposed after use) or an async iterable of tensors. Resolves once the
   * statistics are stored, after the backend finished computing them (on webgpu: an awaited read of the count).
   */
  async adaptAsync(data: Tensor | Tensor[] | BatchIterator | AsyncIterable<Tensor>): Promise<void> {
    if (data instanceof Tensor || Array.isArray(data)) this.adapt(data);
    else if (data && typeof (data as BatchIterator).getBatch === 'function' && typeof (data as BatchIterator).length === 'number') {
      const it = data as BatchIterator;
      let run: ReturnType<Normalization['startAdapt']> | null = null;
      for (let i = 0; i < it.length; i++) {
        const b = await it.getBatch(i);
        try { (run ??= this.startAdapt(b.x)).add(b.x); } finally { b.x.dispose(); b.y?.dispose(); }
      }
      it.reset?.();
      if (!run) throw new RangeError(`convnet: Normalization ${this.name}: adaptAsync() got an empty iterator`);
      run.finish();
    } else if (data && typeof (data as AsyncIterable<Tensor>)[Symbol.asyncIterator] === 'function') {
      let run: ReturnType<Normalization['startAdapt']> | null = null;
      for await (const t of data as AsyncIterable<Tensor>) {
        if (!(t instanceof Tensor)) throw new TypeError(`convnet: Normalization ${this.name}: adaptAsync(): the async iterable gave ${typeof t}, not a Tensor`);
        (run ??= this.startAdapt(t)).add(t);
      }
      if (!run) throw new RangeError(`convnet: Normalization ${this.name}: adaptAsync() needs data`);
      run.finish();
    } else throw new TypeError(`convnet: Normalization ${this.name}: adaptAsync() takes a Tensor, a list of them, a BatchIterator or an async iterable of tensors`);
    await this.varianceVar!.value.data(); // the statistics are computed when this resolves
  }

  /** Running mean and variance over batches (Keras's update), on the backend: add each batch, then finish. */
  private startAdapt(first: Tensor): { add(b: Tensor): void; finish(): void } {
    if (this.inputMean !== null) throw new RangeError(`convnet: Normalization ${this.name}: adapt() cannot be used with a given mean and variance`);
    if (!(first instanceof Tensor)) throw new TypeError(`convnet: Normalization ${this.name}: adapt() takes tensors`);
    if (!this.built) this.build([null, ...first.shape.slice(1)]);
    const shape = this.meanVar!.shape;
    const size = shape.reduce((a, b) => a * b, 1);
    let mean: Tensor | null = null, variance: Tensor | null = null;
    let count = 0;
    return {
      add: (b: Tensor) => {
        this.checkInput(b.shape);
        if (b.size === 0) return;
        const axes = Array.from({ length: b.rank }, (_, d) => d).filter((d) => !this.keep.includes(d));
        const n = b.size / size;
        const total = count + n, wb = n / total, we = 1 - wb;
        const next = scope(() => {
          const x = b.dtype === 'float32' ? b : cast(b, 'float32');
          const bm = axes.length ? meanOp(x, axes, true) : x;
          const bv = axes.length ? meanOp(square(sub(x, bm)), axes, true).reshape(shape) : zeros(shape);
          const m = bm.reshape(shape);
          if (!mean || !variance) return [m, bv];
          const nm = add(mul(mean, we), mul(m, wb));
          const nv = add(mul(add(variance, square(sub(mean, nm))), we), mul(add(bv, square(sub(m, nm))), wb));
          return [nm, nv];
        });
        mean?.dispose(); variance?.dispose();
        [mean, variance] = next.map((t) => t.keep());
        count = total;
      },
      finish: () => {
        if (!mean || !variance) throw new RangeError(`convnet: Normalization ${this.name}: adapt() got no samples`);
        scope(() => {
          this.meanVar!.assign(mean!);
          this.varianceVar!.assign(variance!);
          this.countVar!.assign(tensor(new Int32Array([count]), [], 'int32'));
        });
        mean.dispose(); variance.dispose();
      },
    };
  }

  getConfig(): Record<string, unknown> {
    return { ...super.getConfig(), axis: this.axis.slice(), invert: this.invert, mean: this.inputMean, variance: this.inputVariance };
  }
}
registerLayer('Normalization', Normalization);
