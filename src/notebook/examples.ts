/** The notebook's example matrix, filters and printing helpers: plain data, no Node imports (the web page in app/ uses them). */

/** The notebook's 5x5 example matrix. */
export const EXAMPLE_MATRIX = [[4, 1, 7, 2, 3], [8, 3, 1, 2, 2], [6, 5, 7, 4, 3], [2, 2, 3, 1, 3], [4, 3, 4, 2, 3]];
/** The notebook's vertical-edge filter for that example, as the notebook writes it (light to dark, left to right). */
export const EXAMPLE_FILTER = [[1, 0, -1], [1, 0, -1], [1, 0, -1]];
export const NOTEBOOK_FILTERS = ['vertical-edges', 'horizontal-edges', 'laplacian'] as const;
export const MODEL_FILE = 'cnn-dogs-cats.keras';

/** A 2-D array as NumPy prints it: `[[ -4   4 ...]\n [ -9 ...]]`. */
export function formatMatrix(rows: number[][]): string {
  const cells = rows.map((r) => r.map((v) => (Number.isInteger(v) ? String(v) : v.toFixed(4))));
  const w = Math.max(...cells.flat().map((c) => c.length));
  return '[' + cells.map((r, i) => (i ? ' ' : '') + '[' + r.map((c) => c.padStart(w)).join(' ') + ']').join('\n') + ']';
}

/** Keras's shape tuple: `(1, 153, 230, 1)`. */
export function fmtTuple(shape: readonly number[]): string { return `(${shape.join(', ')})`; }
