/** Pooling layers: MaxPooling2D, AveragePooling2D (window, stride = window by default) and the global ones. */
import type { Tensor } from '../tensor/index.js';
import { maxPool2d, avgPool2d, mean, max, maxPool1d } from '../ops/index.js';
import { Layer, layerOptions, positional, registerLayer, type Shape, type LayerArgs } from './layer.js';
import { intPair, oneOf } from './config.js';
import { convLength } from './conv.js';

export interface Pooling2DArgs extends LayerArgs {
  poolSize?: number | [number, number];
  strides?: number | [number, number] | null;
  padding?: 'valid' | 'same';
  dataFormat?: 'channels_last';
}
const OWN = ['poolSize', 'strides', 'padding', 'dataFormat'];

abstract class Pooling2D extends Layer {
  readonly poolSize: [number, number];
  readonly strides: [number, number];
  readonly padding: 'valid' | 'same';
  constructor(a: unknown[], cls: string) {
    const o = layerOptions(positional(a, ['poolSize', 'strides', 'padding']), OWN, cls);
    super(o);
    const w = `${cls} ${this.name}`;
    this.poolSize = intPair(o.poolSize ?? 2, 'poolSize', w);
    this.strides = o.strides == null ? [...this.poolSize] : intPair(o.strides, 'strides', w);
    this.padding = oneOf(o.padding ?? 'valid', ['valid', 'same'] as const, 'padding', w);
    if (o.dataFormat !== undefined) oneOf(o.dataFormat, ['channels_last'] as const, 'dataFormat', w);
  }
  build(inputShape: Shape): void {
    if (inputShape.length !== 4) throw new RangeError(`convnet: ${this.className} ${this.name} expects 4-D input [batch, height, width, channels], got rank ${inputShape.length}`);
    this.computeOutputShape(inputShape);
    super.build(inputShape);
  }
  computeOutputShape(s: Shape): Shape {
    const h = convLength(s[1], this.poolSize[0], this.strides[0], 1, this.padding);
    const w = convLength(s[2], this.poolSize[1], this.strides[1], 1, this.padding);
    if ((h !== null && h <= 0) || (w !== null && w <= 0)) {
      throw new RangeError(`convnet: ${this.className} ${this.name}: a ${this.poolSize.join('x')} pool does not fit the ${s[1]}x${s[2]} input`);
    }
    return [s[0], h, w, s[3]];
  }
  getConfig(): Record<string, unknown> {
    return { ...super.getConfig(), pool_size: [...this.poolSize], padding: this.padding, strides: [...this.strides], data_format: 'channels_last' };
  }
}

/** Maximum over each window. `new MaxPooling2D([2, 2])`. */
export class MaxPooling2D extends Pooling2D {
  static readonly className = 'MaxPooling2D';
  constructor(poolSize?: number | [number, number], strides?: number | [number, number] | null, padding?: 'valid' | 'same', args?: Pooling2DArgs);
  constructor(args?: Pooling2DArgs);
  constructor(...a: unknown[]) { super(a, 'MaxPooling2D'); }
  call(x: Tensor): Tensor { return maxPool2d(x, { poolSize: this.poolSize, strides: this.strides, padding: this.padding }); }
}

/** Mean over each window (padding not counted, as in Keras). */
export class AveragePooling2D extends Pooling2D {
  static readonly className = 'AveragePooling2D';
  constructor(poolSize?: number | [number, number], strides?: number | [number, number] | null, padding?: 'valid' | 'same', args?: Pooling2DArgs);
  constructor(args?: Pooling2DArgs);
  constructor(...a: unknown[]) { super(a, 'AveragePooling2D'); }
  call(x: Tensor): Tensor { return avgPool2d(x, { poolSize: this.poolSize, strides: this.strides, padding: this.padding }); }
}

export interface GlobalPooling2DArgs extends LayerArgs { keepdims?: boolean; dataFormat?: 'channels_last' }

/** What the global pools share: keepdims, channels-last input of rank `spatial + 2`, the mean or max over the spatial axes. */
abstract class GlobalPooling extends Layer {
  readonly keepdims: boolean;
  private readonly spatial: 1 | 2;
  constructor(args: GlobalPooling2DArgs | undefined, cls: string, spatial: 1 | 2) {
    const o = layerOptions(args, ['keepdims', 'dataFormat'], cls);
    super(o);
    this.spatial = spatial;
    this.keepdims = !!o.keepdims;
    if (o.dataFormat !== undefined) oneOf(o.dataFormat, ['channels_last'] as const, 'dataFormat', cls);
  }
  build(inputShape: Shape): void {
    if (inputShape.length !== this.spatial + 2) {
      const what = this.spatial === 2 ? '4-D input [batch, height, width, channels]' : '3-D input [batch, steps, channels]';
      throw new RangeError(`convnet: ${this.className} ${this.name} expects ${what}, got rank ${inputShape.length}`);
    }
    super.build(inputShape);
  }
  computeOutputShape(s: Shape): Shape {
    const c = s[this.spatial + 1];
    return this.keepdims ? [s[0], ...new Array<number>(this.spatial).fill(1), c] : [s[0], c];
  }
  getConfig(): Record<string, unknown> { return { ...super.getConfig(), data_format: 'channels_last', keepdims: this.keepdims }; }
}

abstract class GlobalPooling2D extends GlobalPooling {
  constructor(args: GlobalPooling2DArgs | undefined, cls: string) { super(args, cls, 2); }
}

/** Mean over height and width: [N, H, W, C] -> [N, C]. */
export class GlobalAveragePooling2D extends GlobalPooling2D {
  static readonly className = 'GlobalAveragePooling2D';
  constructor(args?: GlobalPooling2DArgs) { super(args, 'GlobalAveragePooling2D'); }
  call(x: Tensor): Tensor { return mean(x, [1, 2], this.keepdims); }
}

/** Maximum over height and width: [N, H, W, C] -> [N, C]. */
export class GlobalMaxPooling2D extends GlobalPooling2D {
  static readonly className = 'GlobalMaxPooling2D';
  constructor(args?: GlobalPooling2DArgs) { super(args, 'GlobalMaxPooling2D'); }
  call(x: Tensor): Tensor { return max(x, [1, 2], this.keepdims); }
}

export interface Pooling1DArgs extends LayerArgs {
  poolSize?: number | [number];
  strides?: number | [number] | null;
  padding?: 'valid' | 'same';
  dataFormat?: 'channels_last';
}

function oneInt(v: unknown, what: string, where: string): number {
  const n = Array.isArray(v) && v.length === 1 ? v[0] : v;
  if (!(Number.isInteger(n) && (n as number) >= 1)) throw new RangeError(`convnet: ${where}: ${what} must be a positive integer (or a list of one), got ${JSON.stringify(v)}`);
  return n as number;
}

abstract class Pooling1D extends Layer {
  readonly poolSize: number;
  readonly strides: number;
  readonly padding: 'valid' | 'same';
  constructor(a: unknown[], cls: string) {
    const o = layerOptions(positional(a, ['poolSize', 'strides', 'padding']), OWN, cls);
    super(o);
    const w = `${cls} ${this.name}`;
    this.poolSize = oneInt(o.poolSize ?? 2, 'poolSize', w);
    this.strides = o.strides == null ? this.poolSize : oneInt(o.strides, 'strides', w);
    this.padding = oneOf(o.padding ?? 'valid', ['valid', 'same'] as const, 'padding', w);
    if (o.dataFormat !== undefined) oneOf(o.dataFormat, ['channels_last'] as const, 'dataFormat', w);
  }
  build(inputShape: Shape): void {
    if (inputShape.length !== 3) throw new RangeError(`convnet: ${this.className} ${this.name} expects 3-D input [batch, steps, channels], got rank ${inputShape.length}`);
    this.computeOutputShape(inputShape);
    super.build(inputShape);
  }
  computeOutputShape(s: Shape): Shape {
    const L = convLength(s[1], this.poolSize, this.strides, 1, this.padding);
    if (L !== null && L <= 0) throw new RangeError(`convnet: ${this.className} ${this.name}: a pool of ${this.poolSize} does not fit ${s[1]} steps`);
    return [s[0], L, s[2]];
  }
  protected pool2d(x: Tensor, f: typeof maxPool2d): Tensor {
    const [N, L, C] = x.shape;
    const y = f(x.reshape([N, 1, L, C]), { poolSize: [1, this.poolSize], strides: [1, this.strides], padding: this.padding });
    return y.reshape([N, y.shape[2], C]);
  }
  getConfig(): Record<string, unknown> {
    return { ...super.getConfig(), pool_size: [this.poolSize], padding: this.padding, strides: [this.strides], data_format: 'channels_last' };
  }
}

/** Maximum over windows of steps: [N, L, C] -> [N, L', C]. `new MaxPooling1D(2)`. */
export class MaxPooling1D extends Pooling1D {
  static readonly className = 'MaxPooling1D';
  constructor(poolSize?: number | [number], strides?: number | [number] | null, padding?: 'valid' | 'same', args?: Pooling1DArgs);
  constructor(args?: Pooling1DArgs);
  constructor(...a: unknown[]) { super(a, 'MaxPooling1D'); }
  call(x: Tensor): Tensor { return maxPool1d(x, { poolSize: this.poolSize, strides: this.strides, padding: this.padding }); }
}

/** Mean over windows of steps (padding not counted, as in Keras): [N, L, C] -> [N, L', C]. */
export class AveragePooling1D extends Pooling1D {
  static readonly className = 'AveragePooling1D';
  constructor(poolSize?: number | [number], strides?: number | [number] | null, padding?: 'valid' | 'same', args?: Pooling1DArgs);
  constructor(args?: Pooling1DArgs);
  constructor(...a: unknown[]) { super(a, 'AveragePooling1D'); }
  call(x: Tensor): Tensor { return this.pool2d(x, avgPool2d); }
}

abstract class GlobalPooling1D extends GlobalPooling {
  constructor(args: GlobalPooling2DArgs | undefined, cls: string) { super(args, cls, 1); }
}

/** Mean over steps: [N, L, C] -> [N, C]. */
export class GlobalAveragePooling1D extends GlobalPooling1D {
  static readonly className = 'GlobalAveragePooling1D';
  constructor(args?: GlobalPooling2DArgs) { super(args, 'GlobalAveragePooling1D'); }
  call(x: Tensor): Tensor { return mean(x, [1], this.keepdims); }
}

/** Maximum over steps: [N, L, C] -> [N, C]. */
export class GlobalMaxPooling1D extends GlobalPooling1D {
  static readonly className = 'GlobalMaxPooling1D';
  constructor(args?: GlobalPooling2DArgs) { super(args, 'GlobalMaxPooling1D'); }
  call(x: Tensor): Tensor { return max(x, [1], this.keepdims); }
}

registerLayer('MaxPooling2D', MaxPooling2D);
registerLayer('AveragePooling2D', AveragePooling2D);
registerLayer('GlobalAveragePooling2D', GlobalAveragePooling2D);
registerLayer('GlobalMaxPooling2D', GlobalMaxPooling2D);
registerLayer('MaxPooling1D', MaxPooling1D);
registerLayer('AveragePooling1D', AveragePooling1D);
registerLayer('AvgPool1D', AveragePooling1D);
registerLayer('GlobalAveragePooling1D', GlobalAveragePooling1D);
registerLayer('GlobalMaxPooling1D', GlobalMaxPooling1D);
