/**
 * Metrics accumulated over an epoch, with Keras's names. They read the batch's predictions and
 * labels (small: [B, K]) once per step and keep running sums.
 *
 * 'accuracy' picks Keras's variant from the shapes: binary (threshold 0.5) for one output,
 * sparse categorical for integer labels, categorical (argmax) otherwise.
 */
import type { Tensor } from '../tensor/index.js';

export abstract class Metric {
  readonly name: string;
  constructor(name: string) { this.name = name; }
  /** Adds one batch: labels and predictions as flat arrays with their shapes. */
  abstract update(yTrue: ArrayLike<number>, yShape: readonly number[], yPred: ArrayLike<number>, pShape: readonly number[], w?: ArrayLike<number> | null): void;
  abstract result(): number;
  abstract reset(): void;
  /** Convenience: update from tensors. */
  updateTensors(yTrue: Tensor, yPred: Tensor, w?: Tensor | null): void {
    this.update(yTrue.dataSync(), yTrue.shape, yPred.dataSync(), yPred.shape, w ? w.dataSync() : null);
  }
}

/** A weighted mean of per-sample values. */
abstract class MeanMetric extends Metric {
  protected total = 0;
  protected count = 0;
  protected abstract sample(yTrue: ArrayLike<number>, yShape: readonly number[], yPred: ArrayLike<number>, pShape: readonly number[], i: number): number;
  update(yTrue: ArrayLike<number>, yShape: readonly number[], yPred: ArrayLike<number>, pShape: readonly number[], w?: ArrayLike<number> | null): void {
    const B = pShape[0];
    for (let i = 0; i < B; i++) {
      const wi = w ? w[i] : 1;
      this.total += wi * this.sample(yTrue, yShape, yPred, pShape, i);
      this.count += wi;
    }
  }
  result(): number { return this.count ? this.total / this.count : 0; }
  reset(): void { this.total = 0; this.count = 0; }
}

function lastDim(s: readonly number[]): number { return s.length > 1 ? s[s.length - 1] : 1; }

export class BinaryAccuracy extends MeanMetric {
  readonly threshold: number;
  constructor(name = 'binary_accuracy', threshold = 0.5) { super(name); this.threshold = threshold; }
  protected sample(y: ArrayLike<number>, _ys: readonly number[], p: ArrayLike<number>, ps: readonly number[], i: number): number {
    const k = lastDim(ps);
    let hit = 0;
    for (let j = 0; j < k; j++) hit += (p[i * k + j] > this.threshold ? 1 : 0) === y[i * k + j] ? 1 : 0;
    return hit / k;
  }
}

function argmax(a: ArrayLike<number>, off: number, k: number): number {
  let best = 0, bv = -Infinity;
  for (let j = 0; j < k; j++) if (a[off + j] > bv) { bv = a[off + j]; best = j; }
  return best;
}

export class CategoricalAccuracy extends MeanMetric {
  constructor(name = 'categorical_accuracy') { super(name); }
  protected sample(y: ArrayLike<number>, _ys: readonly number[], p: ArrayLike<number>, ps: readonly number[], i: number): number {
    const k = lastDim(ps);
    return argmax(p, i * k, k) === argmax(y, i * k, k) ? 1 : 0;
  }
}

export class SparseCategoricalAccuracy extends MeanMetric {
  constructor(name = 'sparse_categorical_accuracy') { super(name); }
  protected sample(y: ArrayLike<number>, _ys: readonly number[], p: ArrayLike<number>, ps: readonly number[], i: number): number {
    const k = lastDim(ps);
    return argmax(p, i * k, k) === y[i] ? 1 : 0;
  }
}

/** Chooses Keras's accuracy for these shapes (name stays 'accuracy'). */
export class Accuracy extends Metric {
  private impl: Metric | null = null;
  constructor(name = 'accuracy') { super(name); }
  private pick(yShape: readonly number[], pShape: readonly number[]): Metric {
    if (!this.impl) {
      if (lastDim(pShape) === 1 || pShape.length === 1) this.impl = new BinaryAccuracy(this.name);
      else if (yShape.length < pShape.length || lastDim(yShape) === 1) this.impl = new SparseCategoricalAccuracy(this.name);
      else this.impl = new CategoricalAccuracy(this.name);
    }
    return this.impl;
  }
  update(y: ArrayLike<number>, ys: readonly number[], p: ArrayLike<number>, ps: readonly number[], w?: ArrayLike<number> | null): void {
    this.pick(ys, ps).update(y, ys, p, ps, w);
  }
  result(): number { return this.impl ? this.impl.result() : 0; }
  reset(): void { this.impl?.reset(); }
}

/** Confusion counts at one threshold (binary: predictions > threshold are positive). */
abstract class ConfusionMetric extends Metric {
  protected tp = 0; protected fp = 0; protected fn = 0;
  readonly threshold: number;
  constructor(name: string, threshold = 0.5) { super(name); this.threshold = threshold; }
  update(y: ArrayLike<number>, _ys: readonly number[], p: ArrayLike<number>, ps: readonly number[], w?: ArrayLike<number> | null): void {
    const n = ps.reduce((a, b) => a * b, 1);
    const k = lastDim(ps);
    for (let i = 0; i < n; i++) {
      const wi = w ? w[Math.floor(i / k)] : 1;
      const pos = p[i] > this.threshold, t = y[i] >= 0.5;
      if (pos && t) this.tp += wi; else if (pos) this.fp += wi; else if (t) this.fn += wi;
    }
  }
  reset(): void { this.tp = 0; this.fp = 0; this.fn = 0; }
}

export class Precision extends ConfusionMetric {
  constructor(name = 'precision', threshold = 0.5) { super(name, threshold); }
  result(): number { return this.tp + this.fp > 0 ? this.tp / (this.tp + this.fp) : 0; }
}

export class Recall extends ConfusionMetric {
  constructor(name = 'recall', threshold = 0.5) { super(name, threshold); }
  result(): number { return this.tp + this.fn > 0 ? this.tp / (this.tp + this.fn) : 0; }
}

/**
 * ROC AUC as Keras computes it: confusion counts at 200 thresholds spread over [0, 1], then
 * the trapezoidal rule over (false-positive rate, true-positive rate).
 */
export class AUC extends Metric {
  readonly numThresholds: number;
  private readonly thresholds: number[];
  private pos: Float64Array; private neg: Float64Array;
  constructor(name = 'auc', numThresholds = 200) {
    super(name);
    this.numThresholds = numThresholds;
    const eps = 1e-7;
    this.thresholds = [0 - eps];
    for (let i = 1; i < numThresholds - 1; i++) this.thresholds.push(i / (numThresholds - 1));
    this.thresholds.push(1 + eps);
    this.pos = new Float64Array(numThresholds); this.neg = new Float64Array(numThresholds);
  }
  update(y: ArrayLike<number>, _ys: readonly number[], p: ArrayLike<number>, ps: readonly number[], w?: ArrayLike<number> | null): void {
    const n = ps.reduce((a, b) => a * b, 1);
    const k = lastDim(ps);
    const T = this.thresholds;
    for (let i = 0; i < n; i++) {
      const wi = w ? w[Math.floor(i / k)] : 1;
      // Index of the last threshold strictly below p: the prediction counts as positive at thresholds 0..idx.
      let lo = 0, hi = T.length - 1, idx = -1;
      while (lo <= hi) { const mid = (lo + hi) >> 1; if (T[mid] < p[i]) { idx = mid; lo = mid + 1; } else hi = mid - 1; }
      if (idx < 0) continue;
      if (y[i] >= 0.5) this.pos[idx] += wi; else this.neg[idx] += wi;
    }
  }
  result(): number {
    const T = this.numThresholds;
    // Cumulative from the top: tp[t] = positives predicted above threshold t.
    const tp = new Float64Array(T), fp = new Float64Array(T);
    let a = 0, b = 0;
    for (let t = T - 1; t >= 0; t--) { a += this.pos[t]; b += this.neg[t]; tp[t] = a; fp[t] = b; }
    const P = tp[0] + 0, N = fp[0] + 0;
    const totalP = P, totalN = N;
    if (totalP === 0 || totalN === 0) return 0;
    let auc = 0;
    for (let t = 0; t < T - 1; t++) {
      const x0 = fp[t] / totalN, x1 = fp[t + 1] / totalN;
      const y0 = tp[t] / totalP, y1 = tp[t + 1] / totalP;
      auc += (x0 - x1) * (y0 + y1) / 2;
    }
    return auc;
  }
  reset(): void { this.pos.fill(0); this.neg.fill(0); }
}

export class MeanSquaredErrorMetric extends MeanMetric {
  constructor(name = 'mean_squared_error') { super(name); }
  protected sample(y: ArrayLike<number>, _ys: readonly number[], p: ArrayLike<number>, ps: readonly number[], i: number): number {
    const k = lastDim(ps); let s = 0;
    for (let j = 0; j < k; j++) { const d = p[i * k + j] - y[i * k + j]; s += d * d; }
    return s / k;
  }
}

export class MeanAbsoluteErrorMetric extends MeanMetric {
  constructor(name = 'mean_absolute_error') { super(name); }
  protected sample(y: ArrayLike<number>, _ys: readonly number[], p: ArrayLike<number>, ps: readonly number[], i: number): number {
    const k = lastDim(ps); let s = 0;
    for (let j = 0; j < k; j++) s += Math.abs(p[i * k + j] - y[i * k + j]);
    return s / k;
  }
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
