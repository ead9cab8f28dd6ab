/**
 * convnet in a browser (`import ... from 'convnet-ts/browser'`): tensors, backend selection, ops
 * (correlate/convolve and the filters included), autograd, layers, optimizers and Sequential
 * models (compile, fit on tensors, evaluate, predict, summary). Nothing here loads a Node module.
 *
 * Importing this module fetches and compiles build/kernels.wasm and build/ndimage.wasm (both found
 * next to the package with `new URL(..., import.meta.url)`), so the WebAssembly SIMD backend is
 * the default as in Node; where that fails the reference backend computes (`wasmLoadError` says why).
 *
 * Threads: the kernel workers share the heap, which needs a SharedArrayBuffer, which browsers give
 * only to cross-origin-isolated pages (served with `Cross-Origin-Opener-Policy: same-origin` and
 * `Cross-Origin-Embedder-Policy: require-corp`). Without those headers the backend runs on one
 * thread with ordinary memory. On the page's main thread, which may not block in Atomics.wait, a
 * kernel call runs its share of the parts and spin-waits for the workers' (the call is synchronous
 * either way); workers start once the page yields to the event loop: `await ready()` first.
 *
 * Not here (Node only): image files, the data pipeline, model files (.keras/.h5/ONNX), figures,
 * `model.save`, ModelCheckpoint and CSVLogger.
 */
import { initWasm, WasmBackend } from './backend/wasm/index.js';
import { initNdimageWasm } from './ops/ndimage.js';
import { backend } from './backend/index.js';

export * from './tensor/index.js';
export * from './backend/index.js';
export { initWasm, wasmAvailable, defaultThreads } from './backend/wasm/index.js';
export * from './autograd/index.js';
export * from './ops/index.js';
export * from './layers/index.js';
export * from './optimizers/index.js';
export * from './models/index.js';

/** Why the WebAssembly kernels did not load (null when they did). */
export let wasmLoadError: Error | null = null;
try {
  await initWasm();
} catch (e) {
  wasmLoadError = e instanceof Error ? e : new Error(String(e));
}
await initNdimageWasm();

/**
 * Resolves once the kernel workers of the current backend have started (`setThreads(n)` starts
 * more; call it again then). Kernels called before run on the threads ready so far.
 */
export async function ready(timeoutMs = 10000): Promise<void> {
  const b = backend();
  if (b instanceof WasmBackend) await b.ready(timeoutMs);
}

