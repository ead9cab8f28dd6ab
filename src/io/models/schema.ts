/**
 * The on-disk schemas, typed and kept apart from the runtime classes (TF.js `keras_format/`).
 *
 * Writing goes runtime -> these JSON shapes -> bytes; reading goes bytes -> these shapes ->
 * `normalize*` (one Keras-3-style form whatever the era of the file) -> runtime classes.
 * Nothing here imports layers or models.
 */

import { isFunctionalConfig, functionalSpec, type FunctionalLayerData } from './functional.js';

/** A shape with `null` for unknown sizes (the batch axis). */
export type ShapeJSON = (number | null)[];

/** Keras 3 `serialize_keras_object(obj)`. */
export interface KerasObjectJSON<C = Record<string, unknown>> {
  module?: string;
  class_name: string;
  config: C;
  registered_name?: string | null;
  build_config?: { input_shape: ShapeJSON };
  compile_config?: CompileConfigJSON | null;
}

/** `metadata.json` inside a .keras archive. */
export interface KerasMetadataJSON {
  keras_version: string;
  date_saved: string;
}

/** `config` of a Keras 3 Sequential (Keras 2 had only name and layers; Keras 2.1 a bare list). */
export interface SequentialConfigJSON {
  name: string;
  trainable?: boolean;
  dtype?: unknown;
  layers: KerasObjectJSON[];
  build_input_shape?: ShapeJSON | null;
}

/** Keras 3 `Model.get_compile_config()`, the keys every Keras 3 version accepts. */
export interface CompileConfigJSON {
  optimizer: KerasObjectJSON | string | null;
  loss: unknown;
  loss_weights: unknown;
  metrics: unknown;
  weighted_metrics: unknown;
  run_eagerly: boolean | null;
  steps_per_execution: number | null;
  jit_compile: boolean | null;
}

/** Legacy whole-model .h5 `training_config` attribute (Keras 2). */
export interface LegacyTrainingConfigJSON {
  optimizer_config?: { class_name: string; config: Record<string, unknown> };
  loss?: unknown;
  metrics?: unknown;
}

// ---- TF.js layers format ----------------------------------------------------------------------

export interface TfjsWeightSpecJSON {
  name: string;
  shape: number[];
  dtype: 'float32' | 'int32' | 'bool' | 'string' | 'complex64';
  quantization?: { dtype: 'uint8' | 'uint16' | 'float16'; scale?: number; min?: number };
}
export interface TfjsWeightsGroupJSON {
  paths: string[];
  weights: TfjsWeightSpecJSON[];
}
/** `model.json` of a TF.js layers model. */
export interface TfjsModelJSON {
  format?: 'layers-model';
  generatedBy?: string;
  convertedBy?: string | null;
  /** `{ keras_version, backend, model_config, training_config }` or, in tfjs 0.x, the model config itself. */
  modelTopology: Record<string, unknown>;
  weightsManifest: TfjsWeightsGroupJSON[];
  trainingConfig?: Record<string, unknown>;
  /** Free-form metadata tf.loadLayersModel keeps (`model.getUserDefinedMetadata()`); convnet puts `class_names` there. */
  userDefinedMetadata?: Record<string, unknown>;
}

// ---- the normal form every reader produces ----------------------------------------------------

/** A layer as the runtime deserialiser takes it: Keras 3 snake_case config. */
export interface LayerSpec {
  class_name: string;
  config: Record<string, unknown>;
}

/** What `compile()` receives when a file carries a training configuration. */
export interface CompileSpec {
  optimizer: KerasObjectJSON | string;
  loss: unknown;
  metrics: string[];
  /** Models with several outputs: the loss weights, and the metrics per output as the file gives them. */
  lossWeights?: unknown;
  outputMetrics?: unknown;
}

/** A Sequential model described by any of the formats. */
export interface ModelSpec {
  name: string;
  /** [batch, ...] input shape, when the file gives one. */
  batchInputShape: ShapeJSON | null;
  layers: LayerSpec[];
  compile: CompileSpec | null;
  /** A functional model's config (Keras 3 or 2 form), from which the runtime rebuilds the graph; `layers` then lists its layers with weights. */
  functional?: Record<string, unknown>;
}

/**
 * Keras version written in metadata.json, and the one whose config.json these files follow: layer
 * dtypes as DTypePolicy dicts (Keras 3.4 began writing them; 3.0-3.3 wrote plain names), the
 * InputLayer's as a plain name, the key sets of `KERAS3_LAYER_KEYS`.
 */
export const KERAS_VERSION_WRITTEN = '3.4.1';

/** A layer's dtype as Keras 3.4+ writes it: `{ module: 'keras', class_name: 'DTypePolicy', config: { name } }`. */
export function dtypePolicy(name: string): KerasObjectJSON {
  return { module: 'keras', class_name: 'DTypePolicy', config: { name }, registered_name: null };
}

// ---- weights between the formats and the runtime ----------------------------------------------

/** A float32 array with its shape (weights in Keras layouts). */
export interface WeightArray {
  shape: number[];
  data: Float32Array;
}

/** Everything a reader found in a file, before any runtime object exists. */
export interface LoadedModelData {
  spec: ModelSpec;
  /** Weights of `spec.layers[i]`, in Keras's saving order (creation order). */
  weights: WeightArray[][];
  /** Optimizer variables in Keras 3 order (iterations, learning_rate, then per weight slots), when saved. */
  optimizerVariables: WeightArray[] | null;
  /**
   * A Keras 1/2 legacy `.h5`'s `optimizer_weights` in the file's order with their names, when that is
   * not Keras 3's order (`Adam/iterations:0` + `training/Adam/Variable_k:0`, or `Adam/iter:0` +
   * `Adam/<weight>/m:0`); the loader lines them up with the optimizer's variables.
   */
  legacyOptimizerWeights?: { names: string[]; values: WeightArray[] } | null;
  /** 'keras', 'h5' or 'tfjs', and the writer's version when known. */
  format: string;
  writtenBy: string | null;
  /** Class names in class-index order, when the file keeps them (convnet's metadata; absent in Keras's own files). */
  classNames?: string[] | null;
}

/** One layer to save: its Keras serialisation and weights (creation order). */
export interface SaveLayerData {
  object: KerasObjectJSON;
  weights: (WeightArray & { name: string })[];
}

/** Everything the writers need, taken from the runtime model. */
export interface SaveModelData {
  name: string;
  batchInputShape: ShapeJSON;
  layers: SaveLayerData[];
  /** Keras 3 compile config when the model is compiled. */
  compileConfig: CompileConfigJSON | null;
  /** Optimizer name (Keras writes it as the `name` attribute of `optimizer/vars`). */
  optimizerName: string | null;
  optimizerVariables: { shape: number[]; dtype: 'float32' | 'int64'; data: Float32Array }[] | null;
  /** Class names in class-index order, kept beside the model (`metadata.json`, TF.js `userDefinedMetadata`). */
  classNames?: string[] | null;
  /** A functional model: its `config.json` object and its layers (InputLayers included) with weights, nested models as trees. */
  functional?: { top: KerasObjectJSON; layers: FunctionalLayerData[]; outputShapes: ShapeJSON[] };
}

// ---- writing: the conservative Keras 3 key sets --------------------------------------------------

const BASE = ['name', 'trainable', 'dtype'];
const CONV = ['filters', 'kernel_size', 'strides', 'padding', 'data_format', 'dilation_rate', 'groups', 'activation', 'use_bias',
  'kernel_initializer', 'bias_initializer', 'kernel_regularizer', 'bias_regularizer', 'activity_regularizer', 'kernel_constraint', 'bias_constraint'];
const POOL = ['pool_size', 'padding', 'strides', 'data_format'];

/**
 * Config keys of convnet's layers as Keras 3.0 accepts them. Newer Keras 3 versions added keys
 * (`quantization_config`, `optional`, `ragged`, `lora_rank`, ...) that older ones reject, and
 * accept every older key, so files are written with these sets. Classes not listed are written
 * with the keys their `getConfig()` gives.
 */
export const KERAS3_LAYER_KEYS: Record<string, string[]> = {
  InputLayer: ['batch_shape', 'dtype', 'sparse', 'name'],
  Conv2D: [...BASE, ...CONV],
  Dense: [...BASE, 'units', 'activation', 'use_bias', 'kernel_initializer', 'bias_initializer', 'kernel_regularizer', 'bias_regularizer',
    'kernel_constraint', 'bias_constraint'],
  MaxPooling2D: [...BASE, ...POOL],
  AveragePooling2D: [...BASE, ...POOL],
  GlobalAveragePooling2D: [...BASE, 'data_format', 'keepdims'],
  GlobalMaxPooling2D: [...BASE, 'data_format', 'keepdims'],
  Flatten: [...BASE, 'data_format'],
  Dropout: [...BASE, 'rate', 'seed', 'noise_shape'],
  Activation: [...BASE, 'activation'],
  ReLU: [...BASE, 'max_value', 'negative_slope', 'threshold'],
  Softmax: [...BASE, 'axis'],
  Reshape: [...BASE, 'target_shape'],
  Permute: [...BASE, 'dims'],
  ZeroPadding2D: [...BASE, 'padding', 'data_format'],
  Cropping2D: [...BASE, 'cropping', 'data_format'],
  UpSampling2D: [...BASE, 'size', 'data_format', 'interpolation'],
  Rescaling: [...BASE, 'scale', 'offset'],
  RandomFlip: [...BASE, 'mode', 'seed'],
  RandomRotation: [...BASE, 'factor', 'fill_mode', 'interpolation', 'seed', 'fill_value'],
  RandomZoom: [...BASE, 'height_factor', 'width_factor', 'fill_mode', 'interpolation', 'seed', 'fill_value'],
  RandomTranslation: [...BASE, 'height_factor', 'width_factor', 'fill_mode', 'interpolation', 'seed', 'fill_value'],
  BatchNormalization: [...BASE, 'axis', 'momentum', 'epsilon', 'center', 'scale', 'beta_initializer', 'gamma_initializer',
    'moving_mean_initializer', 'moving_variance_initializer', 'beta_regularizer', 'gamma_regularizer', 'beta_constraint', 'gamma_constraint'],
};

/** Initializer config keys Keras 3.0 accepts (3.15 added `input_axes`/`output_axes`). */
const INITIALIZER_KEYS: Record<string, string[]> = {
  Zeros: [], Ones: [], Constant: ['value'],
  RandomNormal: ['mean', 'stddev', 'seed'], TruncatedNormal: ['mean', 'stddev', 'seed'], RandomUniform: ['minval', 'maxval', 'seed'],
  VarianceScaling: ['scale', 'mode', 'distribution', 'seed'],
  GlorotUniform: ['seed'], GlorotNormal: ['seed'], HeUniform: ['seed'], HeNormal: ['seed'], LecunUniform: ['seed'], LecunNormal: ['seed'],
  Orthogonal: ['gain', 'seed'], Identity: ['gain'],
};

/** Optimizer config keys newer than Keras 3.0 (dropped when they hold their default, null). */
const OPTIMIZER_NEW_KEYS = ['loss_scale_factor', 'gradient_accumulation_steps'];

function pick(config: Record<string, unknown>, keys: string[]): Record<string, unknown> {
  const out: Record<string, unknown> = {};
  for (const k of keys) if (k in config) out[k] = config[k];
  return out;
}

function dtypeName(d: unknown): string {
  if (typeof d === 'string') return d;
  if (d && typeof d === 'object') {
    const c = (d as { config?: { name?: unknown } }).config;
    if (c && typeof c.name === 'string') return c.name;
    if (typeof (d as { name?: unknown }).name === 'string') return (d as { name: string }).name;
  }
  return 'float32';
}

function conservativeValue(key: string, v: unknown, className: string): unknown {
  // Keras 3.4.1 writes the InputLayer's dtype as a name and every other layer's as a DTypePolicy.
  if (key === 'dtype') return className === 'InputLayer' ? dtypeName(v) : dtypePolicy(dtypeName(v));
  if (/initializer$/.test(key) && v && typeof v === 'object' && 'class_name' in (v as object)) {
    const o = v as KerasObjectJSON;
    const keys = INITIALIZER_KEYS[o.class_name];
    return { module: 'keras.initializers', class_name: o.class_name, config: keys ? pick(o.config ?? {}, keys) : o.config ?? {}, registered_name: null };
  }
  return v;
}

/** A layer's serialised form, reduced to what every Keras 3 version reads. */
export function toKeras3Layer(obj: KerasObjectJSON): KerasObjectJSON {
  const keys = KERAS3_LAYER_KEYS[obj.class_name];
  const src = obj.config ?? {};
  const config: Record<string, unknown> = {};
  for (const k of keys ?? Object.keys(src)) {
    if (!(k in src)) continue;
    config[k] = conservativeValue(k, src[k], obj.class_name);
  }
  if (obj.class_name === 'InputLayer' && !('batch_shape' in config)) {
    const s = src.batch_input_shape ?? src.batch_shape;
    if (s) config.batch_shape = s;
  }
  const out: KerasObjectJSON = { module: obj.module ?? 'keras.layers', class_name: obj.class_name, config, registered_name: obj.registered_name ?? null };
  if (obj.build_config) out.build_config = { input_shape: obj.build_config.input_shape.slice() };
  return out;
}

/** An optimizer's serialised form for `compile_config`, reduced to what Keras 3.0 reads. */
export function toKeras3Optimizer(obj: KerasObjectJSON): KerasObjectJSON {
  const config: Record<string, unknown> = {};
  for (const [k, v] of Object.entries(obj.config ?? {})) {
    if (OPTIMIZER_NEW_KEYS.includes(k) && v == null) continue;
    config[k] = v;
  }
  return { module: 'keras.optimizers', class_name: obj.class_name, config, registered_name: null };
}

// ---- reading: every era to one form ---------------------------------------------------------

function isObject(v: unknown): v is Record<string, unknown> {
  return v !== null && typeof v === 'object' && !Array.isArray(v);
}

/** A config value that must be an object, with a clear message otherwise. */
export function expectObject(v: unknown, what: string): Record<string, unknown> {
  if (!isObject(v)) throw new TypeError(`${what} is not a JSON object`);
  return v;
}

function checkShape(v: unknown, what: string): ShapeJSON {
  if (!Array.isArray(v) || v.some((d) => d !== null && !(Number.isInteger(d) && d >= 0))) {
    throw new TypeError(`${what}: bad shape ${JSON.stringify(v)}`);
  }
  return v as ShapeJSON;
}

/**
 * Cleans one layer config from any era: dtype policies to names, `batch_input_shape` moved out,
 * initializers that old TF.js wrote without their fields dropped (the weights replace them).
 */
function normalizeLayerConfig(className: string, raw: Record<string, unknown>, where: string): { config: Record<string, unknown>; batchShape: ShapeJSON | null } {
  const config: Record<string, unknown> = {};
  let batchShape: ShapeJSON | null = null;
  for (const [k, v] of Object.entries(raw)) {
    if (k === 'batch_input_shape' || k === 'batch_shape') {
      if (v != null) batchShape = checkShape(v, `${where}.${k}`);
      continue;
    }
    if (k === 'input_shape' && className !== 'InputLayer') {
      if (v != null) batchShape = [null, ...checkShape(v, `${where}.${k}`)];
      continue;
    }
    if (k === 'dtype') { config.dtype = dtypeName(v); continue; }
    if (/initializer$/.test(k) && isObject(v) && isObject(v.config) && Object.values(v.config).some((x) => x === null) && v.class_name === 'VarianceScaling') {
      continue;
    }
    config[k] = v;
  }
  return { config, batchShape };
}

/**
 * Reads a Sequential config of any era (Keras 3 object, Keras 2 `{name, layers}`, Keras 2.1
 * bare list, or a linear functional `Model`/`Functional` as TF.js 0.x saved Sequential models)
 * into a `ModelSpec` without compile information.
 */
export function normalizeModelConfig(top: unknown, what: string): ModelSpec {
  const t = expectObject(top, `${what}: model config`);
  const cls = t.class_name;
  let name = 'sequential';
  let rawLayers: unknown[];
  let buildShape: ShapeJSON | null = null;
  if (cls === 'Sequential') {
    if (Array.isArray(t.config)) rawLayers = t.config;
    else {
      const c = expectObject(t.config, `${what}: Sequential config`);
      if (!Array.isArray(c.layers)) throw new TypeError(`${what}: Sequential config has no layer list`);
      rawLayers = c.layers;
      if (typeof c.name === 'string') name = c.name;
      if (Array.isArray(c.build_input_shape)) buildShape = checkShape(c.build_input_shape, `${what}: build_input_shape`);
    }
    const bc = t.build_config;
    if (!buildShape && isObject(bc) && Array.isArray(bc.input_shape)) buildShape = checkShape(bc.input_shape, `${what}: build_config`);
  } else if (isFunctionalConfig(t)) {
    return functionalSpec(t, what);
  } else if (cls === 'Model' || cls === 'Functional') {
    const c = expectObject(t.config, `${what}: ${cls} config`);
    if (typeof c.name === 'string') name = c.name;
    rawLayers = linearize(c, what);
  } else {
    throw new TypeError(`${what}: only Sequential models (or linear functional ones) can be read, this file holds a ${JSON.stringify(cls)}`);
  }
  const layers: LayerSpec[] = [];
  let batchInputShape: ShapeJSON | null = null;
  rawLayers.forEach((l, i) => {
    const o = expectObject(l, `${what}: layer ${i}`);
    const className = o.class_name;
    if (typeof className !== 'string') throw new TypeError(`${what}: layer ${i} has no class_name`);
    const where = `${what}: layer ${i} (${className})`;
    const { config, batchShape } = normalizeLayerConfig(className, expectObject(o.config ?? {}, where), where);
    if (batchShape && batchInputShape === null) batchInputShape = batchShape;
    if (className === 'InputLayer') return;
    layers.push({ class_name: className, config });
  });
  return { name, batchInputShape: batchInputShape ?? buildShape, layers, compile: null };
}

/** Orders a functional model's layers when they form a single chain; throws otherwise. */
function linearize(c: Record<string, unknown>, what: string): unknown[] {
  const layers = (c.layers as unknown[] | undefined) ?? [];
  const byName = new Map<string, Record<string, unknown>>();
  const next = new Map<string, string>();
  let first: string | null = null;
  for (const l of layers) {
    const o = expectObject(l, `${what}: layer`);
    const name = String(o.name ?? expectObject(o.config, `${what}: layer config`).name);
    byName.set(name, o);
    const inbound = (o.inbound_nodes as unknown[] | undefined) ?? [];
    if (inbound.length === 0) { first = name; continue; }
    if (inbound.length !== 1 || !Array.isArray(inbound[0]) || (inbound[0] as unknown[]).length !== 1) {
      throw new TypeError(`${what}: the functional model is not a single chain at layer ${JSON.stringify(name)}; only Sequential models are supported`);
    }
    const src = String(((inbound[0] as unknown[])[0] as unknown[])[0]);
    if (next.has(src)) throw new TypeError(`${what}: the functional model branches after layer ${JSON.stringify(src)}; only Sequential models are supported`);
    next.set(src, name);
  }
  if (first === null) throw new TypeError(`${what}: the functional model has no input layer`);
  const order: unknown[] = [];
  for (let n: string | undefined = first; n !== undefined; n = next.get(n)) {
    if (order.length > layers.length) throw new TypeError(`${what}: the functional model has a cycle`);
    order.push(byName.get(n));
  }
  if (order.length !== layers.length) throw new TypeError(`${what}: the functional model is not a single chain; only Sequential models are supported`);
  return order;
}

const LOSS_ALIASES: Record<string, string> = {
  bce: 'binary_crossentropy', mse: 'mean_squared_error', mae: 'mean_absolute_error',
  BinaryCrossentropy: 'binary_crossentropy', CategoricalCrossentropy: 'categorical_crossentropy',
  SparseCategoricalCrossentropy: 'sparse_categorical_crossentropy', MeanSquaredError: 'mean_squared_error',
  MeanAbsoluteError: 'mean_absolute_error',
};

function normalizeLoss(l: unknown): unknown {
  if (typeof l === 'string') return LOSS_ALIASES[l] ?? l;
  if (isObject(l)) {
    // Keras 2.13-2.15 wrote plain functions as {module: 'builtins', class_name: 'function', config: 'name'}.
    if (l.class_name === 'function' && typeof l.config === 'string') return LOSS_ALIASES[l.config] ?? l.config;
    if (typeof l.class_name === 'string' && LOSS_ALIASES[l.class_name] && isObject(l.config)) {
      const cfg = l.config;
      const plainDefaults = !cfg.from_logits && !cfg.label_smoothing;
      return plainDefaults ? LOSS_ALIASES[l.class_name] : l;
    }
  }
  return l;
}

function normalizeMetrics(m: unknown): string[] {
  const out: string[] = [];
  const visit = (x: unknown): void => {
    if (x == null) return;
    if (Array.isArray(x)) { x.forEach(visit); return; }
    if (typeof x === 'string') { out.push(x === 'acc' ? 'accuracy' : x); return; }
    if (isObject(x)) {
      const cfg = isObject(x.config) ? x.config : {};
      if (typeof cfg.name === 'string') out.push(cfg.name === 'acc' ? 'accuracy' : cfg.name);
      else if (typeof x.class_name === 'string') out.push(x.class_name);
    }
  };
  visit(m);
  return [...new Set(out)];
}

/** Optimizer from a compile/training config of any era; legacy names (`lr`, `decay`) mapped or dropped. */
function normalizeOptimizer(o: unknown): KerasObjectJSON | string | null {
  if (o == null) return null;
  if (typeof o === 'string') return o;
  if (!isObject(o) || typeof o.class_name !== 'string') return null;
  const src = isObject(o.config) ? o.config : {};
  const config: Record<string, unknown> = {};
  for (const [k, v] of Object.entries(src)) {
    if (k === 'lr') { config.learning_rate = v; continue; }
    if (k === 'decay' || k === 'is_legacy_optimizer' || k === 'jit_compile') continue;
    config[k] = v;
  }
  if (typeof config.name === 'string') config.name = config.name.toLowerCase();
  // The TF.js converter writes 'Custom>Adam' for Keras 2.11+ optimizers.
  return { module: 'keras.optimizers', class_name: o.class_name.replace(/^Custom>/, ''), config, registered_name: null };
}

/** Compile settings from a Keras 3/2.13+ `compile_config` or a legacy `training_config`. */
export function normalizeCompile(cc: unknown): CompileSpec | null {
  if (!isObject(cc)) return null;
  const optimizer = normalizeOptimizer(cc.optimizer ?? cc.optimizer_config);
  if (optimizer === null || cc.loss == null) return null;
  // Per-output losses (a list, or an object by output name) are kept as written, so a model saves back the same.
  const loss = Array.isArray(cc.loss) || (isObject(cc.loss) && typeof cc.loss.class_name !== 'string') ? cc.loss : normalizeLoss(cc.loss);
  const spec: CompileSpec = { optimizer, loss, metrics: normalizeMetrics(cc.metrics) };
  const perOutput = (Array.isArray(cc.metrics) && cc.metrics.length > 1 && cc.metrics.every((m) => Array.isArray(m) || m === null)) ||
    (isObject(cc.metrics) && typeof cc.metrics.class_name !== 'string');
  if (cc.loss_weights != null) spec.lossWeights = cc.loss_weights;
  if (perOutput) spec.outputMetrics = cc.metrics;
  return spec;
}

/** A non-empty list of strings from a file, or null for anything else (class names kept beside a model). */
export function stringArray(v: unknown): string[] | null {
  return Array.isArray(v) && v.length > 0 && v.every((x) => typeof x === 'string') ? v.slice() : null;
}
