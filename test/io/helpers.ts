// A small convnet model with every weighted layer kind, random weights, and a plain forward pass.
import { tensor, type Tensor } from '../../src/tensor/index.js';
import {
  Conv2D, BatchNormalization, MaxPooling2D, AveragePooling2D, Flatten, Dropout, Dense, Rescaling, GlobalAveragePooling2D, clearSession,
  Reshape, ZeroPadding2D, UpSampling2D, Cropping2D, Permute,
  type Layer,
} from '../../src/layers/index.js';

export function rand(n: number, seed: number, lo = -1, hi = 1): Float32Array {
  let s = seed >>> 0 || 1;
  const out = new Float32Array(n);
  for (let i = 0; i < n; i++) {
    s ^= s << 13; s >>>= 0; s ^= s >>> 17; s ^= s << 5; s >>>= 0;
    out[i] = lo + ((s >>> 0) / 4294967296) * (hi - lo);
  }
  return out;
}

export interface ChainModel { name: string; layers: Layer[] }

/** Builds layers for `inputShape` and fills every weight with seeded random values. */
export function buildChain(inputShape: number[], layers: Layer[], seed = 1): ChainModel {
  let s: (number | null)[] = [null, ...inputShape];
  let k = seed;
  for (const l of layers) {
    l.build(s);
    s = l.computeOutputShape(s);
    for (const v of l.variables) {
      const positive = /variance/.test(v.name);
      v.assign(tensor(rand(v.size, ++k * 7919, positive ? 0.5 : -0.5, positive ? 1.5 : 0.5), v.shape.slice()));
    }
  }
  return { name: 'sequential', layers };
}

/** The reference forward pass: each layer's `apply` in inference mode. */
export function forward(layers: Layer[], x: Tensor): Float32Array {
  let h = x;
  for (const l of layers) h = l.apply(h);
  return h.dataSync() as Float32Array;
}

/** Conv (same) + BatchNorm + MaxPool + Conv (valid, strided) + AvgPool + Flatten + Dropout + Dense x2. */
export function cnnLayers(): Layer[] {
  clearSession();
  return [
    new Rescaling(1 / 255, 0, { inputShape: [12, 10, 3] }),
    new Conv2D(4, 3, { padding: 'same', activation: 'relu' }),
    new BatchNormalization(),
    new MaxPooling2D(2),
    new Conv2D(6, [3, 2], { activation: 'tanh' }),
    new AveragePooling2D(2, null, 'same'),
    new Flatten(),
    new Dropout(0.5),
    new Dense(5, { activation: 'relu' }),
    new Dense(3, { activation: 'softmax' }),
  ];
}

/** A second shape of network: global pooling and a sigmoid head, as in the dogs-vs-cats notebook. */
export function gapLayers(): Layer[] {
  clearSession();
  return [
    new Conv2D(8, 3, { activation: 'relu', inputShape: [9, 9, 2] }),
    new MaxPooling2D(2, null, 'same'),
    new GlobalAveragePooling2D(),
    new Dense(1, { activation: 'sigmoid' }),
  ];
}

/** The shape-changing layers: Reshape, ZeroPadding2D, UpSampling2D, Cropping2D, Permute (asymmetric margins throughout). */
export function reshapeLayers(): Layer[] {
  clearSession();
  return [
    new Reshape([6, 8, 1], { inputShape: [6, 8] }),
    new ZeroPadding2D([[1, 0], [2, 1]]),
    new Conv2D(3, 3, { activation: 'relu' }),
    new UpSampling2D(2),
    new Cropping2D([[1, 1], [0, 2]]),
    new Permute([2, 1, 3]),
    new Flatten(),
    new Dense(4, { activation: 'softmax' }),
  ];
}

export const CNN_INPUT = [12, 10, 3];
export const RESHAPE_INPUT = [6, 8];
export const GAP_INPUT = [9, 9, 2];

export function inputBatch(shape: number[], n: number, seed = 99, scale = 255): Tensor {
  const size = shape.reduce((a, b) => a * b, 1) * n;
  return tensor(rand(size, seed, 0, scale), [n, ...shape]);
}

export function maxAbsDiff(a: ArrayLike<number>, b: ArrayLike<number>): number {
  if (a.length !== b.length) throw new Error(`length ${a.length} != ${b.length}`);
  let m = 0;
  for (let i = 0; i < a.length; i++) m = Math.max(m, Math.abs(a[i] - b[i]));
  return m;
}
