/**
 * Loading the WebAssembly backend. In Node the kernels module (build/kernels.wasm, built by
 * `npm run build:kernels`) is read and compiled synchronously on first use; in browsers call
 * `await initWasm()` first (synchronous compilation of large modules is not allowed there).
 */
import type { Backend } from '../backend.js';
import { heap } from '../../tensor/heap.js';
import { ThreadPool } from './pool.js';
import { WasmBackend, KERNELS } from './backend.js';
import { withUnsharedMemory } from '../../runtime.js';

export { WasmBackend, KERNELS, UNARY_OPS } from './backend.js';
export { ThreadPool, MAX_PARTS } from './pool.js';

const isNode = typeof process !== 'undefined' && !!process.versions?.node;
const nodeFs: typeof import('node:fs') | undefined = isNode ? await import('node:fs') : undefined;
const nodeOs: typeof import('node:os') | undefined = isNode ? await import('node:os') : undefined;

const WASM_URL = new URL('../../../build/kernels.wasm', import.meta.url);
let compiled: WebAssembly.Module | undefined;

/** A minimal module using v128: compiles only where WebAssembly SIMD is supported. */
const SIMD_PROBE = new Uint8Array([0, 97, 115, 109, 1, 0, 0, 0, 1, 5, 1, 96, 0, 1, 123, 3, 2, 1, 0, 10, 10, 1, 8, 0, 65, 0, 253, 15, 253, 98, 11]);

function simdSupported(): boolean {
  try { return typeof WebAssembly === 'object' && WebAssembly.validate(SIMD_PROBE); } catch { return false; }
}

function loadModule(): WebAssembly.Module | undefined {
  if (compiled) return compiled;
  if (!nodeFs) return undefined;
  try {
    compiled = new WebAssembly.Module(nodeFs.readFileSync(WASM_URL));
  } catch {
    return undefined;
  }
  return compiled;
}

/** Fetches and compiles the kernels (browsers; harmless in Node). */
export async function initWasm(url: string | URL = WASM_URL): Promise<void> {
  if (compiled) return;
  if (nodeFs) { loadModule(); return; }
  const res = await fetch(url);
  if (!res.ok) throw new Error(`convnet: cannot load the WebAssembly kernels from ${url}: HTTP ${res.status}`);
  // Not compileStreaming: it rejects a response not served as application/wasm, and many static servers do that.
  const bytes = new Uint8Array(await res.arrayBuffer());
  // A page that is not cross-origin isolated has an unshared heap: link to it, run on one thread.
  compiled = await WebAssembly.compile(heap().shared ? bytes : withUnsharedMemory(bytes));
}

/** Whether the WebAssembly SIMD backend can run here (SIMD support and the built kernels). */
export function wasmAvailable(): boolean {
  return simdSupported() && loadModule() !== undefined;
}

/** Threads by default: every core (`os.availableParallelism()`, `navigator.hardwareConcurrency`). */
export function defaultThreads(): number {
  const env = isNode ? Number(process.env.CONVNET_THREADS) : NaN;
  if (Number.isInteger(env) && env > 0) return env;
  if (nodeOs) return typeof nodeOs.availableParallelism === 'function' ? nodeOs.availableParallelism() : nodeOs.cpus().length;
  const nav = (globalThis as { navigator?: { hardwareConcurrency?: number } }).navigator;
  return nav?.hardwareConcurrency || 1;
}

/** Creates the WebAssembly backend on the process-wide heap, with `defaultThreads()` threads. */
export function createWasmBackend(threads = defaultThreads()): Backend {
  const module = loadModule();
  if (!module || !simdSupported()) {
    throw new Error('convnet: the WebAssembly backend is unavailable: ' + (simdSupported()
      ? `build/kernels.wasm is missing (run 'npm run build:kernels')${isNode ? '' : ' or call initWasm() first'}`
      : 'this runtime lacks WebAssembly SIMD'));
  }
  const memory = heap().memory;
  const instance = new WebAssembly.Instance(module, { env: { memory } });
  const fns = KERNELS.map((n) => instance.exports[n] as (p: number, part: number, parts: number) => void);
  const pool = new ThreadPool(memory, module, KERNELS, fns);
  return new WasmBackend(memory, pool, threads);
}
