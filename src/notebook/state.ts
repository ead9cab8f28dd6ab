/** What the notebook's steps hand to one another (types only: stand-in steps need none of it). */
import type { Tensor } from '../tensor/index.js';
import type { DirectoryIterator } from '../data/index.js';
import type { Sequential } from '../models/index.js';

export interface NotebookState {
  /** The Laplacian activation map of the photo, [H, W]. */
  laplacian?: Tensor;
  train?: DirectoryIterator;
  validation?: DirectoryIterator;
  model?: Sequential;
  /** The class folders in class-index order. */
  classNames?: string[];
  /** 'binary' (two classes, one sigmoid output) or 'categorical' (K >= 3 classes, softmax over K). */
  classMode?: 'binary' | 'categorical';
  history?: Record<string, number[]>;
  /** Validation accuracy measured over the whole validation set after training. */
  valAccuracy?: number;
  confusion?: number[][];
  /** Set when Ctrl-C cut training short: what run.json and the report say about it. */
  interruptedNote?: string;
}
