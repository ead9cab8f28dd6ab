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
 * Model files: `saveModelBlob(model)` (a .keras Blob), `downloadModel(model, 'name.keras')` or
 * `model.save('downloads://name.keras')` (a download), and `loadModel(src)` from a File/Blob, an
 * ArrayBuffer/Uint8Array, or a URL (a .keras or .h5 file, or a TF.js model.json). They load the zip
 * and HDF5 code (fflate, h5wasm) on first use: with an import map, map 'fflate' and 'h5wasm' too.
 *
 * Not here (Node only): image files, the data pipeline, ONNX export, TF.js saves, figures,
 * ModelCheckpoint and CSVLogger.
 */
import { initWasm, WasmBackend } from './backend/wasm/index.js';
import { initNdimageWasm } from './ops/ndimage.js';
import { backend } from './backend/index.js';

// The root's engine names (tensors, backends, gradients, ops by name and as `ops`), not its Node-only parts.
export * from './core.js';
export { initWasm, wasmAvailable, defaultThreads } from './backend/wasm/index.js';
export * from './layers/index.js';
export * from './optimizers/index.js';
export * from './models/index.js';

import type { ModelSource } from './io/models/browser.js';
import type { LoadOptions, SaveOptions } from './io/models/index.js';
import type { Model, SavableModel } from './models/model.js';
export type { ModelSource } from './io/models/browser.js';
export type { LoadOptions, SaveOptions } from './io/models/index.js';

/** The model as a `.keras` file in a Blob (the bytes `model.save('x.keras')` writes in Node). */
export async function saveModelBlob(model: SavableModel, opts: SaveOptions = {}): Promise<Blob> {
  return (await import('./io/models/browser.js')).saveModelBlob(model, opts);
}

/** Offers the model as a `.keras` download (same as `model.save('downloads://name.keras')`); pages only. */
export async function downloadModel(model: SavableModel, fileName = 'model.keras', opts: SaveOptions = {}): Promise<void> {
  return (await import('./io/models/browser.js')).downloadModel(model, fileName, opts);
}

/** Loads a model from a File/Blob, an ArrayBuffer/Uint8Array, a fetch Response, or a URL (.keras, .h5, TF.js model.json). */
export async function loadModel(src: ModelSource, opts: LoadOptions = {}): Promise<Model> {
  return (await import('./io/models/browser.js')).loadModelFrom(src, opts);
}

/** The class names a .keras file keeps in its metadata.json (null when none). */
export async function readClassNames(src: ModelSource, opts: LoadOptions = {}): Promise<string[] | null> {
  return (await import('./io/models/browser.js')).readClassNames(src, opts);
}

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

