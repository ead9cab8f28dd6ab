/** Flatten: [N, d1, d2, ...] -> [N, d1*d2*...] (no copy). */
import type { Tensor } from '../tensor/index.js';
import { Layer, layerOptions, registerLayer, type Shape, type LayerArgs } from './layer.js';
import { oneOf } from './config.js';
import { reshapeGrad } from './util.js';

export class Flatten extends Layer {
  static readonly className = 'Flatten';
  static readonly recordsBuildConfig = true;
  constructor(args?: LayerArgs & { dataFormat?: 'channels_last' }) {
    const o = layerOptions(args, ['dataFormat'], 'Flatten');
    super(o);
    if (o.dataFormat !== undefined) oneOf(o.dataFormat, ['channels_last'] as const, 'dataFormat', 'Flatten');
  }
  computeOutputShape(s: Shape): Shape {
    const rest = s.slice(1);
    return [s[0], rest.some((d) => d === null) ? null : (rest as number[]).reduce((a, b) => a * b, 1)];
  }
  call(x: Tensor): Tensor { return x.rank === 2 ? x : reshapeGrad(x, [x.shape[0], x.size / (x.shape[0] || 1)]); }
  getConfig(): Record<string, unknown> { return { ...super.getConfig(), data_format: 'channels_last' }; }
}
registerLayer('Flatten', Flatten);
