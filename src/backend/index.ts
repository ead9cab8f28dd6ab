/**
 * The one dispatch point: which Backend computes. The default is the WebAssembly SIMD backend on
 * all cores; `CONVNET_BACKEND=reference` (or `setBackend('reference')`) selects the plain one.
 */
import type { Backend } from './backend.js';
import { ReferenceBackend } from './reference.js';
import { createWasmBackend, wasmAvailable } from './wasm/index.js';

let current: Backend | undefined;
const cache = new Map<string, Backend>();

function make(name: string): Backend {
  let b = cache.get(name);
  if (b) return b;
  if (name === 'reference') b = new ReferenceBackend();
  else if (name === 'wasm') b = createWasmBackend();
  else throw new RangeError(`convnet: unknown backend ${JSON.stringify(name)} (use 'wasm' or 'reference')`);
  cache.set(name, b);
  return b;
}

/** The backend in use (created on first call). */
export function backend(): Backend {
  if (!current) {
    const env = typeof process !== 'undefined' ? process.env?.CONVNET_BACKEND : undefined;
    current = make(env || (wasmAvailable() ? 'wasm' : 'reference'));
  }
  return current;
}

/** Selects the backend by name ('wasm', 'reference') or instance (a native or WebGPU backend). */
export function setBackend(b: string | Backend): Backend {
  current = typeof b === 'string' ? make(b) : b;
  return current;
}

/** Name of the backend in use. */
export function getBackendName(): string { return backend().name; }

/** Sets the number of threads kernels run on (default: every core). */
export function setThreads(n: number): void {
  if (!Number.isInteger(n) || n < 1) throw new RangeError(`convnet: setThreads: expected a positive integer, got ${n}`);
  backend().setThreads(n);
}
export function getThreads(): number { return backend().threads; }

export type { Backend } from './backend.js';
export { ReferenceBackend } from './reference.js';
