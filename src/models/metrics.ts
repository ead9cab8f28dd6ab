/**
 * Metrics accumulated over an epoch, with Keras's names. Their state (running sums and counts) is
 * kept in tensors of the backend in use and updated there with ops, batch by batch
 * (`updateState`); it is read only when a result is asked for: `result()` (a synchronous read:
 * the heap backends) or `await resultAsync()` (every backend, webgpu included). A training step
 * can also take the state after a batch (`nextState`), read it with the loss in the step's one
 * read, then `commit` it (`resultFrom` turns the values read into the result).
 *
 * 'accuracy' picks Keras's variant from the shapes: binary (threshold 0.5) for one output,
 * sparse categorical for integer labels, categorical (argmax) otherwise.
 */
import { tensor, scope, scalar, fmtShape, type Tensor } from '../tensor/index.js';
import { add, sub, mul, sum, mean, max, min, abs, square, greater, less, equal, cast } from '../ops/index.js';
import { noGrad } from '../autograd/index.js';

export abstract class Metric {
  readonly name: string;
  /** The state on the backend (kept tensors), made by the first update; null after reset. */
  private state: Tensor[] | null = null;
  constructor(name: string) { this.name = name; }

  /** Sizes of the state tensors (flat float32). */
  protected abstract stateSizes(): number[];
  /** One batch's contribution to each state tensor, computed with ops (inside the caller's scope). */
  protected abstract increments(yTrue: Tensor, yPred: Tensor, w: Tensor | null): Tensor[];
  /** The result from the state's values. */
  protected abstract compute(state: Float32Array[]): number;

  /**
   * The state after adding one batch, as new tensors (the metric's own state is unchanged until
   * `commit`). Call inside a scope; `w` is one weight per sample, or null.
   */
  nextState(yTrue: Tensor, yPred: Tensor, w: Tensor | null = null): Tensor[] {
    return noGrad(() => {
      const inc = this.increments(yTrue, yPred, w).map((t, i) => t.reshape([this.stateSizes()[i]]));
      return this.state ? inc.map((t, i) => add(this.state![i], t)) : inc;
    });
  }
  /** Makes `next` (from nextState) the metric's state. */
  commit(next: Tensor[]): void {
    for (const t of next) t.keep();
    const old = this.state;
    this.state = next;
    if (old) for (const t of old) t.dispose();
  }
  /** Adds one batch (labels, predictions, optional per-sample weights) to the state, on the backend. */
  updateState(yTrue: Tensor, yPred: Tensor, sampleWeight: Tensor | null = null): void {
    this.commit(scope(() => this.nextState(yTrue, yPred, sampleWeight)));
  }
  /** The state tensors, flattened and in order (for a step's read), or null before any update. */
  get stateTensors(): readonly Tensor[] | null { return this.state; }
  /** Elements in the state, all tensors together. */
  get stateSize(): number { return this.stateSizes().reduce((a, b) => a + b, 0); }
  /** The result from the state's values read as one flat array (stateSize numbers). */
  resultFrom(values: ArrayLike<number>): number {
    let at = 0;
    return this.compute(this.stateSizes().map((n) => { const a = Float32Array.from({ length: n }, (_, i) => values[at + i]); at += n; return a; }));
  }
  /** The result so far, read synchronously (the heap backends; on webgpu use `await resultAsync()`). */
  result(): number {
    if (!this.state) return this.compute(this.stateSizes().map((n) => new Float32Array(n)));
    const s = this.state;
    try {
      return this.compute(s.map((t) => t.dataSync() as Float32Array));
    } catch (e) {
      if (s[0].store.storage === 'heap') throw e;
      throw new Error(`convnet: metric ${this.name}: its state lives on the ${s[0].store.storage} backend, which cannot read synchronously; use await metric.resultAsync()`);
    }
  }
  /** The result so far, read asynchronously (every backend). */
  async resultAsync(): Promise<number> {
    return this.compute(this.state ? await Promise.all(this.state.map(async (t) => (await t.data()) as Float32Array)) : this.stateSizes().map((n) => new Float32Array(n)));
  }
  /** Clears the state (released; the next update starts from zeros on the backend then in use). */
  reset(): void {
    if (this.state) for (const t of this.state) t.dispose();
    this.state = null;
  }
}

/** Float32 view of labels or predictions (labels may come as int32 or uint8). */
function f32(t: Tensor): Tensor { return t.dtype === 'float32' ? t : cast(t, 'float32'); }

/** p as [B, k] (k = elements per sample) and y reshaped to match it, with a clear error when they differ in size. */
function rows(y: Tensor, p: Tensor, what: string): { y: Tensor; p: Tensor; k: number } {
  const B = p.shape[0] ?? 1, k = B ? p.size / B : 0;
  if (y.size !== p.size) throw new RangeError(`convnet: metric ${what}: labels of shape ${fmtShape(y.shape)} do not match predictions of shape ${fmtShape(p.shape)}`);
  return { y: f32(y).reshape([B, k]), p: f32(p).reshape([B, k]), k };
}

/**
 * Index of the first maximum of each row of x [B, k] (as a float32 [B]): rows with a NaN give k
 * (no index), where a host argmax would skip the NaN.
 */
function argmaxRows(x: Tensor, k: number): Tensor {
  const m = max(x, 1, true);
  // k + isMax * (j - k) is j at the maxima and k elsewhere; its minimum is the first maximum's index.
  const offs = tensor(Float32Array.from({ length: k }, (_, j) => j - k), [1, k]);
  return min(add(mul(equal(x, m), offs), k), 1);
}

type PerSample = (y: Tensor, p: Tensor) => Tensor;

const binaryAccuracy = (threshold: number): PerSample => (y0, p0) => {
  const { y, p } = rows(y0, p0, 'binary_accuracy');
  return mean(equal(greater(p, threshold), y), 1);
};
const categoricalAccuracy: PerSample = (y0, p0) => {
  const { y, p, k } = rows(y0, p0, 'categorical_accuracy');
  return equal(argmaxRows(p, k), argmaxRows(y, k));
};
const sparseCategoricalAccuracy: PerSample = (y, p0) => {
  const B = p0.shape[0] ?? 1, k = B ? p0.size / B : 0;
  if (y.size !== B) throw new RangeError(`convnet: metric sparse_categorical_accuracy: labels of shape ${fmtShape(y.shape)} need one class index per sample of predictions ${fmtShape(p0.shape)}`);
  return equal(argmaxRows(f32(p0).reshape([B, k]), k), f32(y).reshape([B]));
};
const meanSquaredError: PerSample = (y0, p0) => { const { y, p } = rows(y0, p0, 'mean_squared_error'); return mean(square(sub(p, y)), 1); };
const meanAbsoluteError: PerSample = (y0, p0) => { const { y, p } = rows(y0, p0, 'mean_absolute_error'); return mean(abs(sub(p, y)), 1); };

/** A weighted mean of per-sample values: state [total, count]. */
abstract class MeanMetric extends Metric {
  /** The per-sample values [B] of a batch. */
  protected abstract values(yTrue: Tensor, yPred: Tensor): Tensor;
  protected stateSizes(): number[] { return [1, 1]; }
  protected increments(yTrue: Tensor, yPred: Tensor, w: Tensor | null): Tensor[] {
    const v = this.values(yTrue, yPred);
    if (!w) return [sum(v), scalar(v.size)];
    const wf = f32(w).reshape([v.size]);
    return [sum(mul(v, wf)), sum(wf)];
  }
  protected compute([total, count]: Float32Array[]): number { return count[0] ? total[0] / count[0] : 0; }
}

export class BinaryAccuracy extends MeanMetric {
  readonly threshold: number;
  constructor(name = 'binary_accuracy', threshold = 0.5) { super(name); this.threshold = threshold; }
  protected values(y: Tensor, p: Tensor): Tensor { return binaryAccuracy(this.threshold)(y, p); }
}

export class CategoricalAccuracy extends MeanMetric {
  constructor(name = 'categorical_accuracy') { super(name); }
  protected values(y: Tensor, p: Tensor): Tensor { return categoricalAccuracy(y, p); }
}

export class SparseCategoricalAccuracy extends MeanMetric {
  constructor(name = 'sparse_categorical_accuracy') { super(name); }
  protected values(y: Tensor, p: Tensor): Tensor { return sparseCategoricalAccuracy(y, p); }
}

function lastDim(s: readonly number[]): number { return s.length > 1 ? s[s.length - 1] : 1; }

/** Chooses Keras's accuracy for these shapes (name stays 'accuracy'). */
export class Accuracy extends MeanMetric {
  private impl: PerSample | null = null;
  constructor(name = 'accuracy') { super(name); }
  protected values(y: Tensor, p: Tensor): Tensor {
    if (!this.impl) {
      const ys = y.shape, ps = p.shape;
      if (lastDim(ps) === 1 || ps.length === 1) this.impl = binaryAccuracy(0.5);
      else if (ys.length < ps.length || lastDim(ys) === 1) this.impl = sparseCategoricalAccuracy;
      else this.impl = categoricalAccuracy;
    }
    return this.impl(y, p);
  }
}

/** Labels >= 0.5 as 1 (NaN as 0), as [n, 1] columns with the per-sample weights beside them. */
function positives(y: Tensor): Tensor { return add(greater(y, 0.5), equal(y, 0.5)); }
/** Per-element weights [B, k] from per-sample weights [B] (ones when none). */
function elementWeights(w: Tensor | null, B: number, k: number): Tensor | number {
  return w ? f32(w).reshape([B, 1]) : 1;
}

/** Confusion counts at one threshold (binary: predictions > threshold are positive): state [tp, fp, fn]. */
abstract class ConfusionMetric extends Metric {
  readonly threshold: number;
  constructor(name: string, threshold = 0.5) { super(name); this.threshold = threshold; }
  protected stateSizes(): number[] { return [1, 1, 1]; }
  protected increments(y0: Tensor, p0: Tensor, w: Tensor | null): Tensor[] {
    const { y, p, k } = rows(y0, p0, this.name);
    const ww = elementWeights(w, p.shape[0], k);
    const pos = greater(p, this.threshold), t = positives(y);
    const tp = mul(pos, t);
    return [sum(mul(tp, ww)), sum(mul(sub(pos, tp), ww)), sum(mul(sub(t, tp), ww))];
  }
}

export class Precision extends ConfusionMetric {
  constructor(name = 'precision', threshold = 0.5) { super(name, threshold); }
  protected compute([tp, fp]: Float32Array[]): number { return tp[0] + fp[0] > 0 ? tp[0] / (tp[0] + fp[0]) : 0; }
}

export class Recall extends ConfusionMetric {
  constructor(name = 'recall', threshold = 0.5) { super(name, threshold); }
  protected compute([tp, , fn]: Float32Array[]): number { return tp[0] + fn[0] > 0 ? tp[0] / (tp[0] + fn[0]) : 0; }
}

/**
 * ROC AUC as Keras computes it: confusion counts at 200 thresholds spread over [0, 1], then
 * the trapezoidal rule over (false-positive rate, true-positive rate). State: for each threshold,
 * the (weighted) positives and negatives predicted above it.
 */
export class AUC extends Metric {
  readonly numThresholds: number;
  private readonly thresholds: Float32Array;
  constructor(name = 'auc', numThresholds = 200) {
    super(name);
    if (!(Number.isInteger(numThresholds) && numThresholds > 1)) throw new RangeError(`convnet: AUC: numThresholds must be an integer above 1, got ${numThresholds}`);
    this.numThresholds = numThresholds;
    const eps = 1e-7, T = [0 - eps];
    for (let i = 1; i < numThresholds - 1; i++) T.push(i / (numThresholds - 1));
    T.push(1 + eps);
    this.thresholds = Float32Array.from(T);
  }
  protected stateSizes(): number[] { return [this.numThresholds, this.numThresholds]; }
  protected increments(y0: Tensor, p0: Tensor, w: Tensor | null): Tensor[] {
    const { y, p, k } = rows(y0, p0, this.name);
    const n = p.size;
    // above[i, t] = 1 when prediction i counts as positive at threshold t (p > T[t]).
    const above = greater(p.reshape([n, 1]), tensor(this.thresholds, [1, this.numThresholds]));
    const ww = elementWeights(w, p.shape[0], k);
    const t = mul(positives(y), ww).reshape([n, 1]);
    const f = mul(sub(1, positives(y)), ww).reshape([n, 1]);
    return [sum(mul(above, t), 0), sum(mul(above, f), 0)];
  }
  protected compute([tp, fp]: Float32Array[]): number {
    const T = this.numThresholds, P = tp[0], N = fp[0];
    if (P === 0 || N === 0) return 0;
    let auc = 0;
    for (let t = 0; t < T - 1; t++) auc += (fp[t] - fp[t + 1]) / N * (tp[t] / P + tp[t + 1] / P) / 2;
    return auc;
  }
}

export class MeanSquaredErrorMetric extends MeanMetric {
  constructor(name = 'mean_squared_error') { super(name); }
  protected values(y: Tensor, p: Tensor): Tensor { return meanSquaredError(y, p); }
}

export class MeanAbsoluteErrorMetric extends MeanMetric {
  constructor(name = 'mean_absolute_error') { super(name); }
  protected values(y: Tensor, p: Tensor): Tensor { return meanAbsoluteError(y, p); }
}

const FACTORIES: Record<string, () => Metric> = {
  accuracy: () => new Accuracy('accuracy'), acc: () => new Accuracy('acc'),
  binary_accuracy: () => new BinaryAccuracy(), categorical_accuracy: () => new CategoricalAccuracy(),
  sparse_categorical_accuracy: () => new SparseCategoricalAccuracy(),
  precision: () => new Precision(), recall: () => new Recall(), auc: () => new AUC(),
  mse: () => new MeanSquaredErrorMetric('mse'), mean_squared_error: () => new MeanSquaredErrorMetric(),
  mae: () => new MeanAbsoluteErrorMetric('mae'), mean_absolute_error: () => new MeanAbsoluteErrorMetric(),
};

/** A metric from its Keras name ('accuracy', 'precision', 'recall', 'auc', ...) or an instance. */
export function getMetric(id: string | Metric | { class_name: string; config?: Record<string, unknown> }): Metric {
  if (id instanceof Metric) return id;
  if (id && typeof id === 'object' && typeof (id as { class_name?: unknown }).class_name === 'string') {
    const o = id as { class_name: string; config?: Record<string, unknown> };
    const m = getMetric(o.class_name);
    const name = o.config?.name;
    if (typeof name === 'string' && name !== m.name) (m as { name: string }).name = name;
    return m;
  }
  if (typeof id === 'string') {
    const snake = id.replace(/([a-z0-9])([A-Z])/g, '$1_$2').toLowerCase();
    const f = FACTORIES[id] ?? FACTORIES[snake];
    if (!f) throw new RangeError(`convnet: unknown metric ${JSON.stringify(id)} (known: ${Object.keys(FACTORIES).join(', ')})`);
    return f();
  }
  throw new TypeError(`convnet: cannot make a metric from ${JSON.stringify(id)}`);
}

export const metrics = {
  Accuracy, BinaryAccuracy, CategoricalAccuracy, SparseCategoricalAccuracy, Precision, Recall, AUC,
  MeanSquaredError: MeanSquaredErrorMetric, MeanAbsoluteError: MeanAbsoluteErrorMetric, get: getMetric,
};
