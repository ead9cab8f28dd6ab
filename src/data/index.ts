/** The data pipeline: ImageDataGenerator, flowFromDirectory's iterator, and the pieces they share. */
export type { Batch, BatchIterator } from './types.js';
export { ImageDataGenerator, type ImageDataGeneratorOptions } from './generator.js';
export { DirectoryIterator, type FlowFromDirectoryOptions, type ClassMode, type SkippedFile } from './directory_iterator.js';
export { ArrayIterator, type FlowOptions } from './array_iterator.js';
export { NumpyRandomState } from './numpy_random.js';
export { listDirectory, WHITE_LIST_FORMATS } from './listing.js';
export { readHeader, type HeaderResult } from './header.js';
export { decodeImage, type ColorMode as ImageColorMode, type Interpolation as ResizeInterpolation, type DecodeOptions } from './decode.js';
export { checkDirectory, type CheckReport } from './check.js';
export { downloadFile, unzipSafe } from './download.js';
export type { TransformParams, FillMode as AugmentFillMode } from './augment.js';
