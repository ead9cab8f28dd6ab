export { imread, imsave, ImageReadError, DEFAULT_MAX_PIXELS } from './image.js';
export type { ImreadOptions, ImsaveOptions } from './image.js';
export { loadImg, imgToArray } from './load_img.js';
export type { LoadImgOptions, Img } from './load_img.js';
