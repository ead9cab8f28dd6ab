export { imread, imsave, ImageReadError, DEFAULT_MAX_PIXELS } from './image.js';
export type { ImreadOptions, ImsaveOptions } from './image.js';
