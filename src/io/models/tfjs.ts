/**
 * The TF.js layers format: `model.json` (format `layers-model`, a Keras-2-style topology) and
 * binary weight shards. Written so that `tf.loadLayersModel` reads it; read back from convnet's
 * own output, from the TF.js converter's, and from tfjs-layers 0.x browser saves (no `format`
 * key, the topology at the top level, a functional `Model`).
 */
import { isSafeEntryName, UnsafeFileError } from './zip.js';
import {
  normalizeModelConfig, normalizeCompile, expectObject, stringArray,
  type KerasObjectJSON, type LoadedModelData, type SaveModelData, type TfjsModelJSON, type TfjsWeightSpecJSON, type WeightArray,
} from './schema.js';
import { toKeras2Functional } from './functional.js';

/** Layers that only act while training, left out of TF.js topologies (tfjs-layers has no equivalent). */
const TRAINING_ONLY = new Set(['RandomFlip', 'RandomRotation', 'RandomZoom', 'RandomTranslation', 'RandomContrast']);

const SHARD_BYTES = 4 * 1024 * 1024;

/** A Keras 2 (tf.keras 2.11) layer config as tfjs-layers deserialises it. */
function keras2Layer(obj: KerasObjectJSON, batchInputShape: (number | null)[] | null): { class_name: string; config: Record<string, unknown> } {
  const config: Record<string, unknown> = {};
  for (const [k, v] of Object.entries(obj.config)) {
    if (k === 'dtype') { config.dtype = 'float32'; continue; }
    if (k === 'synchronized' || k === 'quantization_config') continue;
    if (v && typeof v === 'object' && !Array.isArray(v) && 'class_name' in (v as object)) {
      const o = v as KerasObjectJSON;
      config[k] = { class_name: o.class_name, config: o.config ?? {} };
      continue;
    }
    config[k] = v;
  }
  if (batchInputShape) {
    const out: Record<string, unknown> = { name: config.name, trainable: config.trainable, dtype: 'float32', batch_input_shape: batchInputShape };
    return { class_name: obj.class_name, config: { ...out, ...config } };
  }
  return { class_name: obj.class_name, config };
}

/** `model.json` and the shard files for a model. */
export function writeTfjs(m: SaveModelData): { modelJson: TfjsModelJSON; shards: [string, Uint8Array][] } {
  const kept = m.layers.filter((l) => !TRAINING_ONLY.has(l.object.class_name));
  const layers = kept.map((l, i) => keras2Layer(l.object, i === 0 ? m.batchInputShape : null));
  const input = { class_name: 'InputLayer', config: { batch_input_shape: m.batchInputShape, dtype: 'float32', sparse: false, ragged: false, name: 'input_1' } };
  const specs: TfjsWeightSpecJSON[] = [];
  const chunks: Float32Array[] = [];
  for (const l of kept) {
    for (const w of l.weights) {
      specs.push({ name: `${String(l.object.config.name)}/${w.name}`, shape: w.shape, dtype: 'float32' });
      chunks.push(w.data);
    }
  }
  const total = chunks.reduce((n, c) => n + c.byteLength, 0);
  const all = new Uint8Array(total);
  let off = 0;
  for (const c of chunks) { all.set(new Uint8Array(c.buffer, c.byteOffset, c.byteLength), off); off += c.byteLength; }
  const nShards = Math.max(1, Math.ceil(total / SHARD_BYTES));
  const shards: [string, Uint8Array][] = [];
  for (let i = 0; i < nShards; i++) shards.push([`group1-shard${i + 1}of${nShards}.bin`, all.subarray(i * SHARD_BYTES, Math.min(total, (i + 1) * SHARD_BYTES))]);
  const topology: Record<string, unknown> = {
    keras_version: '2.11.0', backend: 'tensorflow',
    // A functional model keeps its graph, in Keras 2's inbound_nodes form (what tfjs-layers reads).
    model_config: m.functional ? toKeras2Functional(m.functional.top, (o) => keras2Layer(o, null))
      : { class_name: 'Sequential', config: { name: m.name, layers: [input, ...layers] } },
  };
  if (m.compileConfig && typeof m.compileConfig.loss === 'string') {
    const opt = m.compileConfig.optimizer;
    topology.training_config = {
      loss: m.compileConfig.loss, metrics: m.compileConfig.metrics ?? null, weighted_metrics: null, loss_weights: null,
      optimizer_config: typeof opt === 'object' && opt ? { class_name: opt.class_name, config: opt.config } : { class_name: String(opt), config: {} },
    };
  }
  return {
    modelJson: {
      format: 'layers-model', generatedBy: 'convnet-ts 0.1.0', convertedBy: null, modelTopology: topology,
      weightsManifest: [{ paths: shards.map(([n]) => n), weights: specs }],
      ...(m.classNames?.length ? { userDefinedMetadata: { class_names: m.classNames.slice() } } : {}),
    },
    shards,
  };
}

function dequantize(bytes: Uint8Array, spec: TfjsWeightSpecJSON, size: number, what: string): Float32Array {
  const q = spec.quantization;
  const dv = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  const out = new Float32Array(size);
  if (!q) {
    if (spec.dtype === 'float32') for (let i = 0; i < size; i++) out[i] = dv.getFloat32(i * 4, true);
    else if (spec.dtype === 'int32') for (let i = 0; i < size; i++) out[i] = dv.getInt32(i * 4, true);
    else throw new UnsafeFileError(`${what}: weight ${spec.name} has dtype ${spec.dtype}, not read`);
    return out;
  }
  const scale = q.scale ?? 1;
  const min = q.min ?? 0;
  if (q.dtype === 'uint8') for (let i = 0; i < size; i++) out[i] = bytes[i] * scale + min;
  else if (q.dtype === 'uint16') for (let i = 0; i < size; i++) out[i] = dv.getUint16(i * 2, true) * scale + min;
  else if (q.dtype === 'float16') {
    for (let i = 0; i < size; i++) {
      const h = dv.getUint16(i * 2, true);
      const s = h & 0x8000 ? -1 : 1; const e = (h >> 10) & 0x1f; const f = h & 0x3ff;
      out[i] = e === 0 ? s * 2 ** -14 * (f / 1024) : e === 31 ? (f ? NaN : s * Infinity) : s * 2 ** (e - 15) * (1 + f / 1024);
    }
  } else throw new UnsafeFileError(`${what}: weight ${spec.name} uses unknown quantization ${JSON.stringify(q.dtype)}`);
  return out;
}

function bytesPerElement(spec: TfjsWeightSpecJSON): number {
  if (spec.quantization) return spec.quantization.dtype === 'uint8' ? 1 : 2;
  return 4;
}

/** Checks a weight-shard path from a manifest: a plain relative file name. */
export function safeShardPath(p: string, what: string): string {
  const clean = p.replace(/^\.\//, '');
  if (/^[a-z][a-z0-9+.-]*:/i.test(clean) || !isSafeEntryName(clean)) {
    throw new UnsafeFileError(`${what}: refused weight shard path ${JSON.stringify(p)} (must stay in the model's folder)`);
  }
  return clean;
}

/**
 * Reads a TF.js layers model. `readShard(path)` returns a shard's bytes (the path is already
 * checked to stay in the folder); `maxBytes` bounds the weights read.
 */
export async function readTfjs(json: unknown, readShard: (path: string) => Promise<Uint8Array>, what: string, maxBytes = 2 ** 31): Promise<LoadedModelData> {
  const mj = expectObject(json, `${what}: model.json`) as unknown as TfjsModelJSON;
  const topo = expectObject(mj.modelTopology, `${what}: modelTopology`);
  const modelConfig = topo.model_config ?? topo;
  const spec = normalizeModelConfig(modelConfig, what);
  const tc = (topo.training_config ?? mj.trainingConfig) as Record<string, unknown> | undefined;
  spec.compile = tc ? normalizeCompile(tc) : null;
  const named = new Map<string, WeightArray[]>();
  const order: string[] = [];
  let total = 0;
  for (const group of mj.weightsManifest ?? []) {
    const parts: Uint8Array[] = [];
    let len = 0;
    for (const p of group.paths) {
      const b = await readShard(safeShardPath(p, what));
      len += b.length;
      if ((total += b.length) > maxBytes) throw new UnsafeFileError(`${what}: weight shards exceed ${maxBytes} bytes`);
      parts.push(b);
    }
    const buf = new Uint8Array(len);
    let o = 0;
    for (const p of parts) { buf.set(p, o); o += p.length; }
    let off = 0;
    for (const ws of group.weights) {
      if (!Array.isArray(ws.shape) || ws.shape.some((d) => !Number.isInteger(d) || d < 0)) throw new UnsafeFileError(`${what}: weight ${ws.name} has a bad shape`);
      const size = ws.shape.reduce((a, b) => a * b, 1);
      const nbytes = size * bytesPerElement(ws);
      if (off + nbytes > buf.length) throw new UnsafeFileError(`${what}: weight ${ws.name} runs past the end of its shards`);
      const data = dequantize(buf.subarray(off, off + nbytes), ws, size, what);
      off += nbytes;
      const name = ws.name.replace(/:\d+$/, '');
      const layer = name.includes('/') ? name.slice(0, name.lastIndexOf('/')) : name;
      if (!named.has(layer)) { named.set(layer, []); order.push(layer); }
      named.get(layer)!.push({ shape: ws.shape.slice(), data });
    }
  }
  const configNames = spec.layers.map((l) => String(l.config.name ?? ''));
  const match = (layerPath: string) => {
    const last = layerPath.split('/').pop()!;
    const i = configNames.indexOf(layerPath);
    return i >= 0 ? i : configNames.indexOf(last);
  };
  const weights: WeightArray[][] = spec.layers.map(() => []);
  for (const l of order) {
    const i = match(l);
    if (i < 0) throw new UnsafeFileError(`${what}: weights ${JSON.stringify(l)} belong to no layer of the model`);
    weights[i] = named.get(l)!;
  }
  return {
    spec, weights, optimizerVariables: null, format: 'tfjs', writtenBy: mj.generatedBy ?? (mj.format ? null : 'tfjs-layers 0.x'),
    classNames: stringArray(mj.userDefinedMetadata?.class_names),
  };
}
