/**
 * Weight regularizers (Keras's L1, L2, L1L2): a penalty added to the training loss.
 * L1: l1 · Σ|w|; L2: l2 · Σw²; L1L2: both.
 */
import type { Tensor } from '../tensor/index.js';
import { abs, square, sum, mul, add } from '../ops/index.js';
import { normalizeOptions, type SerializedObject } from './config.js';

export abstract class Regularizer {
  abstract readonly className: string;
  /** The penalty for weight `w` (a scalar tensor, differentiable). */
  abstract call(w: Tensor): Tensor;
  abstract getConfig(): Record<string, unknown>;
  serialize(): SerializedObject {
    return { module: 'keras.regularizers', class_name: this.className, config: this.getConfig(), registered_name: null };
  }
}

export class L1L2 extends Regularizer {
  readonly className: string = 'L1L2';
  readonly l1: number; readonly l2: number;
  constructor(args: { l1?: number; l2?: number } = {}) {
    super();
    const o = normalizeOptions(args as Record<string, unknown>, ['l1', 'l2'], 'L1L2');
    this.l1 = (o.l1 as number) ?? 0; this.l2 = (o.l2 as number) ?? 0;
    for (const [k, v] of [['l1', this.l1], ['l2', this.l2]] as const) {
      if (typeof v !== 'number' || !(v >= 0)) throw new RangeError(`convnet: ${this.className}: ${k} must be a non-negative number, got ${JSON.stringify(v)}`);
    }
  }
  call(w: Tensor): Tensor {
    let r: Tensor | null = null;
    if (this.l1) r = mul(sum(abs(w)), this.l1);
    if (this.l2) { const t = mul(sum(square(w)), this.l2); r = r ? add(r, t) : t; }
    return r ?? mul(sum(w), 0);
  }
  getConfig(): Record<string, unknown> { return { l1: this.l1, l2: this.l2 }; }
}

export class L1 extends L1L2 {
  readonly className = 'L1';
  constructor(args: { l1?: number } | number = {}) {
    const o = typeof args === 'number' ? { l1: args } : normalizeOptions(args as Record<string, unknown>, ['l1'], 'L1');
    super({ l1: (o.l1 as number) ?? 0.01 });
  }
  getConfig(): Record<string, unknown> { return { l1: this.l1 }; }
}

export class L2 extends L1L2 {
  readonly className = 'L2';
  constructor(args: { l2?: number } | number = {}) {
    const o = typeof args === 'number' ? { l2: args } : normalizeOptions(args as Record<string, unknown>, ['l2'], 'L2');
    super({ l2: (o.l2 as number) ?? 0.01 });
  }
  getConfig(): Record<string, unknown> { return { l2: this.l2 }; }
}

export type RegularizerIdentifier = string | Regularizer | SerializedObject;

/** A regularizer from 'l1', 'l2', 'l1_l2', a config dict or an instance; null stays null. */
export function getRegularizer(id: RegularizerIdentifier | null | undefined): Regularizer | null {
  if (id === undefined || id === null) return null;
  if (id instanceof Regularizer) return id;
  if (typeof id === 'string') {
    const k = id.toLowerCase();
    if (k === 'l1') return new L1();
    if (k === 'l2') return new L2();
    if (k === 'l1_l2' || k === 'l1l2') return new L1L2({ l1: 0.01, l2: 0.01 });
    throw new RangeError(`convnet: unknown regularizer ${JSON.stringify(id)} (known: l1, l2, l1_l2)`);
  }
  if (typeof id === 'object' && typeof id.class_name === 'string') {
    const cfg = id.config ?? {};
    if (id.class_name === 'L1') return new L1(cfg);
    if (id.class_name === 'L2') return new L2(cfg);
    if (id.class_name === 'L1L2') return new L1L2(cfg);
    throw new RangeError(`convnet: unknown regularizer class ${JSON.stringify(id.class_name)}`);
  }
  throw new TypeError(`convnet: cannot make a regularizer from ${JSON.stringify(id)}`);
}

export const regularizers = {
  l1: (a?: { l1?: number } | number) => new L1(a), l2: (a?: { l2?: number } | number) => new L2(a),
  l1l2: (a?: { l1?: number; l2?: number }) => new L1L2(a), get: getRegularizer,
};
