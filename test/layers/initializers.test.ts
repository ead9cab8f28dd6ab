// Keras 3's initializer list (keras/src/initializers): each one by name, by config dict and as an
// instance; configs round-trip; seeded draws repeat; Orthogonal is the sign-fixed QR factor of the
// seeded normal draws; Identity is exact; a model file naming them loads.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { setSeed, rngFor } from '../../src/tensor/index.js';
import { initializers, getInitializer, layers, deserializeLayer } from '../../src/layers/index.js';
import { Sequential } from '../../src/models/index.js';
import { loadModel, saveModel } from '../../src/io/models/index.js';

const KERAS3 = ['Constant', 'Zeros', 'Ones', 'RandomNormal', 'RandomUniform', 'TruncatedNormal', 'VarianceScaling', 'GlorotNormal',
  'GlorotUniform', 'HeNormal', 'HeUniform', 'LecunNormal', 'LecunUniform', 'Orthogonal', 'Identity'];

/** Column j of a row-major [rows, cols] matrix dotted with column k. */
function gram(a: Float32Array, rows: number, cols: number): number[][] {
  const g = Array.from({ length: cols }, () => new Array(cols).fill(0));
  for (let j = 0; j < cols; j++) for (let k = 0; k < cols; k++) {
    let s = 0;
    for (let i = 0; i < rows; i++) s += a[i * cols + j] * a[i * cols + k];
    g[j][k] = s;
  }
  return g;
}
function assertNearIdentity(g: number[][], scale: number, tol: number, what: string): void {
  for (let j = 0; j < g.length; j++) for (let k = 0; k < g.length; k++) {
    const want = j === k ? scale : 0;
    assert.ok(Math.abs(g[j][k] - want) <= tol, `${what}: G[${j}][${k}] = ${g[j][k]}, want ${want}`);
  }
}
function transpose(a: Float32Array, rows: number, cols: number): Float32Array {
  const t = new Float32Array(a.length);
  for (let i = 0; i < rows; i++) for (let j = 0; j < cols; j++) t[j * rows + i] = a[i * cols + j];
  return t;
}

test('every Keras 3 initializer: by class name, snake_case name and config dict; configs round-trip', () => {
  for (const name of KERAS3) {
    const a = getInitializer(name, 'zeros');
    assert.equal(a.className, name);
    const snake = name.replace(/([a-z])([A-Z])/g, '$1_$2').toLowerCase();
    assert.equal(getInitializer(snake, 'zeros').className, name, snake);
    const ser = a.serialize();
    assert.deepEqual(Object.keys(ser), ['module', 'class_name', 'config', 'registered_name']);
    const back = getInitializer(JSON.parse(JSON.stringify(ser)), 'zeros');
    assert.deepEqual(back.serialize(), ser, name);
  }
  // Non-default arguments survive a JSON trip too.
  for (const init of [initializers.orthogonal({ gain: 0.5, seed: 11 }), initializers.identity({ gain: 3 }), initializers.constant({ value: 2.5 }),
    initializers.varianceScaling({ scale: 2, mode: 'fan_out', distribution: 'uniform', seed: 4 })]) {
    const ser = JSON.parse(JSON.stringify(init.serialize()));
    assert.deepEqual(getInitializer(ser, 'zeros').serialize(), ser);
  }
  assert.deepEqual(initializers.orthogonal({ gain: 0.5, seed: 11 }).getConfig(), { seed: 11, gain: 0.5 });
  assert.deepEqual(initializers.identity().getConfig(), { gain: 1 });
  // Keras 3's aliases, and the class names some Keras 3 releases write.
  assert.equal(getInitializer('orthogonal', 'zeros').className, 'Orthogonal');
  assert.equal(getInitializer('uniform', 'zeros').className, 'RandomUniform');
  assert.equal(getInitializer('normal', 'zeros').className, 'RandomNormal');
  assert.equal(getInitializer({ class_name: 'OrthogonalInitializer', config: { gain: 2, seed: 1 } }, 'zeros').className, 'Orthogonal');
  assert.equal(getInitializer({ class_name: 'IdentityInitializer', config: { gain: 1 } }, 'zeros').className, 'Identity');
  // TF 1.x wrote dtype into each config; Keras drops it.
  assert.equal(getInitializer({ class_name: 'Orthogonal', config: { gain: 1, seed: null, dtype: 'float32' } }, 'zeros').className, 'Orthogonal');
  assert.throws(() => getInitializer({ class_name: 'Orthogonal', config: { gian: 1 } }, 'zeros'), /Orthogonal: unknown option "gian"/);
  assert.throws(() => getInitializer({ class_name: 'Identity', config: { gain: 'x' } }, 'zeros'), /Identity: gain must be a finite number/);
});

test('seeded random initializers repeat (same seed, same numbers; other seed, others)', () => {
  const seeded = ['RandomNormal', 'RandomUniform', 'TruncatedNormal', 'VarianceScaling', 'GlorotNormal', 'GlorotUniform', 'HeNormal',
    'HeUniform', 'LecunNormal', 'LecunUniform', 'Orthogonal'];
  for (const name of seeded) {
    const a = getInitializer({ class_name: name, config: { seed: 5 } }, 'zeros').call([6, 4]).dataSync();
    const b = getInitializer({ class_name: name, config: { seed: 5 } }, 'zeros').call([6, 4]).dataSync();
    const c = getInitializer({ class_name: name, config: { seed: 6 } }, 'zeros').call([6, 4]).dataSync();
    assert.deepEqual(a, b, name);
    assert.notDeepEqual(a, c, name);
    setSeed(9);
    const d = getInitializer(name, 'zeros').call([6, 4]).dataSync();
    setSeed(9);
    assert.deepEqual(getInitializer(name, 'zeros').call([6, 4]).dataSync(), d, `${name} with setSeed`);
  }
});

test('Orthogonal: orthonormal columns (or rows) to 1e-5, gain, conv kernels flattened as Keras does', () => {
  const cases: Array<[number[], number]> = [[[7, 7], 1], [[40, 12], 1], [[12, 40], 1], [[3, 3, 4, 16], 2], [[1, 5], 1], [[64, 64], 0.5]];
  for (const [shape, gain] of cases) {
    const w = initializers.orthogonal({ gain, seed: 3 }).call(shape);
    assert.deepEqual(w.shape, shape);
    const v = w.dataSync() as Float32Array;
    const cols = shape[shape.length - 1], rows = v.length / cols;
    const g = rows >= cols ? gram(v, rows, cols) : gram(transpose(v, rows, cols), cols, rows);
    assertNearIdentity(g, gain * gain, 1e-5 * Math.max(1, gain * gain), `[${shape}]`);
  }
  assert.throws(() => initializers.orthogonal().call([5]), /at least two-dimensional, got shape \[5\]/);
});

test('Orthogonal is Q of A = QR for the seeded normal draws A, with R upper triangular and a positive diagonal', () => {
  const m = 9, n = 5;
  const q = initializers.orthogonal({ seed: 21 }).call([m, n]).dataSync() as Float32Array;
  const r = rngFor(21);
  const a = Array.from({ length: m * n }, () => r.normal());
  // R = Q^T A
  for (let i = 0; i < n; i++) for (let j = 0; j < n; j++) {
    let s = 0;
    for (let k = 0; k < m; k++) s += q[k * n + i] * a[k * n + j];
    if (i > j) assert.ok(Math.abs(s) < 1e-5, `R[${i}][${j}] = ${s}`);
    if (i === j) assert.ok(s > 0.1, `R[${i}][${i}] = ${s}`);
  }
  // Fewer rows than columns: Keras draws [cols, rows] and transposes Q.
  const wide = initializers.orthogonal({ seed: 21 }).call([n, m]).dataSync() as Float32Array;
  assert.deepEqual(wide, transpose(q, m, n));
});

test('Identity: exact eye times gain, square and not, 2D only', () => {
  assert.deepEqual(initializers.identity().call([3, 3]).dataSync(), new Float32Array([1, 0, 0, 0, 1, 0, 0, 0, 1]));
  assert.deepEqual(initializers.identity({ gain: 2 }).call([2, 3]).dataSync(), new Float32Array([2, 0, 0, 0, 2, 0]));
  assert.deepEqual(initializers.identity().call([3, 2]).dataSync(), new Float32Array([1, 0, 0, 1, 0, 0]));
  assert.throws(() => initializers.identity().call([3, 3, 1]), /2D matrices only, got shape \[3, 3, 1\] of rank 3/);
});

test('a .keras file whose layers name Orthogonal and Identity loads, and the configs come back', async () => {
  const model = new Sequential([
    new layers.Dense(6, { inputShape: [6], kernelInitializer: initializers.identity({ gain: 2 }), biasInitializer: 'ones' }),
    new layers.Dense(4, { kernelInitializer: { module: 'keras.initializers', class_name: 'OrthogonalInitializer', config: { gain: 1, seed: 8 }, registered_name: null } }),
  ]);
  const file = join(mkdtempSync(join(tmpdir(), 'convnet-init-')), 'm.keras');
  await saveModel(model, file);
  const back = await loadModel(file);
  const cfg = back.layers.map((l) => l.getConfig().kernel_initializer as { class_name: string; config: unknown });
  assert.deepEqual(cfg.map((c) => [c.class_name, c.config]), [['Identity', { gain: 2 }], ['Orthogonal', { seed: 8, gain: 1 }]]);
  assert.deepEqual(back.layers[0].getWeights()[0].dataSync(), model.layers[0].getWeights()[0].dataSync());
  // A layer config as Keras 3 writes it, deserialized on its own, draws the same kernel as the model did.
  const d = deserializeLayer({ class_name: 'Dense', config: { name: 'o', units: 4, kernel_initializer: { class_name: 'Orthogonal', config: { gain: 1, seed: 8 } } } });
  d.apply(model.layers[0].getWeights()[0]);
  assert.deepEqual(d.getWeights()[0].dataSync(), model.layers[1].getWeights()[0].dataSync());
});
