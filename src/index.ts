/**
 * convnet: convolutional neural networks in TypeScript.
 * Each area of the library has its own index; this file only gathers them.
 */
export * from './tensor/index.js';
export * from './backend/index.js';
export * from './autograd/index.js';
export * from './ops/index.js';
export * from './layers/index.js';
export * from './optimizers/index.js';
export * from './models/index.js';
export * from './data/index.js';
export * from './io/index.js';
export * from './io/models/index.js';
export * from './viz/index.js';
export * from './report/index.js';
export * from './notebook/index.js';
