/**
 * The one dispatch point: which Backend computes. The default is the native backend (C++ kernels
 * through Node-API) when its addon loaded, else the WebAssembly SIMD backend on all cores, else the
 * reference backend. `CONVNET_BACKEND=native|wasm|reference` or `setBackend(name)` chooses one;
 * 'webgpu' after `await initWebGPU()` found an adapter (src/backend/webgpu).
 */
import type { Backend } from './backend.js';
import { ReferenceBackend } from './reference.js';
import { setStoreResolver } from '../tensor/tensor.js';
import { createWasmBackend, wasmAvailable, defaultThreads } from './wasm/index.js';
import { createNativeBackend, nativeAvailable, nativeUnavailableReason } from './native/index.js';
import { webgpuBackend, webgpuUnavailableReason } from './webgpu/index.js';

let current: Backend | undefined;
const cache = new Map<string, Backend>();
let heapStore: Backend | undefined;

// New tensors are stored by the backend in use; one without storage methods yet keeps its tensors
// in the WebAssembly heap (the reference backend's storage, shared by wasm and native).
setStoreResolver(() => {
  const b = backend();
  return typeof b.alloc === 'function' ? b : (heapStore ??= new ReferenceBackend());
});

/** The backend names `setBackend` accepts. */
export const BACKEND_NAMES = ['native', 'wasm', 'reference'] as const;

function make(name: string): Backend {
  let b: Backend | undefined = cache.get(name);
  if (b) return b;
  if (name === 'webgpu') {
    const g = webgpuBackend();
    if (!g) throw new Error(`convnet: the webgpu backend is unavailable: ${webgpuUnavailableReason()}; await initWebGPU() first, or use 'wasm'`);
    return g;
  }
  if (name === 'reference') b = new ReferenceBackend();
  else if (name === 'wasm') b = createWasmBackend();
  else if (name === 'native') {
    if (!nativeAvailable()) throw new Error(`convnet: the native backend is unavailable: ${nativeUnavailableReason()}; use 'wasm' or 'reference'`);
    b = createNativeBackend(defaultThreads(), () => (wasmAvailable() ? make('wasm') : make('reference')));
  } else throw new RangeError(`convnet: unknown backend ${JSON.stringify(name)} (use 'native', 'wasm' or 'reference')`);
  cache.set(name, b);
  return b;
}

/** The name of the backend used when none is chosen: native if it loaded, else wasm, else reference. */
export function defaultBackendName(): string {
  return nativeAvailable() ? 'native' : wasmAvailable() ? 'wasm' : 'reference';
}

/** The backend in use (created on first call). */
export function backend(): Backend {
  if (!current) {
    const env = typeof process !== 'undefined' ? process.env?.CONVNET_BACKEND : undefined;
    current = make(env || defaultBackendName());
  }
  return current;
}

/** Selects the backend by name ('native', 'wasm', 'reference') or instance (e.g. a WebGPU backend). */
export function setBackend(b: string | Backend): Backend {
  current = typeof b === 'string' ? make(b) : b;
  return current;
}

/**
 * Applies a command's `--backend <name>` option: checks the name, selects the backend (a clear error
 * when it cannot run here) and sets CONVNET_BACKEND so child processes (sweep trials, workers) use it too.
 */
export function useBackendOption(name: string | undefined, command: string): void {
  if (name === undefined) return;
  if (!(BACKEND_NAMES as readonly string[]).includes(name)) {
    throw new RangeError(`convnet ${command}: --backend expects one of ${BACKEND_NAMES.join(', ')}, got '${name}'`);
  }
  try { setBackend(name); } catch (e) {
    throw new Error(`convnet ${command}: --backend ${name}: ${e instanceof Error ? e.message.replace(/^convnet: /, '') : e}`);
  }
  if (typeof process !== 'undefined' && process.env) process.env.CONVNET_BACKEND = name;
}

/** Name of the backend in use. */
export function getBackendName(): string { return backend().name; }

/**
 * Runs `fn` with the host backend in use (wasm if it loads, else reference): tensors made inside live
 * in the WebAssembly heap. For float64 work WGSL cannot do (ndimage's correlate) while webgpu is in use.
 */
export function onHostBackend<T>(fn: (b: Backend) => T): T {
  const prev = backend();
  const host = prev.storage === 'heap' ? prev : make(wasmAvailable() ? 'wasm' : 'reference');
  current = host;
  try { return fn(host); } finally { current = prev; }
}

/** Sets the number of threads kernels run on (default: every core). */
export function setThreads(n: number): void {
  if (!Number.isInteger(n) || n < 1) throw new RangeError(`convnet: setThreads: expected a positive integer, got ${n}`);
  backend().setThreads(n);
}
export function getThreads(): number { return backend().threads; }

export type { Backend } from './backend.js';
export { ReferenceBackend } from './reference.js';
export { nativeAvailable, nativeUnavailableReason, nativeInstructionSets } from './native/index.js';
export { initWebGPU, webgpuBackend, webgpuUnavailableReason, WebGPUBackend } from './webgpu/index.js';
