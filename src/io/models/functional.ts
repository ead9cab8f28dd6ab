/**
 * Functional models in files: Keras 3 `Functional` configs (`inbound_nodes` of `{ args, kwargs }`
 * with `__keras_tensor__` arguments), Keras 2 `Functional`/`Model` configs (`inbound_nodes` of
 * `[[layer, node, tensor, kwargs], ...]`), and nested models. Works on JSON and weight arrays only,
 * like the other format files; the runtime graph is rebuilt by `Functional.fromConfig`.
 *
 * Weights in a `.keras` archive sit at `layers/<snake_case_class>[_n]/vars/<i>`, counted over
 * `model.layers` in Keras's order (InputLayers included); a nested model is a group with its own
 * `layers/` inside.
 */
import { UnsafeFileError } from './zip.js';
import { varsList } from './keras.js';
import { h5Float32, type H5Group, type H5WriteGroup } from './hdf5.js';
import { expectObject, toKeras3Layer, type KerasObjectJSON, type LayerSpec, type ModelSpec, type ShapeJSON, type WeightArray } from './schema.js';

const MODEL_CLASSES = new Set(['Functional', 'Model', 'Sequential']);

/** Keras's `naming.to_snake_case`. */
function snake(name: string): string {
  let s = name.replace(/\W+/g, '');
  s = s.replace(/(.)([A-Z][a-z]+)/g, '$1_$2');
  return s.replace(/([a-z])([A-Z])/g, '$1_$2').toLowerCase();
}

function isObject(v: unknown): v is Record<string, unknown> { return v !== null && typeof v === 'object' && !Array.isArray(v); }

/** Whether a model config (the `config.json` object, or `model_config`) is a functional model. */
export function isFunctionalConfig(top: unknown): boolean {
  return isObject(top) && (top.class_name === 'Functional' || top.class_name === 'Model') && isObject(top.config) && Array.isArray(top.config.layers);
}

/** The batch shape of an InputLayer config of any era. */
function inputShapeOf(cfg: Record<string, unknown>): ShapeJSON | null {
  const s = cfg.batch_shape ?? cfg.batch_input_shape;
  return Array.isArray(s) ? s as ShapeJSON : null;
}

/** The layers of a (possibly nested) functional or Sequential config, InputLayers included. */
function configLayers(cls: unknown, cfg: Record<string, unknown>): Record<string, unknown>[] {
  if (cls === 'Sequential') {
    const list = Array.isArray(cfg) ? cfg : cfg.layers;
    return Array.isArray(list) ? list as Record<string, unknown>[] : [];
  }
  return Array.isArray(cfg.layers) ? cfg.layers as Record<string, unknown>[] : [];
}

/**
 * The `ModelSpec` of a functional config: `functional` holds the config the runtime rebuilds the
 * graph from, `layers` the layers with weights in config order (InputLayers left out), which the
 * weight readers fill by name or by class order.
 */
export function functionalSpec(top: Record<string, unknown>, what: string): ModelSpec {
  const c = expectObject(top.config, `${what}: ${String(top.class_name)} config`);
  const raw = configLayers(top.class_name, c);
  const layers: LayerSpec[] = [];
  let batchInputShape: ShapeJSON | null = null;
  raw.forEach((l, i) => {
    const o = expectObject(l, `${what}: layer ${i}`);
    if (typeof o.class_name !== 'string') throw new UnsafeFileError(`${what}: layer ${i} has no class_name`);
    const config = expectObject(o.config ?? {}, `${what}: layer ${i} (${o.class_name}) config`);
    if (o.class_name === 'InputLayer') { batchInputShape ??= inputShapeOf(config); return; }
    if (!Array.isArray(o.inbound_nodes)) throw new UnsafeFileError(`${what}: layer ${i} (${o.class_name}) has no inbound_nodes list`);
    layers.push({ class_name: o.class_name, config: { ...config, name: o.name ?? config.name } });
  });
  return { name: typeof c.name === 'string' ? c.name : 'functional', batchInputShape, layers, compile: null, functional: c };
}

/**
 * The weights of each layer of `spec.layers` from a `.keras` weights tree: groups matched by
 * class and order among `model.layers` (InputLayers counted), nested models walked into. A nested
 * model's weights come out flat, its layers' in its config order.
 */
export function functionalWeightsFromTree(root: H5Group, top: Record<string, unknown>, what: string): WeightArray[][] {
  const out: WeightArray[][] = [];
  const walk = (group: H5Group | undefined, cls: unknown, cfg: Record<string, unknown>, where: string, collect: (ws: WeightArray[], layer: Record<string, unknown>) => void): void => {
    const layersGroup = group?.children.get('layers');
    const counts = new Map<string, number>();
    for (const l of configLayers(cls, cfg)) {
      const base = snake(String(l.class_name));
      const n = counts.get(base) ?? 0;
      counts.set(base, n + 1);
      const key = n === 0 ? base : `${base}_${n}`;
      const g = layersGroup?.kind === 'group' ? layersGroup.children.get(key) : undefined;
      if (g && g.kind !== 'group') throw new UnsafeFileError(`${where}/layers/${key} is not a group`);
      if (MODEL_CLASSES.has(String(l.class_name))) {
        const flat: WeightArray[] = [];
        walk(g as H5Group | undefined, l.class_name, expectObject(l.config, `${where}: ${key} config`), `${where}/layers/${key}`, (ws) => flat.push(...ws));
        collect(flat, l);
        continue;
      }
      const vars = (g as H5Group | undefined)?.children.get('vars');
      const ws = varsList(vars?.kind === 'group' ? vars : undefined, `${what}: weights of ${where}/layers/${key}`).map((d) => ({ shape: d.shape.slice(), data: h5Float32(d) }));
      collect(ws, l);
    }
  };
  walk(root, top.class_name, expectObject(top.config, `${what}: config`), '', (ws, l) => { if (l.class_name !== 'InputLayer') out.push(ws); });
  return out;
}

/** What the writers take for one layer of a functional model: its serialisation and its weights (creation order). */
export interface FunctionalLayerData {
  object: KerasObjectJSON & { name?: string; inbound_nodes?: unknown[] };
  weights: WeightArray[];
  /** The layers of a nested model, in its `layers` order. */
  children?: FunctionalLayerData[];
}

/** The `model.weights.h5` tree of a functional model (groups in Keras's order and names). */
export function functionalWeightsTree(layers: FunctionalLayerData[]): H5WriteGroup {
  const used = new Map<string, number>();
  const children: [string, H5WriteGroup][] = layers.map((l) => {
    const base = snake(l.object.class_name);
    const n = used.get(base) ?? 0;
    used.set(base, n + 1);
    const key = n === 0 ? base : `${base}_${n}`;
    const name = String(l.object.name ?? l.object.config.name ?? key);
    const vars: H5WriteGroup = {
      kind: 'group', attrs: { name },
      children: l.weights.map((w, i) => [String(i), { kind: 'dataset', shape: w.shape, dtype: 'float32', data: w.data }]),
    };
    const kids: [string, H5WriteGroup][] = [];
    if (l.children) kids.push(['layers', functionalWeightsTree(l.children)]);
    kids.push(['vars', vars]);
    return [key, { kind: 'group', children: kids }];
  });
  return { kind: 'group', children };
}

/**
 * A functional `config.json` object reduced to what every Keras 3 version reads: each layer's
 * config through the same key sets as Sequential files, nested models recursively.
 */
export function toKeras3Functional(obj: KerasObjectJSON): KerasObjectJSON {
  const cfg = obj.config;
  const layers = configLayers(obj.class_name, cfg).map((l) => {
    const o = l as unknown as KerasObjectJSON & { name?: string; inbound_nodes?: unknown[] };
    const inner = MODEL_CLASSES.has(o.class_name) ? o.class_name === 'Sequential' ? o : toKeras3Functional(o) : toKeras3Layer(o);
    const out: Record<string, unknown> = { ...inner };
    if (o.name !== undefined) out.name = o.name;
    if (o.inbound_nodes !== undefined) out.inbound_nodes = o.inbound_nodes;
    return out;
  });
  if (obj.class_name === 'Sequential') return obj;
  return { ...obj, config: { ...cfg, layers } };
}

/**
 * A Keras 3 functional config in Keras 2's form, as tf.keras 2.x and TF.js read it: `inbound_nodes`
 * as `[[[layer, node, tensor, kwargs], ...]]`, class `Functional`, plain dtype names.
 */
export function toKeras2Functional(obj: KerasObjectJSON, keras2Layer: (o: KerasObjectJSON) => { class_name: string; config: Record<string, unknown> }): Record<string, unknown> {
  const cfg = obj.config;
  const input = (o: KerasObjectJSON & { name?: string }) => ({
    class_name: 'InputLayer', config: { batch_input_shape: o.config.batch_shape ?? o.config.batch_input_shape, dtype: 'float32', sparse: false, ragged: false, name: o.name ?? o.config.name },
  });
  if (obj.class_name === 'Sequential') {
    const layers = configLayers('Sequential', cfg).map((l) => {
      const o = l as unknown as KerasObjectJSON;
      return o.class_name === 'InputLayer' ? input(o) : MODEL_CLASSES.has(o.class_name) ? toKeras2Functional(o, keras2Layer) : keras2Layer(o);
    });
    return { class_name: 'Sequential', config: { name: cfg.name, layers } };
  }
  const all = configLayers(obj.class_name, cfg);
  // Keras 2's Sequential was a functional model, whose own node comes first: its calls count from 1.
  const sequential = new Set(all.filter((l) => l.class_name === 'Sequential').map((l) => String(l.name ?? (l.config as Record<string, unknown>).name)));
  const ref = (h: unknown[]) => [h[0], Number(h[1]) + (sequential.has(String(h[0])) ? 1 : 0), h[2]];
  const layers = all.map((l) => {
    const o = l as unknown as KerasObjectJSON & { name?: string; inbound_nodes?: unknown[] };
    const nodes = (o.inbound_nodes ?? []).map((n) => {
      if (Array.isArray(n)) return n;
      const d = n as { args?: unknown[]; kwargs?: Record<string, unknown> };
      const a0 = d.args?.[0];
      const ts = (Array.isArray(a0) ? a0 : [a0]) as { config: { keras_history: [string, number, number] } }[];
      const kwargs = { ...(d.kwargs ?? {}) };
      return ts.map((t) => [...ref(t.config.keras_history), kwargs]);
    });
    if (o.class_name === 'InputLayer') return { ...input(o), name: o.name ?? o.config.name, inbound_nodes: [] };
    const inner = MODEL_CLASSES.has(o.class_name) ? toKeras2Functional(o, keras2Layer) : keras2Layer(o);
    return { ...inner, name: o.name ?? o.config.name, inbound_nodes: nodes };
  });
  const refs = (v: unknown) => (Array.isArray(v) ? (v as unknown[][]).map(ref) : v);
  return { class_name: 'Functional', config: { name: cfg.name, trainable: cfg.trainable ?? true, layers, input_layers: refs(cfg.input_layers), output_layers: refs(cfg.output_layers) } };
}

/** What the ONNX exporter takes for a functional model (see onnx.ts `OnnxGraphInput`). */
export interface FunctionalOnnxGraph {
  inputs: { id: string; name: string; shape: ShapeJSON }[];
  nodes: { layer: { className: string; name: string; config: Record<string, unknown>; weights: WeightArray[]; outputShape: ShapeJSON }; inputs: string[]; output: string }[];
  outputs: { id: string; shape: ShapeJSON }[];
}

/**
 * A functional model's calls for the ONNX exporter, ordered so that every tensor is made before it
 * is read (a shared layer's later calls may come after other layers). Nested models are refused.
 */
export function functionalOnnxGraph(top: KerasObjectJSON, layers: FunctionalLayerData[], outputShapes: ShapeJSON[]): FunctionalOnnxGraph {
  const cfg = top.config;
  const refs = (v: unknown): unknown[][] => (Array.isArray(v) && v.length === 3 && typeof v[0] === 'string' ? [v] : v as unknown[][]);
  const id = (h: unknown[]) => `${String(h[0])}:${Number(h[1])}:${Number(h[2])}`;
  const inputRefs = refs(cfg.input_layers);
  const byName = new Map(layers.map((l) => [String(l.object.name ?? l.object.config.name), l]));
  const inputs = inputRefs.map((r) => {
    const l = byName.get(String(r[0]));
    const shape = (l?.object.config.batch_shape ?? l?.object.config.batch_input_shape) as ShapeJSON | undefined;
    if (!shape) throw new Error(`ONNX export: input ${String(r[0])} has no shape`);
    return { id: id(r), name: inputRefs.length === 1 ? 'input' : String(r[0]), shape };
  });
  const pending: FunctionalOnnxGraph['nodes'] = [];
  // The config's layers (with their inbound nodes) and `layers` (with the weights) are in the same order.
  configLayers(top.class_name, cfg).forEach((c, i) => {
    const l = layers[i];
    if (l.object.class_name === 'InputLayer') return;
    const name = String(c.name ?? l.object.config.name);
    if (l.children) throw new Error(`ONNX export: layer ${name} is a nested model (${l.object.class_name}); export a model without nested models`);
    ((c.inbound_nodes as unknown[] | undefined) ?? []).forEach((n, k) => {
      const d = n as { args?: unknown[] };
      const a0 = d.args?.[0];
      const ts = (Array.isArray(a0) ? a0 : [a0]) as { config: { keras_history: unknown[] } }[];
      pending.push({
        layer: { className: l.object.class_name, name, config: l.object.config, weights: l.weights, outputShape: [] },
        inputs: ts.map((t) => id(t.config.keras_history)), output: `${name}:${k}:0`,
      });
    });
  });
  const made = new Set(inputs.map((i) => i.id));
  const nodes: FunctionalOnnxGraph['nodes'] = [];
  while (pending.length) {
    const i = pending.findIndex((n) => n.inputs.every((x) => made.has(x)));
    if (i < 0) throw new Error(`ONNX export: the graph reads tensors that no layer makes (${pending.map((n) => n.layer.name).join(', ')})`);
    const [n] = pending.splice(i, 1);
    nodes.push(n);
    made.add(n.output);
  }
  const outputs = refs(cfg.output_layers).map((r, k) => ({ id: id(r), shape: outputShapes[k] }));
  return { inputs, nodes, outputs };
}
