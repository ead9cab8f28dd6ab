/**
 * SGD with optional momentum and Nesterov momentum (Keras 3 defaults: learning rate 0.01, momentum 0).
 *
 *     velocity = momentum · velocity − lr · g
 *     w += nesterov ? momentum · velocity − lr · g : velocity      (momentum > 0)
 *     w −= lr · g                                                  (momentum = 0)
 */
import type { Tensor } from '../tensor/index.js';
import { backend } from '../backend/index.js';
import { Optimizer, type OptimizerArgs } from './optimizer.js';

export interface SGDArgs extends OptimizerArgs { momentum?: number; nesterov?: boolean }

export class SGD extends Optimizer {
  readonly className = 'SGD';
  readonly momentum: number; readonly nesterov: boolean;
  constructor(args: SGDArgs = {}) {
    super(args as Record<string, unknown>, { learningRate: 0.01, name: 'SGD' }, ['momentum', 'nesterov']);
    const m = (args as any).momentum ?? 0;
    if (typeof m !== 'number' || m < 0 || m > 1) throw new RangeError(`convnet: SGD: momentum must be in [0, 1], got ${JSON.stringify(m)}`);
    this.momentum = m; this.nesterov = !!(args as any).nesterov;
  }
  protected slotGroups(): string[][] { return this.momentum !== 0 ? [['momentum']] : []; }
  protected get fusedWeightDecay(): boolean { return true; }
  protected updateStep(p: Tensor, g: Tensor, slots: Tensor[], lr: number): void {
    backend().sgdUpdate(p, g, slots[0] ?? null, { lr, momentum: this.momentum, nesterov: this.nesterov, weightDecay: this.weightDecay ?? 0 });
  }
  protected ownConfig(): Record<string, unknown> { return { momentum: this.momentum, nesterov: this.nesterov }; }
}
