/**
 * Legacy whole-model Keras `.h5` files (Keras 1/2 `model.save('m.h5')`, and Keras 3 writing the
 * legacy format): a `model_config` JSON attribute, a `training_config` attribute, and a
 * `model_weights` group with one group per layer listing its datasets in `weight_names`.
 *
 * Dataset paths differ by era (`dense_1/kernel:0`, `sequential/dense/kernel`, ...); they are read
 * through `weight_names`, which every era writes. Layers are matched by name, or by order among
 * the layers that have weights when the names differ (as Keras's `load_weights` does).
 */
import { readH5, h5Get, h5Float32, type H5Group } from './hdf5.js';
import { UnsafeFileError } from './zip.js';
import { normalizeModelConfig, normalizeCompile, type LoadedModelData, type WeightArray } from './schema.js';
import type { ReadLimits } from './keras.js';

function attrString(v: unknown): string | null {
  if (typeof v === 'string') return v;
  if (v instanceof Uint8Array) return new TextDecoder().decode(v);
  return null;
}

function stringList(v: unknown): string[] {
  if (Array.isArray(v)) return v.map((x) => (typeof x === 'string' ? x : x instanceof Uint8Array ? new TextDecoder().decode(x) : String(x)));
  if (typeof v === 'string') return [v];
  return [];
}

/** True when the bytes start with the HDF5 signature. */
export function isHdf5(bytes: Uint8Array): boolean {
  const sig = [0x89, 0x48, 0x44, 0x46, 0x0d, 0x0a, 0x1a, 0x0a];
  return bytes.length >= 8 && sig.every((b, i) => bytes[i] === b);
}

/** Reads a legacy whole-model `.h5` file into format-neutral data. */
export async function readLegacyH5(bytes: Uint8Array, what: string, limits: ReadLimits = {}): Promise<LoadedModelData> {
  const root = await readH5(bytes, what, limits);
  const cfgText = attrString(root.attrs.model_config);
  if (cfgText === null) {
    if (root.children.has('layers') || root.children.has('vars')) {
      throw new UnsafeFileError(`${what}: this is a weights-only file (.weights.h5) with no architecture; load the .keras file instead`);
    }
    throw new UnsafeFileError(`${what}: no model_config attribute: not a whole-model Keras .h5 file`);
  }
  let cfg: unknown;
  try { cfg = JSON.parse(cfgText); } catch (e) { throw new UnsafeFileError(`${what}: model_config is not valid JSON (${(e as Error).message})`); }
  const spec = normalizeModelConfig(cfg, what);
  const tc = attrString(root.attrs.training_config);
  if (tc) {
    try { spec.compile = normalizeCompile(JSON.parse(tc)); } catch { spec.compile = null; }
  }
  const mw = root.children.get('model_weights') ?? root;
  if (mw.kind !== 'group') throw new UnsafeFileError(`${what}: model_weights is not a group`);
  const layerNames = stringList(mw.attrs.layer_names);
  const saved: { name: string; weights: WeightArray[] }[] = [];
  for (const name of layerNames) {
    const g = mw.children.get(name);
    if (!g || g.kind !== 'group') throw new UnsafeFileError(`${what}: layer group ${JSON.stringify(name)} listed in layer_names is missing`);
    const wnames = stringList(g.attrs.weight_names);
    const weights = wnames.map((wn) => {
      const d = h5Get(g as H5Group, wn);
      if (!d || d.kind !== 'dataset') throw new UnsafeFileError(`${what}: weight ${JSON.stringify(wn)} of layer ${JSON.stringify(name)} is missing`);
      return { shape: d.shape.slice(), data: h5Float32(d) };
    });
    if (weights.length) saved.push({ name, weights });
  }
  const configNames = spec.layers.map((l) => String(l.config.name ?? ''));
  const byName = saved.every((s) => configNames.includes(s.name));
  const weights: WeightArray[][] = spec.layers.map(() => []);
  if (byName) {
    for (const s of saved) weights[configNames.indexOf(s.name)] = s.weights;
  } else {
    // Names differ (renamed layers): hand the saved groups out in order; the runtime checks counts and shapes.
    let k = 0;
    spec.layers.forEach((l, i) => {
      if (k < saved.length && WEIGHTED.has(l.class_name)) weights[i] = saved[k++].weights;
    });
  }
  const version = attrString(root.attrs.keras_version);
  // The optimizer state, as Keras's legacy loader restores it (`load_optimizer_weights_from_hdf5_group`).
  let optimizerVariables: WeightArray[] | null = null;
  let legacyOptimizerWeights: LoadedModelData['legacyOptimizerWeights'] = null;
  const og = root.children.get('optimizer_weights');
  if (og && og.kind === 'group') {
    const names = stringList(og.attrs.weight_names);
    const values = names.map((wn) => {
      const d = h5Get(og, wn);
      if (!d || d.kind !== 'dataset') throw new UnsafeFileError(`${what}: optimizer weight ${JSON.stringify(wn)} listed in weight_names is missing`);
      return { shape: d.shape.slice(), data: h5Float32(d) };
    });
    // Keras 3 writing the legacy format keeps its own order (iteration, learning_rate, then per weight the
    // slots), as a .keras file does; Keras 1/2 orders and names them differently.
    if (names.length && /(^|\/)iteration$/.test(names[0])) optimizerVariables = values;
    else if (names.length) legacyOptimizerWeights = { names, values };
  }
  return { spec, weights, optimizerVariables, legacyOptimizerWeights, format: 'h5', writtenBy: version ? `Keras ${version}` : null };
}

const WEIGHTED = new Set(['Conv2D', 'Dense', 'BatchNormalization', 'SeparableConv2D', 'DepthwiseConv2D', 'Conv1D', 'Conv2DTranspose', 'Embedding', 'PReLU']);
