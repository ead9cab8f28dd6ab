/**
 * Sequential: a stack of layers, Keras's `keras.Sequential`, with compile / fit / evaluate /
 * predict. A training step runs inside `scope()`, so every intermediate tensor is freed when it
 * ends; only weights and optimizer state (kept tensors) live on.
 */
import { Tensor, tensor, scope, fmtShape, sizeOf } from '../tensor/index.js';
import { add } from '../ops/index.js';
import { valueAndGrad, noGrad } from '../autograd/index.js';
import { Layer, InputLayer, Variable, deserializeLayer, type Shape } from '../layers/index.js';
import { uniqueName, reserveName, dtypePolicy, normalizeOptions, type SerializedObject } from '../layers/config.js';
import { Optimizer, getOptimizer } from '../optimizers/index.js';
import { Loss, getLoss, SparseCategoricalCrossentropy } from './losses.js';
import { Metric, getMetric } from './metrics.js';
import {
  Callback, History, ProgbarLogger, toCallback, type Logs, type CallbackModel,
} from './callbacks.js';
import { Progbar } from './progbar.js';
import { summaryLines, type SummaryOptions } from './summary.js';
import { TensorBatches } from './tensor_batches.js';
import { stdoutIsTTY, nextTurn, writeErr } from '../runtime.js';
import type { Batch, BatchIterator } from '../data/types.js';

export interface CompileArgs {
  optimizer?: string | Optimizer | SerializedObject;
  loss: string | Loss;
  metrics?: (string | Metric)[];
}

/** Tensors for fit/evaluate: `{ x, y, batchSize, shuffle, validationSplit }`. */
export interface TensorData { x: Tensor; y?: Tensor | null; batchSize?: number; shuffle?: boolean; validationSplit?: number }
export type Data = BatchIterator | TensorData;
type Verbose = 0 | 1 | 2 | 'auto';

export interface FitArgs {
  epochs?: number;
  batchSize?: number;
  verbose?: Verbose;
  callbacks?: (Callback | Record<string, unknown>)[];
  validationData?: Data | [Tensor, Tensor];
  validationSplit?: number;
  shuffle?: boolean;
  initialEpoch?: number;
  /** Weight of each class in the loss: `{ 0: 1, 1: 2.5 }`. */
  classWeight?: Record<number, number>;
  stepsPerEpoch?: number;
  validationSteps?: number;
  validationBatchSize?: number;
  /**
   * Stops training when it aborts: fit finishes the current batch, skips that epoch's validation,
   * runs onTrainEnd and returns the History with `stopReason: 'interrupted'`. The library installs
   * no Ctrl-C handler: a program that wants one aborts an AbortController from its SIGINT handler.
   */
  signal?: AbortSignal;
}

export interface EvaluateArgs { batchSize?: number; verbose?: Verbose; steps?: number; returnDict?: boolean; callbacks?: (Callback | Record<string, unknown>)[] }
export interface PredictArgs { batchSize?: number; verbose?: Verbose; steps?: number }

function isIterator(d: unknown): d is BatchIterator {
  return !!d && typeof (d as BatchIterator).getBatch === 'function' && typeof (d as BatchIterator).length === 'number';
}

function resolveVerbose(v: Verbose | undefined): 0 | 1 | 2 {
  if (v === undefined || v === 'auto') return stdoutIsTTY() ? 1 : 2;
  if (v !== 0 && v !== 1 && v !== 2) throw new RangeError(`convnet: verbose must be 0, 1, 2 or 'auto', got ${JSON.stringify(v)}`);
  return v;
}

/** What went NaN or infinite in a training step. */
interface NonFinite { what: string; value: number }

/** The first NaN or infinite element of a float tensor, or null. */
function nonFiniteIn(t: Tensor): number | null {
  if (t.dtype !== 'float32' && t.dtype !== 'float64') return null;
  const v = t.view() as Float32Array;
  for (let i = 0; i < v.length; i++) if (!Number.isFinite(v[i])) return v[i];
  return null;
}

function firstNonFinite(vars: Variable[]): { path: string; value: number } | null {
  for (const w of vars) { const v = nonFiniteIn(w.value); if (v !== null) return { path: w.path, value: v }; }
  return null;
}

/**
 * Copies of the weights and optimizer state taken before each batch, so that a step that makes
 * them non-finite can be undone. The buffers are reused from batch to batch.
 */
class WeightSnapshot {
  private copies = new Map<Variable, Float32Array | Float64Array | Int32Array | Uint8Array>();
  take(vars: Variable[]): void {
    for (const v of vars) {
      const src = v.value.view();
      let c = this.copies.get(v);
      if (!c || c.length !== src.length || c.constructor !== src.constructor) { c = src.slice(); this.copies.set(v, c); } else c.set(src as never);
    }
  }
  /** Writes the copies back; state created during the step (new optimizer slots) goes back to zeros. */
  restore(vars: Variable[]): void {
    for (const v of vars) {
      const c = this.copies.get(v);
      const dst = v.value.view();
      if (c && c.length === dst.length) dst.set(c as never); else dst.fill(0);
    }
  }
  clear(): void { this.copies.clear(); }
}

/** Yields to the event loop so abort signals and timers can run between batches. */
const tick = nextTurn;

export class Sequential implements CallbackModel {
  name: string;
  trainable = true;
  /** Set to true (by a callback) to stop fit after the current batch. */
  stopTraining = false;
  /** Whether the last fit was stopped by its `signal` (e.g. Ctrl-C in the CLI). */
  interrupted = false;
  optimizer: Optimizer | null = null;
  loss: Loss | null = null;
  compiledMetrics: Metric[] = [];
  private lossId: string | Loss | null = null;
  private metricIds: (string | Metric)[] = [];
  private _layers: Layer[] = [];
  private inputLayer: InputLayer | null = null;

  /** `new Sequential([layer, ...])`, `new Sequential({ layers, name })`, then `add`. */
  constructor(layers?: Layer[] | { layers?: Layer[]; name?: string }, name?: string) {
    const o = Array.isArray(layers) || layers === undefined ? { layers, name } : layers;
    if (o.name) { this.name = o.name; reserveName(o.name); } else this.name = uniqueName('sequential');
    for (const l of o.layers ?? []) this.add(l);
  }

  /** Adds a layer on top; builds it at once when the input shape is known. */
  add(layer: Layer): void {
    if (!(layer instanceof Layer)) throw new TypeError(`convnet: Sequential.add expects a layer, got ${layer === null ? 'null' : typeof layer}`);
    if (layer instanceof InputLayer) {
      if (this.inputLayer || this._layers.length) throw new RangeError('convnet: an InputLayer can only be the first layer of a Sequential model');
      this.inputLayer = layer;
      return;
    }
    if (this._layers.some((l) => l.name === layer.name)) {
      throw new RangeError(`convnet: the model already has a layer named "${layer.name}"; layer names must be unique`);
    }
    if (!this.inputLayer && this._layers.length === 0 && layer.batchInputShape) {
      this.inputLayer = new InputLayer({ batchInputShape: layer.batchInputShape });
    }
    const shape = this.currentOutputShape();
    this._layers.push(layer);
    if (shape) this.buildLayer(layer, shape);
  }

  /** Removes the top layer. */
  pop(): Layer {
    const l = this._layers.pop();
    if (!l) throw new RangeError('convnet: pop() on an empty model');
    return l;
  }

  private buildLayer(layer: Layer, shape: Shape): void {
    if (!layer.built) layer.build(shape);
    else if (layer.buildInputShape) {
      const want = layer.buildInputShape;
      if (want.length !== shape.length || want.some((d, i) => i > 0 && d !== null && d !== shape[i])) {
        throw new RangeError(`convnet: layer "${layer.name}" was built for input ${fmtShape(want)} but receives ${fmtShape(shape)} here`);
      }
    }
  }

  private currentOutputShape(): Shape | null {
    if (!this.inputLayer) return null;
    let s: Shape = this.inputLayer.batchInputShape!.slice();
    for (const l of this._layers) s = l.computeOutputShape(s);
    return s;
  }

  /** The layers, without the InputLayer (as Keras 3 lists them). */
  get layers(): Layer[] { return this._layers.slice(); }
  /** The input shape with the batch axis, e.g. [null, 150, 150, 3] (null before the model is built). */
  get inputShape(): Shape | null { return this.inputLayer ? this.inputLayer.batchInputShape!.slice() : null; }
  get outputShape(): Shape | null { return this.currentOutputShape(); }
  get built(): boolean { return !!this.inputLayer && this._layers.every((l) => l.built); }

  /** Output shape of each layer (null where unknown). */
  outputShapes(): (Shape | null)[] {
    if (!this.inputLayer) return this._layers.map(() => null);
    let s: Shape = this.inputLayer.batchInputShape!.slice();
    return this._layers.map((l) => (s = l.computeOutputShape(s)));
  }

  /** Builds every layer for inputs of `inputShape` ([null, 150, 150, 3] or [150, 150, 3] with the batch axis left out... give it). */
  build(inputShape: Shape): void {
    if (this.inputLayer) {
      const have = this.inputLayer.batchInputShape!;
      if (have.length !== inputShape.length || have.some((d, i) => i > 0 && d !== inputShape[i])) {
        throw new RangeError(`convnet: model "${this.name}" expects input of shape ${fmtShape(have)}, got ${fmtShape(inputShape)}`);
      }
    } else {
      this.inputLayer = new InputLayer({ batchInputShape: [null, ...inputShape.slice(1)] });
    }
    let s: Shape = this.inputLayer.batchInputShape!.slice();
    for (const l of this._layers) { this.buildLayer(l, s); s = l.computeOutputShape(s); }
    this.checkLossFitsOutput();
  }

  /** A layer by name or index. */
  getLayer(nameOrIndex: string | number): Layer {
    if (typeof nameOrIndex === 'number') {
      const l = this._layers[nameOrIndex];
      if (!l) throw new RangeError(`convnet: getLayer: index ${nameOrIndex} is out of range (${this._layers.length} layers)`);
      return l;
    }
    const l = this._layers.find((x) => x.name === nameOrIndex);
    if (!l) throw new RangeError(`convnet: no layer named "${nameOrIndex}" (layers: ${this._layers.map((x) => x.name).join(', ')})`);
    return l;
  }

  /** All weights, layer by layer, in Keras order. */
  get weights(): Variable[] { return this._layers.flatMap((l) => l.weights); }
  get trainableWeights(): Variable[] { return this.trainable ? this._layers.flatMap((l) => l.trainableWeights) : []; }
  get nonTrainableWeights(): Variable[] {
    return this.trainable ? this._layers.flatMap((l) => l.nonTrainableWeights) : this._layers.flatMap((l) => l.weights);
  }
  getWeights(): Tensor[] { return this.weights.map((w) => w.read()); }
  setWeights(ws: Tensor[]): void {
    const mine = this.weights;
    if (ws.length !== mine.length) throw new RangeError(`convnet: the model has ${mine.length} weights, got ${ws.length}`);
    mine.forEach((w, i) => w.assign(ws[i]));
  }
  countParams(): number {
    this.requireBuilt('countParams');
    return this._layers.reduce((n, l) => n + l.countParams(), 0);
  }

  private requireBuilt(what: string): void {
    if (!this.built) {
      throw new Error(`convnet: model "${this.name}" has no input shape yet, so ${what}() cannot know its weights: give the first layer ` +
        `inputShape (e.g. new layers.Conv2D(32, [3, 3], { inputShape: [150, 150, 3] })), start with an InputLayer, or call model.build([null, 150, 150, 3])`);
    }
  }

  /** Prints Keras 3's summary table; returns its text. */
  summary(printFn?: ((line: string) => void) | SummaryOptions, opts: SummaryOptions = {}): string {
    const o = typeof printFn === 'function' ? { ...opts, printFn } : { ...(printFn ?? {}), ...opts };
    this.requireBuilt('summary');
    const lines = summaryLines({
      name: this.name, layers: this._layers, outputShapes: () => this.outputShapes(),
      trainableWeights: this.trainableWeights, nonTrainableWeights: this.nonTrainableWeights,
      optimizerVariables: () => (this.optimizer && this.optimizer.built ? this.optimizer.variables() : null),
    }, o);
    const print = o.printFn ?? ((l: string) => console.log(l));
    for (const l of lines) print(l);
    return lines.join('\n') + '\n';
  }

  // ---- forward --------------------------------------------------------------------------

  /** Runs the layers on a batch (inference unless `training`); records gradients when inside valueAndGrad. */
  call(x: Tensor, opts: { training?: boolean } = {}): Tensor {
    if (!this.built) this.build([null, ...x.shape.slice(1)]);
    this.checkInput(x.shape);
    let h = x;
    for (const l of this._layers) h = l.apply(h, { training: !!opts.training });
    return h;
  }
  /** Same as `call` (Keras's `model(x)`). */
  apply(x: Tensor, opts: { training?: boolean } = {}): Tensor { return this.call(x, opts); }

  private checkInput(shape: readonly number[]): void {
    const want = this.inputShape;
    if (want && (want.length !== shape.length || want.some((d, i) => i > 0 && d !== null && d !== shape[i]))) {
      throw new RangeError(`convnet: model "${this.name}" expects input of shape ${fmtShape(want)}, got ${fmtShape(shape)}`);
    }
  }

  // ---- compile ---------------------------------------------------------------------------

  /** Sets the optimizer ('adam' or an instance), the loss and the metrics. */
  compile(args: CompileArgs): void {
    const o = normalizeOptions(args as unknown as Record<string, unknown>, ['optimizer', 'loss', 'metrics', 'lossWeights', 'weightedMetrics', 'runEagerly', 'stepsPerExecution', 'jitCompile', 'autoScaleLossForMixedPrecision'], 'compile');
    if (o.loss === undefined || o.loss === null) throw new TypeError(`convnet: compile: a loss is required (e.g. loss: 'binary_crossentropy')`);
    this.optimizer = getOptimizer((o.optimizer as string | Optimizer) ?? 'rmsprop');
    this.lossId = o.loss as string | Loss;
    this.loss = getLoss(this.lossId);
    const raw = o.metrics ?? [];
    if (!Array.isArray(raw)) throw new TypeError(`convnet: compile: metrics must be a list, e.g. ['accuracy']`);
    // Keras files may nest the list per output ([['accuracy']]); this model has one output.
    const ms = (raw.length === 1 && Array.isArray(raw[0]) ? raw[0] : raw) as (string | Metric)[];
    this.metricIds = ms.slice();
    this.compiledMetrics = ms.map((m) => getMetric(m));
    this.checkLossFitsOutput();
  }
  get compiled(): boolean { return this.loss !== null && this.optimizer !== null; }

  private checkLossFitsOutput(): void {
    const out = this.currentOutputShape();
    if (!this.loss || !out) return;
    const msg = this.loss.checkOutput(out);
    if (msg) throw new RangeError(`convnet: compile: ${msg}`);
  }

  /** Keras's compile_config dict. */
  get compileConfig(): Record<string, unknown> | null {
    if (!this.compiled) return null;
    return {
      optimizer: this.optimizer!.serialize(),
      loss: typeof this.lossId === 'string' ? this.lossId : { module: 'keras.losses', class_name: this.loss!.className, config: this.loss!.getConfig(), registered_name: null },
      loss_weights: null,
      metrics: this.metricIds.map((m) => (typeof m === 'string' ? m : m.name)),
      weighted_metrics: null, run_eagerly: false, steps_per_execution: 1, jit_compile: false,
    };
  }

  private requireCompiled(what: string): void {
    if (!this.compiled) throw new Error(`convnet: ${what}: the model is not compiled; call model.compile({ optimizer: 'adam', loss: 'binary_crossentropy', metrics: ['accuracy'] }) first`);
  }

  /** Throws a clear error when labels of `yShape` cannot go with this model's output and loss. */
  checkLabels(yShape: readonly number[] | null, what: string): void {
    if (!yShape) throw new RangeError(`convnet: ${what}: the data has no labels (y)`);
    const out = this.currentOutputShape();
    if (!out) return;
    const msg = this.loss!.checkShapes(yShape, out);
    if (msg) {
      const hint = this.loss instanceof SparseCategoricalCrossentropy ? '' :
        yShape.length === 1 && (out[out.length - 1] ?? 0) > 1 ? ' (integer class labels need loss sparse_categorical_crossentropy)' : '';
      throw new RangeError(`convnet: ${what}: ${msg}${hint}`);
    }
  }

  // ---- steps ------------------------------------------------------------------------------

  private sampleWeights(y: Tensor, classWeight: Record<number, number> | undefined): Tensor | null {
    if (!classWeight) return null;
    const B = y.shape[0], k = y.size / B, v = y.view();
    const w = new Float32Array(B);
    for (let i = 0; i < B; i++) {
      let c: number;
      if (k === 1) c = Math.round(v[i]);
      else { c = 0; for (let j = 1; j < k; j++) if (v[i * k + j] > v[i * k + c]) c = j; }
      w[i] = classWeight[c] ?? 1;
    }
    return tensor(w, [B]);
  }

  /**
   * A training step that leaves the model as it was when the loss, a gradient or a weight comes out
   * NaN or infinite: returns the batch loss, or what went non-finite (weights and optimizer state
   * then hold their values from before the batch).
   */
  private guardedTrainStep(x: Tensor, y: Tensor, classWeight: Record<number, number> | undefined, snap: WeightSnapshot): number | NonFinite {
    const state = () => [...this.weights, ...(this.optimizer!.variables())];
    snap.take(state());
    const r = this.trainStep(x, y, classWeight);
    let bad: NonFinite | null = typeof r === 'number' ? null : r;
    if (!bad) {
      const w = firstNonFinite(this.weights);
      if (w) bad = { what: `weight "${w.path}"`, value: w.value };
    }
    if (!bad) return r as number;
    snap.restore(state());
    return bad;
  }

  /** One optimisation step; returns the batch loss, or what went non-finite (then no update was applied). */
  private trainStep(x: Tensor, y: Tensor, classWeight?: Record<number, number>): number | NonFinite {
    const vars = this.trainableWeights;
    const params = vars.map((v) => v.value);
    return scope(() => {
      const sw = this.sampleWeights(y, classWeight);
      let yPred: Tensor | null = null;
      const { value, grads } = valueAndGrad(() => {
        yPred = this.call(x, { training: true });
        let l = this.loss!.call(y, yPred, sw);
        for (const layer of this._layers) for (const r of layer.regularizationLosses()) l = add(l, r);
        return l;
      }, params);
      const lv = value.view()[0];
      if (!Number.isFinite(lv)) return { what: 'the loss', value: lv };
      for (let i = 0; i < grads.length; i++) {
        const v = nonFiniteIn(grads[i]);
        if (v !== null) return { what: `the gradient of "${vars[i].path}"`, value: v };
      }
      this.optimizer!.applyGradients(grads, vars);
      for (const m of this.compiledMetrics) m.updateTensors(y, yPred!, sw);
      return lv;
    });
  }

  private testStep(x: Tensor, y: Tensor): number {
    return scope(() => noGrad(() => {
      const yPred = this.call(x, { training: false });
      let l = this.loss!.call(y, yPred, null);
      for (const layer of this._layers) for (const r of layer.regularizationLosses()) l = add(l, r);
      for (const m of this.compiledMetrics) m.updateTensors(y, yPred, null);
      return l.view()[0];
    }));
  }

  private resultLogs(lossTotal: number, count: number, prefix = ''): Logs {
    const logs: Logs = {};
    for (const m of this.compiledMetrics) logs[prefix + m.name] = m.result();
    logs[prefix + 'loss'] = count ? lossTotal / count : NaN;
    return logs;
  }

  /** One training step on one batch (metrics cover only this batch); returns the loss, or [loss, ...metrics]. */
  trainOnBatch(x: Tensor, y: Tensor, opts: { classWeight?: Record<number, number>; returnDict?: boolean } = {}): number | number[] | Logs {
    this.requireCompiled('trainOnBatch');
    if (!this.built) this.build([null, ...x.shape.slice(1)]);
    this.checkInput(x.shape);
    this.checkLabels(y.shape, 'trainOnBatch');
    for (const m of this.compiledMetrics) m.reset();
    const r = this.trainStep(x, y, opts.classWeight);
    return this.packResult(this.resultLogs(typeof r === 'number' ? r : NaN, 1), opts.returnDict);
  }

  /** Loss and metrics on one batch without training. */
  testOnBatch(x: Tensor, y: Tensor, opts: { returnDict?: boolean } = {}): number | number[] | Logs {
    this.requireCompiled('testOnBatch');
    this.checkInput(x.shape);
    this.checkLabels(y.shape, 'testOnBatch');
    for (const m of this.compiledMetrics) m.reset();
    return this.packResult(this.resultLogs(this.testStep(x, y), 1), opts.returnDict);
  }

  /** Predictions for one batch (a new tensor the caller owns). */
  predictOnBatch(x: Tensor): Tensor {
    if (!this.built) this.build([null, ...x.shape.slice(1)]);
    return scope(() => noGrad(() => this.call(x, { training: false }).clone()));
  }

  private packResult(logs: Logs, asDict?: boolean): number | number[] | Logs {
    if (asDict) return logs;
    const vals = [logs.loss, ...this.compiledMetrics.map((m) => logs[m.name])];
    return vals.length === 1 ? vals[0] : vals;
  }

  // ---- fit / evaluate / predict -----------------------------------------------------------

  private toIterator(data: Data | [Tensor, Tensor], batchSize: number | undefined, shuffle: boolean, what: string): BatchIterator {
    if (isIterator(data)) return data;
    if (Array.isArray(data)) return new TensorBatches(data[0], data[1], batchSize ?? 32, shuffle);
    if (data && typeof data === 'object' && (data as TensorData).x instanceof Tensor) {
      const d = data as TensorData;
      return new TensorBatches(d.x, d.y ?? null, d.batchSize ?? batchSize ?? 32, d.shuffle ?? shuffle);
    }
    throw new TypeError(`convnet: ${what}: expected a BatchIterator (e.g. from flowFromDirectory) or { x, y } tensors`);
  }

  /**
   * Trains for `epochs` epochs. `data` is a BatchIterator (data pipeline) or `{ x, y, batchSize, shuffle, validationSplit }`;
   * Keras's `fit(x, y, opts)` form works too. Returns the History.
   */
  async fit(data: Data | Tensor, yOrOpts?: Tensor | FitArgs, maybeOpts?: FitArgs): Promise<History> {
    let opts: FitArgs;
    if (data instanceof Tensor) {
      if (!(yOrOpts instanceof Tensor)) throw new TypeError('convnet: fit(x, y, opts): y must be a Tensor');
      opts = maybeOpts ?? {};
      data = { x: data, y: yOrOpts };
    } else opts = (yOrOpts as FitArgs) ?? {};
    opts = normalizeOptions(opts as Record<string, unknown>, ['epochs', 'batchSize', 'verbose', 'callbacks', 'validationData', 'validationSplit',
      'shuffle', 'initialEpoch', 'classWeight', 'stepsPerEpoch', 'validationSteps', 'validationBatchSize', 'validationFreq', 'sampleWeight', 'signal'], 'fit') as FitArgs;
    const signal = opts.signal;
    if (signal !== undefined && !(signal && typeof signal.aborted === 'boolean' && typeof signal.addEventListener === 'function')) {
      throw new TypeError('convnet: fit: signal must be an AbortSignal (from new AbortController().signal)');
    }
    this.requireCompiled('fit');
    const epochs = opts.epochs ?? 1;
    const initialEpoch = opts.initialEpoch ?? 0;
    if (!(Number.isInteger(epochs) && epochs >= 1)) throw new RangeError(`convnet: fit: epochs must be a positive integer, got ${epochs}`);
    if (!(Number.isInteger(initialEpoch) && initialEpoch >= 0 && initialEpoch < epochs)) throw new RangeError(`convnet: fit: initialEpoch must be in [0, epochs), got ${initialEpoch}`);
    const verbose = resolveVerbose(opts.verbose);

    // Data, and the validation split of in-memory tensors (Keras takes the last samples, before shuffling).
    let valData: Data | [Tensor, Tensor] | undefined = opts.validationData;
    let train: BatchIterator;
    if (isIterator(data)) {
      if (opts.validationSplit) throw new RangeError('convnet: fit: validationSplit needs in-memory tensors; with an iterator pass validationData');
      train = data;
    } else {
      const d = data as TensorData;
      if (!(d && d.x instanceof Tensor)) throw new TypeError('convnet: fit: expected a BatchIterator or { x, y, batchSize, shuffle, validationSplit }');
      const split = d.validationSplit ?? opts.validationSplit ?? 0;
      if (!(split >= 0 && split < 1)) throw new RangeError(`convnet: fit: validationSplit must be in [0, 1), got ${split}`);
      let x = d.x, y = d.y ?? null;
      if (split > 0) {
        const n = x.shape[0], nTrain = Math.floor(n * (1 - split));
        if (nTrain === 0 || nTrain === n) throw new RangeError(`convnet: fit: validationSplit ${split} of ${n} samples leaves an empty set`);
        valData = { x: x.sliceBatch(nTrain, n), y: y ? y.sliceBatch(nTrain, n) : null, batchSize: opts.validationBatchSize ?? d.batchSize ?? opts.batchSize };
        x = x.sliceBatch(0, nTrain); y = y ? y.sliceBatch(0, nTrain) : null;
      }
      train = new TensorBatches(x, y, d.batchSize ?? opts.batchSize ?? 32, d.shuffle ?? opts.shuffle ?? true);
    }
    const val = valData ? this.toIterator(valData, opts.validationBatchSize ?? opts.batchSize, false, 'fit: validationData') : null;
    const steps = Math.min(train.length, opts.stepsPerEpoch ?? Infinity);
    if (steps <= 0) throw new RangeError('convnet: fit: the training data is empty');

    // Checks before any computation: input shape, labels, loss against output.
    // The first batch is checked here and then trained on (not fetched twice).
    let first: Batch | null = await train.getBatch(0);
    try {
      if (!this.built) this.build([null, ...first.x.shape.slice(1)]);
      this.checkInput(first.x.shape);
      this.checkLabels(first.y ? first.y.shape : null, 'fit');
    } catch (e) {
      first.x.dispose(); first.y?.dispose();
      throw e;
    }

    const history = new History();
    const user = (opts.callbacks ?? []).map(toCallback);
    // As in Keras, a ProgbarLogger given by the user replaces the default one.
    const cbs: Callback[] = [
      ...(verbose && !user.some((c) => c instanceof ProgbarLogger) ? [new ProgbarLogger(verbose as 1 | 2)] : []),
      ...user,
      history,
    ];
    const params = { epochs, steps, verbose };
    for (const c of cbs) { c.setModel(this); c.setParams(params); }

    this.stopTraining = false;
    this.interrupted = false;
    history.stopReason = 'completed';
    const snapshot = new WeightSnapshot();
    try {
      for (const c of cbs) await c.onTrainBegin();
      for (let epoch = initialEpoch; epoch < epochs && !this.stopTraining; epoch++) {
        for (const m of this.compiledMetrics) m.reset();
        for (const c of cbs) await c.onEpochBegin(epoch);
        let lossTotal = 0, seen = 0;
        let bad: NonFinite | null = null;
        for (let b = 0; b < steps; b++) {
          if (signal?.aborted) { this.interrupted = true; this.stopTraining = true; break; }
          const batch: Batch = first ?? await train.getBatch(b);
          first = null;
          try {
            for (const c of cbs) await c.onTrainBatchBegin(b);
            if (!batch.y) throw new RangeError('convnet: fit: a batch came without labels (y)');
            this.checkLabels(batch.y.shape, 'fit');
            const n = batch.x.shape[0];
            const r = this.guardedTrainStep(batch.x, batch.y, opts.classWeight, snapshot);
            if (typeof r !== 'number') { bad = r; lossTotal = NaN; } else { lossTotal += r * n; seen += n; }
          } finally {
            batch.x.dispose(); batch.y?.dispose();
          }
          const logs = this.resultLogs(lossTotal, seen);
          for (const c of cbs) await c.onTrainBatchEnd(b, logs);
          if (bad) {
            writeErr(`\nconvnet: ${bad.what} became ${Number.isNaN(bad.value) ? 'NaN' : 'infinite'} at epoch ${epoch + 1}, batch ${b + 1} of ${steps}; ` +
              'training stopped with the weights from before that batch. Lower the learning rate, or check the inputs for NaN or huge values.\n');
            this.stopTraining = true;
            history.stopReason = 'non_finite';
          }
          if (signal?.aborted) { this.interrupted = true; this.stopTraining = true; }
          if (this.stopTraining) break;
          await tick();
        }
        train.onEpochEnd();
        const logs = this.resultLogs(lossTotal, seen);
        if (bad) logs.loss = NaN;
        if (val && !this.interrupted && !bad) {
          for (const c of cbs) await c.onTestBegin();
          const vl = await this.evaluateIterator(val, opts.validationSteps, 'val_');
          for (const c of cbs) await c.onTestEnd(vl);
          Object.assign(logs, vl);
        }
        for (const c of cbs) await c.onEpochEnd(epoch, logs);
      }
      if (this.interrupted) history.stopReason = 'interrupted';
      else if (this.stopTraining && history.stopReason === 'completed') history.stopReason = 'early_stopping';
      for (const c of cbs) await c.onTrainEnd();
    } finally {
      snapshot.clear();
      if (first) { first.x.dispose(); first.y?.dispose(); }
    }
    return history;
  }

  private async evaluateIterator(it: BatchIterator, maxSteps: number | undefined, prefix: string, bar?: Progbar): Promise<Logs> {
    for (const m of this.compiledMetrics) m.reset();
    const steps = Math.min(it.length, maxSteps ?? Infinity);
    let total = 0, seen = 0;
    for (let b = 0; b < steps; b++) {
      const batch = await it.getBatch(b);
      try {
        if (b === 0) { this.checkInput(batch.x.shape); this.checkLabels(batch.y ? batch.y.shape : null, 'evaluate'); }
        const n = batch.x.shape[0];
        total += this.testStep(batch.x, batch.y!) * n; seen += n;
      } finally {
        batch.x.dispose(); batch.y?.dispose();
      }
      bar?.update(b + 1, Object.entries(this.resultLogs(total, seen, prefix)), b + 1 === steps);
    }
    it.reset?.();
    const logs = this.resultLogs(total, seen, prefix);
    for (const m of this.compiledMetrics) m.reset();
    return logs;
  }

  /** Loss and metrics over the data: the loss alone, or [loss, ...metrics] (a dict with `returnDict`). */
  async evaluate(data: Data | Tensor, yOrOpts?: Tensor | EvaluateArgs, maybeOpts?: EvaluateArgs): Promise<number | number[] | Logs> {
    let opts: EvaluateArgs;
    if (data instanceof Tensor) {
      if (!(yOrOpts instanceof Tensor)) throw new TypeError('convnet: evaluate(x, y, opts): y must be a Tensor');
      opts = maybeOpts ?? {}; data = { x: data, y: yOrOpts };
    } else opts = (yOrOpts as EvaluateArgs) ?? {};
    this.requireCompiled('evaluate');
    const it = this.toIterator(data as Data, opts.batchSize, false, 'evaluate');
    if (!this.built) { const b = await it.getBatch(0); const s = b.x.shape; b.x.dispose(); b.y?.dispose(); this.build([null, ...s.slice(1)]); }
    const verbose = resolveVerbose(opts.verbose);
    const steps = Math.min(it.length, opts.steps ?? Infinity);
    const bar = verbose ? new Progbar(steps, { verbose: verbose as 1 | 2 }) : undefined;
    const logs = await this.evaluateIterator(it, opts.steps, '', bar);
    return this.packResult(logs, opts.returnDict);
  }

  /** Predictions for every sample, batch by batch: a Tensor [N, ...output] (e.g. [N, 1] for one sigmoid unit). */
  async predict(data: Data | Tensor, opts: PredictArgs = {}): Promise<Tensor> {
    const it = data instanceof Tensor ? new TensorBatches(data, null, opts.batchSize ?? 32, false) : this.toIterator(data, opts.batchSize, false, 'predict');
    const steps = Math.min(it.length, opts.steps ?? Infinity);
    const verbose = resolveVerbose(opts.verbose);
    const bar = verbose ? new Progbar(steps, { verbose: verbose as 1 | 2 }) : undefined;
    let out: Tensor | null = null;
    let row = 0;
    for (let b = 0; b < steps; b++) {
      const batch = await it.getBatch(b);
      try {
        if (!this.built) this.build([null, ...batch.x.shape.slice(1)]);
        this.checkInput(batch.x.shape);
        const y = scope(() => noGrad(() => this.call(batch.x, { training: false })));
        const per = y.size / y.shape[0];
        if (!out) {
          const n = Math.min(it.samples, steps * it.batchSize);
          out = tensor(new Float32Array(n * per), [n, ...y.shape.slice(1)]);
        }
        (out as Tensor).view().set(y.view(), row * per);
        row += y.shape[0];
        if (y !== batch.x) y.dispose();
      } finally {
        batch.x.dispose(); batch.y?.dispose();
      }
      bar?.update(b + 1, [], b + 1 === steps);
    }
    it.reset?.();
    if (!out) throw new RangeError('convnet: predict: the data is empty');
    const res = out as Tensor;
    return row === res.shape[0] ? res : res.sliceBatch(0, row);
  }

  // ---- config and files -------------------------------------------------------------------

  /** Keras 3 config: { name, trainable, dtype, layers: [InputLayer, ...], build_input_shape }. */
  getConfig(): Record<string, unknown> {
    const layers: SerializedObject[] = [];
    if (this.inputLayer) layers.push(this.inputLayer.serialize());
    for (const l of this._layers) layers.push(l.serialize());
    const cfg: Record<string, unknown> = { name: this.name, trainable: this.trainable, dtype: dtypePolicy(), layers };
    if (this.inputShape) cfg.build_input_shape = this.inputShape;
    return cfg;
  }

  /** The whole `config.json` object of a .keras file (module, class_name, config, build_config, compile_config). */
  serialize(): SerializedObject & { compile_config?: Record<string, unknown> | null } {
    const s: SerializedObject & { compile_config?: Record<string, unknown> | null } = {
      module: 'keras', class_name: 'Sequential', config: this.getConfig(), registered_name: null,
    };
    if (this.inputShape) s.build_config = { input_shape: this.inputShape };
    if (this.compiled) s.compile_config = this.compileConfig;
    return s;
  }

  /** A model from `getConfig()` output (Keras 3, or Keras 2's list form), or a whole `{ class_name: 'Sequential', config }`. */
  static fromConfig(cfg: Record<string, unknown> | unknown[]): Sequential {
    let c: any = cfg;
    if (c && !Array.isArray(c) && c.class_name === 'Sequential' && c.config) c = c.config;
    const layersCfg: any[] = Array.isArray(c) ? c : c.layers;
    if (!Array.isArray(layersCfg)) throw new TypeError('convnet: Sequential.fromConfig: the config has no "layers" list');
    const model = new Sequential({ name: Array.isArray(c) ? undefined : c.name });
    for (const lc of layersCfg) model.add(deserializeLayer(lc));
    const bis = !Array.isArray(c) ? (c.build_input_shape ?? null) : null;
    if (!model.inputLayer && bis) model.build(bis);
    return model;
  }

  /** Saves to a .keras file (or another format the io module knows) through `src/io/models`. */
  async save(path: string, opts: Record<string, unknown> = {}): Promise<void> {
    const io: any = await import('../io/models/index.js');
    if (typeof io.saveModel !== 'function') throw new Error('convnet: saving models is not available in this build (src/io/models has no saveModel)');
    await io.saveModel(this, path, opts);
  }

  /**
   * Saves only the weights (and the optimizer state when compiled, unless `includeOptimizer: false`)
   * to a Keras 3 `.weights.h5` file, as `model.save_weights('x.weights.h5')` does. Written atomically.
   */
  async saveWeights(path: string, opts: { includeOptimizer?: boolean } = {}): Promise<void> {
    const io: any = await import('../io/models/index.js');
    await io.saveWeights(this, path, opts);
  }

  /**
   * Loads weights saved by `saveWeights` or Keras 3's `save_weights` (`.weights.h5`), or the weights
   * of a whole-model file (.keras, legacy .h5, TF.js folder), into this model of the same architecture.
   */
  async loadWeights(path: string, opts: { warn?: (message: string) => void } = {}): Promise<void> {
    const io: any = await import('../io/models/index.js');
    await io.loadWeights(this, path, opts);
  }

  /** Releases every weight and the optimizer state. */
  dispose(): void { for (const l of this._layers) l.dispose(); this.optimizer?.dispose(); }

  /** Number of weights elements (for the summary). */
  get numWeights(): number { return this.weights.reduce((n, w) => n + sizeOf(w.shape), 0); }
}
