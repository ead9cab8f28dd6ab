/** Shared test helpers: the notebook's model, and the integer hash the fixtures use for weights and inputs. */
import { tensor, type Tensor } from '../../src/tensor/index.js';
import { layers, clearSession, type Layer } from '../../src/layers/index.js';
import { Sequential } from '../../src/models/index.js';

/**
 * The notebook's CNN as a list of new layers, in the notebook's order (layer constructors draw their
 * seeds in this order, so the Sequential and functional forms get the same weights). `inputShape`
 * goes on the first layer, as Sequential needs it.
 */
export function notebookLayers(dropout = 0.5, inputShape?: number[]): Layer[] {
  return [
    new layers.Conv2D(32, [3, 3], { activation: 'relu', padding: 'same', ...(inputShape ? { inputShape } : {}) }),
    new layers.MaxPooling2D([2, 2]),
    new layers.Conv2D(64, [3, 3], { activation: 'relu', padding: 'same' }),
    new layers.MaxPooling2D([2, 2]),
    new layers.Conv2D(128, [3, 3], { activation: 'relu', padding: 'same' }),
    new layers.MaxPooling2D([2, 2]),
    new layers.Conv2D(64, [3, 3], { activation: 'relu', padding: 'same' }),
    new layers.MaxPooling2D([2, 2]),
    new layers.Flatten(),
    new layers.Dropout(dropout),
    new layers.Dense(128, { activation: 'relu' }),
    new layers.Dense(1, { activation: 'sigmoid' }),
  ];
}

/** The notebook's CNN (830,849 parameters). */
export function notebookModel(dropout = 0.5, size = 150): Sequential {
  clearSession();
  return new Sequential(notebookLayers(dropout, [size, size, 3]));
}

/** Uniform [0, 1) values from an integer hash; make_fixtures.py computes the same numbers. */
export function hashU(n: number, seed: number): Float64Array {
  const out = new Float64Array(n);
  const s = Math.imul(seed, 40503);
  for (let i = 0; i < n; i++) {
    let x = (Math.imul(i, 2654435761) + s) >>> 0;
    x = (x ^ (x >>> 15)) >>> 0;
    x = Math.imul(x, 2246822519) >>> 0;
    x = (x ^ (x >>> 13)) >>> 0;
    out[i] = x / 4294967296;
  }
  return out;
}

export function hashTensor(shape: number[], seed: number, f: (u: number) => number): Tensor {
  const n = shape.reduce((a, b) => a * b, 1);
  const u = hashU(n, seed);
  const a = new Float32Array(n);
  for (let i = 0; i < n; i++) a[i] = f(u[i]);
  return tensor(a, shape);
}

/** Bright-versus-dark squares at random positions on a noisy background: a generated two-class image task. */
export function squaresTask(n: number, size: number, seed: number): { x: Tensor; y: Tensor } {
  const u = hashU(n * (size * size + 4), seed);
  const x = new Float32Array(n * size * size), y = new Float32Array(n);
  let k = 0;
  for (let i = 0; i < n; i++) {
    const cls = i % 2;
    y[i] = cls;
    const side = 3 + Math.floor(u[k++] * (size / 2 - 2));
    const top = Math.floor(u[k++] * (size - side)), left = Math.floor(u[k++] * (size - side));
    const bg = 0.3 + 0.2 * u[k++];
    for (let r = 0; r < size; r++) for (let c = 0; c < size; c++) {
      const inside = r >= top && r < top + side && c >= left && c < left + side;
      const noise = 0.1 * (u[k++] - 0.5);
      x[(i * size + r) * size + c] = (inside ? (cls ? 0.95 : 0.05) : bg) + noise;
    }
  }
  return { x: tensor(x, [n, size, size, 1]), y: tensor(y, [n]) };
}
