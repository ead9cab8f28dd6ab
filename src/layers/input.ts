/** InputLayer: declares the shape of one sample; Sequential adds one for `inputShape`. */
import type { Tensor } from '../tensor/index.js';
import { Layer, layerOptions, registerLayer, type Shape } from './layer.js';

export interface InputLayerArgs { inputShape?: Shape; batchInputShape?: Shape; batchShape?: Shape; batchSize?: number; name?: string; dtype?: unknown; sparse?: boolean; ragged?: boolean; optional?: boolean }

export class InputLayer extends Layer {
  static readonly className = 'InputLayer';
  constructor(args: InputLayerArgs = {}) {
    const o = layerOptions(args, ['sparse', 'ragged', 'optional', 'shape'], 'InputLayer');
    if (o.shape && !o.inputShape) o.inputShape = o.shape;
    delete o.shape;
    if (!o.inputShape && !o.batchInputShape && !o.batchShape) {
      throw new RangeError('convnet: InputLayer needs inputShape (e.g. [150, 150, 3]) or batchInputShape');
    }
    super(o);
    this.built = true;
    this.buildInputShape = this.batchInputShape!.slice();
  }
  call(x: Tensor): Tensor { return x; }
  getConfig(): Record<string, unknown> {
    return { batch_shape: this.batchInputShape!.slice(), dtype: 'float32', sparse: false, ragged: false, name: this.name, optional: false };
  }
}
registerLayer('InputLayer', InputLayer);
