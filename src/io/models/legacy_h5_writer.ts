/**
 * Writing Keras's legacy whole-model `.h5` (what `model.save('m.h5')` writes): root attributes
 * `model_config` (Keras 2's JSON form: plain dtype names, `inbound_nodes` as lists) and
 * `training_config`, and `model_weights/<layer>` groups whose `weight_names` attribute lists the
 * datasets (`<layer>/kernel:0`, a nested model's as `<inner layer>/kernel:0`), as Keras's
 * `load_weights_from_hdf5_group` reads them.
 */
import { writeH5, type H5WriteGroup } from './hdf5.js';
import { toKeras2Functional, type FunctionalLayerData } from './functional.js';
import type { KerasObjectJSON, SaveModelData, WeightArray } from './schema.js';

const KERAS_VERSION = '2.15.0';

function isObject(v: unknown): v is Record<string, unknown> { return v !== null && typeof v === 'object' && !Array.isArray(v); }

/** A layer config in Keras 2's form: dtype as a name, nested objects as `{ class_name, config }`. */
function legacyLayer(o: KerasObjectJSON): { class_name: string; config: Record<string, unknown> } {
  const config: Record<string, unknown> = {};
  for (const [k, v] of Object.entries(o.config)) {
    if (k === 'dtype') { config.dtype = 'float32'; continue; }
    if (k === 'batch_shape') { config.batch_input_shape = v; continue; }
    if (k === 'synchronized' || k === 'quantization_config') continue;
    config[k] = isObject(v) && typeof v.class_name === 'string' ? { class_name: v.class_name, config: v.config ?? {} } : v;
  }
  return { class_name: o.class_name, config };
}

/** `model_config` of a Sequential model in Keras 2's form. */
function legacySequential(m: SaveModelData): Record<string, unknown> {
  const input = { class_name: 'InputLayer', config: { batch_input_shape: m.batchInputShape, dtype: 'float32', sparse: false, ragged: false, name: 'input_1' } };
  return { class_name: 'Sequential', config: { name: m.name, layers: [input, ...m.layers.map((l) => legacyLayer(l.object))] } };
}

/**
 * One layer's weights with their names: its own in creation order, or a nested model's layers'
 * (`dense/kernel:0`) in the order Keras 2 loads them, its `weights`: every trainable one, then the rest.
 */
function namedWeights(l: FunctionalLayerData, prefix: string): { name: string; w: WeightArray; trainable: boolean }[] {
  if (l.children) {
    const all = l.children.flatMap((c) => namedWeights(c, `${String(c.object.name ?? c.object.config.name)}/`));
    return [...all.filter((x) => x.trainable), ...all.filter((x) => !x.trainable)];
  }
  return l.weights.map((w, i) => ({ name: `${prefix}${(w as { name?: string }).name ?? String(i)}:0`, w, trainable: (w as { trainable?: boolean }).trainable !== false }));
}

/** The bytes of a legacy whole-model `.h5` file. */
export async function writeLegacyH5(m: SaveModelData): Promise<Uint8Array> {
  const layers: FunctionalLayerData[] = m.functional
    ? m.functional.layers.filter((l) => l.object.class_name !== 'InputLayer')
    : m.layers.map((l) => ({ object: l.object, weights: l.weights }));
  const modelConfig = m.functional ? toKeras2Functional(m.functional.top, legacyLayer) : legacySequential(m);
  const groups: [string, H5WriteGroup][] = layers.map((l) => {
    const name = String(l.object.name ?? l.object.config.name);
    const ws = namedWeights(l, `${name}/`);
    // Datasets live at the weight names' paths below the layer group ('conv2d/kernel:0').
    const root: H5WriteGroup = { kind: 'group', attrs: { weight_names: ws.map((x) => x.name) }, children: [] };
    for (const { name: wn, w } of ws) {
      const parts = wn.split('/');
      let g = root;
      for (const p of parts.slice(0, -1)) {
        let next = g.children.find(([k]) => k === p)?.[1];
        if (!next) { next = { kind: 'group', children: [] }; g.children.push([p, next]); }
        g = next as H5WriteGroup;
      }
      g.children.push([parts[parts.length - 1], { kind: 'dataset', shape: w.shape, dtype: 'float32', data: w.data }]);
    }
    return [name, root];
  });
  const attrs: Record<string, string | string[]> = { backend: 'tensorflow', keras_version: KERAS_VERSION, model_config: JSON.stringify(modelConfig) };
  const cc = m.compileConfig;
  if (cc && cc.optimizer && typeof cc.optimizer === 'object') {
    attrs.training_config = JSON.stringify({
      loss: cc.loss, metrics: cc.metrics, weighted_metrics: cc.weighted_metrics ?? null, loss_weights: cc.loss_weights ?? null,
      optimizer_config: { class_name: cc.optimizer.class_name, config: cc.optimizer.config },
    });
  }
  return writeH5({
    kind: 'group', attrs,
    children: [['model_weights', { kind: 'group', attrs: { layer_names: groups.map(([n]) => n), backend: 'tensorflow', keras_version: KERAS_VERSION }, children: groups }]],
  });
}
