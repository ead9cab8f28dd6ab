/**
 * The WebAssembly backend through the conformance suite (test/backend/conformance.ts) on 1 and 2
 * threads, plus what is particular to it: its thread-count clamping.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { backendConformance } from './conformance-node.js';
import { createWasmBackend, wasmAvailable, WasmBackend } from '../../src/backend/wasm/index.js';

const skip = wasmAvailable() ? false : 'build/kernels.wasm is missing (npm run build:kernels)';
let wasm: WasmBackend | undefined;
const make = (): WasmBackend => (wasm ??= createWasmBackend(2) as WasmBackend);

backendConformance('wasm', skip || make, { threads: [1, 2] });

test('wasm: setThreads clamps and validates', { skip }, async () => {
  const b = make();
  await b.ready();
  b.setThreads(1); assert.equal(b.threads, 1);
  b.setThreads(2); assert.equal(b.threads, 2);
});
