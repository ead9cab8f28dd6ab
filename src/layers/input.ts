/**
 * InputLayer: declares the shape of one sample; Sequential adds one for `inputShape`.
 * `Input({ shape })` makes one and returns its symbolic output, the start of a functional model.
 */
import type { Tensor } from '../tensor/index.js';
import { Layer, KerasTensor, Node, layerOptions, registerLayer, type Shape } from './layer.js';

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
    // Its own node, with no inputs: the symbolic tensor `Input()` returns.
    const node = new Node(this, [], false);
    node.outputs = [new KerasTensor(this.batchInputShape!, node, 0)];
    this.inboundNodes.push(node);
  }
  numInputs(): number { return 0; }
  call(x: Tensor): Tensor { return x; }
  getConfig(): Record<string, unknown> {
    return { batch_shape: this.batchInputShape!.slice(), dtype: 'float32', sparse: false, ragged: false, name: this.name, optional: false };
  }
}
registerLayer('InputLayer', InputLayer);

export interface InputArgs { shape?: Shape; batchSize?: number | null; batchShape?: Shape; name?: string; dtype?: unknown; sparse?: boolean; ragged?: boolean; optional?: boolean }

/**
 * Keras's `keras.Input({ shape: [150, 150, 3] })`: a symbolic tensor [null, 150, 150, 3] to call
 * layers on; `new Model({ inputs, outputs })` then makes a functional model of the calls.
 */
export function Input(args: InputArgs): KerasTensor {
  if (!args || typeof args !== 'object') throw new TypeError('convnet: Input expects { shape: [...] }, e.g. Input({ shape: [150, 150, 3] })');
  const o = { ...args } as Record<string, unknown>;
  if (o.shape === undefined && o.batchShape === undefined && o.batch_shape === undefined) {
    throw new RangeError('convnet: Input needs shape (one sample, e.g. [150, 150, 3]) or batchShape');
  }
  if ('shape' in o) { o.inputShape = o.shape; delete o.shape; }
  const layer = new InputLayer(o as InputLayerArgs);
  return layer.output;
}
