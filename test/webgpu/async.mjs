// Runs in the page of test/webgpu/async.test.ts: what reads asynchronously on webgpu, each against the
// same calls on wasm (or the reference backend) in the same page. trainOnBatchAsync/testOnBatchAsync,
// metrics updated on the device (resultAsync), Normalization.adapt/adaptAsync, correlate/correlateAsync
// (float64 on the host backend, moved to webgpu), and float64 casts in WGSL bit for bit. The synchronous
// forms refuse on webgpu with a message naming the awaited one. Returns plain data for the Node side.

const webgpu = () => import('/src/backend/webgpu/index.js');

async function catchMsg(f) { try { await f(); return null; } catch (e) { return String(e.message); } }

/** A small model, the same seed on each backend: three trainOnBatchAsync steps, testOnBatchAsync, the metrics. */
async function onBatch(c, g) {
  const N = 12, H = 6, W = 6;
  const r = new c.Rng(3);
  const xs = new Float32Array(N * H * W * 3), ys = new Float32Array(N);
  for (let i = 0; i < N; i++) {
    ys[i] = i % 2;
    for (let j = 0; j < H * W * 3; j++) xs[i * H * W * 3 + j] = r.uniform(0, 1) * 0.5 + (i % 2 && j % 3 === 0 ? 0.5 : 0);
  }
  const once = async (b) => {
    c.setBackend(b);
    c.clearSession();
    c.setSeed(42);
    const m = new c.Sequential([
      new c.layers.Conv2D(3, [3, 3], { activation: 'relu', inputShape: [H, W, 3] }),
      new c.layers.GlobalAveragePooling2D(),
      new c.layers.Dense(1, { activation: 'sigmoid' }),
    ]);
    m.compile({ loss: 'binary_crossentropy', optimizer: new c.optimizers.Adam({ learningRate: 0.05 }), metrics: ['accuracy', 'auc', 'precision'] });
    const x = c.tensor(xs, [N, H, W, 3]), y = c.tensor(ys, [N, 1]);
    const steps = [];
    for (let s = 0; s < 3; s++) steps.push(await m.trainOnBatchAsync(x, y, { classWeight: { 0: 1, 1: 2 }, returnDict: true }));
    const test = await m.testOnBatchAsync(x, y, { returnDict: true });
    // A metric on its own: updated on the backend, read with resultAsync.
    const auc = new c.AUC();
    const p = c.tensor(Float32Array.from({ length: 40 }, (_, i) => ((i * 37) % 40) / 40), [40, 1]);
    const t = c.tensor(Float32Array.from({ length: 40 }, (_, i) => (i % 3 ? 1 : 0)), [40]);
    auc.updateState(t, p);
    auc.updateState(t, p, c.tensor(Float32Array.from({ length: 40 }, (_, i) => i % 4), [40]));
    const out = { steps, test, auc: await auc.resultAsync(), auc2: null, syncTrain: null, syncTest: null, syncResult: null, weightsKept: null };
    if (b !== 'wasm') {
      const before = await m.weights[0].value.data();
      out.syncTrain = await catchMsg(() => m.trainOnBatch(x, y));
      out.syncTest = await catchMsg(() => m.testOnBatch(x, y));
      out.syncResult = await catchMsg(() => auc.result());
      const after = await m.weights[0].value.data();
      out.weightsKept = before.every((v, i) => v === after[i]);
      out.auc2 = await auc.resultAsync(); // still usable after the refusals
    }
    return out;
  };
  try {
    return { gpu: await once(g), wasm: await once('wasm') };
  } finally { c.setBackend('wasm'); }
}

/** Normalization.adapt (ops on the device) and adaptAsync (an async generator of batches). */
async function adapt(c, g) {
  const r = new c.Rng(8);
  const v = Float32Array.from({ length: 30 * 4 * 3 }, (_, i) => 500 + (i % 3) * 5 + r.uniform(-2, 2) * (1 + (i % 3)));
  const once = async (b) => {
    c.setBackend(b);
    const a = new c.layers.Normalization();
    a.adapt(c.tensor(v, [30, 4, 3]));
    const s = new c.layers.Normalization({ axis: [1, 2] });
    await s.adaptAsync((async function* () { for (const n of [10, 20]) yield c.tensor(v.slice(n === 10 ? 0 : 120, n === 10 ? 120 : 360), [n, 4, 3]); })());
    const y = a.apply(c.tensor(v.slice(0, 12), [1, 4, 3]));
    const read = async (l) => Promise.all(l.weights.map(async (w) => Array.from(await w.value.data())));
    return { a: await read(a), s: await read(s), y: Array.from(await y.data()) };
  };
  try {
    return { gpu: await once(g), wasm: await once('wasm') };
  } finally { c.setBackend('wasm'); }
}

/** correlate/convolve with webgpu in use: host data at once, GPU-computed tensors through correlateAsync. */
async function correlate(c, g) {
  const img = Array.from({ length: 7 }, (_, i) => Array.from({ length: 9 }, (_, j) => ((i * 9 + j) * 7) % 11));
  const k = [[1, 0, -1], [2, 0, -2], [1, 0, -1]];
  const once = async (b) => {
    c.setBackend(b);
    const ints = c.correlate(img, k, { mode: 'constant' });                  // int32 from nested integers
    const f64 = c.convolve(img, [[0.25, 0.5], [0.125, 0.125]], { mode: 'reflect', output: 'float64' });
    const onDevice = c.mul(c.tensor(img.flat(), [7, 9]), 0.5);               // computed by the backend
    const fromDevice = await c.correlateAsync(onDevice, k, { mode: 'wrap' });
    const u8 = await c.convolveAsync(c.cast(onDevice, 'uint8'), [[1, 1, 1]].map((r) => r.map((x) => x / 3)).concat([[0, 0, 0]]), { mode: 'mirror' });
    const where = fromDevice.store.storage;
    const out = {};
    for (const [name, t] of Object.entries({ ints, f64, fromDevice, u8 })) out[name] = { dtype: t.dtype, shape: t.shape, values: Array.from(await t.data()) };
    out.storage = where;
    out.sync = b === 'wasm' ? null : await catchMsg(() => c.correlate(onDevice, k));
    out.badMode = await catchMsg(() => c.correlateAsync(onDevice, k, { mode: 'nope' }));
    return out;
  };
  try {
    return { gpu: await once(g), wasm: await once('wasm') };
  } finally { c.setBackend('wasm'); }
}

/** float64 casts in WGSL against the reference backend's typed-array conversions, bit for bit. */
async function casts(c, g) {
  const f32 = new Float32Array([0, -0, 1, -1.5, 3.4028234663852886e38, -3.4028234663852886e38, 1.401298464324817e-45, -1.1754942106924411e-38,
    1.1754943508222875e-38, 2.5e-42, Infinity, -Infinity, NaN, 0.1, 123456.789, 2147483647, -2147483648, 4294967296, 255.9, -0.9]);
  const i32 = new Int32Array([0, 1, -1, 2147483647, -2147483648, 16777217, -16777217, 255, 256, 123456789]);
  const u8 = new Uint8Array([0, 1, 127, 128, 254, 255, 7]);
  const two = 2 ** -149;
  const f64 = new Float64Array([0, -0, 1, -1, 0.1, 1 / 3, 1 + 2 ** -24, 1 + 2 ** -24 + 2 ** -52, 1 + 3 * 2 ** -24, 1 - 2 ** -25, 3.4028235677973366e38,
    3.4028234663852886e38 * (1 + 2 ** -25), 1e39, -1e300, 1e-50, 5e-324, two, two / 2, two * 0.75, two * 1.5, two * 2.5, 1.1754942e-38, 1.17549435e-38,
    Infinity, -Infinity, NaN, 2147483647.9, 2147483648, -2147483648.5, 4294967296 + 5, 2 ** 52 + 3, 2 ** 53 * 3 + 8, 2 ** 70 + 2 ** 40, -(2 ** 40) - 7,
    1e20, -3.99, 255, 255.999, 256, -0.5, 1e-300, 123456.789, 0.49999999999999994]);
  const ref = new c.ReferenceBackend();
  const failures = [];
  let checks = 0;
  const cases = [[f32, 'float32', 'float64'], [i32, 'int32', 'float64'], [u8, 'uint8', 'float64'],
    [f64, 'float64', 'float32'], [f64, 'float64', 'int32'], [f64, 'float64', 'uint8'], [f64, 'float64', 'float64']];
  for (const [vals, from, to] of cases) {
    c.setBackend(ref);
    const want = c.cast(c.tensor(vals, [vals.length], from), to).dataSync();
    c.setBackend(g);
    const got = await c.cast(c.tensor(vals, [vals.length], from), to).data();
    // A view into a block (sliceBatch; uint8 views at whole words) goes through the same kernel.
    const at = from === 'uint8' ? 4 : 1;
    const part = await c.cast(c.tensor(vals, [vals.length], from).sliceBatch(at, vals.length), to).data();
    for (const [arr, off] of [[got, 0], [part, at]]) {
      checks++;
      for (let i = 0; i < arr.length; i++) {
        const a = arr[i], e = want[i + off];
        if (!(Object.is(a, e) || (Number.isNaN(a) && Number.isNaN(e)))) { failures.push(`cast ${from} -> ${to} of ${vals[i + off]}: webgpu ${a}, reference ${e}`); break; }
      }
    }
  }
  c.setBackend('wasm');
  return { checks, failures };
}

export async function all(c) {
  const wg = await webgpu();
  const g = await wg.initWebGPU();
  if (!g) return { error: `no WebGPU: ${wg.webgpuUnavailableReason()}` };
  const out = { adapter: g.adapterName };
  for (const [k, f] of Object.entries({ onBatch, adapt, correlate, casts })) {
    const t0 = performance.now();
    try { out[k] = await f(c, g); } catch (e) { out[k] = { error: String(e && e.stack || e) }; }
    out[k].ms = performance.now() - t0;
  }
  return out;
}
