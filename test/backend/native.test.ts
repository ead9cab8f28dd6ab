/**
 * The native backend (native/, src/backend/native/) through the conformance suite at 1 and 2
 * threads, with the instruction set this CPU gets by default, then the kernel checks again with each
 * other instruction set the CPU can run (AVX2+FMA, portable), so every path is tested on a machine
 * with AVX-512. Where the addon is not built, every test skips with the reason.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { backendConformance } from './conformance-node.js';
import {
  nativeAvailable, nativeUnavailableReason, nativeInstructionSets, createNativeBackend, NativeBackend,
} from '../../src/backend/native/index.js';
import { createWasmBackend, wasmAvailable } from '../../src/backend/wasm/index.js';
import { ReferenceBackend } from '../../src/backend/reference.js';
import type { Backend } from '../../src/backend/backend.js';

const fallback = (): Backend => (wasmAvailable() ? createWasmBackend(2) : new ReferenceBackend());
const skip = nativeAvailable() ? false : `native backend not built: ${nativeUnavailableReason()}`;

backendConformance('native', skip || (() => createNativeBackend(2, fallback)), { threads: [1, 2] });
for (const isa of nativeAvailable() ? nativeInstructionSets().slice(1) : ['avx2', 'portable']) {
  backendConformance(`native, ${isa} kernels`, skip || (() => createNativeBackend(2, fallback, isa)), { threads: [2], kernelsOnly: true });
}

// Infinities and NaN through the Winograd paths: test/reliability/winograd-inf.test.ts (every backend, F(2x2) and F(4x4) sizes).

test('native: training the notebook model through fit gives the wasm backend\'s curves (same seed, 32x32, 4 epochs)', {
  skip: skip || (wasmAvailable() ? false : 'the wasm backend is needed as the comparison (build/kernels.wasm is missing)'),
  timeout: 120000,
}, async () => {
  const { setBackend, backend } = await import('../../src/backend/index.js');
  const { setSeed, tensor, Rng } = await import('../../src/tensor/index.js');
  const { clearSession } = await import('../../src/layers/index.js');
  const { modelFromConfig } = await import('../../src/notebook/model.js');
  const { NOTEBOOK_CONFIG } = await import('../../src/notebook/space.js');
  const previous = backend();
  // 64 images: a bright vertical bar (label 1) or a horizontal one (label 0) at a random place, on noise.
  const n = 64, size = 32, rng = new Rng(11);
  const xs = new Float32Array(n * size * size * 3), ys = new Float32Array(n);
  for (let i = 0; i < n; i++) {
    ys[i] = i % 2;
    const at = 4 + Math.floor(rng.random() * 24);
    for (let yy = 0; yy < size; yy++) for (let xx = 0; xx < size; xx++) for (let c = 0; c < 3; c++) {
      const onBar = ys[i] ? Math.abs(xx - at) <= 1 : Math.abs(yy - at) <= 1;
      xs[((i * size + yy) * size + xx) * 3 + c] = (onBar ? 0.8 : 0) + rng.random() * 0.3;
    }
  }
  const curves: Record<string, number[]>[] = [];
  try {
    for (const name of ['wasm', 'native']) {
      setBackend(name);
      backend().setThreads(2);
      clearSession();
      setSeed(3);
      const model = modelFromConfig(NOTEBOOK_CONFIG, size, 5);
      model.compile({ optimizer: 'adam', loss: 'binary_crossentropy', metrics: ['accuracy'] });
      const x = tensor(xs, [n, size, size, 3]), y = tensor(ys, [n]);
      const h = await model.fit(x, y, { epochs: 4, batchSize: 16, shuffle: false, verbose: 0 });
      curves.push(h.history);
      x.dispose(); y.dispose(); model.dispose();
    }
  } finally {
    setBackend(previous);
  }
  const [w, nat] = curves;
  assert.equal(nat.loss.length, 4);
  assert.ok(w.loss[3] < w.loss[0], `the model did not learn (wasm loss ${w.loss.join(', ')})`);
  for (let e = 0; e < 4; e++) {
    // Float32 noise: sums in another order change the loss in its 4th-5th digit; an accuracy may move by one image.
    assert.ok(Math.abs(nat.loss[e] - w.loss[e]) <= 2e-3 * Math.abs(w.loss[e]) + 1e-5, `epoch ${e + 1}: loss ${nat.loss[e]} (native) vs ${w.loss[e]} (wasm)`);
    assert.ok(Math.abs(nat.accuracy[e] - w.accuracy[e]) <= 1 / n + 1e-9, `epoch ${e + 1}: accuracy ${nat.accuracy[e]} (native) vs ${w.accuracy[e]} (wasm)`);
  }
});

test('selection: native is the default when built; asking for it where it cannot load is a one-line error; the process exits', () => {
  const run = (env: Record<string, string>) => spawnSync(process.execPath, ['--import', 'tsx', '--input-type=module', '-e',
    "const b = await import('./src/backend/index.ts'); try { console.log(b.getBackendName()); } catch (e) { console.log('ERR ' + e.message); }"],
  { cwd: new URL('../..', import.meta.url), encoding: 'utf8', env: { ...process.env, ...env }, timeout: 60000 });
  const dflt = run({ CONVNET_BACKEND: '' });
  // The process exits by itself: the native thread pool shuts down at exit (it once could miss the wake-up).
  assert.equal(dflt.status, 0, `exit status ${dflt.status} (signal ${dflt.signal}): ${dflt.stderr}`);
  assert.equal(dflt.stdout.trim(), nativeAvailable() ? 'native' : wasmAvailable() ? 'wasm' : 'reference', dflt.stderr);
  const off = run({ CONVNET_BACKEND: 'native', CONVNET_NATIVE: '0' });
  assert.match(off.stdout.trim(), /^ERR convnet: the native backend is unavailable: disabled by CONVNET_NATIVE=0; use 'wasm' or 'reference'$/);
  const fallback = run({ CONVNET_BACKEND: '', CONVNET_NATIVE: '0' });
  assert.equal(fallback.stdout.trim(), wasmAvailable() ? 'wasm' : 'reference');
});

test('native: methods without a native kernel are delegated to the wasm backend over the same heap', { skip }, () => {
  const b = createNativeBackend(1, fallback);
  assert.ok(b instanceof NativeBackend);
  const reference = new ReferenceBackend() as unknown as Record<string, unknown>;
  for (const m of b.delegatedMethods) {
    assert.equal(typeof (b as unknown as Record<string, unknown>)[m], 'function', `${m} is not callable`);
    assert.equal(typeof reference[m], 'function', `${m} is not a Backend method of the reference`);
  }
  // Every method of the reference backend is callable on the native one.
  for (const m of Object.getOwnPropertyNames(ReferenceBackend.prototype)) {
    const d = Object.getOwnPropertyDescriptor(ReferenceBackend.prototype, m)!;
    if (m !== 'constructor' && typeof d.value === 'function') assert.equal(typeof (b as unknown as Record<string, unknown>)[m], 'function', m);
  }
});

test('native: the FMA peak kernel (the bench\'s ceiling for the GEMM) runs on every instruction set', { skip }, () => {
  for (const isa of nativeInstructionSets()) {
    const nb = createNativeBackend(1, fallback, isa);
    const pk = nb.fmaPeak(0.01);
    assert.ok(pk.wall > 0 && Number.isFinite(pk.wall), `${isa}: ${pk.wall} GFLOP/s`);
    assert.equal(pk.lanes, isa === 'avx512' ? 16 : isa === 'avx2' ? 8 : pk.lanes);
    assert.ok([4, 8, 16].includes(pk.lanes), `${isa}: ${pk.lanes} lanes`);
  }
});
