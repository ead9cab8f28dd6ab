// Runs in the page of test/webgpu/webgpu.test.ts: every webgpu kernel against the reference backend
// (same page, same inputs) at awkward sizes, NaN rules included, then a small model trained on WebGPU
// (its loss must fall) and the same model's first-step loss on wasm and on webgpu. Returns plain data
// (failures as strings) for the Node side to assert. Plain JavaScript: the page loads it as is.
//
// Tolerances follow test/backend/conformance.ts: exact for data movement, comparisons and max
// pooling; 1e-7 + 2e-6 relative for elementwise maps; |d| <= 1e-6 K + 1e-5 |ref| for depth-K sums.

const UNARY = ['linear', 'relu', 'sigmoid', 'tanh', 'elu', 'selu', 'leaky_relu', 'gelu', 'swish', 'softplus', 'relu6',
  'hard_sigmoid', 'exp', 'log', 'neg', 'abs', 'sqrt', 'square', 'reciprocal', 'sign'];
const ACTS = ['linear', 'relu', 'sigmoid', 'tanh', 'elu', 'selu', 'leaky_relu', 'gelu', 'swish', 'softplus', 'relu6', 'hard_sigmoid'];
const BIN = ['add', 'sub', 'mul', 'div', 'max', 'min', 'pow', 'greater', 'less', 'equal'];
const RED = ['sum', 'max', 'min', 'mean', 'prod'];

function outLen(inLen, k, s, d, same) {
  const eff = (k - 1) * d + 1;
  if (!same) return { out: Math.floor((inLen - eff) / s) + 1, pad: 0 };
  const o = Math.ceil(inLen / s);
  return { out: o, pad: Math.floor(Math.max((o - 1) * s + eff - inLen, 0) / 2) };
}
function convParams(batch, inH, inW, inC, outC, kH, kW, s, d, same, activation = 'linear', alpha = 0) {
  const h = outLen(inH, kH, s[0], d[0], same), w = outLen(inW, kW, s[1], d[1], same);
  return { batch, inH, inW, inC, outH: h.out, outW: w.out, outC, kH, kW, strideH: s[0], strideW: s[1],
    dilationH: d[0], dilationW: d[1], padTop: h.pad, padLeft: w.pad, activation, alpha };
}
function poolParams(batch, inH, inW, channels, pool, s, same) {
  const h = outLen(inH, pool[0], s[0], 1, same), w = outLen(inW, pool[1], s[1], 1, same);
  return { batch, inH, inW, channels, outH: h.out, outW: w.out, poolH: pool[0], poolW: pool[1], strideH: s[0], strideW: s[1], padTop: h.pad, padLeft: w.pad };
}
function strides(shape, outShape) {
  const r = new Array(outShape.length).fill(0);
  let s = 1;
  for (let i = shape.length - 1, d = outShape.length - 1; i >= 0; i--, d--) { r[d] = shape[i] === 1 ? 0 : s; s *= shape[i]; }
  return r;
}

// The webgpu module by URL: the same module instance convnet-ts/browser loads.
const webgpu = () => import('/src/backend/webgpu/index.js');

export async function run(c) {
  const out = { failures: [], checks: 0 };
  const wg = await webgpu();
  const g = await wg.initWebGPU();
  if (!g) return { error: `no WebGPU: ${wg.webgpuUnavailableReason()}` };
  out.adapter = g.adapterName;
  const ref = new c.ReferenceBackend();
  const t0 = performance.now();

  const rand = (shape, seed, lo = -1, hi = 1) => {
    const r = new c.Rng(seed);
    const n = shape.reduce((a, b) => a * b, 1);
    const a = new Float32Array(n);
    for (let i = 0; i < n; i++) a[i] = r.uniform(lo, hi);
    return c.tensor(a, shape);
  };
  const withNaN = (t, every, start = 3) => {
    const v = t.view();
    for (let i = start; i < v.length; i += every) v[i] = i % 3 === 2 ? (i % 2 ? Infinity : -Infinity) : NaN;
    return t;
  };
  // Compares the GPU result (read back) with the reference; records the first bad element.
  const pending = [];
  const close = (got, want, atol, rtol, what) => { pending.push({ got, want, atol, rtol, what }); };
  const flush = async () => {
    await g.sync(); // every GPU result back to the heap at once
    for (const { got, want, atol, rtol, what } of pending.splice(0)) {
      const a = got.dataSync(), e = want.dataSync();
      out.checks++;
      if (a.length !== e.length) { out.failures.push(`${what}: length ${a.length} vs ${e.length}`); continue; }
      for (let i = 0; i < a.length; i++) {
        const ok = Number.isNaN(e[i]) ? Number.isNaN(a[i]) : a[i] === e[i] || Math.abs(a[i] - e[i]) <= atol + rtol * Math.abs(e[i]);
        if (!ok) { out.failures.push(`${what}: element ${i}: ${a[i]} vs reference ${e[i]}`); break; }
      }
    }
  };
  const both = (fn) => { const a = fn(g), b = fn(ref); return [a, b]; };
  const zeros = (shape, dtype = 'float32') => c.zeros(shape, dtype);

  {
    // unary, with NaN and infinities
    let seed = 1;
    for (const n of [3, 1031]) for (const op of UNARY) {
      const positive = op === 'log' || op === 'sqrt';
      const x = rand([n], seed++, positive ? 0.01 : -4, 4);
      const o = zeros([n]), e = zeros([n]);
      g.unary(op, x, o, 0.3); ref.unary(op, x, e, 0.3);
      close(o, e, 1e-7, 2e-6, `unary ${op} n=${n}`);
    }
    const xs = withNaN(rand([301], 9), 7);
    for (const op of UNARY) {
      const o = zeros([301]), e = zeros([301]);
      g.unary(op, xs, o, 0.3); ref.unary(op, xs, e, 0.3);
      close(o, e, 1e-7, 2e-6, `unary ${op} with NaN/inf`);
    }
    // activation gradients
    for (const n of [7, 301]) for (const op of ACTS) {
      const x = n === 301 ? xs : rand([n], seed++, -4, 4), dy = rand([n], seed++);
      const y = zeros([n]); ref.unary(op, x, y, 0.3);
      const o = zeros([n]), e = zeros([n]);
      g.unaryGrad(op, x, y, dy, o, 0.3); ref.unaryGrad(op, x, y, dy, e, 0.3);
      close(o, e, 1e-7, 2e-6, `unaryGrad ${op} n=${n}`);
    }
    // bias + activation
    for (const [rows, cc] of [[1, 1], [37, 33]]) for (const act of ACTS) for (const wb of [true, false]) {
      const x = rand([rows, cc], seed++, -4, 4), b = wb ? rand([cc], seed++) : null;
      const o = zeros([rows, cc]), e = zeros([rows, cc]);
      g.biasAct(x, b, o, rows, cc, act, 0.2); ref.biasAct(x, b, e, rows, cc, act, 0.2);
      close(o, e, 1e-7, 2e-6, `biasAct ${act} ${rows}x${cc} bias=${wb}`);
    }
    // binary with broadcasting
    const cases = [[[7], [7], [7]], [[150], [1], [150]], [[1], [150], [150]], [[3, 1], [1, 7], [3, 7]],
      [[2, 1, 5, 1], [1, 3, 1, 7], [2, 3, 5, 7]], [[], [], []], [[4, 1, 1, 1, 3, 1, 2, 1, 2], [1, 2, 1, 3, 1, 2, 1, 2, 1], [4, 2, 1, 3, 3, 2, 2, 2, 2]]];
    for (const [as, bs, os] of cases) for (const op of BIN) {
      const a = rand(as, seed++, op === 'pow' ? 0.1 : -2, 2), b = rand(bs, seed++, -2, 2);
      if (op === 'equal' || op === 'max' || op === 'min') { const av = a.view(), bv = b.view(); for (let i = 0; i < Math.min(av.length, bv.length); i += 3) av[i] = bv[i]; }
      const p = { outShape: os, aStrides: strides(as, os), bStrides: strides(bs, os) };
      const o = zeros(os), e = zeros(os);
      g.binary(op, a, b, o, p); ref.binary(op, a, b, e, p);
      close(o, e, 0, op === 'pow' ? 1e-6 : 0, `binary ${op} ${JSON.stringify(as)} ${JSON.stringify(bs)}`);
    }
    const ys = withNaN(rand([301], 12), 5, 1);
    for (const op of ['max', 'min', 'add', 'mul']) {
      const p = { outShape: [301], aStrides: [1], bStrides: [1] };
      const o = zeros([301]), e = zeros([301]);
      g.binary(op, xs, ys, o, p); ref.binary(op, xs, ys, e, p);
      close(o, e, 0, 0, `binary ${op} with NaN`);
    }
    for (const n of [1, 150]) for (const op of BIN) for (const rev of [false, true]) for (const s of (n === 1 ? [NaN] : [0.1, -1.7, 3])) {
      const x = rand([n], seed++, op === 'pow' && !rev ? 0.1 : -2, 2);
      const o = zeros([n]), e = zeros([n]);
      g.binaryScalar(op, x, s, o, rev); ref.binaryScalar(op, x, s, e, rev);
      close(o, e, 0, op === 'pow' ? 1e-6 : 0, `binaryScalar ${op} ${s} reverse=${rev}`);
    }
    // reductions (thread per output and workgroup per output), with NaN
    for (const [outer, n, inner] of [[1, 1, 1], [3, 150, 1], [1, 150, 7], [5, 3, 33], [1, 20001, 2], [2, 700, 3], [700, 4, 5]]) for (const op of RED) {
      const x = rand([outer, n, inner], seed++, op === 'prod' ? 0.9 : -1, op === 'prod' ? 1.1 : 1);
      const o = zeros([outer, inner]), e = zeros([outer, inner]);
      g.reduce(op, x, o, outer, n, inner); ref.reduce(op, x, e, outer, n, inner);
      close(o, e, 1e-6, 1e-6, `reduce ${op} ${outer}x${n}x${inner}`);
    }
    for (const op of RED) for (const [outer, n, inner] of [[4, 30, 3], [1, 300, 2]]) {
      const x = withNaN(rand([outer, n, inner], 13), 37);
      const o = zeros([outer, inner]), e = zeros([outer, inner]);
      g.reduce(op, x, o, outer, n, inner); ref.reduce(op, x, e, outer, n, inner);
      close(o, e, 1e-6, 1e-6, `reduce ${op} ${outer}x${n}x${inner} with NaN`);
    }
    // softmax
    for (const [rows, cols] of [[1, 1], [3, 7], [150, 10], [2, 1000]]) {
      const x = rand([rows, cols], seed++, -20, 20);
      const o = zeros([rows, cols]), e = zeros([rows, cols]);
      g.softmax(x, o, rows, cols); ref.softmax(x, e, rows, cols);
      close(o, e, 1e-9, 1e-6, `softmax ${rows}x${cols}`);
    }
    // transpose of every dtype; cast between float32, int32 and uint8
    for (const [shape, perm] of [[[7], [0]], [[3, 150], [1, 0]], [[2, 3, 5], [2, 0, 1]], [[4, 1, 3, 2, 5], [4, 2, 0, 3, 1]], [[65, 67], [1, 0]]]) {
      for (const dtype of ['float32', 'int32', 'uint8', 'float64']) {
        let x = rand(shape, seed++);
        if (dtype !== 'float32') { const xi = zeros(shape, dtype); ref.cast(rand(shape, seed++, 0, 250), xi); x = xi; }
        const os = perm.map((p) => shape[p]);
        const o = zeros(os, dtype), e = zeros(os, dtype);
        g.transpose(x, o, perm); ref.transpose(x, e, perm);
        close(o, e, 0, 0, `transpose ${JSON.stringify(shape)} ${JSON.stringify(perm)} ${dtype}`);
      }
    }
    const vals = [0, 0.5, -0.5, 1.9999, -1.9999, 254.7, 255.5, 256, -3, 1e10, -1e10, 3e9, NaN, Infinity, -Infinity, 123456.789, 16777217.5];
    for (const from of ['float32', 'int32', 'uint8']) for (const to of ['float32', 'int32', 'uint8']) {
      const src = zeros([vals.length * 3 + 2], from);
      const v = src.view();
      for (let i = 0; i < v.length; i++) v[i] = vals[i % vals.length];
      const o = zeros([v.length], to), e = zeros([v.length], to);
      g.cast(src, o); ref.cast(src, e);
      close(o, e, 0, 0, `cast ${from} -> ${to}`);
    }
    // matmul: transposes, accumulate, split-K
    for (const [m, n, k] of [[1, 1, 1], [3, 7, 5], [7, 3, 150], [33, 67, 19], [65, 9, 130], [5, 3, 2000], [2, 2, 0]]) {
      for (const transA of [false, true]) for (const transB of [false, true]) for (const accumulate of [false, true]) {
        const a = rand(transA ? [k, m] : [m, k], seed++), b = rand(transB ? [n, k] : [k, n], seed++);
        const init = rand([m, n], seed++);
        const o = init.clone(), e = init.clone();
        const p = { m, n, k, transA, transB, accumulate };
        g.matmul(a, b, o, p); ref.matmul(a, b, e, p);
        close(o, e, 1e-6 * k + 1e-6, 1e-5, `matmul ${m}x${n}x${k} transA=${transA} transB=${transB} acc=${accumulate}`);
      }
    }
    // conv2d forward (bias, fused activation), input and filter gradients
    const CONVS = [
      convParams(1, 1, 1, 1, 1, 1, 1, [1, 1], [1, 1], false),
      convParams(2, 7, 9, 3, 5, 3, 3, [1, 1], [1, 1], true, 'relu'),
      convParams(1, 10, 7, 5, 11, 3, 2, [2, 1], [1, 1], true, 'sigmoid'),
      convParams(2, 9, 11, 4, 7, 2, 3, [1, 1], [2, 3], true, 'tanh'),
      convParams(1, 12, 13, 6, 9, 3, 3, [3, 2], [1, 1], false, 'elu', 0.7),
      convParams(1, 11, 9, 7, 3, 5, 4, [2, 3], [1, 1], true, 'relu6'),
      convParams(2, 5, 8, 3, 24, 3, 3, [1, 1], [1, 1], true, 'sigmoid'),
      convParams(1, 5, 4, 70, 8, 3, 3, [1, 1], [1, 1], true, 'relu'),
      convParams(2, 19, 17, 10, 70, 3, 3, [1, 1], [1, 1], true, 'relu'),
      convParams(3, 2, 3, 20, 33, 3, 3, [1, 1], [1, 1], true),
    ];
    const fmt = (p) => `${p.batch}x${p.inH}x${p.inW}x${p.inC} k${p.kH}x${p.kW}x${p.outC} s${p.strideH},${p.strideW} d${p.dilationH},${p.dilationW} ${p.activation}`;
    for (const p of CONVS) {
      const x = rand([p.batch, p.inH, p.inW, p.inC], seed++), w = rand([p.kH, p.kW, p.inC, p.outC], seed++);
      const K = p.kH * p.kW * p.inC;
      for (const wb of [true, false]) {
        const b = wb ? rand([p.outC], seed++) : null;
        const o = zeros([p.batch, p.outH, p.outW, p.outC]), e = zeros([p.batch, p.outH, p.outW, p.outC]);
        g.conv2d(x, w, b, o, p); ref.conv2d(x, w, b, e, p);
        close(o, e, 1e-6 * K + 1e-6, 1e-5, `conv2d ${fmt(p)} bias=${wb}`);
      }
      const dy = rand([p.batch, p.outH, p.outW, p.outC], seed++);
      const dx = c.full([p.batch, p.inH, p.inW, p.inC], 3), dxe = zeros([p.batch, p.inH, p.inW, p.inC]);
      g.conv2dGradInput(dy, w, dx, p); ref.conv2dGradInput(dy, w, dxe, p);
      close(dx, dxe, 1e-6 * p.kH * p.kW * p.outC + 1e-6, 1e-5, `conv2dGradInput ${fmt(p)}`);
      const dw = c.full([p.kH, p.kW, p.inC, p.outC], 3), dwe = zeros([p.kH, p.kW, p.inC, p.outC]);
      g.conv2dGradFilter(x, dy, dw, p); ref.conv2dGradFilter(x, dy, dwe, p);
      close(dw, dwe, 1e-6 * p.batch * p.outH * p.outW + 1e-6, 1e-5, `conv2dGradFilter ${fmt(p)}`);
    }
    const cp = convParams(1, 5, 5, 3, 8, 3, 3, [1, 1], [1, 1], true, 'relu');
    const xc = withNaN(rand([1, 5, 5, 3], 14), 29), wc = rand([3, 3, 3, 8], 15);
    const co = zeros([1, 5, 5, 8]), ce = zeros([1, 5, 5, 8]);
    g.conv2d(xc, wc, null, co, cp); ref.conv2d(xc, wc, null, ce, cp);
    close(co, ce, 1e-4, 1e-5, 'conv2d relu with NaN input');
    // depthwise conv and its gradients
    for (const [base, mult] of [[convParams(2, 7, 9, 3, 3, 3, 3, [1, 1], [1, 1], true, 'relu'), 1], [convParams(1, 8, 7, 4, 8, 3, 2, [2, 1], [1, 2], true, 'linear'), 2],
      [convParams(1, 6, 6, 5, 15, 2, 2, [2, 2], [1, 1], false, 'sigmoid'), 3]]) {
      const p = { ...base, depthMultiplier: mult, outC: base.inC * mult };
      const x = rand([p.batch, p.inH, p.inW, p.inC], seed++), w = rand([p.kH, p.kW, p.inC, mult], seed++), b = rand([p.outC], seed++);
      const o = zeros([p.batch, p.outH, p.outW, p.outC]), e = zeros([p.batch, p.outH, p.outW, p.outC]);
      g.depthwiseConv2d(x, w, b, o, p); ref.depthwiseConv2d(x, w, b, e, p);
      close(o, e, 1e-5, 1e-5, `depthwise ${fmt(p)} x${mult}`);
      const dy = rand([p.batch, p.outH, p.outW, p.outC], seed++);
      const dx = c.full([p.batch, p.inH, p.inW, p.inC], 3), dxe = zeros([p.batch, p.inH, p.inW, p.inC]);
      g.depthwiseConv2dGradInput(dy, w, dx, p); ref.depthwiseConv2dGradInput(dy, w, dxe, p);
      close(dx, dxe, 1e-5, 1e-5, `depthwise grad input ${fmt(p)} x${mult}`);
      const dw = c.full([p.kH, p.kW, p.inC, mult], 3), dwe = zeros([p.kH, p.kW, p.inC, mult]);
      g.depthwiseConv2dGradFilter(x, dy, dw, p); ref.depthwiseConv2dGradFilter(x, dy, dwe, p);
      close(dw, dwe, 1e-4, 1e-5, `depthwise grad filter ${fmt(p)} x${mult}`);
    }
    // pooling (ties: the first maximum wins), with NaN
    const POOLS = [poolParams(1, 1, 1, 1, [1, 1], [1, 1], false), poolParams(2, 7, 9, 3, [2, 2], [2, 2], false),
      poolParams(2, 7, 9, 3, [2, 2], [2, 2], true), poolParams(1, 10, 11, 7, [3, 3], [2, 2], true),
      poolParams(3, 8, 6, 16, [3, 2], [1, 1], false), poolParams(1, 9, 9, 15, [2, 3], [3, 2], true), poolParams(2, 9, 7, 5, [3, 3], [3, 3], false)];
    const fmtP = (p) => `${p.batch}x${p.inH}x${p.inW}x${p.channels} ${p.poolH}x${p.poolW} s${p.strideH},${p.strideW} pad${p.padTop},${p.padLeft}`;
    for (const p of POOLS) {
      const x = rand([p.batch, p.inH, p.inW, p.channels], seed++, -3, 3);
      const xv = x.view(); for (let i = 0; i < xv.length; i++) xv[i] = Math.round(xv[i]);
      const dy = rand([p.batch, p.outH, p.outW, p.channels], seed++);
      const os = [p.batch, p.outH, p.outW, p.channels], is = [p.batch, p.inH, p.inW, p.channels];
      let [o, e] = [zeros(os), zeros(os)];
      g.maxPool2d(x, o, p); ref.maxPool2d(x, e, p); close(o, e, 0, 0, `maxPool ${fmtP(p)}`);
      [o, e] = [zeros(os), zeros(os)];
      g.avgPool2d(x, o, p); ref.avgPool2d(x, e, p); close(o, e, 1e-6, 1e-6, `avgPool ${fmtP(p)}`);
      let [d, de] = [c.full(is, 5), zeros(is)];
      g.maxPool2dGrad(x, dy, d, p); ref.maxPool2dGrad(x, dy, de, p); close(d, de, 1e-6, 1e-6, `maxPoolGrad ${fmtP(p)}`);
      [d, de] = [c.full(is, 5), zeros(is)];
      g.avgPool2dGrad(dy, d, p); ref.avgPool2dGrad(dy, de, p); close(d, de, 1e-6, 1e-6, `avgPoolGrad ${fmtP(p)}`);
    }
    {
      const p = poolParams(1, 6, 6, 5, [2, 2], [2, 2], false);
      const x = withNaN(rand([1, 6, 6, 5], 7), 11), dy = rand([1, 3, 3, 5], 8);
      const o = zeros([1, 3, 3, 5]), e = zeros([1, 3, 3, 5]);
      g.maxPool2d(x, o, p); ref.maxPool2d(x, e, p); close(o, e, 0, 0, 'maxPool with NaN');
      const d = zeros([1, 6, 6, 5]), de = zeros([1, 6, 6, 5]);
      g.maxPool2dGrad(x, dy, d, p); ref.maxPool2dGrad(x, dy, de, p); close(d, de, 0, 0, 'maxPoolGrad with NaN');
    }
    // optimizers
    for (const n of [7, 1500]) {
      const gr = rand([n], seed++);
      for (const amsgrad of [false, true]) for (const wd of [0, 0.01]) {
        const p0 = rand([n], seed++), m0 = rand([n], seed++), v0 = rand([n], seed++, 0, 1), h0 = rand([n], seed++, 0, 1);
        const [p1, m1, v1, h1] = [p0.clone(), m0.clone(), v0.clone(), h0.clone()];
        const ap = { lr: 0.01, beta1: 0.9, beta2: 0.999, epsilon: 1e-7, step: 3, weightDecay: wd, amsgrad };
        g.adamUpdate(p0, gr, m0, v0, amsgrad ? h0 : null, ap); ref.adamUpdate(p1, gr, m1, v1, amsgrad ? h1 : null, ap);
        const w = `adam amsgrad=${amsgrad} wd=${wd} n=${n}`;
        close(p0, p1, 1e-6, 1e-5, `${w} param`); close(m0, m1, 1e-7, 1e-6, `${w} m`); close(v0, v1, 1e-7, 1e-6, `${w} v`);
        if (amsgrad) close(h0, h1, 1e-7, 1e-6, `${w} vhat`);
      }
      for (const momentum of [0, 0.9]) for (const nesterov of [false, true]) {
        const p0 = rand([n], seed++), v0 = rand([n], seed++);
        const p1 = p0.clone(), v1 = v0.clone();
        const sp = { lr: 0.05, momentum, nesterov, weightDecay: 0.001 };
        g.sgdUpdate(p0, gr, v0, sp); ref.sgdUpdate(p1, gr, v1, sp);
        close(p0, p1, 1e-6, 1e-6, `sgd momentum=${momentum} nesterov=${nesterov} param`); close(v0, v1, 1e-6, 1e-6, `sgd momentum=${momentum} velocity`);
      }
      for (const centered of [false, true]) for (const momentum of [0, 0.5]) {
        const p0 = rand([n], seed++), s0 = rand([n], seed++, 0.5, 1), mo0 = rand([n], seed++), mg0 = rand([n], seed++, -0.1, 0.1);
        const [p1, s1, mo1, mg1] = [p0.clone(), s0.clone(), mo0.clone(), mg0.clone()];
        const rp = { lr: 0.01, rho: 0.9, momentum, epsilon: 1e-7, centered };
        g.rmspropUpdate(p0, gr, s0, mo0, mg0, rp); ref.rmspropUpdate(p1, gr, s1, mo1, mg1, rp);
        const w = `rmsprop centered=${centered} momentum=${momentum}`;
        close(p0, p1, 1e-6, 1e-5, `${w} param`); close(s0, s1, 1e-7, 1e-6, `${w} ms`);
        close(mo0, mo1, 1e-6, 1e-5, `${w} momentum`); close(mg0, mg1, 1e-7, 1e-6, `${w} mean gradient`);
      }
    }
    // an output that aliases its input (unary in place)
    const xi = rand([33], seed++), xe = xi.clone();
    g.unary('square', xi, xi, 0); ref.unary('square', xe, xe, 0);
    close(xi, xe, 1e-7, 2e-6, 'unary in place');
  }
  const t1 = performance.now();
  await flush();
  out.flushMs = performance.now() - t1;
  out.pipelines = g.pipelineCount;
  out.kernelMs = performance.now() - t0;
  return out;
}

/** A small conv model: trains on webgpu (the loss must fall), and its first-step loss on wasm and webgpu. */
export async function train(c) {
  const wg = await webgpu();
  const g = await wg.initWebGPU();
  if (!g) return { error: `no WebGPU: ${wg.webgpuUnavailableReason()}` };
  const N = 16, H = 10, W = 10;
  const r = new c.Rng(5);
  const xs = new Float32Array(N * H * W * 3), ys = new Float32Array(N);
  for (let i = 0; i < N; i++) {
    ys[i] = i % 2;
    for (let j = 0; j < H * W * 3; j++) xs[i * H * W * 3 + j] = r.uniform(0, 1) * 0.5 + (i % 2 ? (j % 3 === 0 ? 0.5 : 0) : (j % 3 === 2 ? 0.5 : 0));
  }
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

/** The fixture generator's counter-based uniform numbers in [-scale, scale) (as test/backend/conformance.ts). */
function hashUniform(seed, n, scale = 1) {
  const out = new Float32Array(n);
  for (let i = 0; i < n; i++) {
    let h = (Math.imul(i, 0x9e3779b1) + seed) >>> 0;
    h ^= h >>> 16; h = Math.imul(h, 0x85ebca6b) >>> 0;
    h ^= h >>> 13; h = Math.imul(h, 0xc2b2ae35) >>> 0;
    h ^= h >>> 16; h >>>= 0;
    out[i] = (h / 4294967296 * 2 - 1) * scale;
  }
  return out;
}
function f32(b64) {
  const s = atob(b64), u = new Uint8Array(s.length);
  for (let i = 0; i < s.length; i++) u[i] = s.charCodeAt(i);
  return new Float32Array(u.buffer);
}

/**
 * The PyTorch fixture of the conformance suite (test/fixtures/engine/pytorch.json): one whole
 * forward/backward step of the notebook's model at 150x150x3, batch 2, on webgpu, held to the
 * suite's tolerances (predictions and loss 1e-5 relative; each gradient's sampled entries
 * 1e-4 max|g| + 1e-3 |ref|, its sum and norm 1e-3 of the norm).
 */
export async function pytorch(c) {
  const wg = await webgpu();
  const g = await wg.initWebGPU();
  if (!g) return { error: `no WebGPU: ${wg.webgpuUnavailableReason()}` };
  const m = (await (await fetch('/test/fixtures/engine/pytorch.json')).json()).model;
  const failures = [];
  const closeTo = (a, e, atol, rtol, what) => {
    if (a.length !== e.length) { failures.push(`${what}: length ${a.length} vs ${e.length}`); return; }
    for (let i = 0; i < a.length; i++) {
      if (!(Math.abs(a[i] - e[i]) <= atol + rtol * Math.abs(e[i]))) { failures.push(`${what}: element ${i}: ${a[i]} vs PyTorch ${e[i]}`); return; }
    }
  };
  c.setBackend(g);
  const t0 = performance.now();
  try {
    const gen = (seed, shape, scale = 1) => c.tensor(hashUniform(seed, shape.reduce((a, b) => a * b, 1), scale), shape);
    c.startScope();
    const x = gen(m.x_seed, [m.batch, m.size, m.size, 3], m.x_scale);
    const y = c.tensor(m.y.map((v) => [v]));
    const params = [];
    let ch = 3, ps = 100;
    for (const f of [32, 64, 128, 64]) { params.push(gen(ps, [3, 3, ch, f], Math.sqrt(6 / (9 * ch))), gen(ps + 1, [f], 0.05)); ps += 2; ch = f; }
    params.push(gen(ps, [5184, 128], Math.sqrt(6 / (5184 + 128))), gen(ps + 1, [128], 0.05)); ps += 2;
    params.push(gen(ps, [128, 1], Math.sqrt(6 / 129)), gen(ps + 1, [1], 0.05));
    let pred;
    const { value, grads } = c.valueAndGrad(() => {
      let h = x;
      for (let i = 0; i < 4; i++) {
        h = c.conv2d(h, params[2 * i], { bias: params[2 * i + 1], padding: 'same', activation: 'relu' });
        h = c.maxPool2d(h, { poolSize: 2 });
      }
      const flat = h.reshape([m.batch, h.size / m.batch]);
      pred = c.dense(c.relu(c.dense(flat, params[8], params[9])), params[10], params[11], 'sigmoid');
      const pc = c.clip(pred, 1e-7, 1 - 1e-7);
      return c.neg(c.mean(c.add(c.mul(y, c.log(pc)), c.mul(c.sub(1, y), c.log(c.sub(1, pc))))));
    }, params);
    closeTo(await pred.data(), f32(m.pred), 1e-6, 1e-5, 'predictions');
    closeTo(await value.data(), [m.loss], 1e-6, 1e-5, 'loss');
    for (let i = 0; i < grads.length; i++) {
      const r = m.grads[i];
      const gv = await grads[i].data();
      const sample = f32(r.sample);
      const got = Array.from(sample, (_, j) => gv[j * r.step]);
      let gmax = 0; for (const v of sample) gmax = Math.max(gmax, Math.abs(v));
      closeTo(got, sample, 1e-4 * gmax + 1e-9, 1e-3, `grad ${i} ${JSON.stringify(r.shape)} sample`);
      let s = 0, n2 = 0; for (let j = 0; j < gv.length; j++) { s += gv[j]; n2 += gv[j] * gv[j]; }
      closeTo([s, Math.sqrt(n2)], [r.sum, r.norm], 1e-3 * r.norm + 1e-9, 1e-3, `grad ${i} sum/norm`);
    }
    c.endScope(undefined);
    return { failures, grads: grads.length, ms: performance.now() - t0 };
  } finally {
    c.setBackend('wasm');
  }
}

/** Everything above in one page (one device: pipelines compile once for all five). */
export async function all(c) {
  const out = {};
  for (const [k, f] of Object.entries({ run, storage, pytorch, train, fit })) {
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
  const r = new c.Rng(7);
  const xs = new Float32Array(N * H * W * 3), ys = new Float32Array(N);
  for (let i = 0; i < N; i++) {
    ys[i] = i % 2;
    for (let j = 0; j < H * W * 3; j++) xs[i * H * W * 3 + j] = r.uniform(0, 1) * 0.5 + (i % 2 ? (j % 3 === 0 ? 0.5 : 0) : (j % 3 === 2 ? 0.5 : 0));
  }
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
