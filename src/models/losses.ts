/**
 * Losses with Keras's names and formulas. Each gives one value per sample ([B]); the model
 * averages them over the batch (Keras's "sum_over_batch_size", sample weights included).
 *
 * - binary_crossentropy: −(y log p + (1 − y) log(1 − p)) with p clipped to [1e-7, 1 − 1e-7], mean over the last axis
 * - categorical_crossentropy: −Σ y log p, p normalised to sum 1 then clipped
 * - sparse_categorical_crossentropy: the same with integer labels
 * - mse, mae, huber (δ = 1)
 * With `fromLogits`, the crossentropies take raw scores and use log-sigmoid / log-softmax.
 */
import { Tensor, tensor, fmtShape } from '../tensor/index.js';
import { add, sub, mul, div, log, exp, abs, neg, maximum, minimum, square, sum, mean, clip, logSoftmax, equal, cast } from '../ops/index.js';
import { normalizeOptions } from '../layers/config.js';

export const EPSILON = 1e-7;

export interface LossArgs { fromLogits?: boolean; name?: string; reduction?: string; labelSmoothing?: number; delta?: number; axis?: number }

export abstract class Loss {
  abstract readonly className: string;
  /** Keras's function name ('binary_crossentropy'), used in compile configs. */
  abstract readonly fnName: string;
  readonly fromLogits: boolean;
  readonly name: string;
  /** Keras's label_smoothing: binary targets move towards 0.5, one-hot targets towards 1/K. */
  readonly labelSmoothing: number;
  constructor(args: LossArgs = {}, keys: readonly string[] = []) {
    const o = normalizeOptions(args as Record<string, unknown>, ['fromLogits', 'name', 'reduction', 'dtype', 'labelSmoothing', 'axis', 'ignoreClass', ...keys], this.constructor.name);
    this.fromLogits = !!o.fromLogits;
    this.name = (o.name as string) ?? '';
    this.labelSmoothing = (o.labelSmoothing as number) ?? 0;
    if (!(this.labelSmoothing >= 0 && this.labelSmoothing <= 1)) throw new RangeError(`convnet: ${this.constructor.name}: labelSmoothing must be in [0, 1], got ${this.labelSmoothing}`);
    if (o.axis !== undefined && o.axis !== -1 && o.axis !== null) throw new RangeError(`convnet: ${this.constructor.name}: only axis -1 is supported`);
    if (o.ignoreClass !== undefined && o.ignoreClass !== null) throw new RangeError(`convnet: ${this.constructor.name}: ignoreClass is not supported`);
  }
  /** Applies label smoothing towards `1 / classes`. */
  protected smooth(y: Tensor, classes: number): Tensor {
    return this.labelSmoothing ? add(mul(y, 1 - this.labelSmoothing), this.labelSmoothing / classes) : y;
  }
  /** One loss value per sample. */
  abstract perSample(yTrue: Tensor, yPred: Tensor): Tensor;
  /**
   * Checks that labels of shape `yShape` fit predictions of shape `predShape`; returns an error
   * message, or null when they fit. Called before any computation.
   */
  checkShapes(yShape: readonly (number | null)[], predShape: readonly (number | null)[]): string | null {
    const same = yShape.length === predShape.length && yShape.every((d, i) => i === 0 || d === predShape[i] || d === null || predShape[i] === null);
    const squeezable = yShape.length === predShape.length - 1 && predShape[predShape.length - 1] === 1 &&
      yShape.every((d, i) => i === 0 || d === predShape[i]);
    return same || squeezable ? null : `labels of shape ${fmtShape(yShape)} do not fit predictions of shape ${fmtShape(predShape)} for ${this.fnName}`;
  }
  /** Checks the loss against the model's output shape (compile time); an error message or null. */
  checkOutput(_predShape: readonly (number | null)[]): string | null { return null; }
  /** Mean loss over the batch (weighted by `sampleWeight` [B] when given). */
  call(yTrue: Tensor, yPred: Tensor, sampleWeight?: Tensor | null): Tensor {
    const per = this.perSample(alignLabels(yTrue, yPred), yPred);
    if (!sampleWeight) return mean(per);
    return div(sum(mul(per, sampleWeight)), per.shape[0]);
  }
  getConfig(): Record<string, unknown> { return { name: this.fnName, reduction: 'sum_over_batch_size', from_logits: this.fromLogits, label_smoothing: this.labelSmoothing }; }
}

/** Reshapes labels [B] to [B, 1] when the predictions are [B, 1]. */
function alignLabels(y: Tensor, p: Tensor): Tensor {
  if (y.rank === p.rank - 1 && p.shape[p.rank - 1] === 1) return y.reshape([...y.shape, 1]);
  return y;
}

export class BinaryCrossentropy extends Loss {
  readonly className = 'BinaryCrossentropy';
  readonly fnName = 'binary_crossentropy';
  perSample(y: Tensor, p: Tensor): Tensor {
    let l: Tensor;
    y = this.smooth(y, 2);
    if (this.fromLogits) {
      // max(x, 0) − x y + log(1 + exp(−|x|))
      l = add(sub(maximum(p, 0), mul(p, y)), log(add(exp(neg(abs(p))), 1)));
    } else {
      const pc = clip(p, EPSILON, 1 - EPSILON);
      l = neg(add(mul(y, log(pc)), mul(sub(1, y), log(sub(1, pc)))));
    }
    return mean(l, -1);
  }
}

export class CategoricalCrossentropy extends Loss {
  readonly className: string = 'CategoricalCrossentropy';
  readonly fnName: string = 'categorical_crossentropy';
  checkOutput(s: readonly (number | null)[]): string | null {
    return s[s.length - 1] === 1
      ? `${this.fnName} needs one output per class, but the model's output has shape ${fmtShape(s)}; for two classes with one sigmoid output use binary_crossentropy`
      : null;
  }
  perSample(y: Tensor, p: Tensor): Tensor {
    y = this.smooth(y, p.shape[p.rank - 1]);
    if (this.fromLogits) return neg(sum(mul(y, logSoftmax(p, -1)), -1));
    const pn = clip(div(p, sum(p, -1, true)), EPSILON, 1 - EPSILON);
    return neg(sum(mul(y, log(pn)), -1));
  }
}

export class SparseCategoricalCrossentropy extends CategoricalCrossentropy {
  readonly className = 'SparseCategoricalCrossentropy';
  readonly fnName = 'sparse_categorical_crossentropy';
  checkShapes(yShape: readonly (number | null)[], predShape: readonly (number | null)[]): string | null {
    const ok = (yShape.length === predShape.length - 1 || (yShape.length === predShape.length && yShape[yShape.length - 1] === 1)) &&
      yShape.slice(1, predShape.length - 1).every((d, i) => d === predShape[i + 1]);
    return ok ? null : `${this.fnName} takes integer class labels of shape ${fmtShape([predShape[0], ...predShape.slice(1, -1)])} for predictions of shape ${fmtShape(predShape)}, got labels of shape ${fmtShape(yShape)}`;
  }
  call(yTrue: Tensor, yPred: Tensor, sampleWeight?: Tensor | null): Tensor {
    const per = this.perSample(oneHot(yTrue, yPred.shape[yPred.rank - 1]), yPred);
    if (!sampleWeight) return mean(per);
    return div(sum(mul(per, sampleWeight)), per.shape[0]);
  }
}

/**
 * One-hot encodes integer labels (any shape) into [..., k]. Labels in the WebAssembly heap are read
 * on the host (a bad label throws at once); labels stored elsewhere (webgpu) are encoded on the
 * device, a bad label giving a NaN row (0/0) that fit's non-finite guard catches and then names
 * with checkClassLabelValues.
 */
export function oneHot(labels: Tensor, k: number): Tensor {
  const n = labels.size;
  const shape = labels.rank > 1 && labels.shape[labels.rank - 1] === 1 ? labels.shape.slice(0, -1) : labels.shape.slice();
  if (labels.store.storage !== 'heap') {
    const classes = tensor(Float32Array.from({ length: k }, (_, i) => i), [1, k]);
    const flat = labels.dtype === 'float32' ? labels.reshape([n, 1]) : cast(labels, 'float32').reshape([n, 1]);
    const hit = equal(flat, classes);
    return div(hit, sum(hit, -1, true)).reshape([...shape, k]);
  }
  const lv = labels.dataSync();
  const a = new Float32Array(n * k);
  for (let i = 0; i < n; i++) {
    const c = lv[i];
    if (!Number.isInteger(c) || c < 0 || c >= k) throw badClassLabel(c, k);
    a[i * k + c] = 1;
  }
  return tensor(a, [...shape, k]);
}

function badClassLabel(c: number, k: number): RangeError {
  return new RangeError(`convnet: sparse_categorical_crossentropy: label ${c} is not a class index in [0, ${k})`);
}

/** Throws oneHot's error for the first label (values read from the labels) that is not a class index in [0, k). */
export function checkClassLabelValues(lv: ArrayLike<number>, k: number): void {
  for (let i = 0; i < lv.length; i++) if (!Number.isInteger(lv[i]) || lv[i] < 0 || lv[i] >= k) throw badClassLabel(lv[i], k);
}

export class MeanSquaredError extends Loss {
  readonly className = 'MeanSquaredError';
  readonly fnName = 'mean_squared_error';
  perSample(y: Tensor, p: Tensor): Tensor { return mean(square(sub(p, y)), -1); }
}

export class MeanAbsoluteError extends Loss {
  readonly className = 'MeanAbsoluteError';
  readonly fnName = 'mean_absolute_error';
  perSample(y: Tensor, p: Tensor): Tensor { return mean(abs(sub(p, y)), -1); }
}

/** 0.5 e² where |e| ≤ δ, δ(|e| − 0.5 δ) beyond. */
export class Huber extends Loss {
  readonly className = 'Huber';
  readonly fnName = 'huber';
  readonly delta: number;
  constructor(args: LossArgs = {}) {
    super(args, ['delta']);
    this.delta = args.delta ?? 1;
  }
  perSample(y: Tensor, p: Tensor): Tensor {
    const a = abs(sub(p, y));
    const q = minimum(a, this.delta);
    return mean(add(mul(square(q), 0.5), mul(sub(a, q), this.delta)), -1);
  }
  getConfig(): Record<string, unknown> { return { ...super.getConfig(), delta: this.delta }; }
}

const BY_NAME: Record<string, new (a?: LossArgs) => Loss> = {
  binary_crossentropy: BinaryCrossentropy, categorical_crossentropy: CategoricalCrossentropy,
  sparse_categorical_crossentropy: SparseCategoricalCrossentropy, mean_squared_error: MeanSquaredError, mse: MeanSquaredError,
  mean_absolute_error: MeanAbsoluteError, mae: MeanAbsoluteError, huber: Huber, huber_loss: Huber,
};

export type LossIdentifier = string | Loss;

/** A loss from its Keras name ('binary_crossentropy', 'mse', 'BinaryCrossentropy') or an instance. */
export function getLoss(id: LossIdentifier | { class_name: string; config?: Record<string, unknown> }): Loss {
  if (id instanceof Loss) return id;
  if (typeof id === 'string') {
    const snake = id.replace(/([a-z0-9])([A-Z])/g, '$1_$2').toLowerCase();
    const cls = BY_NAME[id] ?? BY_NAME[snake] ?? BY_NAME[snake.replace(/_/g, '')];
    if (!cls) throw new RangeError(`convnet: unknown loss ${JSON.stringify(id)} (known: ${Object.keys(BY_NAME).join(', ')})`);
    return new cls();
  }
  if (id && typeof id === 'object' && typeof id.class_name === 'string') {
    const snake = id.class_name.replace(/([a-z0-9])([A-Z])/g, '$1_$2').toLowerCase();
    const cls = BY_NAME[snake];
    if (!cls) throw new RangeError(`convnet: unknown loss class ${JSON.stringify(id.class_name)}`);
    const cfg = { ...(id.config ?? {}) };
    delete cfg.reduction; delete cfg.name; delete cfg.dtype;
    return new cls(cfg as LossArgs);
  }
  throw new TypeError(`convnet: cannot make a loss from ${JSON.stringify(id)}`);
}

export const losses = {
  BinaryCrossentropy, CategoricalCrossentropy, SparseCategoricalCrossentropy, MeanSquaredError, MeanAbsoluteError, Huber,
  get: getLoss,
};
