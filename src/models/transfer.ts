/**
 * Transfer learning in one call: a pretrained base (a model file or a model) cut at a layer,
 * frozen, with a new classification head, as the Keras guide builds it:
 *
 *     base = load_model(...); base = Model(base.input, base.get_layer(cut).output); base.trainable = False
 *     x = base(inputs, training=False); x = GlobalAveragePooling2D()(x); x = Dropout(0.2)(x); outputs = Dense(...)(x)
 *
 * The sweep (`convnet sweep`'s `base` setting) and user code build the same model from it.
 */
import { Input, layers, type KerasTensor } from '../layers/index.js';
import { Model } from './model.js';
import { Functional } from './functional.js';
import { Sequential } from './sequential.js';

/** A Sequential model as a functional one over the same layers (so a layer's output can be cut at). */
function asFunctional(m: Model): Model {
  if (!(m instanceof Sequential)) return m;
  const shape = m.inputShape;
  if (!shape) throw new RangeError(`convnet: transferModel: model "${m.name}" has no input shape`);
  const inputs = Input({ shape: shape.slice(1) as number[] });
  let x = inputs;
  for (const l of m.layers) x = l.apply(x);
  return new Functional({ inputs, outputs: x, name: m.name });
}

export interface TransferOptions {
  /** The pretrained model: a file (.keras, legacy .h5, TF.js folder) or a model already loaded. */
  base: string | Model;
  /** The layer whose output becomes the features (MobileNetV2: 'out_relu'); the base's output when absent. */
  cutAt?: string;
  /** Classes: 2 gives Dense(1, sigmoid), more Dense(K, softmax). */
  numClasses?: number;
  /** Dropout before the classifier (Keras's guide: 0.2; 0 for none). */
  dropout?: number;
  /** Whether the base trains too (default false: only the head trains). */
  trainable?: boolean;
}

/**
 * The base cut at `cutAt` and frozen, and a model of it with a new head (global average pooling,
 * dropout, a Dense classifier). The base runs in inference mode (its BatchNormalizations keep their
 * statistics even once unfrozen for fine-tuning). Returns both, so the caller can unfreeze top blocks.
 */
export async function transferModel(opts: TransferOptions): Promise<{ model: Model; base: Model }> {
  const numClasses = opts.numClasses ?? 2;
  if (!Number.isInteger(numClasses) || numClasses < 2) throw new RangeError(`convnet: transferModel: numClasses must be an integer >= 2, got ${numClasses}`);
  const dropout = opts.dropout ?? 0.2;
  if (!(dropout >= 0 && dropout < 1)) throw new RangeError(`convnet: transferModel: dropout must be in [0, 1), got ${dropout}`);
  let pretrained: Model;
  if (typeof opts.base === 'string') {
    const io = await import('../io/models/index.js');
    pretrained = await io.loadModel(opts.base, { compile: false });
  } else if (opts.base instanceof Model) pretrained = opts.base;
  else throw new TypeError('convnet: transferModel: base must be a model file path or a Model');
  pretrained = asFunctional(pretrained);
  let features: KerasTensor;
  try {
    features = opts.cutAt ? pretrained.getLayer(opts.cutAt).output : pretrained.output;
  } catch (e) {
    throw new RangeError(`convnet: transferModel: cannot cut ${typeof opts.base === 'string' ? opts.base : `model "${pretrained.name}"`} at ${opts.cutAt ? `layer "${opts.cutAt}"` : 'its output'}: ${(e as Error).message.replace(/^convnet: /, '')}`);
  }
  if (features.shape.length !== 4) throw new RangeError(`convnet: transferModel: the features at "${opts.cutAt ?? 'the output'}" have shape ${JSON.stringify(features.shape)}; cut at a layer with an image-shaped output (batch, height, width, channels)`);
  const base = new Functional({ inputs: pretrained.input, outputs: features, name: `${pretrained.name}_base` });
  base.trainable = !!opts.trainable;
  const inputs = Input({ shape: pretrained.input.shape.slice(1) as number[] });
  let x = base.apply(inputs, { training: false });
  x = new layers.GlobalAveragePooling2D().apply(x);
  if (dropout > 0) x = new layers.Dropout(dropout).apply(x);
  const outputs = numClasses === 2
    ? new layers.Dense(1, { activation: 'sigmoid' }).apply(x)
    : new layers.Dense(numClasses, { activation: 'softmax' }).apply(x);
  return { model: new Functional({ inputs, outputs }), base };
}
