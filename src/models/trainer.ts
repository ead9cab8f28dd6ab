/**
 * Training for every model, as Keras 3's `Trainer`: compile, the train/test/predict steps, fit,
 * evaluate, predict and the `*OnBatch` methods. A model (Sequential, functional) supplies the
 * forward pass on lists of tensors (`invoke`), its weights and its input/output shapes.
 *
 * A training step runs inside `scope()`, so every intermediate tensor is freed when it ends; only
 * weights and optimizer state (kept tensors) live on. Several outputs each get a loss (and a
 * weight in the total), and metrics; logs name them `<output>_loss`, `<output>_<metric>`.
 */
import { Tensor, tensor, scope, scalar, fmtShape, type TypedArray } from '../tensor/index.js';
import { add, mul, sum, concat } from '../ops/index.js';
import { valueAndGrad, noGrad } from '../autograd/index.js';
import { Layer, type Variable, type Shape } from '../layers/index.js';
import { normalizeOptions } from '../layers/config.js';
import { Optimizer, getOptimizer } from '../optimizers/index.js';
import { type Loss, SparseCategoricalCrossentropy, checkClassLabelValues } from './losses.js';
import type { Metric } from './metrics.js';
import { Callback, History, ProgbarLogger, toCallback, type Logs, type CallbackModel } from './callbacks.js';
import { Progbar } from './progbar.js';
import { ListBatches, type Feed, type FeedBatch } from './tensor_batches.js';
import { compileOutputs, compileConfigJSON, type CompileArgs, type CompiledOutput, type CompileArgsKept } from './compile_utils.js';
import { isIterator, isInputs, disposeBatch, iteratorFeed, type Inputs, type TensorData, type Data } from './data_adapter.js';
import { firstNonFinite, WeightSnapshot, type NonFinite } from './non_finite.js';
import { stdoutIsTTY, nextTurn, writeErr } from '../runtime.js';

export type { CompileArgs } from './compile_utils.js';
export type { Inputs, TensorData, Data } from './data_adapter.js';

type Verbose = 0 | 1 | 2 | 'auto';

export interface FitArgs {
  epochs?: number;
  batchSize?: number;
  verbose?: Verbose;
  callbacks?: (Callback | Record<string, unknown>)[];
  validationData?: Data | [Inputs, Inputs];
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

function resolveVerbose(v: Verbose | undefined): 0 | 1 | 2 {
  if (v === undefined || v === 'auto') return stdoutIsTTY() ? 1 : 2;
  if (v !== 0 && v !== 1 && v !== 2) throw new RangeError(`convnet: verbose must be 0, 1, 2 or 'auto', got ${JSON.stringify(v)}`);
  return v;
}

/** Per-batch results of a step: the total loss and each output's (weighted) loss. */
interface StepResult { loss: number; outputs: number[] }

export interface OnBatchArgs { classWeight?: Record<number, number>; returnDict?: boolean }

/** A metric's state after the batch, before it is committed. */
interface PendingMetric { metric: Metric; next: Tensor[] }
/** What deviceStep leaves for the read: see there. */
interface DeviceStep { read: Tensor; grads: Tensor[]; preds: Tensor[]; nexts: PendingMetric[]; flags: number }

export abstract class Trainer extends Layer implements CallbackModel {
  /** Set to true (by a callback) to stop fit after the current batch. */
  stopTraining = false;
  /** Whether the last fit was stopped by its `signal` (e.g. Ctrl-C in the CLI). */
  interrupted = false;
  optimizer: Optimizer | null = null;
  private compiledOutputs: CompiledOutput[] = [];
  private compileArgs: CompileArgsKept | null = null;
  /** Each metric's result after the last step (from that step's read): what the logs show. */
  private readonly metricValues = new Map<Metric, number>();

  // ---- what a model supplies --------------------------------------------------------------

  /** Input shapes with the batch axis (null before the model knows them). */
  abstract get inputShapes(): Shape[] | null;
  /** Output shapes with the batch axis (null before the model is built). */
  abstract get outputShapesList(): Shape[] | null;
  /** Names of the inputs and outputs (the layers that produce them). */
  abstract get inputNames(): string[];
  abstract get outputNames(): string[];
  /** Builds for inputs of these shapes (a Sequential without an input shape builds from the first batch). */
  abstract buildFromShapes(shapes: Shape[]): void;
  abstract get weights(): Variable[];
  abstract get trainableWeights(): Variable[];
  abstract regularizationLosses(): Tensor[];
  abstract save(path: string, opts?: Record<string, unknown>): Promise<void>;

  // ---- compile ---------------------------------------------------------------------------

  /** Sets the optimizer ('adam' or an instance), the loss(es), their weights and the metrics. */
  compile(args: CompileArgs): void {
    const o = normalizeOptions(args as unknown as Record<string, unknown>, ['optimizer', 'loss', 'metrics', 'lossWeights', 'weightedMetrics', 'runEagerly', 'stepsPerExecution', 'jitCompile', 'autoScaleLossForMixedPrecision'], 'compile');
    if (o.loss === undefined || o.loss === null) throw new TypeError(`convnet: compile: a loss is required (e.g. loss: 'binary_crossentropy')`);
    const optimizer = getOptimizer((o.optimizer as string | Optimizer) ?? 'rmsprop');
    const outputs = compileOutputs(o, this.outputNames);
    this.optimizer = optimizer;
    this.compiledOutputs = outputs;
    this.compileArgs = { loss: o.loss as CompileArgs['loss'], lossWeights: (o.lossWeights as CompileArgs['lossWeights']) ?? null, metrics: (o.metrics as CompileArgs['metrics']) ?? [] };
    this.checkLossFitsOutput();
  }
  get compiled(): boolean { return this.optimizer !== null && this.compiledOutputs.length > 0; }
  /** The (first output's) loss. */
  get loss(): Loss | null { return this.compiledOutputs.find((o) => o.loss)?.loss ?? null; }
  /** Every compiled metric, output by output. */
  get compiledMetrics(): Metric[] { return this.compiledOutputs.flatMap((o) => o.metrics.map((m) => m.metric)); }

  protected checkLossFitsOutput(): void {
    const shapes = this.outputShapesList;
    if (!shapes || !this.compiledOutputs.length) return;
    if (shapes.length !== this.compiledOutputs.length) {
      throw new RangeError(`convnet: compile: the model has ${shapes.length} outputs but was compiled for ${this.compiledOutputs.length}; compile it again`);
    }
    this.compiledOutputs.forEach((o, i) => {
      const msg = o.loss?.checkOutput(shapes[i]);
      if (msg) throw new RangeError(`convnet: compile: ${shapes.length > 1 ? `output ${o.name}: ` : ''}${msg}`);
    });
  }

  /** Keras's compile_config dict. */
  get compileConfig(): Record<string, unknown> | null {
    if (!this.compiled || !this.compileArgs) return null;
    return compileConfigJSON(this.optimizer!, this.compileArgs);
  }

  protected requireCompiled(what: string): void {
    if (!this.compiled) throw new Error(`convnet: ${what}: the model is not compiled; call model.compile({ optimizer: 'adam', loss: 'binary_crossentropy', metrics: ['accuracy'] }) first`);
  }

  // ---- checks ----------------------------------------------------------------------------

  /** Throws a clear error when a batch of inputs does not fit the model's inputs. */
  checkInputs(xs: Tensor[]): void {
    const want = this.inputShapes;
    if (!want) return;
    if (xs.length !== want.length) throw new RangeError(`convnet: model "${this.name}" takes ${want.length} input${want.length === 1 ? '' : 's'} (${this.inputNames.join(', ')}), got ${xs.length}`);
    xs.forEach((x, k) => {
      const w = want[k];
      if (w.length !== x.shape.length || w.some((d, i) => i > 0 && d !== null && d !== x.shape[i])) {
        const which = want.length > 1 ? ` "${this.inputNames[k]}"` : '';
        throw new RangeError(`convnet: model "${this.name}" expects input${which} of shape ${fmtShape(w)}, got ${fmtShape(x.shape)}`);
      }
    });
  }
  /** One-input form of `checkInputs` (kept for callers of Sequential). */
  checkInput(shape: readonly number[]): void {
    const want = this.inputShapes;
    if (!want || want.length !== 1) return;
    const w = want[0];
    if (w.length !== shape.length || w.some((d, i) => i > 0 && d !== null && d !== shape[i])) {
      throw new RangeError(`convnet: model "${this.name}" expects input of shape ${fmtShape(w)}, got ${fmtShape(shape)}`);
    }
  }

  /** Throws a clear error when labels cannot go with the model's outputs and losses. */
  checkLabels(ys: Tensor[] | readonly number[] | null, what: string): void {
    if (!ys) throw new RangeError(`convnet: ${what}: the data has no labels (y)`);
    const shapes: (readonly number[])[] = ys.length && typeof ys[0] === 'number' ? [ys as readonly number[]] : (ys as Tensor[]).map((t) => t.shape);
    const outs = this.outputShapesList;
    if (!outs) return;
    if (shapes.length !== this.compiledOutputs.length) {
      throw new RangeError(`convnet: ${what}: the model has ${this.compiledOutputs.length} outputs (${this.outputNames.join(', ')}) but the data has ${shapes.length} label arrays`);
    }
    this.compiledOutputs.forEach((o, i) => {
      if (!o.loss) return;
      const msg = o.loss.checkShapes(shapes[i], outs[i]);
      if (msg) {
        const out = outs[i];
        const hint = o.loss instanceof SparseCategoricalCrossentropy ? '' :
          shapes[i].length === 1 && (out[out.length - 1] ?? 0) > 1 ? ' (integer class labels need loss sparse_categorical_crossentropy)' : '';
        throw new RangeError(`convnet: ${what}: ${outs.length > 1 ? `output ${o.name}: ` : ''}${msg}${hint}`);
      }
    });
  }

  // ---- steps -----------------------------------------------------------------------------
  //
  // Each step is written once, as a generator that yields the tensors it must read and gets their
  // values back: `readSync` runs it with synchronous reads (trainOnBatch, testOnBatch on the heap
  // backends), `readAsync` with awaited ones (fit, evaluate, the *OnBatchAsync forms, every backend).
  // A step reads once at its end (loss, flags, each output's loss, every metric's state after the
  // batch); more reads happen only after something went NaN or infinite, to name it.

  private sampleWeights(y: Tensor, classWeight: Record<number, number> | undefined, labels: ArrayLike<number> | undefined): Tensor | null {
    if (!classWeight || !labels) return null;
    const B = y.shape[0], k = y.size / B, v = labels;
    const w = new Float32Array(B);
    for (let i = 0; i < B; i++) {
      let c: number;
      if (k === 1) c = Math.round(v[i]);
      else { c = 0; for (let j = 1; j < k; j++) if (v[i * k + j] > v[i * k + c]) c = j; }
      w[i] = classWeight[c] ?? 1;
    }
    return tensor(w, [B]);
  }

  /** The total loss (weighted outputs plus regularisation) and each output's weighted loss tensor. */
  private computeLoss(ys: Tensor[], preds: Tensor[], sw: Tensor | null): { total: Tensor; parts: (Tensor | null)[] } {
    let total: Tensor | null = null;
    const parts = this.compiledOutputs.map((o, i) => {
      if (!o.loss) return null;
      let l = o.loss.call(ys[i], preds[i], i === 0 ? sw : null);
      if (o.weight !== 1) l = mul(l, o.weight);
      total = total ? add(total, l) : l;
      return l;
    });
    let t = total as unknown as Tensor;
    for (const r of this.regularizationLosses()) t = add(t, r);
    return { total: t, parts };
  }

  /**
   * One batch on the backend: forward, the losses, and when training the gradients (applied at once
   * with `apply`, then a flag for the weights), each metric's state after the batch, and `read`:
   * [loss, flags..., each output's loss, each metric's next state] in one tensor. A flag is NaN when
   * what it covers holds a NaN or infinity (a sum of x * 0).
   */
  private deviceStep(xs: Tensor[], ys: Tensor[], sw: Tensor | null, train: boolean, apply: boolean): DeviceStep {
    const vars = train ? this.trainableWeights : [];
    return scope(() => {
      let preds: Tensor[] = [];
      let parts: (Tensor | null)[] = [];
      let value: Tensor;
      let grads: Tensor[] = [];
      const forward = (training: boolean): Tensor => {
        preds = this.invoke(xs, { training });
        const r = this.computeLoss(ys, preds, sw);
        parts = r.parts;
        return r.total;
      };
      if (train) ({ value, grads } = valueAndGrad(() => forward(true), vars.map((v) => v.value)));
      else value = noGrad(() => forward(false));
      preds = preds.map((p) => (xs.includes(p) ? p.clone() : p));
      const flag = (ts: Tensor[]): Tensor => ts.filter((t) => t.dtype === 'float32').reduce((a, t) => add(a, sum(mul(t, 0))), scalar(0));
      const flags = train ? [flag([value, ...grads])] : [];
      if (apply) {
        if (vars.length) this.optimizer!.applyGradients(grads, vars);
        flags.push(flag(this.weights.map((w) => w.value)));
      }
      const nexts: PendingMetric[] = [];
      this.compiledOutputs.forEach((o, i) => {
        for (const m of o.metrics) nexts.push({ metric: m.metric, next: m.metric.nextState(ys[i], preds[i], i === 0 ? sw : null) });
      });
      const read = concat([value, ...flags, ...parts.map((p) => p ?? scalar(0)), ...nexts.flatMap((n) => n.next)].map((t) => t.reshape([t.size])), 0);
      return { read, grads, preds, nexts, flags: flags.length };
    });
  }

  /** Frees what deviceStep returned, but the metric states committed. */
  private static disposeStep(s: DeviceStep, sw: Tensor | null): void {
    for (const t of [s.read, ...s.grads, ...s.preds]) t.dispose();
    for (const n of s.nexts) for (const t of n.next) if (!t.kept) t.dispose();
    sw?.dispose();
  }

  /** Makes the metrics' next states theirs, and their results (from the values read) the ones logged. */
  private commitMetrics(s: DeviceStep, v: TypedArray): void {
    let at = 1 + s.flags + this.compiledOutputs.length;
    for (const { metric, next } of s.nexts) {
      const n = metric.stateSize;
      metric.commit(next);
      this.metricValues.set(metric, metric.resultFrom(v.subarray(at, at + n)));
      at += n;
    }
  }

  private stepResult(s: DeviceStep, v: ArrayLike<number>): StepResult {
    const at = 1 + s.flags;
    return { loss: v[0], outputs: Array.from({ length: this.compiledOutputs.length }, (_, i) => v[at + i]) };
  }

  /** Labels that are not class indices give NaN rows when one-hot encoded on the device (webgpu): after a non-finite loss, name the first. */
  private *checkDeviceClassLabels(ys: Tensor[], preds: Tensor[]): Reads<void> {
    for (let i = 0; i < this.compiledOutputs.length; i++) {
      if (this.compiledOutputs[i].loss instanceof SparseCategoricalCrossentropy && ys[i].store.storage !== 'heap') {
        checkClassLabelValues(yield ys[i], preds[i].shape[preds[i].rank - 1]);
      }
    }
  }

  /** The sample weights of `classWeight`, from the labels (read). */
  private *classWeights(ys: Tensor[], classWeight: Record<number, number> | undefined): Reads<Tensor | null> {
    if (!classWeight) return null;
    const labels = yield ys[0];
    return scope(() => this.sampleWeights(ys[0], classWeight, labels));
  }

  /**
   * One optimisation step (trainOnBatch): the losses, gradients and metrics are read first; the update is
   * applied only when the loss and every gradient are finite. Returns the losses, or what went non-finite
   * (then nothing changed: weights, optimizer state and metrics are as before).
   */
  private *trainStep(xs: Tensor[], ys: Tensor[], classWeight?: Record<number, number>): Reads<StepResult | NonFinite> {
    const vars = this.trainableWeights;
    const sw = yield* this.classWeights(ys, classWeight);
    const s = this.deviceStep(xs, ys, sw, true, false);
    try {
      const v = yield s.read;
      if (Number.isFinite(v[0]) && Number.isFinite(v[1])) {
        if (vars.length) scope(() => this.optimizer!.applyGradients(s.grads, vars));
        this.commitMetrics(s, v);
        return this.stepResult(s, v);
      }
      if (!Number.isFinite(v[0])) {
        yield* this.checkDeviceClassLabels(ys, s.preds);
        return { what: 'the loss', value: v[0] };
      }
      for (let i = 0; i < s.grads.length; i++) {
        const x = s.grads[i].dtype === 'float32' ? firstNonFinite(yield s.grads[i]) : null;
        if (x !== null) return { what: `the gradient of "${vars[i].path}"`, value: x };
      }
      return { what: 'the loss', value: NaN };
    } finally {
      Trainer.disposeStep(s, sw);
    }
  }

  /**
   * fit's training step, which leaves the model as it was when the loss, a gradient or a weight comes
   * out NaN or infinite. The update is applied on the backend, then checked with one read per step:
   * the losses, the metrics' states and two flags, for the loss or a gradient (before the update) and
   * the weights (after it). A bad step is undone from backend copies taken before it; only then are
   * the culprits looked for. Returns the losses, or what went non-finite (weights and optimizer state
   * then hold their values from before the batch). Run with awaited reads, the step's scope closes
   * before the read, so tensors made meanwhile (the input pipeline's prefetch) are not taken by it.
   */
  private *guardedTrainStep(xs: Tensor[], ys: Tensor[], classWeight: Record<number, number> | undefined, snap: WeightSnapshot): Reads<StepResult | NonFinite> {
    const state = () => [...this.weights, ...this.optimizer!.variables()];
    snap.take(state());
    const vars = this.trainableWeights;
    const sw = yield* this.classWeights(ys, classWeight);
    const s = this.deviceStep(xs, ys, sw, true, true);
    try {
      const v = yield s.read;
      if (Number.isFinite(v[0]) && Number.isFinite(v[1]) && Number.isFinite(v[2])) {
        this.commitMetrics(s, v);
        return this.stepResult(s, v);
      }
      if (!Number.isFinite(v[0])) {
        try { yield* this.checkDeviceClassLabels(ys, s.preds); } catch (e) { snap.restore(state()); throw e; }
      }
      let bad: NonFinite | null = Number.isFinite(v[0]) ? null : { what: 'the loss', value: v[0] };
      for (let i = 0; !bad && i < s.grads.length; i++) {
        const x = s.grads[i].dtype === 'float32' ? firstNonFinite(yield s.grads[i]) : null;
        if (x !== null) bad = { what: `the gradient of "${vars[i].path}"`, value: x };
      }
      for (const w of this.weights) {
        if (bad) break;
        const x = w.value.dtype === 'float32' ? firstNonFinite(yield w.value) : null;
        if (x !== null) bad = { what: `weight "${w.path}"`, value: x };
      }
      snap.restore(state());
      return bad ?? { what: 'the loss', value: NaN };
    } finally {
      Trainer.disposeStep(s, sw);
    }
  }

  /** Loss and metrics of one batch without training (evaluate, validation, testOnBatch). */
  private *testStep(xs: Tensor[], ys: Tensor[]): Reads<StepResult> {
    const s = this.deviceStep(xs, ys, null, false, false);
    try {
      const v = yield s.read;
      if (!Number.isFinite(v[0])) yield* this.checkDeviceClassLabels(ys, s.preds);
      this.commitMetrics(s, v);
      return this.stepResult(s, v);
    } finally {
      Trainer.disposeStep(s, null);
    }
  }

  private resetMetrics(): void {
    for (const m of this.compiledMetrics) m.reset();
    this.metricValues.clear();
  }

  /** Running means of the losses and the metrics' results, under their log names. */
  private resultLogs(acc: LossAccumulator, prefix = ''): Logs {
    const logs: Logs = {};
    for (const o of this.compiledOutputs) for (const m of o.metrics) logs[prefix + m.key] = this.metricValues.get(m.metric) ?? 0;
    if (this.compiledOutputs.length > 1) {
      this.compiledOutputs.forEach((o, i) => { if (o.loss) logs[prefix + o.lossKey] = acc.seen ? acc.outputs[i] / acc.seen : NaN; });
    }
    logs[prefix + 'loss'] = acc.seen ? acc.total / acc.seen : NaN;
    return logs;
  }

  private packResult(logs: Logs, asDict?: boolean): number | number[] | Logs {
    if (asDict) return logs;
    const keys = ['loss', ...(this.compiledOutputs.length > 1 ? this.compiledOutputs.filter((o) => o.loss).map((o) => o.lossKey) : []),
      ...this.compiledOutputs.flatMap((o) => o.metrics.map((m) => m.key))];
    const vals = keys.map((k) => logs[k]);
    return vals.length === 1 ? vals[0] : vals;
  }

  // ---- data ------------------------------------------------------------------------------

  /** Inputs as a list in input order. */
  protected inputList(x: Inputs, what: string): Tensor[] {
    if (x instanceof Tensor) return [x];
    if (Array.isArray(x)) return x;
    const names = this.inputNames;
    for (const k of Object.keys(x)) if (!names.includes(k)) throw new RangeError(`convnet: ${what}: no input named "${k}" (inputs: ${names.join(', ')})`);
    return names.map((nm) => {
      if (!(x[nm] instanceof Tensor)) throw new RangeError(`convnet: ${what}: input "${nm}" is missing`);
      return x[nm];
    });
  }
  /** Labels as a list in output order. */
  protected labelList(y: Inputs, what: string): Tensor[] {
    if (y instanceof Tensor) return [y];
    if (Array.isArray(y)) return y;
    const names = this.outputNames;
    for (const k of Object.keys(y)) if (!names.includes(k)) throw new RangeError(`convnet: ${what}: no output named "${k}" (outputs: ${names.join(', ')})`);
    return names.map((nm) => {
      if (!(y[nm] instanceof Tensor)) throw new RangeError(`convnet: ${what}: labels for output "${nm}" are missing`);
      return y[nm];
    });
  }

  private toFeed(data: Data | [Inputs, Inputs] | Inputs, batchSize: number | undefined, shuffle: boolean, what: string): Feed {
    if (isIterator(data)) return iteratorFeed(data);
    if (Array.isArray(data) && data.length === 2 && isInputs(data[0]) && isInputs(data[1])) {
      return new ListBatches(this.inputList(data[0] as Inputs, what), this.labelList(data[1] as Inputs, what), batchSize ?? 32, shuffle);
    }
    if (data && typeof data === 'object' && 'x' in data && isInputs((data as TensorData).x)) {
      const d = data as TensorData;
      return new ListBatches(this.inputList(d.x, what), d.y ? this.labelList(d.y, what) : null, d.batchSize ?? batchSize ?? 32, d.shuffle ?? shuffle);
    }
    throw new TypeError(`convnet: ${what}: expected a BatchIterator (e.g. from flowFromDirectory) or { x, y } tensors`);
  }

  private ensureBuilt(b: FeedBatch): void {
    if (!this.inputShapes || !this.outputShapesList) this.buildFromShapes(b.xs.map((x) => [null, ...x.shape.slice(1)]));
  }

  // ---- fit / evaluate / predict ----------------------------------------------------------

  /**
   * Trains for `epochs` epochs. `data` is a BatchIterator (data pipeline) or `{ x, y, batchSize, shuffle, validationSplit }`;
   * Keras's `fit(x, y, opts)` form works too (x and y a Tensor, a list per input/output, or an object by name).
   * Returns the History, whose `stopReason` says why training ended.
   */
  async fit(data: Data | Inputs, yOrOpts?: Inputs | FitArgs, maybeOpts?: FitArgs): Promise<History> {
    let opts: FitArgs;
    if (isInputs(data) && !isIterator(data)) {
      if (!isInputs(yOrOpts)) throw new TypeError('convnet: fit(x, y, opts): y must be a Tensor (or a list of them, one per output)');
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
    let val: Feed | null = null;
    let train: Feed;
    if (isIterator(data)) {
      if (opts.validationSplit) throw new RangeError('convnet: fit: validationSplit needs in-memory tensors; with an iterator pass validationData');
      train = iteratorFeed(data);
    } else {
      const d = data as TensorData;
      if (!(d && isInputs(d.x))) throw new TypeError('convnet: fit: expected a BatchIterator or { x, y, batchSize, shuffle, validationSplit }');
      const split = d.validationSplit ?? opts.validationSplit ?? 0;
      if (!(split >= 0 && split < 1)) throw new RangeError(`convnet: fit: validationSplit must be in [0, 1), got ${split}`);
      let xs = this.inputList(d.x, 'fit'), ys = d.y ? this.labelList(d.y, 'fit') : null;
      if (split > 0) {
        const n = xs[0].shape[0], nTrain = Math.floor(n * (1 - split));
        if (nTrain === 0 || nTrain === n) throw new RangeError(`convnet: fit: validationSplit ${split} of ${n} samples leaves an empty set`);
        val = new ListBatches(xs.map((x) => x.sliceBatch(nTrain, n)), ys ? ys.map((y) => y.sliceBatch(nTrain, n)) : null,
          opts.validationBatchSize ?? d.batchSize ?? opts.batchSize ?? 32, false);
        xs = xs.map((x) => x.sliceBatch(0, nTrain)); ys = ys ? ys.map((y) => y.sliceBatch(0, nTrain)) : null;
      }
      train = new ListBatches(xs, ys, d.batchSize ?? opts.batchSize ?? 32, d.shuffle ?? opts.shuffle ?? true);
    }
    if (opts.validationData) val = this.toFeed(opts.validationData, opts.validationBatchSize ?? opts.batchSize, false, 'fit: validationData');
    const steps = Math.min(train.length, opts.stepsPerEpoch ?? Infinity);
    if (steps <= 0) throw new RangeError('convnet: fit: the training data is empty');

    // Checks before any computation: input shape, labels, loss against output.
    // The first batch is checked here and then trained on (not fetched twice).
    let first: FeedBatch | null = await train.get(0);
    try {
      this.ensureBuilt(first);
      this.checkInputs(first.xs);
      this.checkLabels(first.ys, 'fit');
    } catch (e) {
      disposeBatch(first);
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
        this.resetMetrics();
        for (const c of cbs) await c.onEpochBegin(epoch);
        const acc = new LossAccumulator(this.compiledOutputs.length);
        let bad: NonFinite | null = null;
        for (let b = 0; b < steps; b++) {
          if (signal?.aborted) { this.interrupted = true; this.stopTraining = true; break; }
          const batch: FeedBatch = first ?? await train.get(b);
          first = null;
          try {
            for (const c of cbs) await c.onTrainBatchBegin(b);
            if (!batch.ys) throw new RangeError('convnet: fit: a batch came without labels (y)');
            this.checkLabels(batch.ys, 'fit');
            const r = await readAsync(this.guardedTrainStep(batch.xs, batch.ys, opts.classWeight, snapshot));
            if ('what' in r) bad = r; else acc.add(r, batch.xs[0].shape[0]);
          } finally {
            disposeBatch(batch);
          }
          const logs = this.resultLogs(acc);
          if (bad) logs.loss = NaN;
          for (const c of cbs) await c.onTrainBatchEnd(b, logs);
          if (bad) {
            writeErr(`\nconvnet: ${bad.what} became ${Number.isNaN(bad.value) ? 'NaN' : 'infinite'} at epoch ${epoch + 1}, batch ${b + 1} of ${steps}; ` +
              'training stopped with the weights from before that batch. Lower the learning rate, or check the inputs for NaN or huge values.\n');
            this.stopTraining = true;
            history.stopReason = 'non_finite';
          }
          if (signal?.aborted) { this.interrupted = true; this.stopTraining = true; }
          if (this.stopTraining) break;
          await nextTurn();
        }
        train.onEpochEnd();
        const logs = this.resultLogs(acc);
        if (bad) logs.loss = NaN;
        if (val && !this.interrupted && !bad) {
          for (const c of cbs) await c.onTestBegin();
          const vl = await this.evaluateFeed(val, opts.validationSteps, 'val_');
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
      if (first) disposeBatch(first);
    }
    return history;
  }

  private async evaluateFeed(feed: Feed, maxSteps: number | undefined, prefix: string, bar?: Progbar): Promise<Logs> {
    this.resetMetrics();
    const steps = Math.min(feed.length, maxSteps ?? Infinity);
    const acc = new LossAccumulator(this.compiledOutputs.length);
    for (let b = 0; b < steps; b++) {
      const batch = await feed.get(b);
      try {
        if (b === 0) { this.ensureBuilt(batch); this.checkInputs(batch.xs); this.checkLabels(batch.ys, 'evaluate'); }
        acc.add(await readAsync(this.testStep(batch.xs, batch.ys!)), batch.xs[0].shape[0]);
      } finally {
        disposeBatch(batch);
      }
      bar?.update(b + 1, Object.entries(this.resultLogs(acc, prefix)), b + 1 === steps);
    }
    feed.reset?.();
    const logs = this.resultLogs(acc, prefix);
    this.resetMetrics();
    return logs;
  }

  /** Loss and metrics over the data: the loss alone, or [loss, ...metrics] (a dict with `returnDict`). */
  async evaluate(data: Data | Inputs, yOrOpts?: Inputs | EvaluateArgs, maybeOpts?: EvaluateArgs): Promise<number | number[] | Logs> {
    let opts: EvaluateArgs;
    if (isInputs(data) && !isIterator(data)) {
      if (!isInputs(yOrOpts)) throw new TypeError('convnet: evaluate(x, y, opts): y must be a Tensor (or a list of them, one per output)');
      opts = maybeOpts ?? {}; data = { x: data, y: yOrOpts };
    } else opts = (yOrOpts as EvaluateArgs) ?? {};
    this.requireCompiled('evaluate');
    const feed = this.toFeed(data as Data, opts.batchSize, false, 'evaluate');
    const verbose = resolveVerbose(opts.verbose);
    const steps = Math.min(feed.length, opts.steps ?? Infinity);
    const bar = verbose ? new Progbar(steps, { verbose: verbose as 1 | 2 }) : undefined;
    const logs = await this.evaluateFeed(feed, opts.steps, '', bar);
    return this.packResult(logs, opts.returnDict);
  }

  /** Predictions for every sample, batch by batch: a Tensor [N, ...output] (e.g. [N, 1] for one sigmoid unit). */
  async predict(data: Data | Inputs, opts: PredictArgs = {}): Promise<Tensor> {
    const outs = await this.predictOutputs(data, opts);
    if (outs.length !== 1) throw new RangeError(`convnet: predict: model "${this.name}" has ${outs.length} outputs (${this.outputNames.join(', ')}): use predictOutputs()`);
    return outs[0];
  }

  /** Predictions of every output, in output order. */
  async predictOutputs(data: Data | Inputs, opts: PredictArgs = {}): Promise<Tensor[]> {
    const feed = isInputs(data) && !isIterator(data) ? new ListBatches(this.inputList(data, 'predict'), null, opts.batchSize ?? 32, false)
      : this.toFeed(data as Data, opts.batchSize, false, 'predict');
    const steps = Math.min(feed.length, opts.steps ?? Infinity);
    const verbose = resolveVerbose(opts.verbose);
    const bar = verbose ? new Progbar(steps, { verbose: verbose as 1 | 2 }) : undefined;
    let outs: Tensor[] | null = null;
    let row = 0;
    for (let b = 0; b < steps; b++) {
      const batch = await feed.get(b);
      try {
        this.ensureBuilt(batch);
        this.checkInputs(batch.xs);
        const ys = scope(() => noGrad(() => this.invoke(batch.xs, { training: false }).map((y) => (batch.xs.includes(y) ? y.clone() : y))));
        if (!outs) {
          const n = Math.min(feed.samples, steps * feed.batchSize);
          outs = ys.map((y) => tensor(new Float32Array(n * (y.size / y.shape[0])), [n, ...y.shape.slice(1)]));
        }
        for (let k = 0; k < ys.length; k++) { outs![k].write(await ys[k].data(), row * (ys[k].size / ys[k].shape[0])); ys[k].dispose(); }
        row += ys[0].shape[0];
      } finally {
        disposeBatch(batch);
      }
      bar?.update(b + 1, [], b + 1 === steps);
    }
    feed.reset?.();
    if (!outs) throw new RangeError('convnet: predict: the data is empty');
    return outs.map((o) => (row === o.shape[0] ? o : o.sliceBatch(0, row)));
  }

  /**
   * One training step on one batch (metrics cover only this batch); returns the loss, or [loss, ...metrics]
   * (a dict with `returnDict`). Synchronous, as Keras's: on backends that read synchronously (native, wasm,
   * reference). `trainOnBatchAsync` is the same step on every backend, webgpu included.
   */
  trainOnBatch(x: Inputs, y: Inputs, opts: OnBatchArgs = {}): number | number[] | Logs {
    return readSync(this.onBatch('trainOnBatch', x, y, opts, true), 'trainOnBatch');
  }

  /** `trainOnBatch` with awaited reads: works on every backend (TF.js's `trainOnBatch` is asynchronous too). */
  trainOnBatchAsync(x: Inputs, y: Inputs, opts: OnBatchArgs = {}): Promise<number | number[] | Logs> {
    return readAsync(this.onBatch('trainOnBatch', x, y, opts, true));
  }

  /** Loss and metrics on one batch without training (synchronous; `testOnBatchAsync` on every backend). */
  testOnBatch(x: Inputs, y: Inputs, opts: { returnDict?: boolean } = {}): number | number[] | Logs {
    return readSync(this.onBatch('testOnBatch', x, y, opts, false), 'testOnBatch');
  }

  /** `testOnBatch` with awaited reads: works on every backend. */
  testOnBatchAsync(x: Inputs, y: Inputs, opts: { returnDict?: boolean } = {}): Promise<number | number[] | Logs> {
    return readAsync(this.onBatch('testOnBatch', x, y, opts, false));
  }

  /** trainOnBatch and testOnBatch, whichever way they read. */
  private *onBatch(what: string, x: Inputs, y: Inputs, opts: OnBatchArgs, train: boolean): Reads<number | number[] | Logs> {
    this.requireCompiled(what);
    const xs = this.inputList(x, what), ys = this.labelList(y, what);
    this.ensureBuilt({ xs, ys });
    this.checkInputs(xs);
    this.checkLabels(ys, what);
    this.resetMetrics();
    const r = train ? yield* this.trainStep(xs, ys, opts.classWeight) : yield* this.testStep(xs, ys);
    const acc = new LossAccumulator(this.compiledOutputs.length);
    if ('what' in r) acc.add({ loss: NaN, outputs: this.compiledOutputs.map(() => NaN) }, 1); else acc.add(r, 1);
    return this.packResult(this.resultLogs(acc), opts.returnDict);
  }

  /** Predictions for one batch (a new tensor the caller owns; the first output's). */
  predictOnBatch(x: Inputs): Tensor {
    const xs = this.inputList(x, 'predictOnBatch');
    this.ensureBuilt({ xs, ys: null });
    this.checkInputs(xs);
    return scope(() => noGrad(() => this.invoke(xs, { training: false })[0].clone()));
  }
}

/** Sums of the batch losses weighted by batch size. */
class LossAccumulator {
  total = 0;
  seen = 0;
  outputs: number[];
  constructor(n: number) { this.outputs = new Array(n).fill(0); }
  add(r: StepResult, n: number): void {
    this.total += r.loss * n; this.seen += n;
    r.outputs.forEach((v, i) => { this.outputs[i] += v * n; });
  }
}

/** What a step yields (a tensor to read) and gets back (its values). */
type Reads<R> = Generator<Tensor, R, TypedArray>;

/** Runs a step with synchronous reads; a backend that cannot read synchronously gets a message naming the awaited form. */
function readSync<R>(g: Reads<R>, what: string): R {
  let r = g.next();
  while (!r.done) {
    let v: TypedArray;
    try {
      v = r.value.dataSync();
    } catch (e) {
      const t = r.value;
      const err = t.store.storage === 'heap' ? e : new Error(`convnet: ${what}: the ${t.store.storage} backend cannot read synchronously; use await model.${what}Async(...)`);
      r = g.throw(err);
      continue;
    }
    r = g.next(v);
  }
  return r.value;
}

/** Runs a step with awaited reads (every backend). */
async function readAsync<R>(g: Reads<R>): Promise<R> {
  let r = g.next();
  while (!r.done) {
    let v: TypedArray;
    try {
      v = await r.value.data();
    } catch (e) {
      r = g.throw(e);
      continue;
    }
    r = g.next(v);
  }
  return r.value;
}
