/**
 * The reference backend: every primitive written as plainly as possible in TypeScript.
 * It is the oracle the fast backends are tested against, and the fallback where WebAssembly
 * SIMD is missing. Clarity over speed.
 */
import type {
  Backend, UnaryOp, Activation, BinaryOp, ReduceOp, BroadcastParams, MatMulParams, Conv2DParams,
  Pool2DParams, AdamParams, SGDParams, RMSpropParams, DepthwiseConv2DParams,
} from './backend.js';
import type { Tensor } from '../tensor/tensor.js';
import { unaryFn, unaryGradFn } from './activations.js';
import { HeapStorage } from './heap-storage.js';

function binaryFn(op: BinaryOp): (a: number, b: number) => number {
  switch (op) {
    case 'add': return (a, b) => a + b;
    case 'sub': return (a, b) => a - b;
    case 'mul': return (a, b) => a * b;
    case 'div': return (a, b) => a / b;
    case 'max': return (a, b) => (a >= b || Number.isNaN(a) ? a : b);
    case 'min': return (a, b) => (a <= b || Number.isNaN(a) ? a : b);
    case 'pow': return Math.pow;
    case 'greater': return (a, b) => (a > b ? 1 : 0);
    case 'less': return (a, b) => (a < b ? 1 : 0);
    case 'equal': return (a, b) => (a === b ? 1 : 0);
  }
}

export class ReferenceBackend extends HeapStorage implements Backend {
  readonly name = 'reference';
  get threads(): number { return 1; }
  setThreads(_n: number): void { /* single-threaded by design */ }

  unary(op: UnaryOp, x: Tensor, out: Tensor, alpha: number): void {
    const f = unaryFn(op, alpha);
    const xv = x.view(), ov = out.view();
    for (let i = 0; i < xv.length; i++) ov[i] = f(xv[i]);
  }

  unaryGrad(op: Activation, x: Tensor, y: Tensor, dy: Tensor, dx: Tensor, alpha: number): void {
    const g = unaryGradFn(op, alpha);
    const xv = x.view(), yv = y.view(), dyv = dy.view(), dxv = dx.view();
    for (let i = 0; i < dxv.length; i++) dxv[i] = dyv[i] * g(xv[i], yv[i]);
  }

  binary(op: BinaryOp, a: Tensor, b: Tensor, out: Tensor, p: BroadcastParams): void {
    const f = binaryFn(op);
    const av = a.view(), bv = b.view(), ov = out.view();
    const shape = p.outShape, rank = shape.length;
    const idx = new Array(rank).fill(0);
    let ai = 0, bi = 0;
    for (let i = 0; i < ov.length; i++) {
      ov[i] = f(av[ai], bv[bi]);
      for (let d = rank - 1; d >= 0; d--) {
        idx[d]++;
        ai += p.aStrides[d]; bi += p.bStrides[d];
        if (idx[d] < shape[d]) break;
        ai -= p.aStrides[d] * shape[d]; bi -= p.bStrides[d] * shape[d];
        idx[d] = 0;
      }
    }
  }

  binaryScalar(op: BinaryOp, x: Tensor, s: number, out: Tensor, reverse: boolean): void {
    const f = binaryFn(op);
    const xv = x.view(), ov = out.view();
    if (reverse) for (let i = 0; i < xv.length; i++) ov[i] = f(s, xv[i]);
    else for (let i = 0; i < xv.length; i++) ov[i] = f(xv[i], s);
  }

  reduce(op: ReduceOp, x: Tensor, out: Tensor, outer: number, n: number, inner: number): void {
    const xv = x.view(), ov = out.view();
    for (let o = 0; o < outer; o++) {
      for (let i = 0; i < inner; i++) {
        let acc = op === 'max' ? -Infinity : op === 'min' ? Infinity : op === 'prod' ? 1 : 0;
        for (let j = 0; j < n; j++) {
          const v = xv[(o * n + j) * inner + i];
          if (op === 'max') acc = v > acc || Number.isNaN(v) ? v : acc;
          else if (op === 'min') acc = v < acc || Number.isNaN(v) ? v : acc;
          else if (op === 'prod') acc *= v;
          else acc += v;
        }
        ov[o * inner + i] = op === 'mean' ? acc / n : acc;
      }
    }
  }

  softmax(x: Tensor, out: Tensor, rows: number, cols: number): void {
    const xv = x.view(), ov = out.view();
    for (let r = 0; r < rows; r++) {
      let m = -Infinity;
      for (let c = 0; c < cols; c++) m = Math.max(m, xv[r * cols + c]);
      let s = 0;
      for (let c = 0; c < cols; c++) { const e = Math.exp(xv[r * cols + c] - m); ov[r * cols + c] = e; s += e; }
      for (let c = 0; c < cols; c++) ov[r * cols + c] /= s;
    }
  }

  transpose(x: Tensor, out: Tensor, perm: number[]): void {
    const xs = x.shape, rank = xs.length;
    const xStrides = new Array(rank);
    let s = 1;
    for (let d = rank - 1; d >= 0; d--) { xStrides[d] = s; s *= xs[d]; }
    const os = perm.map((p) => xs[p]);
    const st = perm.map((p) => xStrides[p]);
    const xv = x.view(), ov = out.view();
    const idx = new Array(rank).fill(0);
    let xi = 0;
    for (let i = 0; i < ov.length; i++) {
      ov[i] = xv[xi];
      for (let d = rank - 1; d >= 0; d--) {
        idx[d]++; xi += st[d];
        if (idx[d] < os[d]) break;
        xi -= st[d] * os[d]; idx[d] = 0;
      }
    }
  }

  cast(x: Tensor, out: Tensor): void {
    const xv = x.view(), ov = out.view();
    if (out.dtype === 'uint8') for (let i = 0; i < xv.length; i++) ov[i] = Math.min(255, Math.max(0, Math.trunc(xv[i])));
    else if (out.dtype === 'int32') for (let i = 0; i < xv.length; i++) ov[i] = Math.trunc(xv[i]);
    else ov.set(xv);
  }

  matmul(a: Tensor, b: Tensor, out: Tensor, p: MatMulParams): void {
    const av = a.view(), bv = b.view(), ov = out.view();
    const { m, n, k, transA, transB, accumulate } = p;
    for (let i = 0; i < m; i++) {
      for (let j = 0; j < n; j++) {
        let s = 0;
        for (let q = 0; q < k; q++) {
          s += av[transA ? q * m + i : i * k + q] * bv[transB ? j * k + q : q * n + j];
        }
        ov[i * n + j] = accumulate ? ov[i * n + j] + s : s;
      }
    }
  }

  biasAct(x: Tensor, bias: Tensor | null, out: Tensor, rows: number, c: number, act: Activation, alpha: number): void {
    const f = unaryFn(act, alpha);
    const xv = x.view(), ov = out.view(), bv = bias?.view();
    for (let r = 0; r < rows; r++) for (let j = 0; j < c; j++) ov[r * c + j] = f(xv[r * c + j] + (bv ? bv[j] : 0));
  }

  conv2d(x: Tensor, w: Tensor, bias: Tensor | null, out: Tensor, p: Conv2DParams): void {
    const xv = x.view(), wv = w.view(), ov = out.view(), bv = bias?.view();
    const f = unaryFn(p.activation, p.alpha);
    for (let b = 0; b < p.batch; b++) for (let oy = 0; oy < p.outH; oy++) for (let ox = 0; ox < p.outW; ox++) {
      for (let oc = 0; oc < p.outC; oc++) {
        let s = bv ? bv[oc] : 0;
        for (let ky = 0; ky < p.kH; ky++) {
          const iy = oy * p.strideH - p.padTop + ky * p.dilationH;
          if (iy < 0 || iy >= p.inH) continue;
          for (let kx = 0; kx < p.kW; kx++) {
            const ix = ox * p.strideW - p.padLeft + kx * p.dilationW;
            if (ix < 0 || ix >= p.inW) continue;
            const xo = ((b * p.inH + iy) * p.inW + ix) * p.inC;
            const wo = (ky * p.kW + kx) * p.inC * p.outC + oc;
            for (let ic = 0; ic < p.inC; ic++) s += xv[xo + ic] * wv[wo + ic * p.outC];
          }
        }
        ov[((b * p.outH + oy) * p.outW + ox) * p.outC + oc] = f(s);
      }
    }
  }

  /**
   * Calls fn(xOffset, wOffset, dyOffset) (channel 0 of each) for every output position and every kernel
   * tap that lands inside the input; a tap's weights are `wPerTap` floats (inC*outC for a conv,
   * inC*depthMultiplier for a depthwise conv).
   */
  private forEachTap(p: Conv2DParams | DepthwiseConv2DParams, wPerTap: number, fn: (xo: number, wo: number, dyo: number) => void): void {
    for (let b = 0; b < p.batch; b++) for (let oy = 0; oy < p.outH; oy++) for (let ox = 0; ox < p.outW; ox++) {
      const dyo = ((b * p.outH + oy) * p.outW + ox) * p.outC;
      for (let ky = 0; ky < p.kH; ky++) {
        const iy = oy * p.strideH - p.padTop + ky * p.dilationH;
        if (iy < 0 || iy >= p.inH) continue;
        for (let kx = 0; kx < p.kW; kx++) {
          const ix = ox * p.strideW - p.padLeft + kx * p.dilationW;
          if (ix < 0 || ix >= p.inW) continue;
          fn(((b * p.inH + iy) * p.inW + ix) * p.inC, (ky * p.kW + kx) * wPerTap, dyo);
        }
      }
    }
  }

  conv2dGradInput(dy: Tensor, w: Tensor, dx: Tensor, p: Conv2DParams): void {
    const dyv = dy.view(), wv = w.view(), dxv = dx.view();
    dxv.fill(0);
    this.forEachTap(p, p.inC * p.outC, (xo, wo, dyo) => {
      for (let ic = 0; ic < p.inC; ic++) {
        let s = 0;
        for (let oc = 0; oc < p.outC; oc++) s += dyv[dyo + oc] * wv[wo + ic * p.outC + oc];
        dxv[xo + ic] += s;
      }
    });
  }

  conv2dGradFilter(x: Tensor, dy: Tensor, dw: Tensor, p: Conv2DParams): void {
    const xv = x.view(), dyv = dy.view(), dwv = dw.view();
    dwv.fill(0);
    this.forEachTap(p, p.inC * p.outC, (xo, wo, dyo) => {
      for (let ic = 0; ic < p.inC; ic++) {
        const xval = xv[xo + ic];
        for (let oc = 0; oc < p.outC; oc++) dwv[wo + ic * p.outC + oc] += xval * dyv[dyo + oc];
      }
    });
  }

  depthwiseConv2d(x: Tensor, w: Tensor, bias: Tensor | null, out: Tensor, p: DepthwiseConv2DParams): void {
    const xv = x.view(), wv = w.view(), ov = out.view(), bv = bias?.view();
    const f = unaryFn(p.activation, p.alpha);
    const acc = new Float64Array(p.outC);
    for (let b = 0; b < p.batch; b++) for (let oy = 0; oy < p.outH; oy++) for (let ox = 0; ox < p.outW; ox++) {
      for (let o = 0; o < p.outC; o++) acc[o] = bv ? bv[o] : 0;
      for (let ky = 0; ky < p.kH; ky++) {
        const iy = oy * p.strideH - p.padTop + ky * p.dilationH;
        if (iy < 0 || iy >= p.inH) continue;
        for (let kx = 0; kx < p.kW; kx++) {
          const ix = ox * p.strideW - p.padLeft + kx * p.dilationW;
          if (ix < 0 || ix >= p.inW) continue;
          const xo = ((b * p.inH + iy) * p.inW + ix) * p.inC, wo = (ky * p.kW + kx) * p.outC;
          for (let o = 0; o < p.outC; o++) acc[o] += xv[xo + Math.floor(o / p.depthMultiplier)] * wv[wo + o];
        }
      }
      const oo = ((b * p.outH + oy) * p.outW + ox) * p.outC;
      for (let o = 0; o < p.outC; o++) ov[oo + o] = f(acc[o]);
    }
  }

  depthwiseConv2dGradInput(dy: Tensor, w: Tensor, dx: Tensor, p: DepthwiseConv2DParams): void {
    const dyv = dy.view(), wv = w.view(), dxv = dx.view(), M = p.depthMultiplier;
    dxv.fill(0);
    this.forEachTap(p, p.inC * p.depthMultiplier, (xo, wo, dyo) => {
      for (let c = 0; c < p.inC; c++) {
        let s = 0;
        for (let m = 0; m < M; m++) s += dyv[dyo + c * M + m] * wv[wo + c * M + m];
        dxv[xo + c] += s;
      }
    });
  }

  depthwiseConv2dGradFilter(x: Tensor, dy: Tensor, dw: Tensor, p: DepthwiseConv2DParams): void {
    const xv = x.view(), dyv = dy.view(), dwv = dw.view(), M = p.depthMultiplier;
    dwv.fill(0);
    this.forEachTap(p, p.inC * p.depthMultiplier, (xo, wo, dyo) => {
      for (let c = 0; c < p.inC; c++) {
        const xval = xv[xo + c];
        for (let m = 0; m < M; m++) dwv[wo + c * M + m] += xval * dyv[dyo + c * M + m];
      }
    });
  }

  private poolWindows(p: Pool2DParams, fn: (b: number, oy: number, ox: number, y0: number, y1: number, x0: number, x1: number) => void): void {
    for (let b = 0; b < p.batch; b++) for (let oy = 0; oy < p.outH; oy++) for (let ox = 0; ox < p.outW; ox++) {
      const ys = oy * p.strideH - p.padTop, xs = ox * p.strideW - p.padLeft;
      fn(b, oy, ox, Math.max(ys, 0), Math.min(ys + p.poolH, p.inH), Math.max(xs, 0), Math.min(xs + p.poolW, p.inW));
    }
  }

  maxPool2d(x: Tensor, out: Tensor, p: Pool2DParams): void {
    const xv = x.view(), ov = out.view(), C = p.channels;
    this.poolWindows(p, (b, oy, ox, y0, y1, x0, x1) => {
      for (let c = 0; c < C; c++) {
        let m = -Infinity;
        for (let y = y0; y < y1; y++) for (let xx = x0; xx < x1; xx++) {
          const v = xv[((b * p.inH + y) * p.inW + xx) * C + c];
          if (v > m || Number.isNaN(v)) m = v;
        }
        ov[((b * p.outH + oy) * p.outW + ox) * C + c] = m;
      }
    });
  }

  maxPool2dGrad(x: Tensor, dy: Tensor, dx: Tensor, p: Pool2DParams): void {
    const xv = x.view(), dyv = dy.view(), dxv = dx.view(), C = p.channels;
    dxv.fill(0);
    this.poolWindows(p, (b, oy, ox, y0, y1, x0, x1) => {
      for (let c = 0; c < C; c++) {
        let m = -Infinity, at = -1;
        for (let y = y0; y < y1; y++) for (let xx = x0; xx < x1; xx++) {
          const i = ((b * p.inH + y) * p.inW + xx) * C + c;
          // The element the forward pass returned: the first NaN of the window, else its first maximum.
          if (at < 0 || ((xv[i] > m || xv[i] !== xv[i]) && m === m)) { m = xv[i]; at = i; }
        }
        if (at >= 0) dxv[at] += dyv[((b * p.outH + oy) * p.outW + ox) * C + c];
      }
    });
  }

  maxPool2dGradRelu(x: Tensor, dy: Tensor, dx: Tensor, p: Pool2DParams): void {
    this.maxPool2dGrad(x, dy, dx, p);
    const xv = x.view(), dxv = dx.view();
    for (let i = 0; i < dxv.length; i++) {
      const v = xv[i], d = dxv[i];
      dxv[i] = v > 0 ? d : v !== v ? v : 0 * d;
    }
  }

  avgPool2d(x: Tensor, out: Tensor, p: Pool2DParams): void {
    const xv = x.view(), ov = out.view(), C = p.channels;
    this.poolWindows(p, (b, oy, ox, y0, y1, x0, x1) => {
      const cnt = (y1 - y0) * (x1 - x0);
      for (let c = 0; c < C; c++) {
        let s = 0;
        for (let y = y0; y < y1; y++) for (let xx = x0; xx < x1; xx++) s += xv[((b * p.inH + y) * p.inW + xx) * C + c];
        ov[((b * p.outH + oy) * p.outW + ox) * C + c] = s / cnt;
      }
    });
  }

  avgPool2dGrad(dy: Tensor, dx: Tensor, p: Pool2DParams): void {
    const dyv = dy.view(), dxv = dx.view(), C = p.channels;
    dxv.fill(0);
    this.poolWindows(p, (b, oy, ox, y0, y1, x0, x1) => {
      const cnt = (y1 - y0) * (x1 - x0);
      for (let c = 0; c < C; c++) {
        const g = dyv[((b * p.outH + oy) * p.outW + ox) * C + c] / cnt;
        for (let y = y0; y < y1; y++) for (let xx = x0; xx < x1; xx++) dxv[((b * p.inH + y) * p.inW + xx) * C + c] += g;
      }
    });
  }

  adamUpdate(param: Tensor, grad: Tensor, m: Tensor, v: Tensor, vhat: Tensor | null, p: AdamParams): void {
    const pv = param.f32(), gv = grad.f32(), mv = m.f32(), vv = v.f32(), hv = vhat?.f32();
    const lrT = p.lr * Math.sqrt(1 - Math.pow(p.beta2, p.step)) / (1 - Math.pow(p.beta1, p.step));
    for (let i = 0; i < pv.length; i++) {
      if (p.weightDecay) pv[i] -= pv[i] * p.weightDecay * p.lr;
      const g = gv[i];
      mv[i] += (g - mv[i]) * (1 - p.beta1);
      vv[i] += (g * g - vv[i]) * (1 - p.beta2);
      let vu = vv[i];
      if (hv) { hv[i] = Math.max(hv[i], vv[i]); vu = hv[i]; }
      pv[i] -= lrT * mv[i] / (Math.sqrt(vu) + p.epsilon);
    }
  }

  sgdUpdate(param: Tensor, grad: Tensor, velocity: Tensor | null, p: SGDParams): void {
    const pv = param.f32(), gv = grad.f32(), vv = velocity?.f32();
    for (let i = 0; i < pv.length; i++) {
      if (p.weightDecay) pv[i] -= pv[i] * p.weightDecay * p.lr;
      const g = gv[i];
      if (vv && p.momentum) {
        vv[i] = p.momentum * vv[i] - p.lr * g;
        pv[i] += p.nesterov ? p.momentum * vv[i] - p.lr * g : vv[i];
      } else {
        pv[i] -= p.lr * g;
      }
    }
  }

  rmspropUpdate(param: Tensor, grad: Tensor, ms: Tensor, mom: Tensor | null, mg: Tensor | null, p: RMSpropParams): void {
    const pv = param.f32(), gv = grad.f32(), sv = ms.f32(), mv = mom?.f32(), av = mg?.f32();
    for (let i = 0; i < pv.length; i++) {
      const g = gv[i];
      sv[i] = p.rho * sv[i] + (1 - p.rho) * g * g;
      let den = sv[i];
      if (p.centered && av) { av[i] = p.rho * av[i] + (1 - p.rho) * g; den -= av[i] * av[i]; }
      const inc = p.lr * g / Math.sqrt(den + p.epsilon);
      if (mv && p.momentum > 0) { mv[i] = p.momentum * mv[i] + inc; pv[i] -= mv[i]; } else pv[i] -= inc;
    }
  }
}
