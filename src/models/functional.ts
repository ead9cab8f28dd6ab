/**
 * Functional models (Keras's `Functional`): a graph of layer calls from `Input()` tensors to
 * outputs. Several inputs and outputs, shared layers (one layer called twice: one set of
 * weights), and models called as layers all work. The graph is walked iteratively (no recursion,
 * so deep models cannot overflow the stack), in Keras's order: `model.layers` lists the layers as
 * Keras does, so the weights of a .keras file line up with them.
 */
import { fmtShape, type Tensor } from '../tensor/index.js';
import { Layer, InputLayer, KerasTensor, Node, deserializeLayer, registerLayer, type Shape } from '../layers/index.js';
import type { SerializedObject } from '../layers/config.js';
import { Model, setFunctionalClass, type FunctionalArgs } from './model.js';
import { Sequential } from './sequential.js';

/** Keras's map_graph: nodes from inputs to outputs, and the layers ordered by depth, then by first visit. */
function mapGraph(inputs: KerasTensor[], outputs: KerasTensor[]): { nodes: Node[]; layers: Layer[] } {
  const finished = new Set<Node>();
  const inProgress = new Set<Node>();
  const order: Node[] = [];
  const firstVisit = new Map<Layer, number>();
  const inputSet = new Set(inputs);
  for (const out of outputs) {
    // Depth-first, post-order, as Keras's recursive _build_map_helper, with an explicit stack.
    const stack: { node: Node; next: number; tensor: KerasTensor }[] = [];
    const enter = (t: KerasTensor): void => {
      const node = t.node;
      if (finished.has(node)) return;
      if (inProgress.has(node)) throw new RangeError(`convnet: the graph has a cycle at layer "${node.layer.name}"`);
      if (!firstVisit.has(node.layer)) firstVisit.set(node.layer, firstVisit.size);
      inProgress.add(node);
      stack.push({ node, next: 0, tensor: t });
    };
    enter(out);
    while (stack.length) {
      const top = stack[stack.length - 1];
      const leaf = top.node.inputs.length === 0 || inputSet.has(top.tensor);
      if (!leaf && top.next < top.node.inputs.length) { enter(top.node.inputs[top.next++]); continue; }
      stack.pop();
      inProgress.delete(top.node);
      finished.add(top.node);
      order.push(top.node);
    }
  }
  // Depths: 0 at the outputs, growing towards the inputs; a layer takes its deepest node's depth.
  const inGraph = new Set(order);
  const nodeDepth = new Map<Node, number>();
  const layerDepth = new Map<Layer, number>();
  for (let i = order.length - 1; i >= 0; i--) {
    const node = order[i];
    let depth = nodeDepth.get(node) ?? 0;
    depth = Math.max(depth, layerDepth.get(node.layer) ?? 0);
    layerDepth.set(node.layer, depth);
    nodeDepth.set(node, depth);
    for (const p of node.parents) if (inGraph.has(p)) nodeDepth.set(p, Math.max(depth + 1, nodeDepth.get(p) ?? 0));
  }
  for (const t of inputs) {
    if (!layerDepth.has(t.node.layer)) { layerDepth.set(t.node.layer, 0); firstVisit.set(t.node.layer, -1); nodeDepth.set(t.node, 0); order.unshift(t.node); }
  }
  const layers = [...layerDepth.keys()].sort((a, b) => (layerDepth.get(b)! - layerDepth.get(a)!) || (firstVisit.get(a)! - firstVisit.get(b)!));
  // Every tensor a node reads must come from the inputs or an earlier node.
  const computable = new Set<KerasTensor>(inputs);
  const nodes = [...order].sort((a, b) => nodeDepth.get(b)! - nodeDepth.get(a)!);
  for (const node of nodes) {
    if (node.inputs.length === 0 && !node.outputs.some((t) => computable.has(t))) {
      throw new RangeError(`convnet: graph disconnected: the outputs need input "${node.layer.name}", which is not among the model's inputs`);
    }
    for (const t of node.inputs) {
      if (!computable.has(t)) throw new RangeError(`convnet: graph disconnected: layer "${node.layer.name}" reads ${t} that the inputs do not lead to`);
    }
    for (const t of node.outputs) computable.add(t);
  }
  const names = new Map<string, number>();
  for (const l of layers) names.set(l.name, (names.get(l.name) ?? 0) + 1);
  for (const [n, c] of names) if (c > 1) throw new RangeError(`convnet: the name "${n}" is used ${c} times in the model; layer names must be unique`);
  return { nodes, layers };
}

function asList<T>(v: T | T[] | Record<string, T>, what: string, isOne: (x: unknown) => boolean): { list: T[]; keys: string[] | null } {
  if (isOne(v)) return { list: [v as T], keys: null };
  if (Array.isArray(v)) return { list: v, keys: null };
  if (v && typeof v === 'object') return { list: Object.values(v), keys: Object.keys(v) };
  throw new TypeError(`convnet: Model: ${what} must be a symbolic tensor (from Input() or layer.apply), a list or an object of them`);
}

export class Functional extends Model {
  static readonly className: string = 'Functional';
  /** The model's symbolic inputs and outputs, in order. */
  readonly inputs: KerasTensor[];
  readonly outputs: KerasTensor[];
  private readonly nodes: Node[];
  private readonly _layers: Layer[];
  /** Whether inputs/outputs were given as one tensor (Keras writes them the same way). */
  private readonly singleIn: boolean;
  private readonly singleOut: boolean;

  constructor(args: FunctionalArgs) {
    super({ name: args.name, trainable: args.trainable });
    const isKT = (x: unknown) => x instanceof KerasTensor;
    const ins = asList(args.inputs, 'inputs', isKT), outs = asList(args.outputs, 'outputs', isKT);
    if (!ins.list.length || !ins.list.every(isKT)) throw new TypeError('convnet: Model: inputs must be symbolic tensors from Input()');
    if (!outs.list.length || !outs.list.every(isKT)) throw new TypeError('convnet: Model: outputs must be symbolic tensors (from layer.apply on Input() tensors)');
    for (const t of ins.list) {
      if (!(t.node.layer instanceof InputLayer)) throw new TypeError(`convnet: Model: input ${t} does not come from Input(); give the Input() tensors as inputs`);
    }
    this.inputs = ins.list; this.outputs = outs.list;
    this.singleIn = isKT(args.inputs); this.singleOut = isKT(args.outputs);
    const g = mapGraph(this.inputs, this.outputs);
    this.nodes = g.nodes; this._layers = g.layers;
    this.built = true;
    this.buildInputShape = this.inputs.length === 1 ? this.inputs[0].shape.slice() : null;
    // Keras starts a functional model with a node of its own, from its inputs to its outputs.
    const own = new Node(this, this.inputs, !this.singleIn);
    own.outputs = this.outputs;
    this.inboundNodes.push(own);
    if (args.trainable === false) this.trainable = false;
  }

  get layers(): Layer[] { return this._layers.slice(); }
  get inputShapes(): Shape[] { return this.inputs.map((t) => t.shape.slice()); }
  get outputShapesList(): Shape[] { return this.outputs.map((t) => t.shape.slice()); }
  get inputNames(): string[] { return this.inputs.map((t) => t.node.layer.name); }
  get outputNames(): string[] { return this.outputs.map((t) => t.node.layer.name); }
  /** The input shape with the batch axis (one-input models). */
  get inputShape(): Shape | null { return this.inputs.length === 1 ? this.inputs[0].shape.slice() : null; }
  get outputShape(): Shape | null { return this.outputs.length === 1 ? this.outputs[0].shape.slice() : null; }
  /** Keras's `model.input` / `model.output` for one-input, one-output models. */
  get input(): KerasTensor { if (this.inputs.length !== 1) throw new RangeError(`convnet: model "${this.name}" has ${this.inputs.length} inputs: use model.inputs`); return this.inputs[0]; }
  get output(): KerasTensor { if (this.outputs.length !== 1) throw new RangeError(`convnet: model "${this.name}" has ${this.outputs.length} outputs: use model.outputs`); return this.outputs[0]; }

  /** A functional model is built when made; this only checks that the shapes fit its inputs. */
  buildFromShapes(shapes: Shape[]): void {
    const want = this.inputShapes;
    const ok = shapes.length === want.length && shapes.every((s, k) => s.length === want[k].length && s.every((d, i) => i === 0 || d === null || want[k][i] === null || d === want[k][i]));
    if (!ok) throw new RangeError(`convnet: model "${this.name}" expects inputs of shape ${want.map(fmtShape).join(', ')}, got ${shapes.map(fmtShape).join(', ')}`);
  }
  build(inputShape: Shape): void { this.buildFromShapes([inputShape]); }
  numInputs(): number { return this.inputs.length; }

  /** The nodes of the graph in the order they run (the model's own calls, from file or code). */
  get graphNodes(): Node[] { return this.nodes.slice(); }

  /** Runs the graph: every node once, inputs to outputs. */
  invoke(xs: Tensor[], opts: { training: boolean }): Tensor[] {
    if (xs.length !== this.inputs.length) throw new RangeError(`convnet: model "${this.name}" takes ${this.inputs.length} inputs, got ${xs.length}`);
    const values = new Map<KerasTensor, Tensor>();
    this.inputs.forEach((t, i) => values.set(t, xs[i]));
    for (const node of this.nodes) {
      if (node.inputs.length === 0) continue;
      const args = node.inputs.map((t) => values.get(t)!);
      // A call saved with training=False (a frozen part in Keras) keeps it.
      const training = typeof node.kwargs.training === 'boolean' ? node.kwargs.training && opts.training : opts.training;
      const outs = node.layer.invoke(args, { training });
      node.outputs.forEach((t, i) => values.set(t, outs[i]));
    }
    return this.outputs.map((t) => values.get(t)!);
  }
  call(x: Tensor, opts: { training: boolean }): Tensor {
    const outs = this.invoke([x], opts);
    if (outs.length !== 1) throw new RangeError(`convnet: model "${this.name}" has ${outs.length} outputs: use invoke()`);
    return outs[0];
  }

  /** Shapes through the graph for inputs of these shapes. */
  computeOutputShapes(inputShapes: Shape[]): Shape[] {
    const shapes = new Map<KerasTensor, Shape>();
    this.inputs.forEach((t, i) => shapes.set(t, inputShapes[i]));
    for (const node of this.nodes) {
      if (node.inputs.length === 0) continue;
      const outs = node.layer.computeOutputShapes(node.inputs.map((t) => shapes.get(t)!));
      node.outputs.forEach((t, i) => shapes.set(t, outs[i]));
    }
    return this.outputs.map((t) => shapes.get(t)!);
  }
  computeOutputShape(s: Shape): Shape { return this.computeOutputShapes([s])[0]; }

  /** Output shape of each layer in `layers` (its first call in this model). */
  outputShapes(): (Shape | null)[] {
    return this._layers.map((l) => {
      const node = this.nodes.find((n) => n.layer === l);
      if (!node) return null;
      return node.outputs.length === 1 ? node.outputs[0].shape.slice() : null;
    });
  }

  /**
   * For the summary: per layer, the tensors its calls in this model read ("conv2d[0][0]": layer,
   * node, tensor, as Keras prints them); null when the graph is a plain chain (Keras then prints
   * the Sequential table, InputLayer included).
   */
  connections(): string[][] | null {
    const own = new Set(this.nodes);
    const readers = new Map<KerasTensor, number>();
    for (const n of this.nodes) for (const t of n.inputs) readers.set(t, (readers.get(t) ?? 0) + 1);
    const chain = this.outputs.length === 1 && this.nodes.every((n) => n.inputs.length <= 1) &&
      [...readers.values()].every((c) => c === 1) && this._layers.every((l) => l.inboundNodes.filter((n) => own.has(n)).length === 1);
    if (chain) return null;
    return this._layers.map((l) => l.inboundNodes.filter((n) => own.has(n))
      .flatMap((n) => n.inputs.map((t) => `${t.node.layer.name}[${t.node.layer.inboundNodes.indexOf(t.node)}][${t.index}]`)));
  }

  /** A node's index among its layer's calls that belong to this model (Keras's node reindexing). */
  nodeIndex(node: Node): number {
    const own = new Set(this.nodes);
    const l = node.layer;
    let k = l instanceof Functional ? 1 : 0;
    for (const n of l.inboundNodes) {
      if (n === node) return k;
      if (own.has(n)) k++;
    }
    throw new RangeError(`convnet: internal error: node of layer "${l.name}" is not among its calls`);
  }

  // ---- config ----------------------------------------------------------------------------

  private tensorRef(t: KerasTensor): [string, number, number] { return [t.node.layer.name, this.nodeIndex(t.node), t.index]; }

  /** Keras 3 Functional config: name, trainable, layers (with inbound_nodes), input_layers, output_layers. */
  getConfig(): Record<string, unknown> {
    const own = new Set(this.nodes);
    const layers = this._layers.map((l) => {
      const s = l.serialize() as SerializedObject & Record<string, unknown>;
      const inbound = l.inboundNodes.filter((n) => own.has(n) && n.inputs.length > 0).map((n) => {
        const kt = (t: KerasTensor) => ({ class_name: '__keras_tensor__', config: { shape: t.shape.slice(), dtype: 'float32', keras_history: this.tensorRef(t) } });
        return { args: [n.listArg ? n.inputs.map(kt) : kt(n.inputs[0])], kwargs: { ...n.kwargs } };
      });
      return { ...s, name: l.name, inbound_nodes: inbound };
    });
    return {
      name: this.name, trainable: this.trainable, layers,
      input_layers: this.inputs.map((t) => this.tensorRef(t)),
      output_layers: this.outputs.map((t) => this.tensorRef(t)),
    };
  }

  serialize(): SerializedObject & { compile_config?: Record<string, unknown> | null } {
    const s: SerializedObject & { compile_config?: Record<string, unknown> | null } = {
      module: 'keras.src.models.functional', class_name: 'Functional', config: this.getConfig(), registered_name: 'Functional',
      build_config: { input_shape: null as unknown as Shape },
    };
    if (this.compiled) s.compile_config = this.compileConfig;
    return s;
  }

  /**
   * A functional model from its config: Keras 3 (`inbound_nodes` of `{ args, kwargs }`) or Keras 2
   * (`inbound_nodes` of `[[layer, node, tensor, kwargs], ...]` lists). Layer calls are replayed in
   * the order Keras replays them, deferring a call until the tensors it reads exist.
   */
  static fromConfig(cfg: Record<string, unknown>, opts: { legacy?: boolean } = {}): Functional {
    const c = (cfg.class_name === 'Functional' || cfg.class_name === 'Model') && cfg.config ? cfg.config as Record<string, unknown> : cfg;
    const layerData = c.layers;
    if (!Array.isArray(layerData)) throw new TypeError('convnet: Functional.fromConfig: the config has no "layers" list');
    const created = new Map<string, Layer>();
    const pending = new Map<Layer, unknown[]>();
    const order: { name: string; layer: Layer }[] = [];
    let legacy = !!opts.legacy;
    for (const raw of layerData as Record<string, unknown>[]) {
      const name = String(raw.name ?? (raw.config as Record<string, unknown> | undefined)?.name);
      const layer = deserializeNested(raw, legacy);
      created.set(name, layer);
      order.push({ name, layer });
      const nodes = (raw.inbound_nodes as unknown[] | undefined) ?? [];
      if (nodes.some((n) => Array.isArray(n))) legacy = true;
      if (layer instanceof InputLayer) continue;
      pending.set(layer, nodes.slice());
    }
    // A nested functional model starts with a node of its own (index 0, here as in Keras). Keras 2's
    // Sequential was a functional model too, so its calls count from 1 in Keras 2 configs.
    const offset = (l: Layer) => (legacy && l.className === 'Sequential' ? 1 : 0);
    const tensorAt = (name: unknown, node: unknown, index: unknown): KerasTensor | 'later' => {
      const l = created.get(String(name));
      if (!l) throw new RangeError(`convnet: Functional.fromConfig: unknown layer ${JSON.stringify(name)} in inbound_nodes`);
      const n = l.inboundNodes[Number(node) - offset(l)];
      if (!n) return 'later';
      const t = n.outputs[Number(index)];
      if (!t) throw new RangeError(`convnet: Functional.fromConfig: layer "${l.name}" has no output ${index}`);
      return t;
    };
    const replay = (layer: Layer, data: unknown): boolean => {
      let args: KerasTensor[]; let listArg: boolean; let kwargs: Record<string, unknown> = {};
      if (Array.isArray(data)) {
        const ts = data.map((d) => tensorAt((d as unknown[])[0], (d as unknown[])[1], (d as unknown[])[2]));
        if (ts.includes('later')) return false;
        args = ts as KerasTensor[]; listArg = ts.length > 1;
        const last = data[data.length - 1] as unknown[];
        if (last.length > 3 && last[3] && typeof last[3] === 'object') kwargs = last[3] as Record<string, unknown>;
      } else {
        const d = data as { args?: unknown[]; kwargs?: Record<string, unknown> };
        const a0 = d.args?.[0];
        listArg = Array.isArray(a0);
        const refs = (listArg ? a0 as unknown[] : [a0]).map((x) => {
          const h = (x as { config?: { keras_history?: unknown[] } })?.config?.keras_history;
          if (!Array.isArray(h)) throw new TypeError(`convnet: Functional.fromConfig: layer "${layer.name}": an inbound node argument is not a Keras tensor`);
          return tensorAt(h[0], h[1], h[2]);
        });
        if (refs.includes('later')) return false;
        args = refs as KerasTensor[];
        kwargs = { ...(d.kwargs ?? {}) };
      }
      layer.callSymbolic(args, listArg, kwargs);
      return true;
    };
    while (pending.size) {
      let progress = false;
      for (const { layer } of order) {
        const list = pending.get(layer);
        if (!list) continue;
        let k = 0;
        while (k < list.length && replay(layer, list[k])) k++;
        if (k > 0) progress = true;
        if (k >= list.length) pending.delete(layer); else pending.set(layer, list.slice(k));
      }
      if (!progress) throw new RangeError(`convnet: Functional.fromConfig: the graph has loops or disconnected calls (${[...pending.keys()].map((l) => l.name).join(', ')})`);
    }
    const refList = (v: unknown): unknown[][] => (Array.isArray(v) && v.length === 3 && typeof v[0] === 'string' ? [v] : Array.isArray(v) ? v as unknown[][] : Object.values(v as object) as unknown[][]);
    const resolve = (r: unknown[]) => {
      const t = tensorAt(r[0], r[1], r[2]);
      if (t === 'later') throw new RangeError(`convnet: Functional.fromConfig: ${JSON.stringify(r)} names a call that is not in the config`);
      return t;
    };
    const inputs = refList(c.input_layers).map(resolve), outputs = refList(c.output_layers).map(resolve);
    const single = (v: unknown) => Array.isArray(v) && v.length === 3 && typeof v[0] === 'string';
    return new Functional({
      inputs: single(c.input_layers) ? inputs[0] : inputs, outputs: single(c.output_layers) ? outputs[0] : outputs,
      name: typeof c.name === 'string' ? c.name : undefined, trainable: c.trainable === false ? false : undefined,
    });
  }
}

/** A layer of a functional config; nested models (Functional, Model, Sequential) included. */
function deserializeNested(raw: Record<string, unknown>, legacy: boolean): Layer {
  const cls = raw.class_name;
  if (cls === 'Functional' || cls === 'Model') return Functional.fromConfig(raw.config as Record<string, unknown>, { legacy });
  if (cls === 'Sequential') return Sequential.fromConfig(raw.config as Record<string, unknown>);
  return deserializeLayer(raw as { class_name: string; config: Record<string, unknown> });
}

setFunctionalClass(Functional);
registerLayer('Functional', Functional as unknown as Parameters<typeof registerLayer>[1]);
