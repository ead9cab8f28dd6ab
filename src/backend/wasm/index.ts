/** Placeholder until the WebAssembly backend lands: reports itself unavailable. */
import type { Backend } from '../backend.js';
export function wasmAvailable(): boolean { return false; }
export function createWasmBackend(): Backend {
  throw new Error('convnet: the WebAssembly backend is not built yet');
}
