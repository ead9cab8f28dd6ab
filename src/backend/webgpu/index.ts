/**
 * `await initWebGPU()` then `setBackend('webgpu')`.
 *
 * In a browser it asks `navigator.gpu` for an adapter. In Node it loads the `webgpu` npm package
 * (Dawn; not a dependency: `npm i webgpu`) when installed. Where neither gives an adapter it
 * resolves to null with the reason in `webgpuUnavailableReason()` (one line), and the backend in
 * use stays what it was (native, wasm or reference).
 */
import { WebGPUBackend, type GpuDevice } from './backend.js';

export { WebGPUBackend } from './backend.js';

let instance: WebGPUBackend | null = null;
let reason = 'initWebGPU() has not been called';
let pending: Promise<WebGPUBackend | null> | null = null;

interface GpuAdapter {
  readonly limits: Record<string, number>;
  readonly info?: { vendor?: string; architecture?: string; description?: string; device?: string };
  requestDevice(d?: { requiredLimits?: Record<string, number> }): Promise<GpuDevice>;
}
interface Gpu { requestAdapter(o?: { powerPreference?: string }): Promise<GpuAdapter | null> }

async function findGpu(): Promise<Gpu | string> {
  const nav = (globalThis as { navigator?: { gpu?: Gpu } }).navigator;
  if (nav?.gpu) return nav.gpu;
  const isNode = typeof process !== 'undefined' && !!process.versions?.node;
  if (!isNode) return 'this browser has no WebGPU (navigator.gpu is missing; pages need a secure context, Chrome/Edge 113+, Safari 26, Firefox 141+)';
  try {
    const spec = 'webgpu'; // a variable: bundlers leave the optional Node package alone
    const m = await import(spec) as { create: (flags: string[]) => Gpu; globals: object };
    Object.assign(globalThis, m.globals);
    return m.create([]);
  } catch (e) {
    const msg = e instanceof Error ? e.message : String(e);
    return /Cannot find (package|module)/.test(msg) ? "Node has no WebGPU: the optional 'webgpu' package (Dawn) is not installed (npm i webgpu)"
      : `the 'webgpu' package failed to load: ${msg.split('\n')[0]}`;
  }
}

/**
 * Finds a WebGPU adapter and device and makes the 'webgpu' backend available to `setBackend`.
 * Resolves to the backend, or to null (never throws) with the reason in `webgpuUnavailableReason()`.
 */
export function initWebGPU(opts: { powerPreference?: 'high-performance' | 'low-power' } = {}): Promise<WebGPUBackend | null> {
  if (instance) return Promise.resolve(instance);
  pending ??= (async () => {
    const gpu = await findGpu();
    if (typeof gpu === 'string') { reason = gpu; return null; }
    try {
      const adapter = await gpu.requestAdapter({ powerPreference: opts.powerPreference ?? 'high-performance' });
      if (!adapter) { reason = 'WebGPU found no adapter (no GPU, or its driver is not supported)'; return null; }
      const want = ['maxStorageBufferBindingSize', 'maxBufferSize', 'maxComputeWorkgroupStorageSize', 'maxComputeInvocationsPerWorkgroup'];
      const requiredLimits: Record<string, number> = {};
      for (const k of want) if (adapter.limits[k]) requiredLimits[k] = adapter.limits[k];
      const device = await adapter.requestDevice({ requiredLimits });
      const info = adapter.info;
      const name = [info?.vendor, info?.architecture, info?.description || info?.device].filter(Boolean).join(' ') || 'unknown adapter';
      instance = new WebGPUBackend(device, name);
      reason = '';
      return instance;
    } catch (e) {
      reason = `WebGPU device request failed: ${e instanceof Error ? e.message.split('\n')[0] : e}`;
      return null;
    } finally {
      pending = null;
    }
  })();
  return pending;
}

/** The initialised webgpu backend, or null (see `webgpuUnavailableReason()`). */
export function webgpuBackend(): WebGPUBackend | null { return instance; }

/** Why the webgpu backend is unavailable ('' once initWebGPU() succeeded). */
export function webgpuUnavailableReason(): string { return reason; }
