/**
 * `Model`: what every model shares on top of training (`Trainer`): its layers, weights,
 * freezing, `getLayer`, `summary`, files. `new Model({ inputs, outputs })` makes a functional
 * model (functional.ts), as `keras.Model(inputs, outputs)` does; `Sequential` is a layer stack.
 * A model is a layer too, so it can be called inside another model.
 */
import { Tensor, sizeOf } from '../tensor/index.js';
import { InputLayer, type Layer, type Variable, type KerasTensor, type Shape } from '../layers/index.js';
import type { SerializedObject } from '../layers/config.js';
import type { Optimizer } from '../optimizers/index.js';
import { Trainer, type CompileArgs } from './trainer.js';
import { summaryLines, type SummaryOptions, type SummaryModel } from './summary.js';
import type { SaveOptions, LoadOptions } from '../io/models/index.js';

/**
 * What the model files (src/io/models) need of a model; they import this as a type only, so the
 * formats never load the training code, and `loadModel` returns a typed `Model`.
 */
export interface SavableModel {
  readonly name: string;
  readonly className: string;
  /** Keras's `model.layers` (a functional model lists its InputLayers). */
  readonly layers: Layer[];
  readonly optimizer: Optimizer | null;
  readonly compileConfig: Record<string, unknown> | null;
  readonly trainableWeights: Variable[];
  /** [batch, ...] input shape of a one-input model (null before it is known). */
  readonly inputShape: Shape | null;
  /** [batch, ...] shape of each output (null before the model is built). */
  readonly outputShapesList: Shape[] | null;
  serialize(): SerializedObject & { compile_config?: Record<string, unknown> | null };
  compile(args: CompileArgs): void;
  build(shape: Shape): void;
}

export interface FunctionalArgs {
  inputs: KerasTensor | KerasTensor[] | Record<string, KerasTensor>;
  outputs: KerasTensor | KerasTensor[] | Record<string, KerasTensor>;
  name?: string;
  trainable?: boolean;
}

/** Made by functional.ts when it loads (it extends Model, so Model cannot import it). */
let functionalClass: (new (args: FunctionalArgs) => Model) | null = null;
export function setFunctionalClass(cls: new (args: FunctionalArgs) => Model): void { functionalClass = cls; }

export abstract class Model extends Trainer implements SummaryModel, SavableModel {
  static readonly className: string = 'Model';

  /** `new Model({ inputs, outputs, name })`: a functional model of the layer calls between them. */
  constructor(args?: FunctionalArgs | Record<string, unknown>) {
    if (new.target === Model) {
      if (!args || !('inputs' in args) || !('outputs' in args)) throw new TypeError('convnet: new Model({ inputs, outputs, name }) needs inputs (from Input()) and outputs (from layer.apply)');
      if (!functionalClass) throw new Error('convnet: the functional model class is not loaded (import from convnet-ts or src/models/index.js)');
      // As keras.Model(inputs, outputs): the instance is a Functional.
      // eslint-disable-next-line no-constructor-return
      return new functionalClass(args as FunctionalArgs);
    }
    super(args && 'name' in args ? { name: args.name, trainable: args.trainable } : {});
  }

  /** The layers, in Keras's order (a functional model lists its InputLayers too). */
  abstract get layers(): Layer[];
  /** The layers that hold weights or compute (InputLayers left out), each once. */
  protected get ownLayers(): Layer[] { return [...new Set(this.layers)].filter((l) => !(l instanceof InputLayer)); }

  /** Setting `trainable` sets it on every layer, as in Keras (so `base.trainable = false` freezes a base model). */
  get trainable(): boolean { return super.trainable; }
  set trainable(v: boolean) {
    super.trainable = v;
    for (const l of this.ownLayers) l.trainable = v;
  }

  /** A layer by name or index (in `layers`). */
  getLayer(nameOrIndex: string | number): Layer {
    const ls = this.layers;
    if (typeof nameOrIndex === 'number') {
      const l = ls[nameOrIndex];
      if (!l) throw new RangeError(`convnet: getLayer: index ${nameOrIndex} is out of range (${ls.length} layers)`);
      return l;
    }
    const l = ls.find((x) => x.name === nameOrIndex);
    if (!l) throw new RangeError(`convnet: no layer named "${nameOrIndex}" (layers: ${ls.map((x) => x.name).join(', ')})`);
    return l;
  }

  /** All weights, layer by layer, in Keras order. */
  get weights(): Variable[] { return this.ownLayers.flatMap((l) => l.weights); }
  get trainableWeights(): Variable[] { return this.trainable ? this.ownLayers.flatMap((l) => l.trainableWeights) : []; }
  get nonTrainableWeights(): Variable[] {
    return this.trainable ? this.ownLayers.flatMap((l) => l.nonTrainableWeights) : this.ownLayers.flatMap((l) => l.weights);
  }
  /** Weights in saving order (each layer's in creation order). */
  get variables(): Variable[] { return this.ownLayers.flatMap((l) => l.variables); }
  getWeights(): Tensor[] { return this.weights.map((w) => w.read()); }
  setWeights(ws: Tensor[]): void {
    const mine = this.weights;
    if (ws.length !== mine.length) throw new RangeError(`convnet: the model has ${mine.length} weights, got ${ws.length}`);
    mine.forEach((w, i) => w.assign(ws[i]));
  }
  countParams(): number { this.requireBuilt('countParams'); return this.weights.reduce((n, w) => n + w.size, 0); }
  /** Number of weight elements. */
  get numWeights(): number { return this.weights.reduce((n, w) => n + sizeOf(w.shape), 0); }
  regularizationLosses(): Tensor[] { return this.ownLayers.flatMap((l) => l.regularizationLosses()); }

  /** The optimizer's variables once it has made a step (the summary counts them). */
  optimizerVariables(): Variable[] | null {
    return this.optimizer && this.optimizer.built ? this.optimizer.variables() : null;
  }

  /** Output shape of each layer in `layers` (null where unknown); the summary reads it. */
  abstract outputShapes(): (Shape | null)[];
  /** [batch, ...] input shape of a one-input model (null before it is known, or with several inputs). */
  abstract get inputShape(): Shape | null;
  /** [batch, ...] output shape of a one-output model (null before it is known, or with several outputs). */
  abstract get outputShape(): Shape | null;

  /** Throws a clear error when the model cannot list its weights yet (a Sequential without input shape). */
  protected requireBuilt(_what: string): void {}

  /** Prints Keras 3's summary table (or hands each line to `printFn`); returns its text. */
  summary(printFn?: ((line: string) => void) | SummaryOptions, opts: SummaryOptions = {}): string {
    const o = typeof printFn === 'function' ? { ...opts, printFn } : { ...(printFn ?? {}), ...opts };
    this.requireBuilt('summary');
    const lines = summaryLines(this, o);
    const print = o.printFn ?? ((l: string) => console.log(l));
    for (const l of lines) print(l);
    return lines.join('\n') + '\n';
  }

  /** The whole `config.json` object of a .keras file (module, class_name, config, build_config, compile_config). */
  abstract serialize(): ReturnType<Layer['serialize']> & { compile_config?: Record<string, unknown> | null };

  /**
   * Saves to a .keras file (or .h5, TF.js folder, .onnx) through `src/io/models`; written atomically.
   * `save('blob://')` writes no file and returns the `.keras` file as a Blob (in a page, a Web Worker
   * or Node: the bytes `save('x.keras')` writes); `save('downloads://name.keras')` offers a download in a page.
   */
  save(path: 'blob://', opts?: SaveOptions): Promise<Blob>;
  save(path: string, opts?: SaveOptions): Promise<void>;
  async save(path: string, opts: SaveOptions = {}): Promise<void | Blob> {
    if (typeof path === 'string' && path.startsWith('blob://')) {
      if (path !== 'blob://') throw new Error(`convnet: save(${JSON.stringify(path)}): 'blob://' takes no name (it returns the .keras file as a Blob); give the name when you download or upload the Blob`);
      return (await import('../io/models/browser.js')).saveModelBlob(this, opts);
    }
    const io = await import('../io/models/index.js');
    await io.saveModel(this, path, opts);
  }

  /**
   * Saves only the weights (and the optimizer state when compiled, unless `includeOptimizer: false`)
   * to a Keras 3 `.weights.h5` file, as `model.save_weights('x.weights.h5')` does. Written atomically.
   */
  async saveWeights(path: string, opts: { includeOptimizer?: boolean } = {}): Promise<void> {
    const io = await import('../io/models/index.js');
    await io.saveWeights(this, path, opts);
  }

  /**
   * Loads weights saved by `saveWeights` or Keras 3's `save_weights` (`.weights.h5`), or the weights
   * of a whole-model file (.keras, legacy .h5, TF.js folder), into this model of the same architecture.
   */
  async loadWeights(path: string, opts: Pick<LoadOptions, 'warn'> = {}): Promise<void> {
    const io = await import('../io/models/index.js');
    await io.loadWeights(this, path, opts);
  }

  /** Releases every weight and the optimizer state. */
  dispose(): void { for (const l of this.ownLayers) l.dispose(); this.optimizer?.dispose(); this.built = false; }
}
