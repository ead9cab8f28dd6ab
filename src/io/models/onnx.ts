/**
 * ONNX export of a Sequential or functional model (merge layers as Sum/Sub/Mul/Max/Min/Concat),
 * written with the hand-made protobuf writer.
 *
 * The graph takes the input as the user gives it to convnet (NHWC, batch first) and returns
 * what `predict` returns. Convolutions and pools run channels-first in ONNX, so a Transpose
 * goes in where the layout changes; Flatten transposes back first so the features come out in
 * Keras's height-width-channel order and the Dense kernels are used unchanged. The 1D layers
 * (Conv1D, the 1D pools) run channels-first too ([batch, channels, steps]).
 */
import { ProtoWriter } from './protobuf.js';
import type { ShapeJSON } from './schema.js';
import { rescalingArray } from '../../layers/preprocessing.js';

/** One layer as the exporter sees it: Keras config, weights in Keras order and layouts. */
export interface OnnxLayerInput {
  className: string;
  name: string;
  config: Record<string, unknown>;
  weights: { shape: number[]; data: Float32Array }[];
  /** Output shape with the batch axis (null). */
  outputShape: ShapeJSON;
}

export interface OnnxModelInput {
  name: string;
  batchInputShape: ShapeJSON;
  layers: OnnxLayerInput[];
  producerVersion?: string;
  /** A functional model: its layer calls in an order where every input exists (then `layers` is not used). */
  graph?: OnnxGraphInput;
}

/** A functional model's graph for export: tensors named by id, layer calls reading and writing them. */
export interface OnnxGraphInput {
  inputs: { id: string; name: string; shape: ShapeJSON }[];
  nodes: { layer: OnnxLayerInput; inputs: string[]; output: string }[];
  outputs: { id: string; shape: ShapeJSON }[];
}

const FLOAT = 1;
const INT64 = 7;
const OPSET = 13;

type Layout = 'nhwc' | 'nchw' | 'other';

interface Attr { name: string; i?: number; f?: number; ints?: number[]; s?: string }
interface Node { op: string; inputs: string[]; outputs: string[]; name: string; attrs: Attr[] }
interface Init { name: string; dims: number[]; data: Float32Array | BigInt64Array }

function pair(v: unknown, what: string, layer: string): [number, number] {
  const p = typeof v === 'number' ? [v, v] : Array.isArray(v) ? v : null;
  if (!p || p.length !== 2) throw new Error(`ONNX export: layer ${layer}: bad ${what} ${JSON.stringify(v)}`);
  return [Number(p[0]), Number(p[1])];
}

/** Keras kernel [kh, kw, in, out] -> ONNX [out, in, kh, kw]. */
function hwioToOihw(data: Float32Array, [kh, kw, ci, co]: number[]): Float32Array {
  const out = new Float32Array(data.length);
  for (let y = 0; y < kh; y++) for (let x = 0; x < kw; x++) for (let i = 0; i < ci; i++) for (let o = 0; o < co; o++) {
    out[((o * ci + i) * kh + y) * kw + x] = data[((y * kw + x) * ci + i) * co + o];
  }
  return out;
}

class GraphBuilder {
  nodes: Node[] = [];
  inits: Init[] = [];
  private n = 0;
  current = 'input';
  layout: Layout = 'nhwc';
  rank: number;

  constructor(rank: number) { this.rank = rank; }

  fresh(base: string): string { return `${base}_${this.n++}`; }

  node(op: string, inputs: string[], attrs: Attr[] = [], name = op): string {
    const out = this.fresh(name);
    this.nodes.push({ op, inputs, outputs: [out], name: out, attrs });
    return out;
  }

  init(name: string, dims: number[], data: Float32Array | BigInt64Array): string {
    const n = this.fresh(name);
    this.inits.push({ name: n, dims, data });
    return n;
  }

  /** Puts the running tensor in channels-first layout (rank-4 inputs; rank-3 [batch, steps, channels] for the 1D layers). */
  toNCHW(rank = 4): void {
    if (this.layout === 'nchw') return;
    if (this.rank !== rank) throw new Error(`ONNX export: a ${rank - 2}D layer got a rank-${this.rank} input`);
    this.current = this.node('Transpose', [this.current], [{ name: 'perm', ints: rank === 3 ? [0, 2, 1] : [0, 3, 1, 2] }], 'to_nchw');
    this.layout = 'nchw';
  }

  /** Puts the running tensor back in Keras's channels-last layout. */
  toNHWC(): void {
    if (this.layout !== 'nchw') return;
    this.current = this.node('Transpose', [this.current], [{ name: 'perm', ints: this.rank === 3 ? [0, 2, 1] : [0, 2, 3, 1] }], 'to_nhwc');
    this.layout = 'nhwc';
  }

  activation(act: unknown, layer: string): void {
    const a = typeof act === 'string' ? act : act && typeof act === 'object' ? String((act as { config?: { name?: string }; class_name?: string }).config?.name ?? (act as { class_name?: string }).class_name) : 'linear';
    const x = this.current;
    switch (a) {
      case 'linear': case 'None': case '': return;
      case 'relu': this.current = this.node('Relu', [x]); return;
      case 'sigmoid': this.current = this.node('Sigmoid', [x]); return;
      case 'tanh': this.current = this.node('Tanh', [x]); return;
      case 'elu': this.current = this.node('Elu', [x], [{ name: 'alpha', f: 1 }]); return;
      case 'selu': this.current = this.node('Selu', [x]); return;
      case 'softplus': this.current = this.node('Softplus', [x]); return;
      case 'softsign': this.current = this.node('Softsign', [x]); return;
      case 'exponential': this.current = this.node('Exp', [x]); return;
      case 'leaky_relu': this.current = this.node('LeakyRelu', [x], [{ name: 'alpha', f: 0.2 }]); return;
      case 'relu6': {
        const lo = this.init('zero', [], new Float32Array([0]));
        const hi = this.init('six', [], new Float32Array([6]));
        this.current = this.node('Clip', [x, lo, hi]);
        return;
      }
      case 'hard_sigmoid': this.current = this.node('HardSigmoid', [x], [{ name: 'alpha', f: 1 / 6 }, { name: 'beta', f: 0.5 }]); return;
      case 'swish': case 'silu': this.current = this.node('Mul', [x, this.node('Sigmoid', [x])]); return;
      case 'softmax': {
        const axis = this.layout === 'nchw' ? 1 : -1;
        this.current = this.node('Softmax', [x], [{ name: 'axis', i: axis }]);
        return;
      }
      default: throw new Error(`ONNX export: layer ${layer}: activation ${JSON.stringify(a)} has no ONNX translation here`);
    }
  }
}

/** Keras's padding/cropping forms (`n`, `[h, w]`, `[[top, bottom], [left, right]]`) as [[top, bottom], [left, right]]. */
function margins(p: unknown, what: string, layer: string): [[number, number], [number, number]] {
  if (Array.isArray(p) && Array.isArray(p[0]) && Array.isArray(p[1])) {
    return [[Number(p[0][0]), Number(p[0][1])], [Number(p[1][0]), Number(p[1][1])]];
  }
  const [h, w] = pair(p ?? 0, what, layer);
  return [[h, h], [w, w]];
}

type LayerExporter = (g: GraphBuilder, l: OnnxLayerInput) => void;

function poolAttrs(l: OnnxLayerInput): Attr[] {
  const ps = pair(l.config.pool_size, 'pool_size', l.name);
  const st = l.config.strides == null ? ps : pair(l.config.strides, 'strides', l.name);
  const attrs: Attr[] = [{ name: 'kernel_shape', ints: ps }, { name: 'strides', ints: st }];
  if (l.config.padding === 'same') attrs.push({ name: 'auto_pad', s: 'SAME_UPPER' });
  return attrs;
}

const EXPORTERS: Record<string, LayerExporter> = {
  Conv2D(g, l) {
    g.toNCHW();
    const [k, b] = l.weights;
    const w = g.init(`${l.name}_kernel`, [k.shape[3], k.shape[2], k.shape[0], k.shape[1]], hwioToOihw(k.data, k.shape));
    const inputs = [g.current, w];
    if (b) inputs.push(g.init(`${l.name}_bias`, b.shape, b.data));
    const attrs: Attr[] = [
      { name: 'kernel_shape', ints: [k.shape[0], k.shape[1]] },
      { name: 'strides', ints: pair(l.config.strides ?? 1, 'strides', l.name) },
      { name: 'dilations', ints: pair(l.config.dilation_rate ?? 1, 'dilation_rate', l.name) },
    ];
    if (l.config.padding === 'same') attrs.push({ name: 'auto_pad', s: 'SAME_UPPER' });
    g.current = g.node('Conv', inputs, attrs, l.name);
    g.activation(l.config.activation, l.name);
  },
  DepthwiseConv2D(g, l) {
    g.toNCHW();
    const [k, b] = l.weights;
    depthwise(g, l, k, b);
    g.activation(l.config.activation, l.name);
  },
  SeparableConv2D(g, l) {
    g.toNCHW();
    const [dk, pk, b] = l.weights;
    depthwise(g, l, dk, undefined);
    // Pointwise: a 1x1 Conv over the depthwise output, with the bias.
    const inputs = [g.current, g.init(`${l.name}_pointwise`, [pk.shape[3], pk.shape[2], 1, 1], hwioToOihw(pk.data, pk.shape))];
    if (b) inputs.push(g.init(`${l.name}_bias`, b.shape, b.data));
    g.current = g.node('Conv', inputs, [{ name: 'kernel_shape', ints: [1, 1] }], `${l.name}_pointwise`);
    g.activation(l.config.activation, l.name);
  },
  Conv2DTranspose(g, l) {
    g.toNCHW();
    const [k, b] = l.weights;
    const [kh, kw, co, ci] = k.shape;
    // Keras [kh, kw, out, in] -> ONNX ConvTranspose [in, out, kh, kw] (the same taps, no flip).
    const w = new Float32Array(k.data.length);
    for (let y = 0; y < kh; y++) for (let x = 0; x < kw; x++) for (let o = 0; o < co; o++) for (let i = 0; i < ci; i++) {
      w[((i * co + o) * kh + y) * kw + x] = k.data[((y * kw + x) * co + o) * ci + i];
    }
    const strides = pair(l.config.strides ?? 1, 'strides', l.name);
    const dil = pair(l.config.dilation_rate ?? 1, 'dilation_rate', l.name);
    const outHW = [l.outputShape[1], l.outputShape[2]];
    if (outHW.some((d) => d === null)) throw new Error(`ONNX export: layer ${l.name}: Conv2DTranspose needs a known output height and width`);
    // Keras's sizes: the output is the input gradient of a conv over an output of [OH, OW] with this padding. ONNX gets
    // that conv's leading pad, a tail of (stride - 1) extra rows/columns, and a Slice to [OH, OW].
    const padBefore = [0, 1].map((a) => {
      if (l.config.padding !== 'same') return 0;
      const n = outHW[a] as number, eff = ([kh, kw][a] - 1) * dil[a] + 1;
      return Math.floor(Math.max((Math.ceil(n / strides[a]) - 1) * strides[a] + eff - n, 0) / 2);
    });
    const inputs = [g.current, g.init(`${l.name}_kernel`, [ci, co, kh, kw], w)];
    if (b) inputs.push(g.init(`${l.name}_bias`, b.shape, b.data));
    g.current = g.node('ConvTranspose', inputs, [
      { name: 'kernel_shape', ints: [kh, kw] }, { name: 'strides', ints: strides }, { name: 'dilations', ints: dil },
      { name: 'pads', ints: [padBefore[0], padBefore[1], 0, 0] }, { name: 'output_padding', ints: strides.map((st) => st - 1) },
    ], l.name);
    const starts = g.init(`${l.name}_starts`, [2], BigInt64Array.from([0n, 0n]));
    const ends = g.init(`${l.name}_ends`, [2], BigInt64Array.from(outHW.map((d) => BigInt(d as number))));
    const axes = g.init(`${l.name}_axes`, [2], BigInt64Array.from([2n, 3n]));
    g.current = g.node('Slice', [g.current, starts, ends, axes], [], `${l.name}_crop`);
    g.activation(l.config.activation, l.name);
  },
  Conv1D(g, l) {
    g.toNCHW(3);
    const [k, b] = l.weights;
    const [kl, ci, co] = k.shape;
    if (Number(l.config.groups ?? 1) !== 1) throw new Error(`ONNX export: layer ${l.name}: Conv1D with groups != 1 is not supported`);
    // Keras [k, in, out] -> ONNX [out, in, k].
    const w = new Float32Array(k.data.length);
    for (let t = 0; t < kl; t++) for (let i = 0; i < ci; i++) for (let o = 0; o < co; o++) w[(o * ci + i) * kl + t] = k.data[(t * ci + i) * co + o];
    const inputs = [g.current, g.init(`${l.name}_kernel`, [co, ci, kl], w)];
    if (b) inputs.push(g.init(`${l.name}_bias`, b.shape, b.data));
    const dil = single(l.config.dilation_rate ?? 1, 'dilation_rate', l.name);
    const attrs: Attr[] = [
      { name: 'kernel_shape', ints: [kl] }, { name: 'strides', ints: [single(l.config.strides ?? 1, 'strides', l.name)] }, { name: 'dilations', ints: [dil] },
    ];
    if (l.config.padding === 'same') attrs.push({ name: 'auto_pad', s: 'SAME_UPPER' });
    else if (l.config.padding === 'causal') attrs.push({ name: 'pads', ints: [(kl - 1) * dil, 0] });
    g.current = g.node('Conv', inputs, attrs, l.name);
    g.activation(l.config.activation, l.name);
  },
  MaxPooling1D(g, l) { g.toNCHW(3); g.current = g.node('MaxPool', [g.current], pool1dAttrs(l), l.name); },
  AveragePooling1D(g, l) { g.toNCHW(3); g.current = g.node('AveragePool', [g.current], pool1dAttrs(l), l.name); },
  GlobalAveragePooling1D(g, l) { globalPool(g, l, 'GlobalAveragePool', 3); },
  GlobalMaxPooling1D(g, l) { globalPool(g, l, 'GlobalMaxPool', 3); },
  Resizing(g, l) {
    if (l.config.crop_to_aspect_ratio || l.config.pad_to_aspect_ratio) throw new Error(`ONNX export: layer ${l.name}: Resizing with crop_to_aspect_ratio is not supported`);
    const interp = String(l.config.interpolation ?? 'bilinear');
    if (interp !== 'bilinear' && interp !== 'nearest') throw new Error(`ONNX export: layer ${l.name}: Resizing with ${interp} interpolation is not supported`);
    g.toNCHW();
    // sizes = [N, C] of the input (known only at run time) followed by [height, width].
    const nc = g.node('Slice', [g.node('Shape', [g.current], [], `${l.name}_shape`), g.init(`${l.name}_s0`, [1], BigInt64Array.from([0n])),
      g.init(`${l.name}_s1`, [1], BigInt64Array.from([2n]))], [], `${l.name}_nc`);
    const hw = g.init(`${l.name}_hw`, [2], BigInt64Array.from([BigInt(Number(l.config.height)), BigInt(Number(l.config.width))]));
    const sizes = g.node('Concat', [nc, hw], [{ name: 'axis', i: 0 }], `${l.name}_sizes`);
    // TensorFlow's half-pixel centres (antialias off). Nearest: TF takes floor((i + 0.5) / scale), which is ONNX's
    // half_pixel coordinate (that value minus 0.5) rounded half up (tf_half_pixel_for_nn says so too, deprecated in opset 13).
    const attrs: Attr[] = [{ name: 'mode', s: interp === 'bilinear' ? 'linear' : 'nearest' }, { name: 'coordinate_transformation_mode', s: 'half_pixel' }];
    if (interp === 'nearest') attrs.push({ name: 'nearest_mode', s: 'round_prefer_ceil' });
    g.current = g.node('Resize', [g.current, '', '', sizes], attrs, l.name);
  },
  Dense(g, l) {
    g.toNHWC();
    const [k, b] = l.weights;
    g.current = g.node('MatMul', [g.current, g.init(`${l.name}_kernel`, k.shape, k.data)], [], l.name);
    if (b) g.current = g.node('Add', [g.current, g.init(`${l.name}_bias`, b.shape, b.data)], [], `${l.name}_bias`);
    g.activation(l.config.activation, l.name);
  },
  MaxPooling2D(g, l) { g.toNCHW(); g.current = g.node('MaxPool', [g.current], poolAttrs(l), l.name); },
  AveragePooling2D(g, l) { g.toNCHW(); g.current = g.node('AveragePool', [g.current], poolAttrs(l), l.name); },
  GlobalAveragePooling2D(g, l) { globalPool(g, l, 'GlobalAveragePool'); },
  GlobalMaxPooling2D(g, l) { globalPool(g, l, 'GlobalMaxPool'); },
  Flatten(g, l) {
    g.toNHWC();
    g.current = g.node('Flatten', [g.current], [{ name: 'axis', i: 1 }], l.name);
    g.rank = 2; g.layout = 'other';
  },
  Dropout() { /* identity at inference */ },
  SpatialDropout2D() { /* identity at inference */ },
  GaussianNoise() { /* identity at inference */ },
  GaussianDropout() { /* identity at inference */ },
  RandomFlip() { /* identity at inference */ },
  RandomRotation() { /* identity at inference */ },
  RandomZoom() { /* identity at inference */ },
  RandomTranslation() { /* identity at inference */ },
  RandomContrast() { /* identity at inference */ },
  Activation(g, l) { g.activation(l.config.activation, l.name); },
  ReLU(g, l) {
    const c = l.config;
    const ns = Number(c.negative_slope ?? 0), th = Number(c.threshold ?? 0);
    const mx = c.max_value == null ? null : Number(c.max_value);
    const x = g.current;
    if (ns === 0 && th === 0) {
      if (mx !== null) g.current = g.node('Clip', [x, g.init('zero', [], new Float32Array([0])), g.init('max', [], new Float32Array([mx]))], [], l.name);
      else g.current = g.node('Relu', [x], [], l.name);
      return;
    }
    if (th === 0 && mx === null) { g.current = g.node('LeakyRelu', [x], [{ name: 'alpha', f: ns }], l.name); return; }
    // Keras's general form: x * (x > threshold), clipped at max_value, minus negative_slope * relu(threshold - x).
    const t = g.init(`${l.name}_threshold`, [], new Float32Array([th]));
    const mask = g.node('Cast', [g.node('Greater', [x, t], [], `${l.name}_gt`)], [{ name: 'to', i: FLOAT }], `${l.name}_mask`);
    let y = g.node('Mul', [x, mask], [], `${l.name}_pos`);
    if (mx !== null) y = g.node('Min', [y, g.init(`${l.name}_max`, [], new Float32Array([mx]))], [], `${l.name}_clip`);
    if (ns !== 0) {
      const below = g.node('Relu', [g.node('Sub', [t, x], [], `${l.name}_below`)], [], `${l.name}_below_relu`);
      y = g.node('Sub', [y, g.node('Mul', [below, g.init(`${l.name}_slope`, [], new Float32Array([ns]))], [], `${l.name}_neg`)], [], l.name);
    }
    g.current = y;
  },
  LeakyReLU(g, l) { g.current = g.node('LeakyRelu', [g.current], [{ name: 'alpha', f: Number(l.config.negative_slope ?? l.config.alpha ?? 0.3) }], l.name); },
  Softmax(g, l) { g.toNHWC(); g.current = g.node('Softmax', [g.current], [{ name: 'axis', i: Number(l.config.axis ?? -1) }], l.name); },
  Rescaling(g, l) {
    // Numbers, or per-channel lists broadcast against the trailing (channels-last) axes.
    const scale = rescalingArray(l.config.scale ?? 1, 'scale', `ONNX export: layer ${l.name}`);
    const offset = rescalingArray(l.config.offset ?? 0, 'offset', `ONNX export: layer ${l.name}`);
    if (scale.shape.length || offset.shape.length) g.toNHWC();
    const s = g.init(`${l.name}_scale`, scale.shape, scale.data);
    const o = g.init(`${l.name}_offset`, offset.shape, offset.data);
    g.current = g.node('Add', [g.node('Mul', [g.current, s], [], l.name), o], [], `${l.name}_offset`);
  },
  BatchNormalization(g, l) {
    const axis = Number(l.config.axis ?? -1);
    const ok = axis === -1 || axis === g.rank - 1;
    if (!ok) throw new Error(`ONNX export: layer ${l.name}: BatchNormalization over axis ${axis} is not supported (only the channel axis)`);
    if (g.rank === 4) g.toNCHW();
    else if (g.rank !== 2) throw new Error(`ONNX export: layer ${l.name}: BatchNormalization on rank-${g.rank} inputs is not supported`);
    const center = l.config.center !== false;
    const scale = l.config.scale !== false;
    const ws = l.weights.slice();
    const c = ws[ws.length - 1].shape[0];
    const gamma = scale ? ws.shift()! : { shape: [c], data: new Float32Array(c).fill(1) };
    const beta = center ? ws.shift()! : { shape: [c], data: new Float32Array(c) };
    const [mean, variance] = ws;
    g.current = g.node('BatchNormalization', [g.current,
      g.init(`${l.name}_gamma`, [c], gamma.data), g.init(`${l.name}_beta`, [c], beta.data),
      g.init(`${l.name}_mean`, [c], mean.data), g.init(`${l.name}_var`, [c], variance.data)],
    [{ name: 'epsilon', f: Number(l.config.epsilon ?? 1e-3) }], l.name);
  },
  ZeroPadding2D(g, l) {
    g.toNCHW();
    const [[top, bottom], [left, right]] = margins(l.config.padding, 'padding', l.name);
    const pads = g.init(`${l.name}_pads`, [8], BigInt64Array.from([0, 0, top, left, 0, 0, bottom, right].map(BigInt)));
    g.current = g.node('Pad', [g.current, pads], [], l.name);
  },
  Cropping2D(g, l) {
    g.toNCHW();
    const [[top, bottom], [left, right]] = margins(l.config.cropping, 'cropping', l.name);
    // A negative end counts from the far edge; 2^62 stands for "to the end".
    const end = (m: number): bigint => (m > 0 ? BigInt(-m) : 2n ** 62n);
    const starts = g.init(`${l.name}_starts`, [2], BigInt64Array.from([BigInt(top), BigInt(left)]));
    const ends = g.init(`${l.name}_ends`, [2], BigInt64Array.from([end(bottom), end(right)]));
    const axes = g.init(`${l.name}_axes`, [2], BigInt64Array.from([2n, 3n]));
    g.current = g.node('Slice', [g.current, starts, ends, axes], [], l.name);
  },
  UpSampling2D(g, l) {
    if ((l.config.interpolation ?? 'nearest') !== 'nearest') throw new Error(`ONNX export: layer ${l.name}: only nearest up-sampling is supported`);
    g.toNCHW();
    const [sh, sw] = pair(l.config.size ?? 2, 'size', l.name);
    const scales = g.init(`${l.name}_scales`, [4], new Float32Array([1, 1, sh, sw]));
    g.current = g.node('Resize', [g.current, '', scales], [
      { name: 'mode', s: 'nearest' }, { name: 'coordinate_transformation_mode', s: 'asymmetric' }, { name: 'nearest_mode', s: 'floor' },
    ], l.name);
  },
  Permute(g, l) {
    g.toNHWC();
    const dims = (l.config.dims as number[]).map(Number);
    g.current = g.node('Transpose', [g.current], [{ name: 'perm', ints: [0, ...dims] }], l.name);
  },
  Reshape(g, l) {
    g.toNHWC();
    const target = (l.config.target_shape as number[]).map(Number);
    const shape = g.init(`${l.name}_shape`, [target.length + 1], BigInt64Array.from([0, ...target].map(BigInt)));
    g.current = g.node('Reshape', [g.current, shape], [], l.name);
    g.rank = target.length + 1;
    g.layout = g.rank === 4 ? 'nhwc' : 'other';
  },
};

/** A Keras 1D size: `n` or `[n]`. */
function single(v: unknown, what: string, layer: string): number {
  const n = Array.isArray(v) && v.length === 1 ? Number(v[0]) : typeof v === 'number' ? v : NaN;
  if (!Number.isInteger(n) || n < 1) throw new Error(`ONNX export: layer ${layer}: bad ${what} ${JSON.stringify(v)}`);
  return n;
}

function pool1dAttrs(l: OnnxLayerInput): Attr[] {
  const ps = single(l.config.pool_size ?? 2, 'pool_size', l.name);
  const st = l.config.strides == null ? ps : single(l.config.strides, 'strides', l.name);
  const attrs: Attr[] = [{ name: 'kernel_shape', ints: [ps] }, { name: 'strides', ints: [st] }];
  if (l.config.padding === 'same') attrs.push({ name: 'auto_pad', s: 'SAME_UPPER' });
  return attrs;
}

/** A depthwise conv (no activation): Keras [kh, kw, in, multiplier] as an ONNX Conv with one group per input channel. */
function depthwise(g: GraphBuilder, l: OnnxLayerInput, k: { shape: number[]; data: Float32Array }, b: { shape: number[]; data: Float32Array } | undefined): void {
  const [kh, kw, ci, mult] = k.shape;
  // Keras [kh, kw, in, multiplier] -> ONNX grouped conv [in * multiplier, 1, kh, kw].
  const w = new Float32Array(k.data.length);
  for (let y = 0; y < kh; y++) for (let x = 0; x < kw; x++) for (let i = 0; i < ci; i++) for (let m = 0; m < mult; m++) {
    w[((i * mult + m) * kh + y) * kw + x] = k.data[((y * kw + x) * ci + i) * mult + m];
  }
  const inputs = [g.current, g.init(`${l.name}_depthwise`, [ci * mult, 1, kh, kw], w)];
  if (b) inputs.push(g.init(`${l.name}_bias`, b.shape, b.data));
  const attrs: Attr[] = [
    { name: 'kernel_shape', ints: [kh, kw] }, { name: 'group', i: ci },
    { name: 'strides', ints: pair(l.config.strides ?? 1, 'strides', l.name) },
    { name: 'dilations', ints: pair(l.config.dilation_rate ?? 1, 'dilation_rate', l.name) },
  ];
  if (l.config.padding === 'same') attrs.push({ name: 'auto_pad', s: 'SAME_UPPER' });
  g.current = g.node('Conv', inputs, attrs, l.name);
}

function globalPool(g: GraphBuilder, l: OnnxLayerInput, op: string, rank = 4): void {
  g.toNCHW(rank);
  g.current = g.node(op, [g.current], [], l.name);
  if (l.config.keepdims) {
    g.toNHWC();
  } else {
    g.current = g.node('Flatten', [g.current], [{ name: 'axis', i: 1 }], `${l.name}_squeeze`);
    g.rank = 2; g.layout = 'other';
  }
}

/** Layer classes the exporter translates. */
export function onnxSupportedLayers(): string[] { return Object.keys(EXPORTERS).sort(); }

function writeShape(w: ProtoWriter, shape: ShapeJSON): void {
  // TypeProto { tensor_type = 1 { elem_type = 1, shape = 2 { dim = 1 { dim_value = 1 | dim_param = 2 } } } }
  w.message(1, (tt) => {
    tt.int(1, FLOAT);
    tt.message(2, (sh) => {
      for (const d of shape) sh.message(1, (dim) => { if (d === null) dim.string(2, 'batch'); else dim.int(1, d); });
    });
  });
}

/** Merge layers: an elementwise ONNX op over the inputs, or Concat along the channel-mapped axis. */
const MERGE_OPS: Record<string, string> = { Add: 'Sum', Subtract: 'Sub', Multiply: 'Mul', Average: 'Sum', Maximum: 'Max', Minimum: 'Min', Concatenate: 'Concat' };

/** A tensor of the graph being built: its ONNX name, layout and rank. */
interface TensorState { name: string; layout: Layout; rank: number }

/**
 * Emits a functional model's calls: each one-input layer through its exporter from the state of
 * the tensor it reads; merge layers after bringing their inputs to one layout.
 */
function buildGraph(g: GraphBuilder, graph: OnnxGraphInput): { name: string; shape: ShapeJSON }[] {
  const states = new Map<string, TensorState>();
  for (const i of graph.inputs) states.set(i.id, { name: i.name, layout: 'nhwc', rank: i.shape.length });
  const load = (s: TensorState) => { g.current = s.name; g.layout = s.layout; g.rank = s.rank; };
  const save = (): TensorState => ({ name: g.current, layout: g.layout, rank: g.rank });
  for (const n of graph.nodes) {
    const l = n.layer;
    const ins = n.inputs.map((id) => {
      const s = states.get(id);
      if (!s) throw new Error(`ONNX export: layer ${l.name} reads a tensor no earlier layer makes`);
      return s;
    });
    const merge = MERGE_OPS[l.className];
    if (merge) {
      // One layout for all inputs: channels-first when they all are, channels-last otherwise.
      const layout: Layout = ins.every((s) => s.layout === 'nchw') ? 'nchw' : ins[0].rank >= 3 ? 'nhwc' : ins[0].layout;
      const names = ins.map((s) => { load(s); if (layout === 'nhwc') g.toNHWC(); return g.current; });
      const rank = ins[0].rank;
      if (l.className === 'Concatenate') {
        let axis = Number(l.config.axis ?? -1);
        if (axis < 0) axis += rank;
        if (layout === 'nchw') axis = (rank === 3 ? [0, 2, 1] : [0, 2, 3, 1])[axis];
        g.current = g.node('Concat', names, [{ name: 'axis', i: axis }], l.name);
      } else {
        g.current = g.node(merge, names, [], l.name);
        if (l.className === 'Average') g.current = g.node('Mul', [g.current, g.init(`${l.name}_scale`, [], new Float32Array([1 / names.length]))], [], `${l.name}_mean`);
      }
      g.layout = layout; g.rank = rank;
    } else {
      if (ins.length !== 1) throw new Error(`ONNX export: layer ${l.name} (${l.className}) takes ${ins.length} inputs; only merge layers take several`);
      const ex = EXPORTERS[l.className];
      if (!ex) throw new Error(`ONNX export: layer ${l.name} of class ${l.className} has no ONNX translation (supported: ${onnxSupportedLayers().join(', ')}, ${Object.keys(MERGE_OPS).join(', ')})`);
      load(ins[0]);
      ex(g, l);
    }
    states.set(n.output, save());
  }
  return graph.outputs.map((o, k) => {
    load(states.get(o.id)!);
    g.toNHWC();
    const name = graph.outputs.length === 1 ? 'output' : `output_${k}`;
    g.nodes.push({ op: 'Identity', inputs: [g.current], outputs: [name], name, attrs: [] });
    return { name, shape: o.shape };
  });
}

/** Builds the ONNX model bytes (opset 13, IR version 7). */
export function exportOnnx(model: OnnxModelInput): Uint8Array {
  const g = new GraphBuilder(model.batchInputShape.length);
  let inputs: { name: string; shape: ShapeJSON }[] = [{ name: 'input', shape: model.batchInputShape }];
  let outputs: { name: string; shape: ShapeJSON }[];
  if (model.graph) {
    inputs = model.graph.inputs.map((i) => ({ name: i.name, shape: i.shape }));
    outputs = buildGraph(g, model.graph);
  } else {
    for (const l of model.layers) {
      const ex = EXPORTERS[l.className];
      if (!ex) throw new Error(`ONNX export: layer ${l.name} of class ${l.className} has no ONNX translation (supported: ${onnxSupportedLayers().join(', ')})`);
      ex(g, l);
    }
    g.toNHWC();
    if (g.current === 'input') g.current = g.node('Identity', ['input']);
    g.nodes[g.nodes.length - 1].outputs = ['output'];
    outputs = [{ name: 'output', shape: model.layers.length ? model.layers[model.layers.length - 1].outputShape : model.batchInputShape }];
  }

  const w = new ProtoWriter();
  w.int(1, 7); // ir_version
  w.string(2, 'convnet-ts');
  w.string(3, model.producerVersion ?? '0.1.0');
  w.message(8, (o) => { o.string(1, ''); o.int(2, OPSET); });
  w.message(7, (gw) => {
    for (const n of g.nodes) {
      gw.message(1, (nw) => {
        for (const i of n.inputs) nw.string(1, i);
        for (const o of n.outputs) nw.string(2, o);
        nw.string(3, n.name);
        nw.string(4, n.op);
        for (const a of n.attrs) {
          nw.message(5, (aw) => {
            aw.string(1, a.name);
            if (a.f !== undefined) { aw.float(2, a.f); aw.int(20, 1); } else if (a.i !== undefined) { aw.int(3, a.i); aw.int(20, 2); } else if (a.s !== undefined) { aw.string(4, a.s); aw.int(20, 3); } else if (a.ints) { aw.packedInts(8, a.ints); aw.int(20, 7); }
          });
        }
      });
    }
    gw.string(2, model.name);
    for (const t of g.inits) {
      gw.message(5, (tw) => {
        tw.packedInts(1, t.dims);
        tw.int(2, t.data instanceof Float32Array ? FLOAT : INT64);
        tw.string(8, t.name);
        tw.lengthDelimited(9, new Uint8Array(t.data.buffer, t.data.byteOffset, t.data.byteLength));
      });
    }
    for (const i of inputs) gw.message(11, (vi) => { vi.string(1, i.name); vi.message(2, (tw) => writeShape(tw, i.shape)); });
    for (const o of outputs) gw.message(12, (vi) => { vi.string(1, o.name); vi.message(2, (tw) => writeShape(tw, o.shape)); });
  });
  return w.finish();
}
