export { Tensor, tensor, zeros, ones, full, empty, scalar, scope, startScope, endScope, sizeOf, fmtShape } from './tensor.js';
export type { Nested } from './tensor.js';
export type { DType, TypedArray } from './dtype.js';
export { Rng, setSeed, getSeed, rng, rngFor } from './random.js';
export { heap, fmtBytes } from './heap.js';
export { randomUniform, randomNormal, truncatedNormal, glorotUniform, glorotNormal, heUniform, heNormal, fans } from './init.js';
export type { RandomOptions } from './init.js';
// Registers the backends: new tensors are stored by the backend in use (src/backend/index.ts).
import '../backend/index.js';
