/**
 * A named bank of small 2-D filters (the notebook's edge detectors and the usual image-processing
 * kernels), Gaussians of any sigma, and kernels written as JSON; `applyFilter` correlates an image
 * with one of them using `correlate` (scipy.ndimage semantics).
 */
import type { Tensor } from '../tensor/index.js';
import { correlate } from './ndimage.js';
import type { CorrelateOptions } from './ndimage.js';

export type Kernel2D = number[][];

export interface FilterInfo {
  name: string;
  description: string;
  kernel: Kernel2D;
}

const third = 1 / 9;

/**
 * The largest filter side (rows and columns) `getFilter`, `gaussianKernel` and JSON kernels accept:
 * 101x101 is already ~10^4 multiply-adds per pixel, and a huge spec from the command line
 * (gaussian:1e9, box-blur:20000) used to crash V8 or run for minutes (issue 11 §5).
 */
export const MAX_FILTER_SIZE = 101;
/** The largest Gaussian sigma with the default truncate 4 (radius round(4 sigma) <= 50). */
export const MAX_GAUSSIAN_SIGMA = 12.5;

function tooBig(what: string, side: number): RangeError {
  const dims = Number.isFinite(side) && side < 1e15 ? `${side}x${side}` : 'larger than any image';
  return new RangeError(`convnet: ${what}: the kernel would be ${dims}; the limit is ${MAX_FILTER_SIZE}x${MAX_FILTER_SIZE} ` +
    `(gaussian sigma up to ${MAX_GAUSSIAN_SIGMA}, box-blur size up to ${MAX_FILTER_SIZE}). Downscale the image for a wider blur.`);
}

/** The fixed filters, by name. `gaussian:<sigma>` and JSON kernels are accepted by `getFilter` too. */
export const FILTERS: Readonly<Record<string, Omit<FilterInfo, 'name'>>> = Object.freeze({
  'vertical-edges': { description: 'responds to vertical edges (dark to light, left to right), the notebook\'s first filter', kernel: [[-1, 0, 1], [-1, 0, 1], [-1, 0, 1]] },
  'horizontal-edges': { description: 'responds to horizontal edges (dark to light, top to bottom)', kernel: [[-1, -1, -1], [0, 0, 0], [1, 1, 1]] },
  laplacian: { description: 'edges in every direction (8-neighbour Laplacian)', kernel: [[-1, -1, -1], [-1, 8, -1], [-1, -1, -1]] },
  'sobel-x': { description: 'Sobel derivative along x (vertical edges)', kernel: [[-1, 0, 1], [-2, 0, 2], [-1, 0, 1]] },
  'sobel-y': { description: 'Sobel derivative along y (horizontal edges)', kernel: [[-1, -2, -1], [0, 0, 0], [1, 2, 1]] },
  'prewitt-x': { description: 'Prewitt derivative along x (vertical edges)', kernel: [[-1, 0, 1], [-1, 0, 1], [-1, 0, 1]] },
  'prewitt-y': { description: 'Prewitt derivative along y (horizontal edges)', kernel: [[-1, -1, -1], [0, 0, 0], [1, 1, 1]] },
  'box-blur': { description: 'mean of the 3x3 neighbourhood', kernel: [[third, third, third], [third, third, third], [third, third, third]] },
  sharpen: { description: 'sharpens: 5 x centre minus the 4 neighbours', kernel: [[0, -1, 0], [-1, 5, -1], [0, -1, 0]] },
  emboss: { description: 'relief effect, lit from the top left', kernel: [[-2, -1, 0], [-1, 1, 1], [0, 1, 2]] },
  identity: { description: 'leaves the image as it is', kernel: [[0, 0, 0], [0, 1, 0], [0, 0, 0]] },
});

/** Names `getFilter` accepts besides JSON: the fixed filters and the parameterised ones. */
export function filterNames(): string[] {
  return [...Object.keys(FILTERS), 'gaussian:<sigma>', 'box-blur:<size>'];
}

/**
 * A normalised 2-D Gaussian kernel: the outer product of SciPy's 1-D Gaussian
 * (`exp(-x^2 / (2 sigma^2))`, radius `round(truncate * sigma)`, summing to 1).
 */
export function gaussianKernel(sigma: number, truncate = 4): Kernel2D {
  if (!(sigma > 0) || !Number.isFinite(sigma)) throw new RangeError(`convnet: gaussianKernel: sigma must be a positive number, got ${sigma}`);
  if (!(truncate > 0) || !Number.isFinite(truncate)) throw new RangeError(`convnet: gaussianKernel: truncate must be a positive number, got ${truncate}`);
  const radius = Math.floor(truncate * sigma + 0.5);
  if (2 * radius + 1 > MAX_FILTER_SIZE) throw tooBig(`gaussianKernel(sigma ${sigma}, truncate ${truncate})`, 2 * radius + 1);
  const g: number[] = [];
  let sum = 0;
  for (let x = -radius; x <= radius; x++) { const v = Math.exp((-0.5 / (sigma * sigma)) * x * x); g.push(v); sum += v; }
  const k = g.map((v) => v / sum);
  return k.map((a) => k.map((b) => a * b));
}

/**
 * Looks up a filter: a name from `FILTERS`, `gaussian:<sigma>`, `box-blur:<size>`, or a JSON
 * kernel such as `[[1,0,-1],[1,0,-1],[1,0,-1]]` (a rectangular 2-D array of numbers).
 */
export function getFilter(spec: string): FilterInfo {
  const s = spec.trim();
  if (s.startsWith('[')) return { name: 'custom', description: 'kernel given as JSON', kernel: parseKernelJson(s) };
  const fixed = FILTERS[s];
  if (fixed) return { name: s, ...fixed, kernel: fixed.kernel.map((r) => r.slice()) };
  const m = /^(gaussian|box-blur)[:=(]\s*([0-9.eE+-]+)\s*\)?$/.exec(s);
  if (m) {
    const v = Number(m[2]);
    if (m[1] === 'gaussian') {
      if (!(v > 0) || !Number.isFinite(v)) throw new RangeError(`convnet: filter '${spec}': sigma must be a positive number, e.g. gaussian:1.5`);
      if (v > MAX_GAUSSIAN_SIGMA) throw tooBig(`filter '${spec}'`, 2 * Math.floor(4 * v + 0.5) + 1);
      return { name: `gaussian:${v}`, description: `Gaussian blur, sigma ${v}`, kernel: gaussianKernel(v) };
    }
    if (!Number.isInteger(v) || v < 1) throw new RangeError(`convnet: filter '${spec}': the box size must be a positive integer, e.g. box-blur:5`);
    if (v > MAX_FILTER_SIZE) throw tooBig(`filter '${spec}'`, v);
    const k = Array.from({ length: v }, () => new Array<number>(v).fill(1 / (v * v)));
    return { name: `box-blur:${v}`, description: `mean of the ${v}x${v} neighbourhood`, kernel: k };
  }
  throw new RangeError(`convnet: unknown filter '${spec}'. Known filters: ${filterNames().join(', ')}; or write the kernel as JSON, e.g. '[[1,0,-1],[1,0,-1],[1,0,-1]]'`);
}

/** Parses and checks a JSON kernel: a non-empty rectangular 2-D array of finite numbers. */
export function parseKernelJson(text: string): Kernel2D {
  let k: unknown;
  try {
    k = JSON.parse(text);
  } catch (e: any) {
    throw new SyntaxError(`convnet: the kernel '${text}' is not valid JSON (${e.message}); write it like [[1,0,-1],[1,0,-1],[1,0,-1]]`);
  }
  if (!Array.isArray(k) || k.length === 0 || !k.every((r) => Array.isArray(r))) {
    throw new RangeError(`convnet: the kernel '${text}' must be a 2-D array of numbers (a list of rows), e.g. [[1,0,-1],[1,0,-1],[1,0,-1]]`);
  }
  const width = (k[0] as unknown[]).length;
  if (k.length > MAX_FILTER_SIZE || width > MAX_FILTER_SIZE) throw tooBig('the JSON kernel', Math.max(k.length, width));
  if (width === 0 || !k.every((r: unknown[]) => r.length === width)) {
    throw new RangeError(`convnet: the kernel '${text}' has rows of different lengths (or empty rows); every row needs ${width || 'at least one'} number(s)`);
  }
  if (!k.every((r: unknown[]) => r.every((v) => typeof v === 'number' && Number.isFinite(v)))) {
    throw new RangeError(`convnet: the kernel '${text}' holds something other than finite numbers`);
  }
  return k as Kernel2D;
}

/**
 * Correlates a 2-D image with a filter (name, `gaussian:<sigma>`, JSON text or a kernel array),
 * as `scipy.ndimage.correlate(image, kernel, mode=..., cval=...)`. The output has the image's dtype.
 */
export function applyFilter(image: Tensor, filter: string | Kernel2D, opts: CorrelateOptions = {}): Tensor {
  const kernel = typeof filter === 'string' ? getFilter(filter).kernel : filter;
  if (image.rank !== 2) throw new RangeError(`convnet: applyFilter: expected a 2-D image [H, W] (read it with { asGray: true }), got shape [${image.shape.join(', ')}]`);
  return correlate(image, kernel, opts);
}
