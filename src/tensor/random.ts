/**
 * Seeded random numbers: xoshiro128** seeded through splitmix32. `setSeed(n)` makes every later
 * random draw (initializers, dropout, shuffling) repeat exactly.
 */
/** An Rng's state as `getState` returns it: xoshiro128**'s four words and the pending normal draw or null. */
export type RngState = [number, number, number, number, number | null];

export class Rng {
  private s0 = 0; private s1 = 0; private s2 = 0; private s3 = 0;
  private spare: number | null = null;
  constructor(seed: number = Date.now()) { this.seed(seed); }

  seed(seed: number): void {
    let x = (seed >>> 0) ^ Math.floor(seed / 4294967296);
    const next = () => {
      x = (x + 0x9e3779b9) | 0;
      let z = x;
      z = Math.imul(z ^ (z >>> 16), 0x85ebca6b);
      z = Math.imul(z ^ (z >>> 13), 0xc2b2ae35);
      return (z ^ (z >>> 16)) >>> 0;
    };
    this.s0 = next(); this.s1 = next(); this.s2 = next(); this.s3 = next();
    this.spare = null;
  }

  /** Uniform 32-bit unsigned integer. */
  nextU32(): number {
    const r = Math.imul(rotl(Math.imul(this.s1, 5), 7), 9) >>> 0;
    const t = this.s1 << 9;
    this.s2 ^= this.s0; this.s3 ^= this.s1; this.s1 ^= this.s2; this.s0 ^= this.s3;
    this.s2 ^= t; this.s3 = rotl(this.s3, 11);
    return r;
  }
  /** Uniform in [0, 1). */
  random(): number { return this.nextU32() / 4294967296; }
  uniform(lo: number, hi: number): number { return lo + (hi - lo) * this.random(); }
  /** Integer in [0, n). */
  int(n: number): number { return Math.floor(this.random() * n); }
  /** Standard normal (Box-Muller). */
  normal(): number {
    if (this.spare !== null) { const s = this.spare; this.spare = null; return s; }
    let u = 0;
    while (u === 0) u = this.random();
    const v = this.random();
    const r = Math.sqrt(-2 * Math.log(u));
    this.spare = r * Math.sin(2 * Math.PI * v);
    return r * Math.cos(2 * Math.PI * v);
  }
  /** Normal truncated to two standard deviations (Keras's TruncatedNormal). */
  truncatedNormal(): number {
    for (;;) { const x = this.normal(); if (x >= -2 && x <= 2) return x; }
  }
  /** Fisher-Yates shuffle in place. */
  shuffle<T>(a: T[] | Int32Array | Uint32Array): void {
    for (let i = a.length - 1; i > 0; i--) {
      const j = this.int(i + 1);
      const t = a[i]; a[i] = a[j]; a[j] = t as any;
    }
  }
  /** A permutation of 0..n-1. */
  permutation(n: number): Int32Array {
    const p = new Int32Array(n);
    for (let i = 0; i < n; i++) p[i] = i;
    this.shuffle(p);
    return p;
  }
  /**
   * The generator's whole state: xoshiro128**'s four 32-bit words and Box-Muller's spare normal draw
   * (null when none is pending). A plain JSON-able array; `setState` on any Rng continues the stream
   * exactly where this one stood.
   */
  getState(): RngState { return [this.s0, this.s1, this.s2, this.s3, this.spare]; }
  /** Puts back a state from `getState` (a copy: later draws do not change the array). */
  setState(state: RngState): void {
    const ok = Array.isArray(state) && state.length === 5
      && state.slice(0, 4).every((w) => Number.isInteger(w) && (w as number) >= -2147483648 && (w as number) <= 4294967295)
      && (state[4] === null || Number.isFinite(state[4]))
      && state.slice(0, 4).some((w) => w !== 0);
    if (!ok) {
      throw new Error(`Rng.setState: expected [s0, s1, s2, s3, spare] as returned by getState() (four 32-bit integers, not all zero, and a finite number or null), got ${JSON.stringify(state)}`);
    }
    [this.s0, this.s1, this.s2, this.s3] = state as number[];
    this.spare = state[4];
  }
  /** A new generator whose stream depends only on this one's next draw. */
  fork(): Rng { return new Rng(this.nextU32()); }
}

function rotl(x: number, k: number): number { return ((x << k) | (x >>> (32 - k))) >>> 0; }

let globalRng = new Rng(Date.now());
let globalSeed: number | undefined;

/** Seeds the global generator: initializers, dropout and shuffles become repeatable. */
export function setSeed(seed: number): void {
  if (!Number.isFinite(seed)) throw new RangeError(`convnet: setSeed: seed must be a finite number, got ${seed}`);
  globalSeed = seed;
  globalRng = new Rng(seed);
}
export function getSeed(): number | undefined { return globalSeed; }
/** The global generator (seeded by setSeed). */
export function rng(): Rng { return globalRng; }
/** A generator for a given seed, or a fork of the global one when the seed is undefined. */
export function rngFor(seed?: number | null): Rng {
  return seed === undefined || seed === null ? globalRng.fork() : new Rng(seed);
}
