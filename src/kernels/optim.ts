// Optimizer updates over whole parameter tensors, in place, as in src/backend/reference.ts.
import { pi, pu, pf, partStart } from './common';
import { Adam, Rmsprop, Sgd } from './params';

/**
 * Adam(W): m += (g - m)(1 - b1); v += (g^2 - v)(1 - b2); p -= lrT m / (sqrt(v or vhat) + eps).
 * Parameter block: Adam.
 */
export function k_adam(p: usize, part: i32, parts: i32): void {
  const n = pi(p, Adam.N), w = pu(p, Adam.W), g = pu(p, Adam.G), m = pu(p, Adam.M), v = pu(p, Adam.V), vh = pu(p, Adam.VHAT);
  const lrT = pf(p, Adam.LR_T), c1 = pf(p, Adam.C1), c2 = pf(p, Adam.C2), eps = pf(p, Adam.EPS), wd = pf(p, Adam.WD);
  const s = partStart(n, part, parts, 16), e = partStart(n, part + 1, parts, 16);
  let i = s;
  const vlr = f32x4.splat(lrT), vc1 = f32x4.splat(c1), vc2 = f32x4.splat(c2), veps = f32x4.splat(eps), vwd = f32x4.splat(wd);
  for (; i + 4 <= e; i += 4) {
    const o: usize = <usize>i << 2;
    let pw = v128.load(w + o);
    if (wd != 0) pw = f32x4.sub(pw, f32x4.mul(pw, vwd));
    const gv = v128.load(g + o);
    let mv = v128.load(m + o), vv = v128.load(v + o);
    mv = f32x4.add(mv, f32x4.mul(f32x4.sub(gv, mv), vc1));
    vv = f32x4.add(vv, f32x4.mul(f32x4.sub(f32x4.mul(gv, gv), vv), vc2));
    v128.store(m + o, mv); v128.store(v + o, vv);
    let vu = vv;
    if (vh) { vu = f32x4.max(v128.load(vh + o), vv); v128.store(vh + o, vu); }
    pw = f32x4.sub(pw, f32x4.div(f32x4.mul(vlr, mv), f32x4.add(f32x4.sqrt(vu), veps)));
    v128.store(w + o, pw);
  }
  for (; i < e; i++) {
    const o: usize = <usize>i << 2;
    let pw = load<f32>(w + o);
    if (wd != 0) pw -= pw * wd;
    const gv = load<f32>(g + o);
    let mv = load<f32>(m + o), vv = load<f32>(v + o);
    mv += (gv - mv) * c1;
    vv += (gv * gv - vv) * c2;
    store<f32>(m + o, mv); store<f32>(v + o, vv);
    let vu = vv;
    if (vh) { vu = max(load<f32>(vh + o), vv); store<f32>(vh + o, vu); }
    store<f32>(w + o, pw - lrT * mv / (Mathf.sqrt(vu) + eps));
  }
}

/**
 * SGD with momentum: v = mu v - lr g; p += nesterov ? mu v - lr g : v (p -= lr g without velocity).
 * Parameter block: Sgd.
 */
export function k_sgd(p: usize, part: i32, parts: i32): void {
  const n = pi(p, Sgd.N), w = pu(p, Sgd.W), g = pu(p, Sgd.G), vel = pu(p, Sgd.VEL);
  const lr = pf(p, Sgd.LR), mu = pf(p, Sgd.MOMENTUM), nesterov = pi(p, Sgd.NESTEROV), wd = pf(p, Sgd.WD);
  const s = partStart(n, part, parts, 16), e = partStart(n, part + 1, parts, 16);
  const useVel = vel != 0 && mu != 0;
  for (let i = s; i < e; i++) {
    const o: usize = <usize>i << 2;
    let pw = load<f32>(w + o);
    if (wd != 0) pw -= pw * wd;
    const gv = load<f32>(g + o);
    if (useVel) {
      const v = mu * load<f32>(vel + o) - lr * gv;
      store<f32>(vel + o, v);
      pw += nesterov ? mu * v - lr * gv : v;
    } else pw -= lr * gv;
    store<f32>(w + o, pw);
  }
}

/**
 * RMSprop: ms = rho ms + (1-rho) g^2; (centered: mg = rho mg + (1-rho) g, den = ms - mg^2);
 * inc = lr g / sqrt(den + eps); with momentum: mom = mu mom + inc, p -= mom; else p -= inc.
 * Parameter block: Rmsprop.
 */
export function k_rmsprop(p: usize, part: i32, parts: i32): void {
  const n = pi(p, Rmsprop.N), w = pu(p, Rmsprop.W), g = pu(p, Rmsprop.G), ms = pu(p, Rmsprop.MS), mom = pu(p, Rmsprop.MOM), mg = pu(p, Rmsprop.MG);
  const lr = pf(p, Rmsprop.LR), rho = pf(p, Rmsprop.RHO), mu = pf(p, Rmsprop.MOMENTUM), eps = pf(p, Rmsprop.EPS), centered = pi(p, Rmsprop.CENTERED);
  const s = partStart(n, part, parts, 16), e = partStart(n, part + 1, parts, 16);
  for (let i = s; i < e; i++) {
    const o: usize = <usize>i << 2;
    const gv = load<f32>(g + o);
    const sv = rho * load<f32>(ms + o) + (1 - rho) * gv * gv;
    store<f32>(ms + o, sv);
    let den = sv;
    if (centered && mg) {
      const av = rho * load<f32>(mg + o) + (1 - rho) * gv;
      store<f32>(mg + o, av);
      den -= av * av;
    }
    const inc = lr * gv / Mathf.sqrt(den + eps);
    if (mom && mu > 0) {
      const mv = mu * load<f32>(mom + o) + inc;
      store<f32>(mom + o, mv);
      store<f32>(w + o, load<f32>(w + o) - mv);
    } else store<f32>(w + o, load<f32>(w + o) - inc);
  }
}
