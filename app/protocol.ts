// Messages between the page (app/main.ts) and its training worker (app/worker.ts).

/** Images as float32 RGB in [0, 1], [n, size, size, 3], with a class index and a file name each. */
export interface DataSet { size: number; classes: string[]; x: Float32Array; labels: Int32Array; files: string[] }

/** One validation image shown in the results: its pixels, the prediction and the truth. */
export interface Shown { pixels: Float32Array; file: string; prob: number; predicted: number; actual: number }

export type ToWorker =
  | { type: 'init'; threads: number | null; backend: 'auto' | 'wasm' }
  | { type: 'data'; validationSplit: number; builtin?: { perClass: number; size: number; seed: number }; set?: DataSet }
  | { type: 'model'; config: Record<string, unknown>; seed: number }
  | { type: 'train'; epochs: number; batchSize: number }
  | { type: 'stop' }
  | { type: 'results' }
  | { type: 'predict'; pixels: Float32Array; size: number }
  | { type: 'save' }
  | { type: 'load'; file: Blob };

export type FromWorker =
  | { type: 'hello' }
  | { type: 'ready'; backend: string; threads: number; isolated: boolean; wasmError: string | null; adapter: string | null; gpuReason: string }
  | { type: 'data'; counts: [number, number]; classes: string[] }
  | { type: 'model'; summary: string[]; params: number }
  | { type: 'batch'; batch: number; batches: number }
  | { type: 'epoch'; epoch: number; epochs: number; logs: Record<string, number>; seconds: number }
  | { type: 'trained'; history: Record<string, number[]>; stopped: boolean; seconds: number; imagesPerSec: number }
  | { type: 'results'; size: number; classes: string[]; confusion: number[][]; accuracy: number; n: number; grid: Shown[]; wrong: Shown[] }
  | { type: 'prediction'; probs: number[]; cls: number; prob: number; classes: string[] }
  | { type: 'saved'; blob: Blob; bytes: number; check: { x: number[]; shape: number[]; probs: number[] } | null; diff: number | null }
  | { type: 'loaded'; summary: string[]; classes: string[] | null; inputShape: (number | null)[] | null }
  | { type: 'error'; request: string; message: string };
