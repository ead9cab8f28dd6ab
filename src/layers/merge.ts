/**
 * Merge layers (Keras's `keras.layers.merging`): `Add`, `Subtract`, `Multiply`, `Average`,
 * `Maximum`, `Minimum` combine two or more inputs of the same shape elementwise;
 * `Concatenate` joins them along an axis. They take a list: `new Add().apply([a, b])`.
 * Their gradients come from the ops they are made of (add, sub, mul, maximum, concat).
 */
import { Tensor, fmtShape } from '../tensor/index.js';
import { add, sub, mul, maximum, minimum, concat } from '../ops/index.js';
import { Layer, layerOptions, registerLayer, type Shape, type LayerArgs } from './layer.js';
import type { SerializedObject } from './config.js';

/** The base of the merge layers: a list of inputs in, one tensor out. */
export abstract class Merge extends Layer {
  /** The input shapes the layer was built with (Keras writes them as its build_config). */
  buildInputShapes: Shape[] | null = null;
  /** Combines two or more same-shape tensors. */
  protected abstract merge(xs: Tensor[]): Tensor;

  numInputs(): number { return -1; }
  call(_x: Tensor): Tensor {
    throw new TypeError(`convnet: ${this.className} "${this.name}" merges a list of tensors: call apply([a, b])`);
  }
  invoke(inputs: Tensor[]): Tensor[] {
    this.checkShapes(inputs.map((t) => [null, ...t.shape.slice(1)]));
    for (const t of inputs) {
      if (t.shape[0] !== inputs[0].shape[0]) throw new RangeError(`convnet: ${this.className} "${this.name}": the inputs have different batch sizes (${inputs.map((x) => x.shape[0]).join(', ')})`);
    }
    return [this.merge(inputs)];
  }
  build(inputShape: Shape): void { this.buildShapes([inputShape]); }
  buildShapes(shapes: Shape[]): void {
    this.checkShapes(shapes);
    this.buildInputShapes = shapes.map((s) => s.slice());
    this.built = true;
  }
  computeOutputShape(s: Shape): Shape { return s.slice(); }
  computeOutputShapes(shapes: Shape[]): Shape[] { this.checkShapes(shapes); return [this.outputShapeOf(shapes)]; }

  /** Same-shape inputs: the shape with the known sizes. */
  protected outputShapeOf(shapes: Shape[]): Shape {
    return shapes[0].map((d, i) => d ?? shapes.find((s) => s[i] !== null)?.[i] ?? null);
  }

  protected checkShapes(shapes: Shape[]): void {
    const need = this.className === 'Subtract' ? 'exactly 2' : 'at least 2';
    if (shapes.length < 2 || (this.className === 'Subtract' && shapes.length !== 2)) {
      throw new RangeError(`convnet: ${this.className} "${this.name}" needs ${need} inputs, got ${shapes.length}`);
    }
    const r = shapes[0].length;
    for (const s of shapes) {
      if (s.length !== r || s.some((d, i) => i > 0 && d !== null && shapes[0][i] !== null && d !== shapes[0][i])) {
        throw new RangeError(`convnet: ${this.className} "${this.name}": the inputs must have the same shape, got ${shapes.map(fmtShape).join(', ')}`);
      }
    }
  }

  serialize(): SerializedObject {
    const s = super.serialize();
    if (this.built && this.buildInputShapes) s.build_config = { input_shape: this.buildInputShapes.map((x) => x.slice()) as unknown as Shape };
    return s;
  }
}

/** Sum of the inputs (the residual connection). */
export class Add extends Merge {
  static readonly className = 'Add';
  constructor(args: LayerArgs = {}) { super(layerOptions(args, [], 'Add')); }
  protected merge(xs: Tensor[]): Tensor { return xs.slice(1).reduce((a, b) => add(a, b), xs[0]); }
}

/** The first input minus the second. */
export class Subtract extends Merge {
  static readonly className = 'Subtract';
  constructor(args: LayerArgs = {}) { super(layerOptions(args, [], 'Subtract')); }
  protected merge(xs: Tensor[]): Tensor { return sub(xs[0], xs[1]); }
}

/** Elementwise product of the inputs. */
export class Multiply extends Merge {
  static readonly className = 'Multiply';
  constructor(args: LayerArgs = {}) { super(layerOptions(args, [], 'Multiply')); }
  protected merge(xs: Tensor[]): Tensor { return xs.slice(1).reduce((a, b) => mul(a, b), xs[0]); }
}

/** Elementwise mean of the inputs. */
export class Average extends Merge {
  static readonly className = 'Average';
  constructor(args: LayerArgs = {}) { super(layerOptions(args, [], 'Average')); }
  protected merge(xs: Tensor[]): Tensor { return mul(xs.slice(1).reduce((a, b) => add(a, b), xs[0]), 1 / xs.length); }
}

/** Elementwise maximum of the inputs. */
export class Maximum extends Merge {
  static readonly className = 'Maximum';
  constructor(args: LayerArgs = {}) { super(layerOptions(args, [], 'Maximum')); }
  protected merge(xs: Tensor[]): Tensor { return xs.slice(1).reduce((a, b) => maximum(a, b), xs[0]); }
}

/** Elementwise minimum of the inputs. */
export class Minimum extends Merge {
  static readonly className = 'Minimum';
  constructor(args: LayerArgs = {}) { super(layerOptions(args, [], 'Minimum')); }
  protected merge(xs: Tensor[]): Tensor { return xs.slice(1).reduce((a, b) => minimum(a, b), xs[0]); }
}

export interface ConcatenateArgs extends LayerArgs { axis?: number }

/** Joins the inputs along `axis` (default -1, the channels); the other sizes must agree. */
export class Concatenate extends Merge {
  static readonly className = 'Concatenate';
  readonly axis: number;
  constructor(args: ConcatenateArgs = {}) {
    const o = layerOptions(args, ['axis'], 'Concatenate');
    super(o);
    const axis = o.axis ?? -1;
    if (!Number.isInteger(axis) || axis === 0) throw new RangeError(`convnet: Concatenate "${this.name}": axis must be a non-zero integer (not the batch axis), got ${JSON.stringify(o.axis)}`);
    this.axis = axis as number;
  }
  private axisFor(rank: number): number {
    const a = this.axis < 0 ? rank + this.axis : this.axis;
    if (a <= 0 || a >= rank) throw new RangeError(`convnet: Concatenate "${this.name}": axis ${this.axis} is out of range for inputs of rank ${rank}`);
    return a;
  }
  protected checkShapes(shapes: Shape[]): void {
    if (shapes.length < 2) throw new RangeError(`convnet: Concatenate "${this.name}" needs at least 2 inputs, got ${shapes.length}`);
    const r = shapes[0].length;
    const a = this.axisFor(r);
    for (const s of shapes) {
      if (s.length !== r || s.some((d, i) => i > 0 && i !== a && d !== null && shapes[0][i] !== null && d !== shapes[0][i])) {
        throw new RangeError(`convnet: Concatenate "${this.name}": the inputs must match except along axis ${this.axis}, got ${shapes.map(fmtShape).join(', ')}`);
      }
    }
  }
  protected outputShapeOf(shapes: Shape[]): Shape {
    const a = this.axisFor(shapes[0].length);
    const out = super.outputShapeOf(shapes);
    out[a] = shapes.some((s) => s[a] === null) ? null : shapes.reduce((n, s) => n + (s[a] as number), 0);
    return out;
  }
  protected merge(xs: Tensor[]): Tensor { return concat(xs, this.axisFor(xs[0].rank)); }
  getConfig(): Record<string, unknown> { return { ...super.getConfig(), axis: this.axis }; }
}

for (const cls of [Add, Subtract, Multiply, Average, Maximum, Minimum, Concatenate]) registerLayer(cls.className, cls);
