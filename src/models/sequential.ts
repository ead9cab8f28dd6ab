/**
 * Sequential: a stack of layers, Keras's `keras.Sequential`. Training, files and the summary
 * come from `Model` (model.ts, trainer.ts); this file only keeps the layer list, its shapes and
 * its Keras config.
 */
import { Tensor, fmtShape } from '../tensor/index.js';
import { Layer, InputLayer, deserializeLayer, type Shape } from '../layers/index.js';
import { dtypePolicy, type SerializedObject } from '../layers/config.js';
import { Model } from './model.js';

export type { CompileArgs, FitArgs, EvaluateArgs, PredictArgs, TensorData, Data, Inputs } from './trainer.js';

export class Sequential extends Model {
  static readonly className: string = 'Sequential';
  private _layers: Layer[] = [];
  private inputLayer: InputLayer | null = null;

  /** `new Sequential([layer, ...])`, `new Sequential({ layers, name })`, then `add`. */
  constructor(layers?: Layer[] | { layers?: Layer[]; name?: string; trainable?: boolean }, name?: string) {
    const o = Array.isArray(layers) || layers === undefined ? { layers, name } : layers;
    super({ name: o.name, trainable: 'trainable' in o ? o.trainable : undefined });
    for (const l of o.layers ?? []) this.add(l);
  }

  /** Adds a layer on top; builds it at once when the input shape is known. */
  add(layer: Layer): void {
    if (!(layer instanceof Layer)) throw new TypeError(`convnet: Sequential.add expects a layer, got ${layer === null ? 'null' : typeof layer}`);
    if (layer instanceof InputLayer) {
      if (this.inputLayer || this._layers.length) throw new RangeError('convnet: an InputLayer can only be the first layer of a Sequential model');
      this.inputLayer = layer;
      return;
    }
    if (this._layers.some((l) => l.name === layer.name)) {
      throw new RangeError(`convnet: the model already has a layer named "${layer.name}"; layer names must be unique`);
    }
    if (!this.inputLayer && this._layers.length === 0 && layer.batchInputShape) {
      this.inputLayer = new InputLayer({ batchInputShape: layer.batchInputShape });
    }
    const shape = this.outputShape;
    this._layers.push(layer);
    if (shape) this.buildLayer(layer, shape);
    this.built = this.isBuilt();
  }

  /** Removes the top layer. */
  pop(): Layer {
    const l = this._layers.pop();
    if (!l) throw new RangeError('convnet: pop() on an empty model');
    return l;
  }

  private isBuilt(): boolean { return !!this.inputLayer && this._layers.every((l) => l.built); }

  private buildLayer(layer: Layer, shape: Shape): void {
    if (!layer.built) layer.build(shape);
    else if (layer.buildInputShape) {
      const want = layer.buildInputShape;
      if (want.length !== shape.length || want.some((d, i) => i > 0 && d !== null && d !== shape[i])) {
        throw new RangeError(`convnet: layer "${layer.name}" was built for input ${fmtShape(want)} but receives ${fmtShape(shape)} here`);
      }
    }
  }

  /** The layers, without the InputLayer (as Keras 3 lists them). */
  get layers(): Layer[] { return this._layers.slice(); }
  /** The input shape with the batch axis, e.g. [null, 150, 150, 3] (null before the model is built). */
  get inputShape(): Shape | null { return this.inputLayer ? this.inputLayer.batchInputShape!.slice() : null; }
  get outputShape(): Shape | null {
    if (!this.inputLayer) return null;
    let s: Shape = this.inputLayer.batchInputShape!.slice();
    for (const l of this._layers) s = l.computeOutputShape(s);
    return s;
  }
  get inputShapes(): Shape[] | null { const s = this.inputShape; return s ? [s] : null; }
  get outputShapesList(): Shape[] | null { const s = this.outputShape; return s ? [s] : null; }
  get inputNames(): string[] { return [this.inputLayer?.name ?? 'input_layer']; }
  get outputNames(): string[] { return [this._layers[this._layers.length - 1]?.name ?? this.name]; }

  /** Output shape of each layer (null where unknown). */
  outputShapes(): (Shape | null)[] {
    if (!this.inputLayer) return this._layers.map(() => null);
    let s: Shape = this.inputLayer.batchInputShape!.slice();
    return this._layers.map((l) => (s = l.computeOutputShape(s)));
  }

  /** Builds every layer for inputs of `inputShape` ([null, 150, 150, 3]). */
  build(inputShape: Shape): void {
    if (this.inputLayer) {
      const have = this.inputLayer.batchInputShape!;
      if (have.length !== inputShape.length || have.some((d, i) => i > 0 && d !== inputShape[i])) {
        throw new RangeError(`convnet: model "${this.name}" expects input of shape ${fmtShape(have)}, got ${fmtShape(inputShape)}`);
      }
    } else {
      this.inputLayer = new InputLayer({ batchInputShape: [null, ...inputShape.slice(1)] });
    }
    let s: Shape = this.inputLayer.batchInputShape!.slice();
    for (const l of this._layers) { this.buildLayer(l, s); s = l.computeOutputShape(s); }
    this.built = this.isBuilt();
    this.buildInputShape = this.inputShape;
    this.checkLossFitsOutput();
  }
  buildFromShapes(shapes: Shape[]): void {
    if (shapes.length !== 1) throw new RangeError(`convnet: a Sequential model takes one input, got ${shapes.length}`);
    this.build(shapes[0]);
  }

  protected requireBuilt(what: string): void {
    if (!this.built) {
      throw new Error(`convnet: model "${this.name}" has no input shape yet, so ${what}() cannot know its weights: give the first layer ` +
        `inputShape (e.g. new layers.Conv2D(32, [3, 3], { inputShape: [150, 150, 3] })), start with an InputLayer, or call model.build([null, 150, 150, 3])`);
    }
  }

  computeOutputShape(inputShape: Shape): Shape {
    let s = inputShape.slice();
    for (const l of this._layers) s = l.computeOutputShape(s);
    return s;
  }

  /** Runs the layers on a batch (inference unless `training`); records gradients inside valueAndGrad. */
  call(x: Tensor, opts: { training?: boolean } = {}): Tensor {
    if (!this.built) this.build([null, ...x.shape.slice(1)]);
    this.checkInput(x.shape);
    let h = x;
    for (const l of this._layers) h = l.apply(h, { training: !!opts.training });
    return h;
  }
  invoke(xs: Tensor[], opts: { training: boolean }): Tensor[] {
    if (xs.length !== 1) throw new RangeError(`convnet: a Sequential model takes one input, got ${xs.length}`);
    return [this.call(xs[0], opts)];
  }

  // ---- config ----------------------------------------------------------------------------

  /** Keras 3 config: { name, trainable, dtype, layers: [InputLayer, ...], build_input_shape }. */
  getConfig(): Record<string, unknown> {
    const layers: SerializedObject[] = [];
    if (this.inputLayer) layers.push(this.inputLayer.serialize());
    for (const l of this._layers) layers.push(l.serialize());
    const cfg: Record<string, unknown> = { name: this.name, trainable: this.trainable, dtype: dtypePolicy(), layers };
    if (this.inputShape) cfg.build_input_shape = this.inputShape;
    return cfg;
  }

  /** The whole `config.json` object of a .keras file (module, class_name, config, build_config, compile_config). */
  serialize(): SerializedObject & { compile_config?: Record<string, unknown> | null } {
    const s: SerializedObject & { compile_config?: Record<string, unknown> | null } = {
      module: 'keras', class_name: 'Sequential', config: this.getConfig(), registered_name: null,
    };
    if (this.inputShape) s.build_config = { input_shape: this.inputShape };
    if (this.compiled) s.compile_config = this.compileConfig;
    return s;
  }

  /** A model from `getConfig()` output (Keras 3, or Keras 2's list form), or a whole `{ class_name: 'Sequential', config }`. */
  static fromConfig(cfg: Record<string, unknown> | unknown[]): Sequential {
    let c: unknown = cfg;
    if (c && !Array.isArray(c) && (c as SerializedObject).class_name === 'Sequential' && (c as SerializedObject).config) c = (c as SerializedObject).config;
    const obj = Array.isArray(c) ? null : c as Record<string, unknown>;
    const layersCfg = Array.isArray(c) ? c : obj!.layers;
    if (!Array.isArray(layersCfg)) throw new TypeError('convnet: Sequential.fromConfig: the config has no "layers" list');
    const model = new Sequential({ name: typeof obj?.name === 'string' ? obj.name : undefined });
    for (const lc of layersCfg) model.add(deserializeLayer(lc as SerializedObject));
    const bis = obj?.build_input_shape ?? null;
    if (!model.inputLayer && Array.isArray(bis)) model.build(bis as Shape);
    return model;
  }
}
