/**
 * The Keras 3 `.keras` format: a zip of `metadata.json`, `config.json` and `model.weights.h5`.
 *
 * Weights sit at `layers/<snake_case_class>[_n]/vars/<i>` (Keras's `saving_lib`, which names
 * layers by class and counter, not by their names) and the optimizer's at `optimizer/vars/<i>`.
 * Keras 2.13-2.15 wrote `_layer_checkpoint_dependencies/...` or, on Windows, single names with a
 * literal backslash (`layers\dense`), numbered in ways that need not match: weights are matched
 * to layers by order within each layer class, which covers every variant.
 */
import { readZip, writeZip, UnsafeFileError, type ZipLimits } from './zip.js';
import { readH5, writeH5, h5Float32, type H5Group, type H5Dataset, type H5Limits, type H5WriteGroup } from './hdf5.js';
import {
  normalizeModelConfig, normalizeCompile, toKeras3Layer, toKeras3Optimizer, expectObject, KERAS_VERSION_WRITTEN, stringArray, dtypePolicy,
  type KerasObjectJSON, type KerasMetadataJSON, type LoadedModelData, type SaveModelData, type WeightArray,
} from './schema.js';
import { functionalWeightsTree, functionalWeightsFromTree, toKeras3Functional } from './functional.js';

export interface ReadLimits extends ZipLimits, H5Limits {}

const NESTED_MODEL_CLASSES = new Set(['Functional', 'Model', 'Sequential']);

/** Keras's `naming.to_snake_case`. */
export function kerasSnakeCase(name: string): string {
  let s = name.replace(/\W+/g, '');
  s = s.replace(/(.)([A-Z][a-z]+)/g, '$1_$2');
  return s.replace(/([a-z])([A-Z])/g, '$1_$2').toLowerCase();
}

function pad2(n: number): string { return String(n).padStart(2, '0'); }

/** `datetime.now().strftime("%Y-%m-%d@%H:%M:%S")`. */
function kerasDate(d: Date): string {
  return `${d.getFullYear()}-${pad2(d.getMonth() + 1)}-${pad2(d.getDate())}@${pad2(d.getHours())}:${pad2(d.getMinutes())}:${pad2(d.getSeconds())}`;
}

/** The `config.json` object Keras 3 writes for a Sequential (or functional) model. */
export function kerasConfig(m: SaveModelData, inputName = 'input_layer'): KerasObjectJSON {
  if (m.functional) {
    const top = toKeras3Functional(m.functional.top);
    if (m.compileConfig) {
      const cc = { ...m.compileConfig };
      if (cc.optimizer && typeof cc.optimizer === 'object') cc.optimizer = toKeras3Optimizer(cc.optimizer);
      top.compile_config = cc;
    } else delete top.compile_config;
    return top;
  }
  const input: KerasObjectJSON = {
    module: 'keras.layers', class_name: 'InputLayer',
    config: { batch_shape: m.batchInputShape.slice(), dtype: 'float32', sparse: false, name: inputName }, registered_name: null,
  };
  const top: KerasObjectJSON = {
    module: 'keras', class_name: 'Sequential',
    config: {
      name: m.name, trainable: true, dtype: dtypePolicy('float32'),
      layers: [input, ...m.layers.map((l) => toKeras3Layer(l.object))],
      build_input_shape: m.batchInputShape.slice(),
    },
    registered_name: null,
    build_config: { input_shape: m.batchInputShape.slice() },
  };
  if (m.compileConfig) {
    const cc = { ...m.compileConfig };
    if (cc.optimizer && typeof cc.optimizer === 'object') cc.optimizer = toKeras3Optimizer(cc.optimizer);
    top.compile_config = cc;
  }
  return top;
}

/** The `model.weights.h5` tree, groups created in Keras's order. */
export function kerasWeightsTree(m: SaveModelData): H5WriteGroup {
  const used = new Map<string, number>();
  const layerGroups: [string, H5WriteGroup][] = m.functional ? functionalWeightsTree(m.functional.layers).children as [string, H5WriteGroup][] : m.layers.map((l) => {
    const base = kerasSnakeCase(l.object.class_name);
    const n = used.get(base);
    used.set(base, n === undefined ? 0 : n + 1);
    const key = n === undefined ? base : `${base}_${n + 1}`;
    const vars: H5WriteGroup = {
      kind: 'group', attrs: { name: String(l.object.config.name ?? key) },
      children: l.weights.map((w, i) => [String(i), { kind: 'dataset', shape: w.shape, dtype: 'float32', data: w.data }]),
    };
    return [key, { kind: 'group', children: [['vars', vars]] }];
  });
  const root: H5WriteGroup = {
    kind: 'group',
    children: [
      ['vars', { kind: 'group', attrs: { name: m.name }, children: [] }],
      ['layers', { kind: 'group', children: layerGroups }],
    ],
  };
  if (m.optimizerVariables) {
    root.children.push(['optimizer', {
      kind: 'group',
      children: [['vars', {
        kind: 'group', attrs: { name: m.optimizerName ?? 'optimizer' },
        children: m.optimizerVariables.map((v, i) => [String(i), { kind: 'dataset', shape: v.shape, dtype: v.dtype, data: v.data }]),
      }]],
    }]);
  }
  return root;
}

/** The bytes of a `.keras` archive. */
export async function writeKerasArchive(m: SaveModelData, now = new Date()): Promise<Uint8Array> {
  const metadata: KerasMetadataJSON & { saved_by: string; class_names?: string[] } = { keras_version: KERAS_VERSION_WRITTEN, date_saved: kerasDate(now), saved_by: 'convnet-ts 0.1.0' };
  // Keras reads only keras_version from metadata.json; the class names ride along for `convnet predict`.
  if (m.classNames?.length) metadata.class_names = m.classNames.slice();
  const enc = new TextEncoder();
  const weights = await writeH5(kerasWeightsTree(m));
  return writeZip([
    ['metadata.json', enc.encode(JSON.stringify(metadata))],
    ['config.json', enc.encode(JSON.stringify(kerasConfig(m)))],
    ['model.weights.h5', weights],
  ], now);
}

function parseJSON(bytes: Uint8Array | undefined, name: string, what: string): unknown {
  if (!bytes) throw new UnsafeFileError(`${what}: the archive has no ${name} (is it a .keras file?)`);
  try {
    return JSON.parse(new TextDecoder('utf-8', { fatal: true }).decode(bytes));
  } catch (e) {
    throw new UnsafeFileError(`${what}: ${name} is not valid JSON (${(e as Error).message})`);
  }
}

/** Datasets `0, 1, 2, ...` of a `vars` group, in numeric order. */
export function varsList(g: H5Group | undefined, where: string): H5Dataset[] {
  if (!g) return [];
  const keys = [...g.children.keys()];
  for (const k of keys) if (!/^\d+$/.test(k)) throw new UnsafeFileError(`${where}: unexpected entry ${JSON.stringify(k)} among the variables`);
  return keys.map(Number).sort((a, b) => a - b).map((i, j) => {
    if (i !== j) throw new UnsafeFileError(`${where}: variable ${j} is missing`);
    const d = g.children.get(String(i))!;
    if (d.kind !== 'dataset') throw new UnsafeFileError(`${where}/${i} is a group, expected a dataset`);
    return d;
  });
}

function splitCounter(name: string): [string, number] {
  const m = /^(.*?)(?:_(\d+))?$/.exec(name)!;
  return [m[1], m[2] === undefined ? 0 : Number(m[2])];
}

/** Layer weight groups of a Keras 3 or 2.13-2.15 weights file, by snake-case class, in order. */
function layerGroupsByClass(root: H5Group, what: string): Map<string, { name: string; vars: H5Group | undefined }[]> {
  const found: { name: string; node: H5Group }[] = [];
  for (const [key, node] of root.children) {
    if (node.kind !== 'group') continue;
    if (key === 'layers' || key === '_layer_checkpoint_dependencies') {
      for (const [k, n] of node.children) if (n.kind === 'group') found.push({ name: k, node: n });
      continue;
    }
    const m = /^(?:layers|_layer_checkpoint_dependencies)\\(.+)$/.exec(key);
    if (m) found.push({ name: m[1], node });
  }
  const byClass = new Map<string, { name: string; n: number; vars: H5Group | undefined }[]>();
  for (const f of found) {
    const [base, n] = splitCounter(f.name);
    const vars = f.node.children.get('vars');
    if (vars && vars.kind !== 'group') throw new UnsafeFileError(`${what}: ${f.name}/vars is not a group`);
    const list = byClass.get(base) ?? [];
    list.push({ name: f.name, n, vars: vars as H5Group | undefined });
    byClass.set(base, list);
  }
  const out = new Map<string, { name: string; vars: H5Group | undefined }[]>();
  for (const [k, list] of byClass) out.set(k, list.sort((a, b) => a.n - b.n));
  return out;
}

function toWeight(d: H5Dataset): WeightArray {
  return { shape: d.shape.slice(), data: h5Float32(d) };
}

/**
 * The weights of layers of the given classes (in model order) and the optimizer variables from a
 * Keras weights tree (`model.weights.h5` of a .keras archive, or a `.weights.h5` file).
 */
export function kerasWeightsFromTree(root: H5Group, classNames: string[], what: string): { weights: WeightArray[][]; optimizerVariables: WeightArray[] | null } {
  const groups = layerGroupsByClass(root, what);
  const taken = new Map<string, number>();
  const weights = classNames.map((cls) => {
    const base = kerasSnakeCase(cls);
    const k = taken.get(base) ?? 0;
    taken.set(base, k + 1);
    const g = groups.get(base)?.[k];
    if (!g) return [];
    return varsList(g.vars, `${what}: weights of ${g.name}`).map(toWeight);
  });
  const optGroup = root.children.get('optimizer');
  let optimizerVariables: WeightArray[] | null = null;
  if (optGroup && optGroup.kind === 'group') {
    const v = optGroup.children.get('vars');
    const list = varsList(v && v.kind === 'group' ? v : undefined, `${what}: optimizer/vars`);
    if (list.length) optimizerVariables = list.map(toWeight);
  }
  return { weights, optimizerVariables };
}

/** The bytes of a Keras 3 `.weights.h5` file (`model.save_weights`): the `model.weights.h5` of a .keras archive. */
export async function writeKerasWeights(m: SaveModelData): Promise<Uint8Array> {
  return writeH5(kerasWeightsTree(m));
}

/** Reads a `.weights.h5` file for a model whose layers (InputLayer excluded) have these classes. */
export async function readKerasWeights(bytes: Uint8Array, classNames: string[], what: string, limits: ReadLimits = {}): Promise<{ weights: WeightArray[][]; optimizerVariables: WeightArray[] | null }> {
  const root = await readH5(bytes, what, limits);
  const known = [...root.children.keys()].some((k) => k === 'layers' || k === 'vars' || k === '_layer_checkpoint_dependencies' || /^(layers|_layer_checkpoint_dependencies)\\/.test(k));
  if (!known) throw new UnsafeFileError(`${what}: not a Keras weights file (no layers/ group); legacy Keras 2 weight files are not read, load the whole model file instead`);
  return kerasWeightsFromTree(root, classNames, what);
}

/** Reads a `.keras` archive into format-neutral data (no runtime objects yet). */
export async function readKerasArchive(bytes: Uint8Array, what: string, limits: ReadLimits = {}): Promise<LoadedModelData> {
  const files = readZip(bytes, limits, what);
  const metadata = parseJSON(files.get('metadata.json'), 'metadata.json', what) as Partial<KerasMetadataJSON>;
  const top = expectObject(parseJSON(files.get('config.json'), 'config.json', what), `${what}: config.json`);
  const spec = normalizeModelConfig(top, what);
  spec.compile = normalizeCompile(top.compile_config);
  const h5bytes = files.get('model.weights.h5');
  if (!h5bytes) {
    if (files.has('model.weights.npz')) throw new UnsafeFileError(`${what}: weights saved as model.weights.npz are not read (numpy pickles); save with the default h5 weights`);
    throw new UnsafeFileError(`${what}: the archive has no model.weights.h5`);
  }
  const root = await readH5(h5bytes, `${what}: model.weights.h5`, limits);
  const { weights, optimizerVariables } = kerasWeightsFromTree(root, spec.layers.map((l) => l.class_name), what);
  // Nested models keep their layers' weights in a tree of their own.
  if (spec.functional) {
    const nested = functionalWeightsFromTree(root, top, what);
    spec.layers.forEach((l, i) => { if (NESTED_MODEL_CLASSES.has(l.class_name)) weights[i] = nested[i]; });
  }
  return {
    spec, weights, optimizerVariables, format: 'keras', writtenBy: typeof metadata.keras_version === 'string' ? `Keras ${metadata.keras_version}` : null,
    classNames: stringArray((metadata as { class_names?: unknown }).class_names),
  };
}
