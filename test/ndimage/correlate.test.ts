import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { correlate, convolve, ndimageWasmAvailable, ndimageWasmCalls, setNdimageParts, setNdimageWasm } from '../../src/ops/ndimage.js';
import type { NdMode } from '../../src/ops/ndimage.js';
import { tensor } from '../../src/tensor/index.js';
import type { DType } from '../../src/tensor/index.js';

interface Case {
  op: 'correlate' | 'convolve'; dtype: DType; shape: number[]; weights: number[]; wshape: number[];
  mode: NdMode; cval: number; origin: number | number[]; seed: number; output?: DType; out_dtype: DType; expected: string;
}
const fixtures = JSON.parse(readFileSync(new URL('../fixtures/ndimage/correlate.json', import.meta.url), 'utf8')) as { scipy: string; cases: Case[] };

/** The fixture generator's LCG (make_fixtures.py): inputs are drawn, not stored. */
function lcgValues(seed: number, n: number, dtype: DType): number[] {
  let x = seed >>> 0;
  const out: number[] = [];
  for (let i = 0; i < n; i++) {
    x = (Math.imul(1664525, x) + 1013904223) >>> 0;
    if (dtype === 'uint8') out.push(x >>> 24);
    else if (dtype === 'int32') out.push((x >>> 16) - 32768);
    else out.push(((x >>> 8) - (1 << 23)) / (1 << 20));
  }
  return out;
}

function decode(b64: string, dtype: DType): ArrayLike<number> {
  const buf = Buffer.from(b64, 'base64');
  const ab = buf.buffer.slice(buf.byteOffset, buf.byteOffset + buf.byteLength);
  switch (dtype) {
    case 'float32': return new Float32Array(ab);
    case 'float64': return new Float64Array(ab);
    case 'int32': return new Int32Array(ab);
    case 'uint8': return new Uint8Array(ab);
  }
}

function runCases(label: string, wasm: boolean, parts = 1): void {
  test(`${label}: ${fixtures.cases.length} random cases match scipy ${fixtures.scipy} bit for bit`, () => {
    setNdimageWasm(wasm);
    setNdimageParts(parts);
    const calls0 = ndimageWasmCalls();
    let failures = 0;
    const messages: string[] = [];
    for (const [i, c] of fixtures.cases.entries()) {
      const size = c.shape.reduce((a, b) => a * b, 1);
      const x = tensor(lcgValues(c.seed, size, c.dtype), c.shape, c.dtype);
      const w = tensor(c.weights, c.wshape, 'float64');
      const f = c.op === 'convolve' ? convolve : correlate;
      const y = f(x, w, { mode: c.mode, cval: c.cval, origin: c.origin, output: c.output });
      assert.equal(y.dtype, c.out_dtype, `case ${i}: dtype`);
      assert.deepEqual(y.shape, c.shape);
      const got = y.view();
      const want = decode(c.expected, c.out_dtype);
      for (let k = 0; k < size; k++) {
        if (!Object.is(got[k], want[k]) && !(got[k] === 0 && want[k] === 0)) {
          failures++;
          if (messages.length < 5) messages.push(`case ${i} (${c.op} ${c.dtype} ${JSON.stringify(c.shape)} w${JSON.stringify(c.wshape)} ${c.mode} origin ${JSON.stringify(c.origin)}): element ${k}: got ${got[k]}, scipy ${want[k]}`);
          break;
        }
      }
      x.dispose(); w.dispose(); y.dispose();
    }
    assert.equal(failures, 0, messages.join('\n'));
    const calls = ndimageWasmCalls() - calls0;
    if (wasm) assert.ok(calls > 100, `the WebAssembly kernel ran only ${calls} times`);
    else assert.equal(calls, 0);
    setNdimageParts(1);
  });
}

runCases('TypeScript loop', false);
if (ndimageWasmAvailable()) {
  runCases('WebAssembly SIMD kernel for 1-D/2-D floats, TypeScript loop for the rest', true);
  runCases('WebAssembly kernel split in 3 row parts (the thread pool convention)', true, 3);
} else {
  test('WebAssembly SIMD kernel', (t) => { t.skip('build/ndimage.wasm is not built: run npm run build:ndimage'); });
}

test('the notebook example prints exactly what SciPy prints', () => {
  setNdimageWasm(true);
  const img = [[4, 1, 7, 2, 3], [8, 3, 1, 2, 2], [6, 5, 7, 4, 3], [2, 2, 3, 1, 3], [4, 3, 4, 2, 3]];
  const y = correlate(img, [[1, 0, -1], [1, 0, -1], [1, 0, -1]], { mode: 'constant' });
  assert.equal(y.dtype, 'int32');
  assert.equal(JSON.stringify(y.toArray()), '[[-4,4,0,3,4],[-9,3,1,7,8],[-10,5,3,3,7],[-10,-2,3,5,7],[-5,-1,2,1,3]]');
});

test('errors say what is wrong', () => {
  assert.throws(() => correlate([1, 2, 3], [1, 2], { mode: 'bogus' as NdMode }), /unknown mode "bogus"/);
  assert.throws(() => correlate([[1, 2], [3, 4]], [1, 2]), /do not match the input's 2 dimension/);
  assert.throws(() => correlate([1, 2, 3], [1, 2, 3], { origin: 2 }), /invalid origin 2/);
  assert.throws(() => correlate([1, 2, 3], [1, 2, 3], { origin: [0, 0] }), /one per axis/);
});

test('nested float arrays give float64 like NumPy; convolve flips the kernel', () => {
  const y = convolve([1.5, 2, 3], [1, 2, 3], { mode: 'constant' });
  assert.equal(y.dtype, 'float64');
  assert.deepEqual(Array.from(y.view()), [1.5 * 2 + 2 * 1, 1.5 * 3 + 2 * 2 + 3 * 1, 2 * 3 + 3 * 2]);
});
