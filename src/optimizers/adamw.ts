/**
 * AdamW: Adam with decoupled weight decay (Keras 3 defaults: learning rate 0.001, weight decay 0.004).
 * Before each Adam step: w −= w · weightDecay · lr.
 */
import { Adam, type AdamArgs } from './adam.js';

export class AdamW extends Adam {
  readonly className = 'AdamW';
  constructor(args: AdamArgs = {}) {
    const a = { ...(args as Record<string, unknown>) };
    if (a.weightDecay === undefined && a.weight_decay === undefined) a.weightDecay = 0.004;
    super(a as AdamArgs, { learningRate: 0.001, name: 'adamw' });
  }
}
