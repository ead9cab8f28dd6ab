// Runs in the browser page (or a Web Worker) of test/browser/browser.test.ts: exercises convnet-ts/browser
// (`c`, the imported module) on one backend and returns plain numbers for the Node side to check.
// Plain JavaScript: the page loads it as is.
import { convInputs } from './inputs.mjs';

export async function run(c, name) {
  // Internals the checks read (the heap's kind, the ndimage kernel's call count) come from their own modules,
  // the instances convnet-ts/browser loaded (same URLs); the entry point exports what users call.
  const internal = { ...(await import('/src/tensor/index.js')), ...(await import('/src/ops/ndimage.js')) };
  const out = {
    isolated: globalThis.crossOriginIsolated === true,
    hardwareConcurrency: navigator.hardwareConcurrency,
    wasmLoadError: c.wasmLoadError ? String(c.wasmLoadError) : null,
    wasmAvailable: c.wasmAvailable(),
  };
  if (name === 'wasm' && c.wasmLoadError) throw c.wasmLoadError;
  c.setBackend(name);
  await c.ready();
  out.backend = c.getBackendName();
  out.threads = c.getThreads();
  out.heapShared = internal.heap().shared;
  // Workers that started and joined the pool (the pool is internal: read for the test only).
  out.readyWorkers = c.backend().pool?.readyWorkers ?? 0;

  // Tensor ops.
  const a = c.tensor([[1, 2], [3, 4]]);
  const b = c.tensor([[5, 6], [7, 8]]);
  out.matmul = c.matmul(a, b).toArray();
  out.addScalar = c.add(a, 1).toArray();
  out.mulBroadcast = c.mul(a, c.tensor([10, 100])).toArray();
  out.sumAxis0 = c.sum(a, 0).toArray();
  out.reshape = a.reshape([4]).toArray();
  out.softmaxRow = Array.from(c.softmax(c.tensor([[0, Math.log(3)]])).dataSync());
  // A matmul large enough to be split into parts across threads (checked against a loop on the Node side).
  const n = 67;
  const ma = c.tensor(Float32Array.from({ length: n * n }, (_, i) => ((i * 3) % 17) / 16 - 0.5), [n, n]);
  out.bigMatmulTrace = (() => { const p = c.matmul(ma, ma).dataSync(); let t = 0; for (let i = 0; i < n; i++) t += p[i * n + i]; return t; })();

  // conv2d forward, 'same' padding, with bias.
  const ci = convInputs();
  const y = c.conv2d(c.tensor(Float32Array.from(ci.x), [1, 5, 6, 2]), c.tensor(Float32Array.from(ci.w), [3, 3, 2, 3]),
    { bias: c.tensor(ci.bias), padding: 'same' });
  out.convShape = y.shape;
  out.conv = Array.from(y.dataSync());

  // correlate: the notebook's 5x5 example.
  const image = [[4, 1, 7, 2, 3], [8, 3, 1, 2, 2], [6, 5, 7, 4, 3], [2, 2, 3, 1, 3], [4, 3, 4, 2, 3]];
  const kernel = [[1, 0, -1], [1, 0, -1], [1, 0, -1]];
  out.correlate = c.correlate(image, kernel, { mode: 'constant' }).toArray();
  // A float32 image takes the WebAssembly kernel (build/ndimage.wasm) when it loaded.
  out.ndimageWasm = await internal.initNdimageWasm();
  const before = internal.ndimageWasmCalls();
  out.correlateF32 = c.correlate(c.tensor(image, undefined, 'float32'), kernel, { mode: 'constant' }).toArray();
  out.ndimageWasmCalls = internal.ndimageWasmCalls() - before;

  // A tiny Sequential model trained a few steps on tensors.
  c.setSeed(3);
  c.clearSession();
  const count = 64, size = 8;
  const xs = new Float32Array(count * size * size), ys = new Float32Array(count);
  for (let i = 0; i < count; i++) {
    ys[i] = i % 2;
    for (let j = 0; j < size * size; j++) xs[i * size * size + j] = (ys[i] ? 0.6 : 0.2) + ((i * 31 + j * 7) % 10) / 40;
  }
  const model = new c.Sequential([
    new c.layers.Conv2D(4, [3, 3], { activation: 'relu', padding: 'same', inputShape: [size, size, 1] }),
    new c.layers.MaxPooling2D([2, 2]),
    new c.layers.Flatten(),
    new c.layers.Dense(1, { activation: 'sigmoid' }),
  ]);
  model.compile({ optimizer: new c.optimizers.Adam({ learningRate: 0.02 }), loss: 'binary_crossentropy', metrics: ['accuracy'] });
  const lines = [];
  model.summary((l) => lines.push(l));
  out.summaryHasParams = lines.some((l) => l.includes('Total params'));
  const x = c.tensor(xs, [count, size, size, 1]), yt = c.tensor(ys, [count]);
  const t0 = performance.now();
  const h = await model.fit(x, yt, { epochs: 8, batchSize: 16, shuffle: false, verbose: 0 });
  out.fitMs = performance.now() - t0;
  out.loss = h.history.loss;
  const p = await model.predict(x, { verbose: 0 });
  out.predictShape = p.shape;
  out.predictFinite = Array.from(p.dataSync()).every(Number.isFinite);
  return out;
}
