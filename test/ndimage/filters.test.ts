import { test } from 'node:test';
import assert from 'node:assert/strict';
import { FILTERS, filterNames, getFilter, gaussianKernel, applyFilter, parseKernelJson } from '../../src/ops/filters.js';
import { tensor } from '../../src/tensor/index.js';

test('the notebook\'s three filters and the classic ones are in the bank', () => {
  assert.deepEqual(getFilter('vertical-edges').kernel, [[-1, 0, 1], [-1, 0, 1], [-1, 0, 1]]);
  assert.deepEqual(getFilter('horizontal-edges').kernel, [[-1, -1, -1], [0, 0, 0], [1, 1, 1]]);
  assert.deepEqual(getFilter('laplacian').kernel, [[-1, -1, -1], [-1, 8, -1], [-1, -1, -1]]);
  for (const n of ['sobel-x', 'sobel-y', 'prewitt-x', 'prewitt-y', 'box-blur', 'sharpen', 'emboss']) assert.ok(FILTERS[n], n);
  assert.ok(filterNames().includes('gaussian:<sigma>'));
  // Zero-sum edge kernels, unit-sum smoothing kernels.
  const sum = (k: number[][]) => k.flat().reduce((a, b) => a + b, 0);
  for (const n of ['vertical-edges', 'horizontal-edges', 'laplacian', 'sobel-x', 'sobel-y', 'prewitt-x', 'prewitt-y']) assert.equal(sum(getFilter(n).kernel), 0, n);
  for (const n of ['box-blur', 'sharpen', 'box-blur:5', 'gaussian:2']) assert.ok(Math.abs(sum(getFilter(n).kernel) - 1) < 1e-12, n);
});

test('gaussian:<sigma> is SciPy\'s 1-D Gaussian (radius round(4 sigma)) squared', () => {
  const k = gaussianKernel(1.5);
  assert.equal(k.length, 13);
  // scipy.ndimage._filters._gaussian_kernel1d(1.5, 0, 6)
  const g = [8.922106863539231e-05, 0.001028196578138909, 0.007597402196596929];
  const center = 0.2659642571610709;
  for (let i = 0; i < 3; i++) assert.ok(Math.abs(k[6][i] / center - g[i]) < 1e-17, `k[6][${i}]: ${k[6][i] / center}`);
  assert.equal(getFilter('gaussian:1.5').kernel.length, 13);
});

test('filters find the edges they are named after', () => {
  // A vertical step: dark on the left, light on the right.
  const img = tensor(Array.from({ length: 36 }, (_, i) => (i % 6 >= 3 ? 1 : 0)), [6, 6], 'float32');
  const v = applyFilter(img, 'vertical-edges', { mode: 'constant' }).toArray() as number[][];
  const h = applyFilter(img, 'horizontal-edges', { mode: 'nearest' }).toArray() as number[][];
  assert.deepEqual(v[2], [0, 0, 3, 3, 0, -3]);
  assert.deepEqual(h[2], [0, 0, 0, 0, 0, 0]);
  assert.equal(applyFilter(img, '[[1]]').dtype, 'float32');
});

test('bad filters say what to write instead', () => {
  assert.throws(() => getFilter('sobel'), /unknown filter 'sobel'.*sobel-x.*JSON/);
  assert.throws(() => getFilter('[[1,0,-1],[1,0'), /not valid JSON.*\[\[1,0,-1\]/);
  assert.throws(() => parseKernelJson('[1,2,3]'), /2-D array/);
  assert.throws(() => parseKernelJson('[[1,2],[3]]'), /rows of different lengths/);
  assert.throws(() => parseKernelJson('[["a"]]'), /finite numbers/);
  assert.throws(() => getFilter('gaussian:0'), /sigma must be a positive number/);
  assert.throws(() => applyFilter(tensor([1, 2, 3]), 'laplacian'), /expected a 2-D image/);
});
