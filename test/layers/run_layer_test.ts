/**
 * runLayerTest: the Keras `run_layer_test` idea for every layer, plus numbers from outside.
 *
 * Checks the output shape against computeOutputShape, the parameter count, the config round trip
 * (getConfig -> deserializeLayer -> same config, same output with the same weights), whether
 * training changes the output, and (required) the output's values: either a fixture case computed
 * by PyTorch/NumPy (test/fixtures/layers/make_fixtures.py: input, weights in Keras order, output,
 * and for some layers the gradients of sum(y * dy)), or a hand computation from the input values.
 * Layers whose output does not depend on training also get their gradients checked by central
 * finite differences at a few entries of the input and of every weight.
 */
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { Tensor, tensor, scope } from '../../src/tensor/index.js';
import { Layer, deserializeLayer, type Shape } from '../../src/layers/index.js';
import { valueAndGrad } from '../../src/autograd/index.js';
import { sum, mul } from '../../src/ops/index.js';

export interface FixtureCase {
  input_shape: number[]; input: number[];
  weights: { shape: number[]; values: number[] }[];
  output_shape: number[]; output: number[];
  dy?: number[]; grads?: number[][];
  [extra: string]: unknown;
}

let cases: Record<string, FixtureCase> | null = null;
/** A case of test/fixtures/layers/layers.json. */
export function fixture(name: string): FixtureCase {
  cases ??= JSON.parse(readFileSync(new URL('../fixtures/layers/layers.json', import.meta.url), 'utf8')).cases as Record<string, FixtureCase>;
  const c = cases[name];
  if (!c) throw new Error(`no layer fixture named ${name} (run /usr/bin/python3 test/fixtures/layers/make_fixtures.py)`);
  return c;
}

export interface LayerTestSpec {
  make: () => Layer;
  inputShape: number[];
  expectedOutputShape: Shape;
  expectedParams: number;
  /** 'same': training and inference give the same output; 'differs': training changes it (dropout, augmentation, batch statistics). */
  training: 'same' | 'differs';
  expectedWeights?: string[];
  /**
   * Required: what the layer must compute in inference mode. A fixture case name (its input and
   * weights are used), or a function computing the expected values from the input's values.
   */
  expected: string | ((x: Float32Array) => ArrayLike<number>);
  /** Absolute + relative tolerance of the value comparison (default 2e-5). */
  tol?: number;
  /**
   * Which mode's gradients finite differences check: 'inference' (the default for layers with
   * training 'same'), 'training' (deterministic training outputs such as BatchNormalization's), or false.
   */
  gradCheck?: 'inference' | 'training' | false;
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

/** Asserts |got - want| <= tol * (1 + |want|) everywhere, naming the first bad index. */
export function assertClose(got: ArrayLike<number>, want: ArrayLike<number>, tol: number, what: string): void {
  assert.equal(got.length, want.length, `${what}: ${got.length} values, expected ${want.length}`);
  for (let i = 0; i < want.length; i++) {
    const ok = Math.abs(got[i] - want[i]) <= tol * (1 + Math.abs(want[i])) || (Number.isNaN(got[i]) && Number.isNaN(want[i]));
    if (!ok) assert.fail(`${what}: at ${i} got ${got[i]}, expected ${want[i]} (tolerance ${tol})`);
  }
}

/** Gradients of sum(layer(x) * dy) with respect to x and every weight (Keras order). */
export function layerGrads(layer: Layer, x: Tensor, dy: Tensor, training = false): Float32Array[] {
  const params = [x, ...layer.weights.filter((w) => w.value.dtype === 'float32').map((w) => w.value)];
  const { grads } = valueAndGrad(() => sum(mul(layer.apply(x, { training }), dy)), params);
  return grads.map((g) => g.dataSync() as Float32Array);
}

/**
 * Central finite differences of sum(layer(x) * probe) at a few entries of x and of each trainable
 * weight, against the autograd gradient.
 */
export function checkGradientsNumerically(layer: Layer, x: Tensor, name = layer.className, training = false): void {
  scope(() => {
    const y0 = layer.apply(x, { training });
    const probe = randomInput(y0.shape, 77);
    const vars = layer.trainableWeights;
    const params = [x, ...vars.map((v) => v.value)];
    const pv = probe.dataSync();
    // The sum in float64: only the layer's own float32 rounding limits the differences.
    const f = (): number => scope(() => { const y = layer.apply(x, { training }).dataSync(); let t = 0; for (let i = 0; i < y.length; i++) t += y[i] * pv[i]; return t; });
    const g = layerGrads(layer, x, probe, training);
    params.forEach((p, pi) => {
      const v = p.view() as Float32Array;
      const n = v.length;
      const picks = [...new Set([0, Math.floor(n / 3), Math.floor(n / 2) + 1, n - 1].filter((k) => k >= 0 && k < n))];
      for (const k of picks) {
        const old = v[k];
        const eps = 1e-3 * Math.max(1, Math.abs(old));
        v[k] = old + eps; const fp = f();
        v[k] = old - eps; const fm = f();
        v[k] = old;
        const num = (fp - fm) / (2 * eps);
        assert.ok(Math.abs(num - g[pi][k]) <= 5e-3 + 2e-2 * Math.abs(num),
          `${name}: gradient of ${pi === 0 ? 'the input' : vars[pi - 1].path} at ${k}: autograd ${g[pi][k]}, finite differences ${num}`);
      }
    });
  });
}

export function runLayerTest(spec: LayerTestSpec): void {
  scope(() => {
    const layer = spec.make();
    const fx = typeof spec.expected === 'string' ? fixture(spec.expected) : null;
    if (fx) assert.deepEqual(fx.input_shape, spec.inputShape, `${spec.expected}: the fixture's input shape`);
    const x = fx ? tensor(Float32Array.from(fx.input), fx.input_shape) : randomInput(spec.inputShape);
    const y = layer.apply(x);
    const expected = spec.expectedOutputShape.map((d, i) => (d === null ? x.shape[i] : d));
    assert.deepEqual(y.shape, expected, `${layer.className}: output shape`);
    assert.deepEqual(layer.computeOutputShape([null, ...spec.inputShape.slice(1)]), spec.expectedOutputShape, `${layer.className}: computeOutputShape`);
    assert.equal(layer.countParams(), spec.expectedParams, `${layer.className}: params`);
    if (spec.expectedWeights) assert.deepEqual(layer.weights.map((w) => w.path), spec.expectedWeights);

    // The numbers: fixture (with its weights) or hand computation.
    const tol = spec.tol ?? 2e-5;
    if (fx) {
      assert.equal(layer.weights.length, fx.weights.length, `${spec.expected}: number of weights`);
      layer.setWeights(fx.weights.map((w) => tensor(Float32Array.from(w.values), w.shape)));
      const yf = layer.apply(x);
      assert.deepEqual(yf.shape, fx.output_shape, `${spec.expected}: output shape`);
      assertClose(yf.dataSync(), fx.output, tol, `${layer.className} (${spec.expected}): output`);
      if (fx.dy && fx.grads) {
        const g = layerGrads(layer, x, tensor(Float32Array.from(fx.dy), fx.output_shape));
        assert.equal(g.length, fx.grads.length);
        g.forEach((gi, i) => assertClose(gi, fx.grads![i], 1e-4, `${layer.className} (${spec.expected}): gradient ${i === 0 ? 'of the input' : `of weight ${i - 1}`}`));
      }
    } else {
      const want = (spec.expected as (x: Float32Array) => ArrayLike<number>)(x.dataSync() as Float32Array);
      assertClose(layer.apply(x).dataSync(), want, tol, `${layer.className}: output (hand computed)`);
    }

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

    const mode = spec.gradCheck ?? (spec.training === 'same' ? 'inference' : false);
    if (mode) checkGradientsNumerically(layer, x, `${layer.className} (${typeof spec.expected === 'string' ? spec.expected : 'hand'}, ${mode})`, mode === 'training');
    layer.dispose(); copy.dispose();
  });
}
