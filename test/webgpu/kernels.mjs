// Runs in the page of test/webgpu/webgpu.test.ts: the backend conformance suite
// (test/backend/conformance.ts, the same checks reference, wasm and native run under node:test) on
// webgpu, then what only the page tests: tensors stored on webgpu, a small model trained on WebGPU
// (its loss must fall; its first-step loss on wasm and on webgpu), and fit/evaluate/predict against
// wasm. Returns plain data (failures as strings) for the Node side to assert. Plain JavaScript: the
// page loads it as is.

// The webgpu module by URL: the same module instance convnet-ts/browser loads.
const webgpu = () => import('/src/backend/webgpu/index.js');

/**
 * The backend conformance suite (test/backend/conformance.ts, transpiled by the server) on webgpu:
 * every check in order, at the suite's smaller sizes for SwiftShader (`small`), with the fixtures
 * fetched. Kernel checks make their inputs in the heap (wasm in use) for the reference and copy them
 * to the GPU; the others train on webgpu. float64 casts skip with the backend's own refusal when it
 * has one. Returns each check's outcome (skip reason, error, milliseconds) for the Node side.
 */
export async function conformance(c) {
  const wg = await webgpu();
  const g = await wg.initWebGPU();
  if (!g) return { error: `no WebGPU: ${wg.webgpuUnavailableReason()}` };
  const { conformanceChecks } = await import('/test/backend/conformance.js');
  const pytorch = await (await fetch('/test/fixtures/engine/pytorch.json')).json();
  c.setBackend('wasm');
  let float64;
  try { g.cast(c.zeros([3], 'float64'), c.zeros([3])); await g.sync(); } catch (e) { float64 = String(e.message ?? e); }
  const lacks = { float64 };
  const checks = conformanceChecks('webgpu', () => g, { pytorch }, {
    small: true, lacks, memory: () => ({ 'GPU buffer bytes': g.bytesAllocated }),
  });
  const results = [];
  const t0 = performance.now();
  for (const check of checks) {
    if (check.skip) { results.push({ name: check.name, skip: check.skip }); continue; }
    const t = performance.now();
    try {
      await check.run();
      results.push({ name: check.name, ms: performance.now() - t });
    } catch (e) {
      results.push({ name: check.name, ms: performance.now() - t, error: String(e && e.stack || e) });
    }
  }
  c.setBackend('wasm');
  return { adapter: g.adapterName, pipelines: g.pipelineCount, ms: performance.now() - t0, results, lacks };
}

/** A small conv model: trains on webgpu (the loss must fall), and its first-step loss on wasm and webgpu. */
export async function train(c) {
  const wg = await webgpu();
  const g = await wg.initWebGPU();
  if (!g) return { error: `no WebGPU: ${wg.webgpuUnavailableReason()}` };
  const N = 16, H = 10, W = 10;
  const { xs, ys } = twoClassImages(c, N, H, W, 5);
  const loss = new c.BinaryCrossentropy();
  const makeModel = () => {
    c.clearSession();
    c.setSeed(42);
    const m = new c.Sequential([
      new c.layers.Conv2D(4, [3, 3], { activation: 'relu', padding: 'same', inputShape: [H, W, 3] }),
      new c.layers.MaxPooling2D([2, 2]),
      new c.layers.Flatten(),
      new c.layers.Dense(1, { activation: 'sigmoid' }),
    ]);
    m.compile({ loss: 'binary_crossentropy', optimizer: new c.optimizers.Adam({ learningRate: 0.02 }) });
    return m;
  };
  // One step by hand (the front end's ops, valueAndGrad, the optimizer): reads the loss asynchronously.
  const steps = async (name, n) => {
    c.setBackend(name === 'webgpu' ? g : name);
    const model = makeModel();
    const x = c.tensor(xs, [N, H, W, 3]), y = c.tensor(ys, [N, 1]);
    c.scope(() => { model.apply(x); }); // builds the weights
    const vars = model.trainableWeights;
    const losses = [];
    for (let s = 0; s < n; s++) {
      c.startScope();
      const { value, grads } = c.valueAndGrad(() => loss.call(y, model.apply(x, { training: true })), vars.map((v) => v.value));
      model.optimizer.applyGradients(grads, vars);
      losses.push(name === 'webgpu' ? (await g.read(value))[0] : value.dataSync()[0]);
      c.endScope(undefined);
    }
    return losses;
  };
  const t0 = performance.now();
  const gpu = await steps('webgpu', 12);
  const ms = performance.now() - t0;
  const wasm = await steps('wasm', 1);
  c.setBackend('wasm');
  return { gpuLosses: gpu, wasmFirst: wasm[0], trainMs: ms };
}

/**
 * Tensors stored by the webgpu backend (made while it is in use): writes and reads, fills, copies
 * and casts, views at offsets WebGPU cannot bind, takeRows/concat (and concat's gradient), the
 * dropout mask, and the clear error of a synchronous read; each against the same op on wasm.
 */
export async function storage(c) {
  const { hashUniform } = await import('/test/backend/conformance.js');
  const wg = await webgpu();
  const g = await wg.initWebGPU();
  if (!g) return { error: `no WebGPU: ${wg.webgpuUnavailableReason()}` };
  const failures = [];
  let checks = 0;
  const same = async (t, want, what, tol = 0) => {
    checks++;
    if (t.store !== g) { failures.push(`${what}: not stored on webgpu (${t.store.storage})`); return; }
    const a = Array.from(await t.data());
    if (a.length !== want.length) { failures.push(`${what}: length ${a.length} vs ${want.length}`); return; }
    for (let i = 0; i < a.length; i++) {
      const ok = Number.isNaN(want[i]) ? Number.isNaN(a[i]) : Math.abs(a[i] - want[i]) <= tol * (1 + Math.abs(want[i]));
      if (!ok) { failures.push(`${what}: element ${i}: ${a[i]} vs ${want[i]}`); return; }
    }
  };
  // Every case runs on wasm first (its result is the expectation), then on webgpu.
  const cases = {
    'tensor + write': () => c.tensor([[1, -2, 3], [4, 5, NaN]]),
    'zeros / full (host copy)': () => c.add(c.zeros([7]), c.full([7], 2.5)),
    'full, large (fill kernel)': () => c.full([20001], -1.25),
    'int32 and uint8 tensors': () => c.cast(c.tensor(new Uint8Array([1, 2, 250, 7, 9]), [5]), 'float32'),
    'uint8 odd length': () => c.tensor(new Uint8Array([3, 1, 4, 1, 5, 9, 2]), [7]),
    // Byte ranges that start or end inside a 32-bit word: only their own bytes may change.
    'uint8 writes, copies and a cast at unaligned bytes': () => {
      const b = c.tensor(new Uint8Array(15).fill(7), [15], 'uint8');
      b.write([1, 2, 3, 4, 5], 3); // bytes [3, 8)
      b.sliceBatch(9, 11).write([200, 201]); // inside one word
      c.backend().copy(c.tensor(new Uint8Array([10, 11, 12]), [3], 'uint8'), b.sliceBatch(1, 4));
      c.backend().copy(b.sliceBatch(2, 5), b.sliceBatch(11, 14)); // within one block
      c.backend().cast(c.tensor([250.7, -3, 300]), b.sliceBatch(5, 8));
      c.backend().cast(c.tensor([1.5, 2.5, 3.5]), b.sliceBatch(8, 11)); // starts on a word, ends before byte 11 (set above)
      return b;
    },
    'uint8 rows of 3 bytes: takeRows, concat, sliceColumns': () => {
      const x = c.tensor(Uint8Array.from({ length: 15 }, (_, i) => i * 7 + 1), [5, 3], 'uint8');
      const rows = c.takeRows(x, [4, 0, 2, 2, 1]);
      const cat = c.zeros([3, 6], 'uint8');
      c.backend().concat([x.sliceBatch(1, 4), c.tensor(new Uint8Array([9, 8, 7, 6, 5, 4, 3, 2, 1]), [3, 3], 'uint8')], cat, 3);
      const cols = c.zeros([3, 2], 'uint8');
      c.backend().sliceColumns(cat, cols, 3, 3);
      const all = c.zeros([rows.size + cat.size + cols.size + 1], 'uint8');
      c.backend().concat([rows.reshape([rows.size]), cat.reshape([cat.size]), cols.reshape([cols.size]), c.tensor(new Uint8Array([77]), [1], 'uint8')], all, 1);
      return all;
    },
    'uint8 view read at byte 5': () => c.tensor(new Uint8Array([1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11]), [11], 'uint8').sliceBatch(5, 10),
    'clone': () => c.tensor([1.5, 2.5, 3.5]).clone(),
    'sliceBatch view at byte offset 12': () => c.relu(c.tensor([[-1, 2, -3], [4, -5, 6], [7, 8, -9], [1, 1, 1]]).sliceBatch(1, 3)),
    'sliceBatch view as an output base': () => c.mul(c.tensor([[1, 2], [3, 4], [5, 6]]).sliceBatch(1, 3), 10),
    'takeRows (gatherRows)': () => c.takeRows(c.tensor([[1, 2, 3], [4, 5, 6], [7, 8, 9]]), [2, 0, 2, 1]),
    'concat along the last axis': () => c.concat([c.tensor([[1, 2], [3, 4]]), c.tensor([[5], [6]]), c.tensor([[7, 8, 9], [10, 11, 12]])], 1),
    'concat gradient (sliceColumns)': () => {
      const a = c.tensor([[1, 2], [3, 4]]), b = c.tensor([[5], [6]]);
      const { grads } = c.valueAndGrad(() => c.sum(c.mul(c.concat([a, b], 1), c.tensor([[1, 2, 3], [4, 5, 6]]))), [a, b]);
      return c.concat([grads[0].reshape([4]), grads[1].reshape([2])], 0);
    },
    'dropout mask (randomMask)': () => c.dropout(c.ones([64]), 0.5, new c.Rng(7)),
    'shift2d (pad and crop)': () => {
      const x = c.tensor(hashUniform(3, 2 * 5 * 4 * 3), [2, 5, 4, 3]);
      const a = c.zeros([2, 7, 6, 3]), b = c.zeros([2, 3, 3, 3]);
      c.backend().shift2d(x, a, 1, 2); c.backend().shift2d(x, b, -1, -1);
      return c.concat([a.reshape([a.size]), b.reshape([b.size])], 0);
    },
    'upsample2d and its gradient': () => {
      const x = c.tensor(hashUniform(4, 2 * 3 * 5 * 2), [2, 3, 5, 2]);
      const y = c.zeros([2, 6, 15, 2]), dx = c.zeros([2, 3, 5, 2]);
      c.backend().upsample2d(x, y, 2, 3); c.backend().upsample2dGrad(y, dx, 2, 3);
      return c.concat([y.reshape([y.size]), dx.reshape([dx.size])], 0);
    },
    'flip2d per image': () => {
      const x = c.tensor(hashUniform(5, 4 * 3 * 4 * 2), [4, 3, 4, 2]), y = c.zeros([4, 3, 4, 2]);
      c.backend().flip2d(x, y, [0, 1, 2, 3]);
      return y;
    },
  };
  // Resampling kernels: coordinates and weights in float32 on the GPU (float64 on the host), hence 1e-5.
  const resized = (interpolation, h, w) => () => {
    const x = c.tensor(hashUniform(6, 2 * 5 * 6 * 3), [2, 5, 6, 3]);
    const layer = new c.layers.Resizing(h, w, { interpolation });
    const wts = c.tensor(hashUniform(7, 2 * h * w * 3), [2, h, w, 3]);
    let y;
    const { grads } = c.valueAndGrad(() => { y = layer.apply(x); return c.sum(c.mul(y, wts)); }, [x]);
    return c.concat([y.reshape([y.size]), grads[0].reshape([grads[0].size])], 0);
  };
  const augmented = (make) => () => {
    const x = c.tensor(hashUniform(8, 3 * 9 * 7 * 2), [3, 9, 7, 2]);
    return make().apply(x, { training: true });
  };
  const loose = {
    'resize2d bilinear and its gradient (Resizing 5x6 -> 8x4)': resized('bilinear', 8, 4),
    'resize2d nearest and its gradient (Resizing 5x6 -> 3x11)': resized('nearest', 3, 11),
    'affine2d: RandomRotation (bilinear, reflect)': augmented(() => new c.layers.RandomRotation(0.3, { seed: 3 })),
    'affine2d: RandomRotation (bilinear, constant 0.5)': augmented(() => new c.layers.RandomRotation(0.4, { seed: 4, fillMode: 'constant', fillValue: 0.5 })),
    'affine2d: RandomZoom (nearest, wrap)': augmented(() => new c.layers.RandomZoom([-0.4, 0.3], null, { seed: 5, fillMode: 'wrap', interpolation: 'nearest' })),
    'affine2d: RandomTranslation (bilinear, nearest)': augmented(() => new c.layers.RandomTranslation(0.3, 0.4, { seed: 6, fillMode: 'nearest' })),
  };
  const want = {};
  c.setBackend('wasm');
  for (const [k, f] of Object.entries({ ...cases, ...loose })) want[k] = Array.from(f().dataSync());
  c.setBackend(g);
  try {
    for (const [k, f] of Object.entries(cases)) await same(f(), want[k], k, 1e-6);
    for (const [k, f] of Object.entries(loose)) await same(f(), want[k], k, 1e-5);
    const small = c.tensor([1, 2, 3]);
    checks++;
    if (Array.from(small.dataSync()).join() !== '1,2,3') failures.push('dataSync of a host-written webgpu tensor');
    const computed = c.exp(small);
    checks++;
    try { computed.dataSync(); failures.push('dataSync of a GPU-computed tensor should throw'); } catch (e) {
      if (!/await t\.data\(\)/.test(String(e))) failures.push(`dataSync error names the remedy: ${e}`);
    }
    const big = c.zeros([70000]);
    g.fill(big, 3);
    await same(big, new Array(70000).fill(3), 'fill of 70,000 elements');
  } finally {
    c.setBackend('wasm');
  }
  return { failures, checks };
}

/**
 * N images of h x w x 3 in two classes told apart by which channel is brighter (label i % 2), from a
 * seeded Rng: the small training sets of `train` and `fit`.
 */
function twoClassImages(c, N, H, W, seed) {
  const r = new c.Rng(seed);
  const xs = new Float32Array(N * H * W * 3), ys = new Float32Array(N);
  for (let i = 0; i < N; i++) {
    ys[i] = i % 2;
    for (let j = 0; j < H * W * 3; j++) xs[i * H * W * 3 + j] = r.uniform(0, 1) * 0.5 + (i % 2 ? (j % 3 === 0 ? 0.5 : 0) : (j % 3 === 2 ? 0.5 : 0));
  }
  return { xs, ys };
}
/** Everything in one page (one device: pipelines compile once for all four). */
export async function all(c) {
  const out = {};
  for (const [k, f] of Object.entries({ conformance, storage, train, fit })) {
    try { out[k] = await f(c); } catch (e) { out[k] = { error: String(e && e.stack || e) }; }
  }
  return out;
}

/**
 * Keras-level fit/evaluate/predict on webgpu and on wasm, same seed and data: a small conv model
 * (8x8 images, sparse categorical crossentropy with class weights, accuracy, validation data,
 * EarlyStopping keeping the best weights, the progress logger) for 3 epochs. Returns both runs'
 * histories, evaluate's logs and predictions for the Node side to compare.
 */
export async function fit(c) {
  const wg = await webgpu();
  const g = await wg.initWebGPU();
  if (!g) return { error: `no WebGPU: ${wg.webgpuUnavailableReason()}` };
  const N = 24, H = 8, W = 8;
  const { xs, ys } = twoClassImages(c, N, H, W, 7);
  const lines = [];
  const origLog = console.log;
  const once = async (name) => {
    c.setBackend(name === 'webgpu' ? g : name);
    c.clearSession();
    c.setSeed(42);
    const m = new c.Sequential([
      new c.layers.Conv2D(4, [3, 3], { activation: 'relu', padding: 'same', inputShape: [H, W, 3] }),
      new c.layers.MaxPooling2D([2, 2]),
      new c.layers.Flatten(),
      new c.layers.Dense(2, { activation: 'softmax' }),
    ]);
    m.compile({ loss: 'sparse_categorical_crossentropy', optimizer: new c.optimizers.Adam({ learningRate: 0.02, clipnorm: 0.5 }), metrics: ['accuracy'] });
    const x = c.tensor(xs.slice(0, 16 * H * W * 3), [16, H, W, 3]), y = c.tensor(ys.slice(0, 16), [16, 1]);
    const vx = c.tensor(xs.slice(16 * H * W * 3), [8, H, W, 3]), vy = c.tensor(ys.slice(16), [8, 1]);
    const t0 = performance.now();
    const h = await m.fit(x, y, {
      epochs: 3, batchSize: 8, shuffle: true, verbose: name === 'webgpu' ? 2 : 0, validationData: [vx, vy], classWeight: { 0: 1, 1: 1.5 },
      callbacks: [new c.EarlyStopping({ monitor: 'val_loss', patience: 5, restoreBestWeights: true })],
    });
    const fitMs = performance.now() - t0;
    const ev = await m.evaluate(vx, vy, { batchSize: 8, returnDict: true });
    const p = await m.predict(vx, { batchSize: 5 });
    const pred = Array.from(await p.data());
    // A pipeline's batches: uint8 images uploaded as they are, cast and rescaled on the backend.
    c.setSeed(43);
    const u = new c.Sequential([
      new c.layers.Rescaling(1 / 255, { inputShape: [H, W, 3] }),
      new c.layers.Conv2D(3, [3, 3], { activation: 'relu' }),
      new c.layers.GlobalAveragePooling2D(),
      new c.layers.Dense(1, { activation: 'sigmoid' }),
    ]);
    u.compile({ loss: 'binary_crossentropy', optimizer: new c.optimizers.SGD({ learningRate: 0.5, globalClipnorm: 0.3 }), metrics: ['accuracy'] });
    const u8 = Uint8Array.from(xs, (v) => Math.round(v * 255));
    const batches = {
      length: 3, samples: N, batchSize: 8,
      async getBatch(i) {
        const x8 = c.tensor(u8.slice(i * 8 * H * W * 3, (i + 1) * 8 * H * W * 3), [8, H, W, 3], 'uint8');
        const x = c.cast(x8, 'float32'); // as the directory pipeline does: uint8 up, float32 made on the backend
        x8.dispose();
        return { x, y: c.tensor(ys.slice(i * 8, (i + 1) * 8), [8, 1]) };
      },
      onEpochEnd() {}, reset() {},
    };
    const hu = await u.fit(batches, { epochs: 2, verbose: 0 });
    // A label that is no class index: named by fit (on webgpu found after the NaN loss of its one-hot row).
    let badLabel = null;
    try {
      await m.fit(x.sliceBatch(0, 4), c.tensor([0, 1, 5, 0], [4, 1]), { epochs: 1, batchSize: 4, verbose: 0 });
    } catch (e) { badLabel = String(e.message); }
    return { badLabel, history: h.history, epochs: h.epoch, evaluate: ev, pred, iterations: m.optimizer.iterations, fitMs, pipeline: hu.history };
  };
  try {
    console.log = (...a) => { lines.push(a.join(' ')); };
    const gpu = await once('webgpu');
    console.log = origLog;
    const wasm = await once('wasm');
    return { gpu, wasm, logLines: lines };
  } finally {
    console.log = origLog;
    c.setBackend('wasm');
  }
}
