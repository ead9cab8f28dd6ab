/**
 * Model files: `saveModel(model, path, opts)` and `loadModel(path, opts)`.
 *
 * | format | save | load |
 * | --- | --- | --- |
 * | `.keras` (Keras 3 zip: config.json, model.weights.h5, metadata.json) | yes | Keras 3, Keras 2.13-2.15 |
 * | legacy whole-model `.h5` | yes (Keras 2 form, as Keras 2 and 3 read it) | Keras 2.x and Keras 3 legacy saves |
 * | TF.js layers (`model.json` + shards; a folder, or `tfjs://dir`) | yes | yes |
 * | `.onnx` | yes (export) | - |
 * | `.weights.h5` (Keras 3 `save_weights`: the `model.weights.h5` of a .keras) | `saveWeights` | `loadWeights` |
 *
 * The format code (`keras.ts`, `legacy_h5.ts`, `tfjs.ts`, `onnx.ts`) works on the typed JSON of
 * `schema.ts` and plain arrays; only this file touches layers, models and optimizers.
 */
import { tensor, fmtShape } from '../../tensor/index.js';
import type { Tensor } from '../../tensor/tensor.js';
import { deserializeLayer, type Layer, type Variable } from '../../layers/index.js';
import { readKerasArchive, writeKerasArchive, writeKerasWeights, readKerasWeights, type ReadLimits } from './keras.js';
import { readLegacyH5, isHdf5 } from './legacy_h5.js';
import { writeLegacyH5 } from './legacy_h5_writer.js';
import { readTfjs, writeTfjs } from './tfjs.js';
import { exportOnnx } from './onnx.js';
import { UnsafeFileError } from './zip.js';
import type { SavableModel, Model } from '../../models/model.js';
import { functionalOnnxGraph, type FunctionalLayerData } from './functional.js';
import type { CompileArgs } from '../../models/trainer.js';
import type { CompileConfigJSON, LoadedModelData, SaveModelData, ShapeJSON, KerasObjectJSON, WeightArray } from './schema.js';

// Node's file system only under Node: convnet-ts/browser loads this module too (src/io/models/browser.ts
// saves to a Blob or a download and loads from bytes, a File or a URL), where these are never called.
const IN_NODE = typeof process === 'object' && typeof process.versions?.node === 'string';
const { statSync } = IN_NODE ? await import('node:fs') : ({} as typeof import('node:fs'));
const { join, extname } = IN_NODE ? await import('node:path') : ({} as typeof import('node:path'));
const { writeFileAtomic, readFileLimited, isDirectory } = IN_NODE ? await import('./files.js') : ({} as typeof import('./files.js'));

export { UnsafeFileError } from './zip.js';
export { exportOnnx, onnxSupportedLayers } from './onnx.js';
export type { LoadedModelData, SaveModelData, ModelSpec, KerasObjectJSON, TfjsModelJSON, CompileConfigJSON } from './schema.js';

export type ModelFormat = 'keras' | 'tfjs' | 'onnx' | 'h5';

export interface SaveOptions {
  /** Overrides the format chosen from the path (`.keras`, `.onnx`, a folder or `tfjs://` for TF.js). */
  format?: ModelFormat;
  /** Leave the optimizer state out of a .keras file (default: included when the model is compiled). */
  includeOptimizer?: boolean;
  /**
   * Class names in class-index order, kept beside the model (`class_names` in a .keras file's
   * metadata.json, `userDefinedMetadata.class_names` in TF.js), so `convnet predict` can name them.
   */
  classNames?: string[] | null;
}

export interface LoadOptions extends ReadLimits {
  /** Compile the model with the file's training configuration (default true). */
  compile?: boolean;
  /** Largest file read, in bytes (default 2 GiB). */
  maxFileBytes?: number;
  /** Where warnings go (default console.warn). */
  warn?: (message: string) => void;
}

/** What this file needs from a model: the models area's interface, imported as a type only. */
type ModelLike = SavableModel;
interface OptimizerLike {
  name: string;
  className: string;
  serialize(): KerasObjectJSON;
  variables(): Variable[];
  build(vars: Variable[]): void;
  built: boolean;
}

function stripScheme(path: string): string { return path.replace(/^tfjs:\/\//, ''); }

/** File extensions of other tools' single-file formats: a name ending in one is a file, never a TF.js folder. */
const FILE_EXTENSIONS = new Set(['.json', '.pb', '.pt', '.pth', '.tflite', '.zip', '.bin', '.npz', '.npy', '.pkl', '.safetensors', '.mlmodel', '.hdf5', '.txt']);

function editDistance(a: string, b: string): number {
  const d = Array.from({ length: a.length + 1 }, (_, i) => [i, ...new Array(b.length).fill(0)]);
  for (let j = 1; j <= b.length; j++) d[0][j] = j;
  for (let i = 1; i <= a.length; i++) {
    for (let j = 1; j <= b.length; j++) d[i][j] = Math.min(d[i - 1][j] + 1, d[i][j - 1] + 1, d[i - 1][j - 1] + (a[i - 1] === b[j - 1] ? 0 : 1));
  }
  return d[a.length][b.length];
}

// The CLI (convnet export) turns 'pass { format }' into 'pass --format keras, tfjs or onnx'.
const FORMAT_HINT = 'name it .keras or .onnx, give a folder for TF.js, or pass { format }';

/**
 * The format a save target asks for: `.keras`, `.onnx`, or a TF.js folder: `tfjs://dir`, a name ending
 * in '/', an existing folder, or a name without a file extension of its own (`web_model`,
 * `out.keras_tfjs`). Names that look like a file of another format, or like a misspelt `.keras`, are
 * refused with a hint rather than turned into a folder.
 */
export function formatForSave(path: string, opts: SaveOptions = {}): ModelFormat {
  if (opts.format) return opts.format;
  if (path.startsWith('tfjs://')) return 'tfjs';
  if (path.endsWith('/') || path.endsWith('\\')) return 'tfjs';
  let isDir = false;
  try { isDir = statSync(path).isDirectory(); } catch { /* absent: decided by the name */ }
  if (isDir) return 'tfjs';
  const ext = extname(path).toLowerCase();
  if (ext === '.keras') return 'keras';
  if (ext === '.onnx') return 'onnx';
  if (WEIGHTS_SUFFIX.test(path)) throw new Error(`convnet: ${JSON.stringify(path)} is a weights-only name: save it with saveWeights, or ${FORMAT_HINT}`);
  if (ext === '.h5') return 'h5';
  if (ext === '') return 'tfjs';
  if (FILE_EXTENSIONS.has(ext)) throw new Error(`convnet: cannot tell the format from ${JSON.stringify(path)} (${ext} is another tool's file type): ${FORMAT_HINT}`);
  const near = ['.keras', '.onnx'].find((k) => editDistance(ext, k) <= 2);
  if (near) throw new Error(`convnet: cannot tell the format from ${JSON.stringify(path)}: did you mean ${near}? Otherwise ${FORMAT_HINT}`);
  return 'tfjs';
}

function batchInputShape(model: ModelLike): ShapeJSON {
  const first = model.layers[0];
  const s = model.inputShape ?? first?.batchInputShape ?? first?.buildInputShape ?? null;
  if (!s || !model.layers.every((l) => l.built)) {
    throw new Error(`convnet: model "${model.name}" is not built yet: give the first layer an inputShape or call predict once before saving`);
  }
  return [null, ...s.slice(1)];
}

/**
 * Weight values read before `modelData` runs, for backends whose tensors cannot be read
 * synchronously (webgpu keeps them on the device): `modelDataAsync` fills it with one awaited read
 * per variable, and the synchronous walk below takes the values from it.
 */
let prefetched: Map<Tensor, ArrayLike<number>> | null = null;

function values(t: Tensor): ArrayLike<number> {
  return prefetched?.get(t) ?? (t.dataSync() as ArrayLike<number>);
}

function weightArray(v: Variable): WeightArray & { name: string } {
  const t = v.value;
  const raw = values(t);
  const data = raw instanceof Float32Array ? raw : Float32Array.from(raw);
  return { name: v.name, shape: t.shape.slice(), data };
}

/** Every variable the writers read: the layers' (nested models' too) and the optimizer's. */
function savedVariables(model: ModelLike, includeOptimizer: boolean): Variable[] {
  const out: Variable[] = [];
  const stack: Layer[] = [...model.layers].reverse();
  while (stack.length) {
    const l = stack.pop()!;
    if (isModel(l)) stack.push(...[...l.layers].reverse());
    else out.push(...l.variables);
  }
  if (includeOptimizer && model.compileConfig && model.optimizer) out.push(...model.optimizer.variables());
  return out;
}

/** `modelData` with every weight read asynchronously first (works on every backend, webgpu too). */
export async function modelDataAsync(model: ModelLike, includeOptimizer = true): Promise<SaveModelData> {
  const map = new Map<Tensor, ArrayLike<number>>();
  for (const v of savedVariables(model, includeOptimizer)) {
    if (!map.has(v.value)) map.set(v.value, (await v.value.data()) as ArrayLike<number>);
  }
  prefetched = map;
  try {
    return modelData(model, includeOptimizer);
  } finally {
    prefetched = null;
  }
}

/** Whether a layer is a model (nested in a functional model). */
function isModel(l: Layer): l is Layer & SavableModel {
  return (l.className === 'Functional' || l.className === 'Sequential') && Array.isArray((l as Partial<SavableModel>).layers);
}

/** A functional model's layers for the writers: serialisations with weights (and whether each trains), nested models as trees. */
function functionalLayerData(layers: Layer[]): FunctionalLayerData[] {
  return layers.map((l) => {
    if (isModel(l)) return { object: l.serialize() as KerasObjectJSON, weights: [], children: functionalLayerData(l.layers) };
    const trainable = new Set(l.trainableWeights);
    return { object: l.serialize() as KerasObjectJSON, weights: l.variables.map((v) => ({ ...weightArray(v), trainable: trainable.has(v) })) };
  });
}

/** Takes what the writers need from a runtime model. */
export function modelData(model: ModelLike, includeOptimizer = true): SaveModelData {
  const layers = model.layers.filter((l) => l.className !== 'InputLayer');
  const data: SaveModelData = {
    name: model.name,
    batchInputShape: batchInputShape(model),
    layers: layers.map((l) => ({ object: l.serialize() as KerasObjectJSON, weights: l.variables.map(weightArray) })),
    compileConfig: null,
    optimizerName: null,
    optimizerVariables: null,
  };
  if (model.className === 'Functional') {
    data.functional = { top: model.serialize() as KerasObjectJSON, layers: functionalLayerData(model.layers), outputShapes: model.outputShapesList ?? [] };
  }
  const opt = model.optimizer;
  if (model.compileConfig && opt) {
    data.compileConfig = {
      optimizer: opt.serialize(), loss: null, loss_weights: null, metrics: null, weighted_metrics: null,
      run_eagerly: false, steps_per_execution: 1, jit_compile: false,
      ...(model.compileConfig as Partial<CompileConfigJSON>),
    } as CompileConfigJSON;
    data.compileConfig.optimizer = opt.serialize();
    if (includeOptimizer) {
      data.optimizerName = opt.name;
      data.optimizerVariables = opt.variables().map((v, i) => ({
        shape: v.value.shape.slice(),
        // Keras keeps `iterations` as int64; every other optimizer variable is float32.
        dtype: i === 0 ? 'int64' : 'float32',
        data: Float32Array.from(values(v.value)),
      }));
    }
  }
  return data;
}

/**
 * Saves a model: `.keras` (Keras 3, with optimizer state), a folder or `tfjs://dir` (TF.js
 * layers format), or `.onnx`. Every file is written under a temporary name and renamed.
 */
export async function saveModel(model: ModelLike, path: string, opts: SaveOptions = {}): Promise<void> {
  // In a browser: `model.save('downloads://name.keras')` offers the .keras file as a download.
  if (path.startsWith('downloads://')) return (await import('./browser.js')).downloadModel(model, path.slice('downloads://'.length), opts);
  const format = formatForSave(path, opts);
  const data = await modelDataAsync(model, opts.includeOptimizer !== false);
  if (opts.classNames != null) {
    if (!Array.isArray(opts.classNames) || !opts.classNames.every((c) => typeof c === 'string')) {
      throw new TypeError(`convnet: saveModel: classNames must be a list of strings, got ${JSON.stringify(opts.classNames)}`);
    }
    data.classNames = opts.classNames.slice();
  }
  if (format === 'keras') {
    await writeFileAtomic(path, await writeKerasArchive(data));
  } else if (format === 'h5') {
    // Keras's legacy whole-model format (model_config, training_config, model_weights), as Keras 2 and 3 read it.
    await writeFileAtomic(path, await writeLegacyH5(data));
  } else if (format === 'onnx') {
    await writeFileAtomic(path, onnxBytes(data));
  } else if (format === 'tfjs') {
    const dir = stripScheme(path);
    const { modelJson, shards } = writeTfjs(data);
    for (const [name, bytes] of shards) await writeFileAtomic(join(dir, name), bytes);
    // model.json last: a reader never sees it point at shards not yet written.
    await writeFileAtomic(join(dir, 'model.json'), JSON.stringify(modelJson));
  } else {
    throw new Error(`convnet: cannot save format ${JSON.stringify(format)}`);
  }
}

const WEIGHTS_SUFFIX = /\.weights\.h5$/i;

/**
 * Saves only the weights, as Keras 3's `model.save_weights('x.weights.h5')` does: the
 * `model.weights.h5` of a .keras archive (layer weights at `layers/<class>[_n]/vars/<i>`, and the
 * optimizer's variables when the model is compiled, unless `includeOptimizer: false`). Written
 * under a temporary name and renamed.
 */
export async function saveWeights(model: ModelLike, path: string, opts: { includeOptimizer?: boolean } = {}): Promise<void> {
  if (!WEIGHTS_SUFFIX.test(path)) {
    throw new Error(`convnet: saveWeights: the file name must end in .weights.h5 (Keras 3's weights format), got ${JSON.stringify(path)}`);
  }
  await writeFileAtomic(path, await writeKerasWeights(await modelDataAsync(model, opts.includeOptimizer !== false)));
}

/**
 * Loads weights into a model of the same architecture, as Keras 3's `model.load_weights(path)`:
 * from a `.weights.h5` file (Keras 3 or convnet), or from a whole-model file (.keras, legacy .h5,
 * TF.js folder). Layers are matched by class and order, as Keras matches them; a layer or weight
 * that does not fit is named in the error and nothing is changed. The optimizer state is restored
 * too when the file has it and the model is compiled.
 */
export async function loadWeights(model: ModelLike, path: string, opts: LoadOptions = {}): Promise<void> {
  const warn = opts.warn ?? ((m: string) => console.warn(`convnet: ${m}`));
  const layers = model.layers.filter((l) => l.className !== 'InputLayer');
  if (!layers.every((l) => l.built)) {
    const s = model.inputShape ?? layers[0]?.batchInputShape ?? null;
    if (!s || !model.build) throw new Error(`convnet: loadWeights: model "${model.name}" is not built yet: give the first layer an inputShape or call predict once first`);
    model.build([null, ...s.slice(1)]);
  }
  let weights: WeightArray[][];
  let optimizerVariables: WeightArray[] | null;
  let legacyOptimizer: LoadedModelData['legacyOptimizerWeights'] = null;
  if (WEIGHTS_SUFFIX.test(path)) {
    const bytes = await readFileLimited(path, opts.maxFileBytes ?? 2 ** 31, path);
    ({ weights, optimizerVariables } = await readKerasWeights(bytes, layers.map((l) => l.className), path, opts));
  } else {
    const data = await readModelData(path, opts);
    const fileClasses = data.spec.layers.map((l) => l.class_name);
    const mine = layers.map((l) => l.className);
    const weighted = (cls: string[], ws: number[]) => cls.filter((_, i) => ws[i] > 0).join(', ');
    const a = weighted(fileClasses, data.weights.map((w) => w.length));
    const b = weighted(mine, layers.map((l) => l.variables.length));
    if (a !== b) throw new RangeError(`${path}: the file's layers with weights (${a || 'none'}) do not match the model's (${b || 'none'})`);
    const queue = data.weights.filter((w) => w.length > 0);
    weights = layers.map((l) => (l.variables.length > 0 ? queue.shift()! : []));
    optimizerVariables = data.optimizerVariables;
    legacyOptimizer = data.legacyOptimizerWeights ?? null;
  }
  assignWeights(layers, weights, path);
  if (optimizerVariables && model.optimizer) restoreOptimizer(model, optimizerVariables, warn, path);
  else if (legacyOptimizer && model.optimizer) restoreLegacyOptimizer(model, legacyOptimizer, warn, path);
}

/** ONNX bytes for a model's data (the export command and `.onnx` saves). */
export function onnxBytes(data: SaveModelData): Uint8Array {
  if (data.functional) {
    const graph = functionalOnnxGraph(data.functional.top, data.functional.layers, data.functional.outputShapes);
    return exportOnnx({ name: data.name, batchInputShape: data.batchInputShape, layers: [], graph });
  }
  let shape: ShapeJSON = data.batchInputShape;
  const layers = data.layers.map((l) => {
    const layer = deserializeLayer({ class_name: l.object.class_name, config: l.object.config });
    shape = layer.computeOutputShape(shape);
    layer.dispose();
    return { className: l.object.class_name, name: String(l.object.config.name), config: l.object.config, weights: l.weights, outputShape: shape };
  });
  return exportOnnx({ name: data.name, batchInputShape: data.batchInputShape, layers });
}

/** Reads any supported file into format-neutral data (no model built). */
export async function readModelData(path: string, opts: LoadOptions = {}): Promise<LoadedModelData> {
  const maxBytes = opts.maxFileBytes ?? 2 ** 31;
  const what = path;
  const p = stripScheme(path);
  if (path.startsWith('tfjs://') || (await isDirectory(p)) || extname(p).toLowerCase() === '.json') {
    const jsonPath = (await isDirectory(p)) ? join(p, 'model.json') : p;
    const dir = (await isDirectory(p)) ? p : join(jsonPath, '..');
    const text = new TextDecoder().decode(await readFileLimited(jsonPath, 64 * 2 ** 20, what));
    let json: unknown;
    try { json = JSON.parse(text); } catch (e) { throw new UnsafeFileError(`${what}: model.json is not valid JSON (${(e as Error).message})`); }
    return readTfjs(json, (rel) => readFileLimited(join(dir, rel), maxBytes, `${what}: ${rel}`), what, maxBytes);
  }
  const bytes = await readFileLimited(p, maxBytes, what);
  if (bytes[0] === 0x50 && bytes[1] === 0x4b) return readKerasArchive(bytes, what, opts);
  if (isHdf5(bytes)) return readLegacyH5(bytes, what, opts);
  throw new UnsafeFileError(`${what}: not a model file convnet reads (.keras zip, Keras .h5, or a TF.js folder)`);
}

/** Copies the file's weights into the layers, naming any layer or weight that does not match. */
function assignWeights(layers: Layer[], weights: WeightArray[][], what: string, order: (l: Layer) => Variable[] = (l) => l.variables): void {
  checkWeights(layers, weights, what, order);
  layers.forEach((layer, i) => order(layer).forEach((v, j) => v.assign(tensor(weights[i][j].data, weights[i][j].shape))));
}

/**
 * The order of a layer's weights in a legacy .h5: Keras 2 saves a nested model's weights as its
 * `weights` (every trainable one, then the rest), other layers' in creation order.
 */
function legacyOrder(l: Layer): Variable[] {
  return isModel(l) ? [...l.trainableWeights, ...l.variables.filter((v) => !l.trainableWeights.includes(v))] : l.variables;
}

/** Throws, naming the layer or weight, unless every weight fits (so a failed load changes nothing). */
function checkWeights(layers: Layer[], weights: WeightArray[][], what: string, order: (l: Layer) => Variable[] = (l) => l.variables): void {
  layers.forEach((layer, i) => {
    const vars = order(layer);
    const w = weights[i] ?? [];
    if (vars.length !== w.length) {
      throw new RangeError(`${what}: layer "${layer.name}" (${layer.className}) has ${vars.length} weights (${vars.map((v) => `${v.name} ${fmtShape(v.shape)}`).join(', ') || 'none'}), the file has ${w.length} (${w.map((x) => fmtShape(x.shape)).join(', ') || 'none'})`);
    }
    vars.forEach((v, j) => {
      const s = w[j].shape;
      if (s.length !== v.shape.length || s.some((d, k) => d !== v.shape[k])) {
        throw new RangeError(`${what}: weight ${v.path} of layer "${layer.name}" (${layer.className}) has shape ${fmtShape(v.shape)} in the model, ${fmtShape(s)} in the file`);
      }
    });
  });
}

function restoreOptimizer(model: ModelLike, saved: WeightArray[], warn: (m: string) => void, what: string): void {
  const opt = model.optimizer;
  if (!opt) return;
  const trainable = model.trainableWeights ?? model.layers.flatMap((l) => l.trainableWeights);
  // A state saved before the first step (iterations, learning_rate) fits an optimizer not built yet.
  if (!opt.built && saved.length !== opt.variables().length) opt.build(trainable);
  let vars = opt.variables();
  let src = saved;
  // Keras 2.13-2.15 saved no learning_rate variable: line the rest up after it.
  if (src.length === vars.length - 1 && vars[1]?.name === 'learning_rate') { vars = [vars[0], ...vars.slice(2)]; }
  if (src.length !== vars.length) {
    warn(`${what}: skipping the optimizer state: the optimizer has ${vars.length} variables, the file has ${src.length}`);
    return;
  }
  for (let i = 0; i < vars.length; i++) {
    const v = vars[i];
    const s = src[i];
    if (s.data.length !== v.size) {
      warn(`${what}: skipping the optimizer state: variable ${i} (${v.path}) has shape ${fmtShape(v.shape)}, the file ${fmtShape(s.shape)}`);
      return;
    }
  }
  vars.forEach((v, i) => v.value.write(v.value.dtype === 'float32' ? src[i].data : Int32Array.from(src[i].data, Math.round)));
}

/** Keras 2 (OptimizerV2) slot names to Keras 3's (and convnet's) slot variable names. */
const KERAS2_SLOTS: Record<string, string> = {
  m: 'momentum', v: 'velocity', vhat: 'velocity_hat', rms: 'velocity', momentum: 'momentum', mg: 'average_gradient', velocity: 'velocity', average_gradient: 'average_gradient',
};
/**
 * The Keras 3 slot a Keras 2 optimizer weight holds, from its name: `Adam/conv2d/kernel/m:0`
 * (Keras 2.4-2.10, OptimizerV2), `Adam/m/conv2d/kernel:0` or `m/conv2d/kernel:0` (Keras 2.11-2.15).
 */
function keras2Slot(name: string): string | undefined {
  const parts = name.replace(/:\d+$/, '').split('/');
  for (const p of [parts[parts.length - 1], parts[0], parts[1]]) if (p !== undefined && Object.hasOwn(KERAS2_SLOTS, p)) return KERAS2_SLOTS[p];
  return undefined;
}
/**
 * Keras 2.0-2.3 (and tf.keras of TF 1.x) saved its slots unnamed (`training/Adam/Variable_k:0`): one block
 * per slot kind, each holding that slot for every trainable weight, in the order its optimizers made them.
 */
const KERAS21_BLOCKS: Record<string, string[]> = {
  Adam: ['momentum', 'velocity', 'velocity_hat'], AdamW: ['momentum', 'velocity', 'velocity_hat'], SGD: ['momentum'], RMSprop: ['velocity'],
};

/**
 * Restores a Keras 1/2 legacy `.h5`'s optimizer state: the iteration count, and each slot of each
 * trainable weight put where the optimizer keeps it (Keras 3 orders them per weight, Keras 2 per
 * slot kind). What cannot be matched is reported and skipped: the model then trains from a fresh state.
 */
function restoreLegacyOptimizer(model: ModelLike, legacy: { names: string[]; values: WeightArray[] }, warn: (m: string) => void, what: string): void {
  const opt = model.optimizer;
  if (!opt) return;
  const trainable = model.trainableWeights ?? model.layers.flatMap((l) => l.trainableWeights);
  const skip = (why: string) => warn(`${what}: skipping the optimizer state (${opt.className}): ${why}`);
  const n = trainable.length;
  const itIdx = legacy.names.findIndex((nm) => /(^|\/)iter(ation|ations)?(:\d+)?$/.test(nm));
  if (itIdx < 0) return skip(`no iteration count among ${legacy.names.length} optimizer weights`);
  const rest = legacy.names.map((nm, i) => ({ nm, v: legacy.values[i] })).filter((_, i) => i !== itIdx);
  const fits = (w: WeightArray, i: number) => w.shape.length === trainable[i].shape.length && w.shape.every((d, k) => d === trainable[i].shape[k]);
  const blocks = new Map<string, WeightArray[]>();
  if (rest.every((r) => keras2Slot(r.nm))) {
    // Named slots (Keras 2.4-2.15): each kind's slots come in the weights' order, whether the file
    // lists them kind by kind (OptimizerV2) or weight by weight (Keras 2.11+).
    for (const r of rest) {
      const kind = keras2Slot(r.nm)!;
      if (!blocks.has(kind)) blocks.set(kind, []);
      blocks.get(kind)!.push(r.v);
    }
  } else {
    const kinds = KERAS21_BLOCKS[opt.className];
    if (!kinds) return skip(`Keras 2.0-2.3's unnamed slots are only read for ${Object.keys(KERAS21_BLOCKS).join(', ')}`);
    if (n === 0 || rest.length % n !== 0) return skip(`${rest.length} slot values do not split into blocks of ${n} (the trainable weights)`);
    for (let b = 0; b * n < rest.length; b++) {
      const block = rest.slice(b * n, (b + 1) * n).map((r) => r.v);
      // A block shaped unlike the weights is Adam's (1,) amsgrad placeholder, unused when amsgrad is off.
      if (kinds[b] && block.every(fits)) blocks.set(kinds[b], block);
    }
  }
  if (!opt.built) opt.build(trainable);
  const plan: [Variable, WeightArray][] = [];
  const seen = new Map<string, number>();
  for (const v of opt.variables()) {
    if (v.name === 'iteration') { plan.push([v, legacy.values[itIdx]]); continue; }
    if (v.name === 'learning_rate') continue; // from the training config, as Keras 2 kept it
    // The optimizer creates each kind's slots in the trainable weights' order: the k-th is weight k's.
    const k = seen.get(v.name) ?? 0;
    seen.set(v.name, k + 1);
    const src = blocks.get(v.name)?.[k];
    if (!src) return skip(`the file has no "${v.name}" slot for ${trainable[k]?.path ?? `weight ${k}`}`);
    if (src.data.length !== v.size) return skip(`slot "${v.name}" of ${trainable[k]?.path ?? `weight ${k}`} has shape ${fmtShape(src.shape)} in the file, ${fmtShape(v.shape)} here`);
    plan.push([v, src]);
  }
  for (const [v, src] of plan) v.value.write(v.value.dtype === 'float32' ? src.data : Int32Array.from(src.data, Math.round));
}

/**
 * Loads a model saved by convnet, Keras 3, Keras 2.13-2.15 (.keras), Keras's legacy .h5, or
 * TF.js (a folder with model.json), from a path or from the bytes of a .keras/.h5 file (Uint8Array,
 * ArrayBuffer, Blob). Restores the architecture, weights, compile settings and,
 * from .keras files, the optimizer state. Untrusted files are safe to open: nothing in a file
 * runs code, and malformed or hostile content is refused with a message naming it.
 */
export async function loadModel(path: string | Uint8Array | ArrayBuffer | ArrayBufferView | Blob, opts: LoadOptions = {}): Promise<Model> {
  if (typeof path !== 'string') {
    // The bytes of a .keras or legacy .h5 file (or a Blob, as `model.save('blob://')` returns), read as in a browser.
    const isBytes = path instanceof ArrayBuffer || ArrayBuffer.isView(path) || (typeof Blob !== 'undefined' && path instanceof Blob);
    if (!isBytes) throw new TypeError(`convnet: loadModel: give a file path, or a model file's bytes (Uint8Array, ArrayBuffer, Blob), got ${Object.prototype.toString.call(path)}`);
    return (await import('./browser.js')).loadModelFrom(path, opts);
  }
  const warn = opts.warn ?? ((m: string) => console.warn(`convnet: ${m}`));
  const data = await readModelData(path, opts);
  return buildModel(data, path, opts, warn);
}

/** Builds a runtime model (Sequential or functional) from format-neutral data. */
export async function buildModel(data: LoadedModelData, what: string, opts: LoadOptions = {}, warn: (m: string) => void = (m) => console.warn(`convnet: ${m}`)): Promise<Model> {
  const { Sequential, Functional } = await import('../../models/index.js');
  const { spec } = data;
  if (spec.functional) {
    let model: InstanceType<typeof Functional>;
    try {
      model = Functional.fromConfig(spec.functional, { legacy: isLegacyFunctional(spec.functional) });
    } catch (e) {
      throw new Error(`${what}: ${(e as Error).message.replace(/^convnet: /, '')}`);
    }
    const layers = spec.layers.map((l) => model.getLayer(String(l.config.name)));
    assignWeights(layers, data.weights, what, data.format === 'h5' ? legacyOrder : undefined);
    compileLoaded(model, data, what, opts, warn);
    return model;
  }
  const layers: Layer[] = spec.layers.map((l, i) => {
    try {
      return deserializeLayer({ class_name: l.class_name, config: l.config });
    } catch (e) {
      throw new Error(`${what}: layer ${i} (${l.class_name} ${JSON.stringify(l.config.name ?? '')}): ${(e as Error).message.replace(/^convnet: /, '')}`);
    }
  });
  const model = new Sequential({ name: spec.name });
  if (!spec.batchInputShape) throw new Error(`${what}: the file gives no input shape`);
  for (const l of layers) model.add(l);
  model.build(spec.batchInputShape);
  assignWeights(layers, data.weights, what);
  compileLoaded(model, data, what, opts, warn);
  return model;
}

/** Whether a functional config is in Keras 2's form (inbound nodes as lists). */
function isLegacyFunctional(cfg: Record<string, unknown>): boolean {
  const layers = Array.isArray(cfg.layers) ? cfg.layers as { inbound_nodes?: unknown[] }[] : [];
  return layers.some((l) => Array.isArray(l.inbound_nodes) && l.inbound_nodes.some((n) => Array.isArray(n)));
}

/** Compiles a loaded model with the file's training configuration and restores the optimizer state. */
function compileLoaded(model: Model, data: LoadedModelData, what: string, opts: LoadOptions, warn: (m: string) => void): void {
  const { spec } = data;
  if (spec.compile && opts.compile !== false) {
    try {
      // The loss comes from the file as JSON; compile checks it and names what it cannot use.
      const c = spec.compile;
      const several = model.outputNames.length > 1;
      model.compile({
        optimizer: c.optimizer, loss: c.loss as CompileArgs['loss'],
        // Several outputs keep the file's per-output metrics and loss weights.
        metrics: several && c.outputMetrics ? c.outputMetrics as CompileArgs['metrics'] : c.metrics,
        lossWeights: several ? c.lossWeights as CompileArgs['lossWeights'] ?? undefined : undefined,
      });
    } catch (e) {
      warn(`${what}: the model was loaded uncompiled: ${(e as Error).message.replace(/^convnet: /, '')}`);
    }
    if (data.optimizerVariables && model.optimizer) restoreOptimizer(model, data.optimizerVariables, warn, what);
    else if (data.legacyOptimizerWeights && model.optimizer) restoreLegacyOptimizer(model, data.legacyOptimizerWeights, warn, what);
  }
}
