// The GEMM engine: C (+)= A * B with A read as rows (row stride lda bytes) and B packed in
// panels of NR columns, computed by the 4x8 f32x4 register-blocked micro-kernel (micro.ts).
// matmul and every convolution (through im2col tiles) run on `gemmBlock`.
import { micro4x8 } from './micro';
import { pi, pu, pf, partStart, actRows, A_RELU } from './common';

import { MR, NR, KC, MC, NC } from './constants';
import { Matmul } from './params';
export { MR, NR, KC, MC, NC };

/**
 * Packs B rows [pc, pc+kc) and columns [n0, n1) into panels of NR columns (zero-padded):
 * element (kk, j) is read at b + kk*rs + j*cs (bytes), written at dst + panel*kc*NR + kk*NR + jj.
 */
export function packB(b: usize, rs: usize, cs: usize, pc: i32, kc: i32, n0: i32, n1: i32, dst: usize): void {
  for (let j = n0; j < n1; j += NR) {
    const jw = min(NR, n1 - j);
    let src = b + <usize>pc * rs + <usize>j * cs;
    if (jw == NR && cs == 4) {
      for (let kk = 0; kk < kc; kk++) {
        v128.store(dst, v128.load(src));
        v128.store(dst, v128.load(src, 16), 16);
        src += rs; dst += NR << 2;
      }
    } else {
      for (let kk = 0; kk < kc; kk++) {
        for (let jj = 0; jj < NR; jj++) {
          let v: f32 = 0;
          if (jj < jw) v = load<f32>(src + <usize>jj * cs);
          store<f32>(dst + (<usize>jj << 2), v);
        }
        src += rs; dst += NR << 2;
      }
    }
  }
}

/**
 * C[0..mc, n0..n1) (+)= A[0..mc, 0..kc) * B where A's rows start at a (stride lda bytes) and B is
 * packed from column n0 (pb; panels pstride bytes apart). `beta` accumulates into C; `bias` (pointer to bias[0], or 0) and
 * relu are applied on the way out. `tile` is 128 bytes of scratch for edge tiles.
 */
export function gemmBlock(mc: i32, kc: i32, a: usize, lda: usize, pb: usize, pstride: usize, n0: i32, n1: i32,
  c: usize, ldc: usize, beta: i32, bias: usize, relu: i32, tile: usize): void {
  for (let j = n0; j < n1; j += NR) {
    const jw = min(NR, n1 - j);
    const pbj = pb + <usize>((j - n0) / NR) * pstride;
    const bj = bias ? bias + (<usize>j << 2) : 0;
    for (let i = 0; i < mc; i += MR) {
      const iw = min(MR, mc - i);
      const a0 = a + <usize>i * lda;
      // Rows past the edge repeat the last row: always inside A; their results are dropped.
      const a1 = iw > 1 ? a0 + lda : a0;
      const a2 = iw > 2 ? a0 + 2 * lda : a1;
      const a3 = iw > 3 ? a0 + 3 * lda : a2;
      const cij = c + <usize>i * ldc + (<usize>j << 2);
      if (iw == MR && jw == NR) {
        micro4x8(kc, a0, a1, a2, a3, pbj, cij, ldc, beta, bj, relu);
      } else {
        micro4x8(kc, a0, a1, a2, a3, pbj, tile, NR << 2, 0, 0, 0);
        for (let r = 0; r < iw; r++) {
          for (let q = 0; q < jw; q++) {
            const dst = cij + <usize>r * ldc + (<usize>q << 2);
            let v = load<f32>(tile + (<usize>(r * NR + q) << 2));
            if (beta) v += load<f32>(dst);
            if (bj) v += load<f32>(bj + (<usize>q << 2));
            if (relu) v = v < 0 ? 0 : v; // NaN stays NaN, as the micro-kernel's pmax(v, 0)
            store<f32>(dst, v);
          }
        }
      }
    }
  }
}

/** Bytes of per-thread scratch `k_matmul` needs. */
export const MATMUL_SCRATCH: i32 = (KC * NC + MC * KC + 64) * 4;

/**
 * out[m, n] (+)= opA(a) * opB(b). Parameter block: Matmul (SPLIT_N: parts split n,
 * else m).
 */
export function k_matmul(p: usize, part: i32, parts: i32): void {
  const m = pi(p, Matmul.M), n = pi(p, Matmul.N), k = pi(p, Matmul.K);
  const a = pu(p, Matmul.A), transA = pi(p, Matmul.TRANS_A), b = pu(p, Matmul.B), transB = pi(p, Matmul.TRANS_B), c = pu(p, Matmul.C), acc = pi(p, Matmul.ACCUMULATE);
  const scratch = pu(p, Matmul.SCRATCH) + <usize>part * pu(p, Matmul.PER_PART);
  const splitN = pi(p, Matmul.SPLIT_N);
  let m0 = 0, m1 = m, n0 = 0, n1 = n;
  if (splitN) { n0 = partStart(n, part, parts, NR); n1 = partStart(n, part + 1, parts, NR); }
  else { m0 = partStart(m, part, parts, MR); m1 = partStart(m, part + 1, parts, MR); }
  if (m0 >= m1 || n0 >= n1) return;
  const pb = scratch;
  const at = scratch + ((<usize>KC * NC) << 2);
  const tile = at + ((<usize>MC * KC) << 2);
  const ldc: usize = <usize>n << 2;
  if (k == 0) {
    if (!acc) for (let i = m0; i < m1; i++) for (let j = n0; j < n1; j++) store<f32>(c + <usize>i * ldc + (<usize>j << 2), 0);
    return;
  }
  // B[kk, j]: row-major [k, n], or [n, k] when transposed.
  const rs: usize = transB ? 4 : <usize>n << 2;
  const cs: usize = transB ? <usize>k << 2 : 4;
  for (let jc = n0; jc < n1; jc += NC) {
    const jn = min(n1, jc + NC);
    for (let pc = 0; pc < k; pc += KC) {
      const kc = min(KC, k - pc);
      packB(b, rs, cs, pc, kc, jc, jn, pb);
      for (let ic = m0; ic < m1; ic += MC) {
        const mc = min(MC, m1 - ic);
        let arow: usize, lda: usize;
        if (transA) {
          // A is [k, m]: copy the block transposed into rows of kc floats.
          for (let kk = 0; kk < kc; kk++) {
            const src = a + ((<usize>(pc + kk) * m + ic) << 2);
            for (let i = 0; i < mc; i++) store<f32>(at + ((<usize>i * kc + kk) << 2), load<f32>(src + (<usize>i << 2)));
          }
          arow = at; lda = <usize>kc << 2;
        } else {
          arow = a + ((<usize>ic * k + pc) << 2); lda = <usize>k << 2;
        }
        gemmBlock(mc, kc, arow, lda, pb, (<usize>kc * NR) << 2, jc, jn, c + <usize>ic * ldc, ldc, (pc > 0 || acc) ? 1 : 0, 0, 0, tile);
      }
    }
  }
}
