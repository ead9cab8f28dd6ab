/**
 * Casts to and from float64 on webgpu. WGSL has no f64, so a float64 element is its two 32-bit words
 * (low, high, as in memory) and the conversions work on the IEEE bits: float32 -> float64 and
 * int32/uint8 -> float64 are exact; float64 -> float32 rounds to nearest even (subnormals, overflow to
 * infinity, NaN kept NaN); float64 -> int32 truncates and wraps modulo 2^32 as JavaScript's ToInt32
 * (NaN and infinities give 0); float64 -> uint8 truncates and saturates (NaN gives 0). These are the
 * reference backend's typed-array conversions, bit for bit.
 */
import { PRELUDE, MAIN, io, packBytes, type GpuDType } from './wgsl.js';

const F64 = /* wgsl */ `
// (lo, hi) shifted by s in [0, 63].
fn shl64_(lo: u32, hi: u32, s: u32) -> vec2<u32> {
  if (s == 0u) { return vec2<u32>(lo, hi); }
  if (s >= 32u) { return vec2<u32>(0u, lo << (s - 32u)); }
  return vec2<u32>(lo << s, (hi << s) | (lo >> (32u - s)));
}
fn shr64_(lo: u32, hi: u32, s: u32) -> vec2<u32> {
  if (s == 0u) { return vec2<u32>(lo, hi); }
  if (s >= 32u) { return vec2<u32>(hi >> (s - 32u), 0u); }
  return vec2<u32>((lo >> s) | (hi << (32u - s)), hi >> s);
}
// The float64 of an integer magnitude a with a sign.
fn f64FromU32_(a: u32, neg: bool) -> vec2<u32> {
  let s = select(0u, 0x80000000u, neg);
  if (a == 0u) { return vec2<u32>(0u, s); }
  let p = 31u - countLeadingZeros(a);
  let m = shl64_(a ^ (1u << p), 0u, 52u - p);
  return vec2<u32>(m.x, m.y | ((p + 1023u) << 20u) | s);
}
fn f64FromF32_(b: u32) -> vec2<u32> {
  let s = b & 0x80000000u;
  let e = (b >> 23u) & 0xffu;
  let m = b & 0x7fffffu;
  if (e == 0xffu) { return vec2<u32>(m << 29u, s | 0x7ff00000u | (m >> 3u)); }
  if (e == 0u) {
    if (m == 0u) { return vec2<u32>(0u, s); }
    // subnormal: m * 2^-149, normalised
    let p = 31u - countLeadingZeros(m);
    let r = shl64_(m ^ (1u << p), 0u, 52u - p);
    return vec2<u32>(r.x, r.y | ((p + 874u) << 20u) | s);
  }
  return vec2<u32>(m << 29u, s | ((e + 896u) << 20u) | (m >> 3u));
}
fn f32FromF64_(lo: u32, hi: u32) -> u32 {
  let s = hi & 0x80000000u;
  let E = (hi >> 20u) & 0x7ffu;
  let mh = hi & 0xfffffu;
  if (E == 0x7ffu) {
    if ((mh | lo) != 0u) { return s | 0x7fc00000u | (mh << 3u) | (lo >> 29u); }
    return s | 0x7f800000u;
  }
  if (E == 0u) { return s; }
  var m23 = (mh << 3u) | (lo >> 29u);
  let rest = lo & 0x1fffffffu;
  let e32 = i32(E) - 896;
  if (e32 >= 255) { return s | 0x7f800000u; }
  if (e32 >= 1) {
    if (rest > 0x10000000u || (rest == 0x10000000u && (m23 & 1u) == 1u)) { m23 = m23 + 1u; }
    // a carry out of the mantissa moves into the exponent (up to infinity)
    return s | ((u32(e32) << 23u) + m23);
  }
  let sh = u32(1 - e32);
  if (sh > 24u) { return s; }
  let sig = m23 | 0x800000u;
  let q = sig >> sh;
  let r = sig & ((1u << sh) - 1u);
  let half = 1u << (sh - 1u);
  if (r > half || (r == half && (rest != 0u || (q & 1u) == 1u))) { return s | (q + 1u); }
  return s | q;
}
fn i32FromF64_(lo: u32, hi: u32) -> u32 {
  let E = (hi >> 20u) & 0x7ffu;
  if (E == 0x7ffu || E < 1023u) { return 0u; }
  let e = E - 1023u;
  let sh = (hi & 0xfffffu) | 0x100000u;
  var mag = 0u;
  if (e < 52u) { mag = shr64_(lo, sh, 52u - e).x; }
  else if (e < 84u) { mag = shl64_(lo, sh, e - 52u).x; }
  return select(mag, 0u - mag, (hi & 0x80000000u) != 0u);
}
fn u8FromF64_(lo: u32, hi: u32) -> u32 {
  let E = (hi >> 20u) & 0x7ffu;
  if (E == 0x7ffu && ((hi & 0xfffffu) | lo) != 0u) { return 0u; }
  if ((hi & 0x80000000u) != 0u) { return 0u; }
  if (E >= 1031u) { return 255u; }
  return min(i32FromF64_(lo, hi), 255u);
}`;

/** params: [n]. One float64 <-> float32/int32/uint8 cast (float64 -> float64 is a copy). */
export function castF64Shader(from: GpuDType | 'float64', to: GpuDType | 'float64'): string {
  const head = `${PRELUDE}${F64}
${io('u32')}
${MAIN} {`;
  if (to === 'float64') {
    const conv = from === 'float32' ? 'f64FromF32_(X[i])'
      : from === 'int32' ? 'f64FromU32_(select(X[i], 0u - X[i], (X[i] & 0x80000000u) != 0u), (X[i] & 0x80000000u) != 0u)'
        : 'f64FromU32_((X[i / 4u] >> (8u * (i % 4u))) & 255u, false)';
    return `${head}
  let i = gid(wid, nwg, li);
  if (i >= pu(0u)) { return; }
  let d = ${conv};
  O[2u * i] = d.x;
  O[2u * i + 1u] = d.y;
}`;
  }
  if (to === 'uint8') return `${head}${packBytes('u8FromF64_(X[2u * i], X[2u * i + 1u])')}`;
  const conv = to === 'float32' ? 'f32FromF64_' : 'i32FromF64_';
  return `${head}
  let i = gid(wid, nwg, li);
  if (i >= pu(0u)) { return; }
  O[i] = ${conv}(X[2u * i], X[2u * i + 1u]);
}`;
}
