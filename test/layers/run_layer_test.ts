/**
 * runLayerTest: the Keras `run_layer_test` idea for every layer. Checks the output shape against
 * computeOutputShape, the parameter count, the config round trip (getConfig -> deserializeLayer ->
 * same config, same output with the same weights), and whether training changes the output.
 */
import assert from 'node:assert/strict';
import { Tensor, tensor, scope } from '../../src/tensor/index.js';
import { Layer, deserializeLayer, type Shape } from '../../src/layers/index.js';

export interface LayerTestSpec {
  make: () => Layer;
  inputShape: number[];
  expectedOutputShape: Shape;
  expectedParams: number;
  /** 'same': training and inference give the same output; 'differs': training changes it (dropout, augmentation, batch statistics). */
  training: 'same' | 'differs';
  expectedWeights?: string[];
}

export function randomInput(shape: number[], seed = 1): Tensor {
  const n = shape.reduce((a, b) => a * b, 1);
  const a = new Float32Array(n);
  let s = seed >>> 0;
  for (let i = 0; i < n; i++) { s = (Math.imul(s, 1664525) + 1013904223) >>> 0; a[i] = s / 4294967296 * 2 - 0.5; }
  return tensor(a, shape);
}

function close(a: Tensor, b: Tensor, tol = 1e-6): boolean {
  const x = a.dataSync(), y = b.dataSync();
  return x.length === y.length && x.every((v, i) => Math.abs(v - y[i]) <= tol * (1 + Math.abs(v)));
}

export function runLayerTest(spec: LayerTestSpec): void {
  scope(() => {
    const layer = spec.make();
    const x = randomInput(spec.inputShape);
    const y = layer.apply(x);
    const expected = spec.expectedOutputShape.map((d, i) => (d === null ? x.shape[i] : d));
    assert.deepEqual(y.shape, expected, `${layer.className}: output shape`);
    assert.deepEqual(layer.computeOutputShape([null, ...spec.inputShape.slice(1)]), spec.expectedOutputShape, `${layer.className}: computeOutputShape`);
    assert.equal(layer.countParams(), spec.expectedParams, `${layer.className}: params`);
    if (spec.expectedWeights) assert.deepEqual(layer.weights.map((w) => w.path), spec.expectedWeights);

    // Config round trip: snake_case keys, same config back, same output with the same weights.
    const cfg = layer.getConfig();
    for (const k of Object.keys(cfg)) assert.match(k, /^[a-z0-9_]+$/, `${layer.className}: config key ${k} is snake_case`);
    assert.equal(cfg.name, layer.name);
    const json = JSON.parse(JSON.stringify({ class_name: layer.className, config: cfg }));
    const copy = deserializeLayer(json);
    assert.equal(copy.className, layer.className);
    assert.deepEqual(copy.getConfig(), cfg, `${layer.className}: config round trip`);
    copy.build([null, ...spec.inputShape.slice(1)]);
    copy.setWeights(layer.getWeights());
    assert.ok(close(copy.apply(x), layer.apply(x)), `${layer.className}: same output after the round trip`);

    // Training versus inference.
    const inf = layer.apply(x, { training: false });
    const tr = layer.apply(x, { training: true });
    assert.deepEqual(tr.shape, inf.shape);
    assert.equal(close(tr, inf), spec.training === 'same', `${layer.className}: training ${spec.training === 'same' ? 'must not' : 'must'} change the output`);
    layer.dispose(); copy.dispose();
  });
}
