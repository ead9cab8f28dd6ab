/**
 * The Keras layer contract: the constructor stores the config, `build(inputShape)` creates the
 * weights, `call` is pure (no per-call state on the layer), `getConfig` round-trips through
 * `deserializeLayer`, and classes are registered by their Keras class name.
 */
import { Tensor, fmtShape } from '../tensor/index.js';
import { copyInto } from '../tensor/tensor.js';
import type { Initializer } from './initializers.js';
import type { Regularizer } from './regularizers.js';
import {
  normalizeOptions, snakeToCamel, toSnakeCase, uniqueName, reserveName, dtypePolicy, type SerializedObject,
} from './config.js';

/** A shape with `null` for unknown sizes (the batch axis). */
export type Shape = (number | null)[];

/** A weight: a kept tensor with its Keras name and path ('conv2d/kernel'). */
export class Variable {
  readonly name: string;
  path: string;
  trainable: boolean;
  regularizer: Regularizer | null;
  private _value: Tensor;

  constructor(value: Tensor, name: string, path: string, trainable = true, regularizer: Regularizer | null = null) {
    this._value = value.keep();
    value.name = path;
    this.name = name; this.path = path; this.trainable = trainable; this.regularizer = regularizer;
  }
  /** The current value (a kept tensor, updated in place by optimizers and `assign`). */
  get value(): Tensor { return this._value; }
  get shape(): readonly number[] { return this._value.shape; }
  get size(): number { return this._value.size; }
  /** Copies `t` into this variable (same shape required); the tensor object stays the same. */
  assign(t: Tensor): void {
    if (t.size !== this._value.size || t.shape.some((d, i) => d !== this._value.shape[i]) || t.rank !== this._value.rank) {
      throw new RangeError(`convnet: cannot assign a tensor of shape ${fmtShape(t.shape)} to weight ${this.path} of shape ${fmtShape(this._value.shape)}`);
    }
    if (t === this._value) return;
    copyInto(t, this._value);
  }
  /** A copy of the value. */
  read(): Tensor { return this._value.clone(); }
  dispose(): void { this._value.dispose(); }
  toString(): string { return `<Variable path=${this.path}, shape=${fmtShape(this._value.shape)}>`; }
}

/** Options every layer accepts (camelCase or snake_case). */
export interface LayerArgs {
  name?: string;
  trainable?: boolean;
  /** Shape of one sample, without the batch axis: [150, 150, 3]. */
  inputShape?: Shape;
  /** Shape with the batch axis: [null, 150, 150, 3]. */
  batchInputShape?: Shape;
  batchSize?: number | null;
  dtype?: unknown;
}
export const BASE_KEYS = ['name', 'trainable', 'inputShape', 'batchInputShape', 'batchShape', 'batchSize', 'dtype'] as const;

export interface CallOptions { training?: boolean }

/**
 * A symbolic tensor of the functional API (Keras's KerasTensor): a shape and the layer call that
 * produces it (`node`, output `index`). `Input({ shape })` makes the first ones; `layer.apply`
 * on them makes the next; `new Model({ inputs, outputs })` walks back through the nodes.
 */
export class KerasTensor {
  readonly shape: Shape;
  readonly dtype = 'float32';
  /** The layer call that produced it (null only while the node is being made). */
  readonly node: Node;
  readonly index: number;
  constructor(shape: Shape, node: Node, index: number) {
    this.shape = shape.slice(); this.node = node; this.index = index;
  }
  /** Keras's `_keras_history`: [layer, node index in the layer's inbound nodes, tensor index]. */
  get history(): [Layer, number, number] { return [this.node.layer, this.node.layer.inboundNodes.indexOf(this.node), this.index]; }
  get name(): string { return this.node.layer.name; }
  toString(): string { return `<KerasTensor shape=${fmtShape(this.shape)}, name=${this.name}>`; }
}

/** One call of a layer on symbolic tensors: what Keras serialises as an inbound node. */
export class Node {
  readonly layer: Layer;
  readonly inputs: KerasTensor[];
  /** Whether the layer was called with a list (merge layers) rather than one tensor. */
  readonly listArg: boolean;
  /** Keyword arguments of the call as Keras serialises them (kept from files, e.g. `{ training: false }`). */
  readonly kwargs: Record<string, unknown>;
  outputs: KerasTensor[] = [];
  constructor(layer: Layer, inputs: KerasTensor[], listArg: boolean, kwargs: Record<string, unknown> = {}) {
    this.layer = layer; this.inputs = inputs; this.listArg = listArg; this.kwargs = kwargs;
  }
  /** The nodes this one reads from. */
  get parents(): Node[] { return this.inputs.map((t) => t.node); }
}

export abstract class Layer {
  /** Keras class name ('Conv2D'); set by each subclass. */
  static readonly className: string = 'Layer';
  /** Whether `serialize()` writes a build_config even without weights (Keras 3.15 does for Flatten). */
  static readonly recordsBuildConfig: boolean = false;
  name: string;
  built = false;
  /** The calls of this layer on symbolic tensors, in order (a shared layer has several). */
  readonly inboundNodes: Node[] = [];
  private _trainable: boolean;
  /** [batch, ...] shape given by `inputShape` / `batchInputShape`, used by Sequential to build. */
  readonly batchInputShape: Shape | null;
  /** The input shape the layer was built with (batch axis null). */
  buildInputShape: Shape | null = null;
  protected _weights: Variable[] = [];

  constructor(args: Record<string, unknown> = {}) {
    const o = args;
    const cls = (this.constructor as typeof Layer).className;
    if (typeof o.name === 'string' && o.name) { this.name = o.name; reserveName(o.name); } else this.name = uniqueName(toSnakeCase(cls));
    this._trainable = o.trainable === undefined ? true : !!o.trainable;
    const bis = (o.batchInputShape ?? o.batchShape) as Shape | undefined;
    if (bis) this.batchInputShape = checkShape(bis, 'batchInputShape', this.name);
    else if (o.inputShape) this.batchInputShape = [(o.batchSize as number | undefined) ?? null, ...checkShape(o.inputShape as Shape, 'inputShape', this.name)];
    else this.batchInputShape = null;
  }

  get className(): string { return (this.constructor as typeof Layer).className; }

  /**
   * Whether training updates this layer's weights. `layer.trainable = false` freezes it: its
   * weights move to `nonTrainableWeights` (and the summary's counts), and a BatchNormalization
   * then runs in inference mode, as in Keras.
   */
  get trainable(): boolean { return this._trainable; }
  set trainable(v: boolean) { this._trainable = !!v; }

  /** Creates the weights for inputs of `inputShape` ([batch, ...], batch may be null). */
  build(inputShape: Shape): void {
    this.buildInputShape = inputShape.slice();
    this.built = true;
  }

  /** The computation: pure, one batch in, one batch out. */
  abstract call(x: Tensor, opts: { training: boolean }): Tensor;

  /**
   * Calls the layer, building it on first use. On tensors it computes (inference mode unless
   * `training: true`); on symbolic tensors (from `Input`) it records the call for a functional
   * model and returns the symbolic output. Merge layers take a list.
   */
  apply(x: KerasTensor | KerasTensor[], opts?: CallOptions): KerasTensor;
  apply(x: Tensor | Tensor[], opts?: CallOptions): Tensor;
  apply(x: Tensor | Tensor[] | KerasTensor | KerasTensor[], opts: CallOptions = {}): Tensor | KerasTensor {
    const outs = this.applyAll(x as KerasTensor[], opts);
    if (outs.length !== 1) throw new RangeError(`convnet: layer "${this.name}" has ${outs.length} outputs: use applyAll()`);
    return outs[0];
  }

  /** Like `apply`, returning every output (a nested model with several outputs). */
  applyAll(x: KerasTensor | KerasTensor[], opts?: CallOptions): KerasTensor[];
  applyAll(x: Tensor | Tensor[], opts?: CallOptions): Tensor[];
  applyAll(x: Tensor | Tensor[] | KerasTensor | KerasTensor[], opts: CallOptions = {}): Tensor[] | KerasTensor[] {
    const list: unknown[] = Array.isArray(x) ? x : [x];
    if (list.length > 0 && list.every((t) => t instanceof KerasTensor)) {
      return this.callSymbolic(list as KerasTensor[], Array.isArray(x), opts.training === undefined ? {} : { training: opts.training });
    }
    if (list.length === 0 || !list.every((t) => t instanceof Tensor)) {
      throw new TypeError(`convnet: layer ${this.name}: expected a Tensor (or a symbolic tensor from Input()), or a list of them, got ${list.length ? list.map((t) => (t === null ? 'null' : typeof t)).join(', ') : 'an empty list'}`);
    }
    const ts = list as Tensor[];
    if (!Array.isArray(x)) {
      const t = x as Tensor;
      if (!this.built) this.build([null, ...t.shape.slice(1)]);
      else this.checkInput(t.shape);
      if (this.numInputs() !== 1) throw new TypeError(`convnet: layer "${this.name}" (${this.className}) takes a list of ${this.numInputs() < 0 ? 'two or more' : this.numInputs()} tensors`);
      return [this.call(t, { training: !!opts.training })];
    }
    const shapes: Shape[] = ts.map((t) => [null, ...t.shape.slice(1)]);
    if (!this.built) this.buildShapes(shapes);
    return this.invoke(ts, { training: !!opts.training });
  }

  /** Records a call on symbolic tensors: builds the layer, computes the output shapes, adds a node. */
  callSymbolic(inputs: KerasTensor[], listArg: boolean, kwargs: Record<string, unknown> = {}): KerasTensor[] {
    const shapes = inputs.map((t) => t.shape);
    const n = this.numInputs();
    if (n >= 0 && n !== inputs.length) throw new RangeError(`convnet: layer "${this.name}" (${this.className}) takes ${n} input${n === 1 ? '' : 's'}, got ${inputs.length}`);
    if (!this.built) this.buildShapes(shapes);
    else if (inputs.length === 1) this.checkSymbolicInput(shapes[0]);
    const outShapes = this.computeOutputShapes(shapes);
    const node = new Node(this, inputs.slice(), listArg, kwargs);
    node.outputs = outShapes.map((s, i) => new KerasTensor(s, node, i));
    this.inboundNodes.push(node);
    return node.outputs.slice();
  }

  private checkSymbolicInput(shape: Shape): void {
    const want = this.buildInputShape;
    if (!want) return;
    if (want.length !== shape.length || want.some((d, i) => i > 0 && d !== null && shape[i] !== null && d !== shape[i])) {
      throw new RangeError(`convnet: layer "${this.name}" (${this.className}) was built for input ${fmtShape(want)} but receives ${fmtShape(shape)} here`);
    }
  }

  /** How many inputs a call takes: 1 for most layers, -1 for "two or more" (merge layers). */
  numInputs(): number { return 1; }

  /** The computation on a list of inputs, with a list of outputs (the functional graph calls this). */
  invoke(inputs: Tensor[], opts: { training: boolean }): Tensor[] {
    if (inputs.length !== 1) throw new RangeError(`convnet: layer "${this.name}" (${this.className}) takes one input, got ${inputs.length}`);
    return [this.call(inputs[0], opts)];
  }

  /** Output shapes for a list of input shapes. */
  computeOutputShapes(inputShapes: Shape[]): Shape[] {
    if (inputShapes.length !== 1) throw new RangeError(`convnet: layer "${this.name}" (${this.className}) takes one input, got ${inputShapes.length}`);
    return [this.computeOutputShape(inputShapes[0])];
  }

  /** Builds for a list of input shapes. */
  buildShapes(inputShapes: Shape[]): void {
    if (inputShapes.length !== 1) throw new RangeError(`convnet: layer "${this.name}" (${this.className}) takes one input, got ${inputShapes.length}`);
    this.build(inputShapes[0]);
  }

  /** The symbolic output of this layer's only call (Keras's `layer.output`), e.g. to cut a model there. */
  get output(): KerasTensor {
    if (this.inboundNodes.length === 0) throw new RangeError(`convnet: layer "${this.name}" has not been called on a symbolic input yet, so it has no output`);
    if (this.inboundNodes.length > 1) throw new RangeError(`convnet: layer "${this.name}" is called ${this.inboundNodes.length} times (shared); it has no single output`);
    const outs = this.inboundNodes[0].outputs;
    if (outs.length !== 1) throw new RangeError(`convnet: layer "${this.name}" has ${outs.length} outputs`);
    return outs[0];
  }

  /** The symbolic input of this layer's only call (Keras's `layer.input`). */
  get input(): KerasTensor {
    if (this.inboundNodes.length !== 1) throw new RangeError(`convnet: layer "${this.name}" has ${this.inboundNodes.length} calls; its input is defined only for exactly one`);
    const ins = this.inboundNodes[0].inputs;
    if (ins.length !== 1) throw new RangeError(`convnet: layer "${this.name}" has ${ins.length} inputs`);
    return ins[0];
  }

  /** Throws a clear error when `shape` does not match the shape the layer was built for. */
  checkInput(shape: readonly number[]): void {
    const want = this.buildInputShape;
    if (!want) return;
    if (want.length !== shape.length || want.some((d, i) => d !== null && d !== shape[i])) {
      throw new RangeError(`convnet: layer "${this.name}" (${this.className}) expects input of shape ${fmtShape(want)}, got ${fmtShape(shape)}`);
    }
  }

  /** Output shape for an input shape (batch axis included). */
  computeOutputShape(inputShape: Shape): Shape { return inputShape.slice(); }

  /** Adds a weight named `name` (path `layer/name`) created by `initializer`. */
  protected addWeight(name: string, shape: number[], initializer: Initializer,
    opts: { trainable?: boolean; regularizer?: Regularizer | null } = {}): Variable {
    const v = new Variable(initializer.call(shape), name, `${this.name}/${name}`, opts.trainable ?? true, opts.regularizer ?? null);
    this._weights.push(v);
    return v;
  }

  /** Weights in Keras order (trainable ones first, in creation order; then the others). */
  get weights(): Variable[] { return [...this.trainableWeights, ...this.nonTrainableWeights]; }
  get trainableWeights(): Variable[] { return this.trainable ? this._weights.filter((w) => w.trainable) : []; }
  get nonTrainableWeights(): Variable[] {
    return this.trainable ? this._weights.filter((w) => !w.trainable) : this._weights.slice();
  }
  /** Weights in creation order, whatever their trainability (Keras's saving order). */
  get variables(): Variable[] { return this._weights.slice(); }

  /** Copies of the weight values, in `weights` order. */
  getWeights(): Tensor[] { return this.weights.map((w) => w.read()); }

  /** Sets the weights from tensors in `weights` order (Keras layouts: kernel [kh, kw, in, out], Dense [in, out]). */
  setWeights(ws: Tensor[]): void {
    const mine = this.weights;
    if (ws.length !== mine.length) {
      throw new RangeError(`convnet: layer "${this.name}" has ${mine.length} weights (${mine.map((w) => `${w.name} ${fmtShape(w.shape)}`).join(', ') || 'none'}), got ${ws.length}`);
    }
    mine.forEach((w, i) => w.assign(ws[i]));
  }

  countParams(): number { return this._weights.reduce((n, w) => n + w.size, 0); }

  /** Sum of the weight regularizers' penalties (null when there is none). */
  regularizationLosses(): Tensor[] {
    const out: Tensor[] = [];
    for (const w of this._weights) if (w.regularizer && w.trainable) out.push(w.regularizer.call(w.value));
    return out;
  }

  /** Keras 3 config dict (snake_case keys). */
  getConfig(): Record<string, unknown> {
    return { name: this.name, trainable: this.trainable, dtype: dtypePolicy() };
  }

  /** `{ module, class_name, config, registered_name, build_config? }` as in a .keras file. */
  serialize(): SerializedObject {
    const s: SerializedObject = { module: 'keras.layers', class_name: this.className, config: this.getConfig(), registered_name: null };
    const recordsBuild = (this.constructor as typeof Layer).recordsBuildConfig;
    if (this.built && this.buildInputShape && (this._weights.length > 0 || recordsBuild)) {
      s.build_config = { input_shape: this.buildInputShape.slice() };
    }
    return s;
  }

  /** Releases the weights' memory. */
  dispose(): void { for (const w of this._weights) w.dispose(); this._weights = []; this.built = false; }

  toString(): string { return `${this.className}(name=${this.name})`; }
}

function checkShape(s: unknown, what: string, layer: string): Shape {
  if (!Array.isArray(s) || s.some((d) => d !== null && !(Number.isInteger(d) && d > 0))) {
    throw new RangeError(`convnet: layer ${layer}: ${what} must be a list of positive integers (or null), got ${JSON.stringify(s)}`);
  }
  return s.slice();
}

/** Normalises a layer's options: camelCase keys, checked against the layer's own plus the base ones. */
export function layerOptions(opts: unknown, own: readonly string[], cls: string): Record<string, unknown> {
  return normalizeOptions(opts as Record<string, unknown> | undefined, [...own, ...BASE_KEYS], cls);
}

/** Splits Keras's positional form: `new Conv2D(32, 3, {...})` or `new Conv2D({ filters: 32, ... })`. */
export function positional(args: unknown[], names: readonly string[]): Record<string, unknown> {
  const out: Record<string, unknown> = {};
  let i = 0;
  for (; i < args.length && i < names.length; i++) {
    const a = args[i];
    if (a !== null && typeof a === 'object' && !Array.isArray(a) && !(a instanceof Tensor)) break;
    if (a !== undefined) out[names[i]] = a;
  }
  const rest = args[i];
  if (rest !== undefined) {
    if (rest === null || typeof rest !== 'object' || Array.isArray(rest)) {
      throw new TypeError(`convnet: too many positional arguments (expected ${names.join(', ')}, then an options object)`);
    }
    for (const [k, v] of Object.entries(rest as Record<string, unknown>)) {
      const ck = snakeToCamel(k);
      if (ck in out && v !== undefined) throw new TypeError(`convnet: ${k} given both positionally and as an option`);
      out[ck] = v;
    }
  }
  if (args.length > i + 1) throw new TypeError(`convnet: unexpected arguments after the options object`);
  return out;
}

// ---- registry ------------------------------------------------------------------------------

type LayerClass = { new (...args: any[]): Layer; className: string; fromConfig?(cfg: Record<string, unknown>): Layer };
const registry = new Map<string, LayerClass>();

/** Registers a layer class under its Keras class name so configs can be deserialised. */
export function registerLayer(className: string, cls: LayerClass): void { registry.set(className, cls); }

export function getLayerClass(className: string): LayerClass {
  const cls = registry.get(className);
  if (!cls) throw new RangeError(`convnet: unknown layer class ${JSON.stringify(className)} (known: ${[...registry.keys()].sort().join(', ')})`);
  return cls;
}

export function registeredLayers(): string[] { return [...registry.keys()].sort(); }

/** Keras config keys that carry no meaning here (always their default value). */
const IGNORED_CONFIG_KEYS = new Set(['dtype', 'data_format', 'groups', 'sparse', 'ragged', 'optional', 'activity_regularizer',
  'kernel_constraint', 'bias_constraint', 'beta_constraint', 'gamma_constraint', 'noise_shape', 'quantization_config',
  'lora_rank', 'lora_alpha', 'synchronized', 'value_range', 'input_tensor']);

/** Makes a layer from `{ class_name, config }` (snake_case or camelCase keys). */
export function deserializeLayer(obj: { class_name?: string; className?: string; config?: Record<string, unknown> }): Layer {
  const className = obj.class_name ?? obj.className;
  if (typeof className !== 'string') throw new TypeError(`convnet: deserializeLayer: missing class_name in ${JSON.stringify(obj).slice(0, 200)}`);
  const cls = getLayerClass(className);
  const cfg: Record<string, unknown> = {};
  for (const [k, v] of Object.entries(obj.config ?? {})) {
    if (IGNORED_CONFIG_KEYS.has(k) || IGNORED_CONFIG_KEYS.has(k.replace(/([a-z0-9])([A-Z])/g, '$1_$2').toLowerCase())) {
      checkIgnored(k, v, className);
      continue;
    }
    cfg[snakeToCamel(k)] = v;
  }
  if (cls.fromConfig) return cls.fromConfig(cfg);
  return new cls(cfg);
}

function checkIgnored(k: string, v: unknown, cls: string): void {
  const bad = (k === 'data_format' && v !== 'channels_last' && v != null) || (k === 'groups' && v !== 1 && v != null) ||
    (k === 'dtype' && typeof v === 'string' && v !== 'float32') ||
    (k === 'dtype' && v && typeof v === 'object' && (v as any).config?.name && (v as any).config.name !== 'float32');
  if (bad) throw new RangeError(`convnet: ${cls}: ${k}=${JSON.stringify(v)} is not supported (only channels_last, groups 1, float32)`);
}
