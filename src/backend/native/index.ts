/**
 * Loading the native backend: the Node-API addon built from native/ (`node-gyp rebuild --directory
 * native` during `npm ci`/`npm install`, or the prebuilt binary in native/prebuilds/<platform>-<arch>/
 * that the packed tarball carries), found with node-gyp-build. Nothing here throws at import time:
 * `nativeAvailable()` says whether it loaded and `nativeUnavailableReason()` why not.
 */
import type { Backend } from '../backend.js';
import { heap } from '../../tensor/heap.js';
import { NativeBackend, type NativeAddon } from './backend.js';
import { PARAMS_LAYOUT } from './layout.js';

export { NativeBackend } from './backend.js';
export type { NativeAddon } from './backend.js';

const isNode = typeof process !== 'undefined' && !!process.versions?.node;
const nodeModule = isNode ? await import('node:module') : undefined;
const nodeUrl = isNode ? await import('node:url') : undefined;

/** The native/ folder of the package (binding.gyp, build/Release, prebuilds/). */
const NATIVE_DIR = new URL('../../../native/', import.meta.url);

let addon: NativeAddon | undefined;
let reason: string | undefined;

function load(): NativeAddon | undefined {
  if (addon || reason) return addon;
  if (!isNode || !nodeModule || !nodeUrl) { reason = 'the native backend runs in Node only'; return undefined; }
  if (process.env.CONVNET_NATIVE === '0') { reason = 'disabled by CONVNET_NATIVE=0'; return undefined; }
  if (!heap().shared) { reason = 'the heap is not a shared WebAssembly.Memory (SharedArrayBuffer missing), so its address could move'; return undefined; }
  try {
    const require = nodeModule.createRequire(import.meta.url);
    const gypBuild = require('node-gyp-build') as (dir: string) => NativeAddon;
    addon = gypBuild(nodeUrl.fileURLToPath(NATIVE_DIR));
  } catch (e) {
    const msg = e instanceof Error ? e.message.split('\n')[0] : String(e);
    reason = /No native build was found/.test(msg)
      ? "the addon is not built (no native/build/Release/convnet_native.node and no prebuild for " +
        `${process.platform}-${process.arch}; build it with 'npm run build:native', which needs a C++ compiler)`
      : `the addon failed to load: ${msg}`;
    return undefined;
  }
  reason = layoutMismatch(addon);
  if (reason) addon = undefined;
  return addon;
}

/**
 * Why an addon cannot run with this TypeScript side's parameter layouts (src/kernels/params.ts), or
 * undefined when it can: an addon built from other layouts (a native/build left from before a pull)
 * would read its parameters from the wrong slots.
 */
export function layoutMismatch(a: Pick<NativeAddon, 'layout'>): string | undefined {
  const got = typeof a.layout === 'function' ? a.layout() : undefined;
  if (got === PARAMS_LAYOUT) return undefined;
  const hex = (h: number): string => `0x${h.toString(16).padStart(8, '0')}`;
  return `the addon was built from other parameter layouts (${got === undefined ? 'it reports none' : `it has ${hex(got)}`}, ` +
    `src/kernels/params.ts gives ${hex(PARAMS_LAYOUT)}); rebuild it with 'npm run build:native'`;
}

/** Whether the native addon loaded (it is built, and this is Node with a shared heap). */
export function nativeAvailable(): boolean { return load() !== undefined; }

/** Why the native backend is unavailable (undefined when it is available). */
export function nativeUnavailableReason(): string | undefined { load(); return reason; }

/** The instruction sets this CPU can run the kernels with, most capable first (e.g. ['avx512', 'avx2', 'portable']). */
export function nativeInstructionSets(): string[] {
  const a = load();
  return a ? a.supported().split(',') : [];
}

/**
 * Creates a native backend on the process-wide heap. `fallback` makes the backend that runs what the
 * kernels do not (the wasm backend). `isa` forces an instruction set ('avx512', 'avx2', 'portable')
 * for testing; by default the best this CPU supports (the addon holds one choice per process).
 */
export function createNativeBackend(threads: number, fallback: () => Backend, isa?: string): NativeBackend {
  const a = load();
  if (!a) throw new Error(`convnet: the native backend is unavailable: ${reason}`);
  return new NativeBackend(a, heap().memory.buffer, threads, fallback, isa);
}
