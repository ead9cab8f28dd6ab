/**
 * `loadImg` and `imgToArray`: Keras's `keras.utils.load_img` and `img_to_array`, for predicting on
 * your own photos the way the model saw its training images.
 *
 *     const img = await loadImg('my_cat.jpg', { targetSize: [150, 150] });
 *     const x = imgToArray(img).reshape([1, 150, 150, 3]);   // float32 0..255, as Keras
 *     const p = await model.predict(mul(x, 1 / 255));          // the notebook trains on x / 255
 *
 * The pixels come from the same decoder `flowFromDirectory` uses (EXIF orientation applied, the
 * colour mode converted as Pillow converts it, nearest resizing with Pillow's arithmetic), so an
 * image loaded here gives the numbers a training batch would.
 */
import { ImageReadError, DEFAULT_MAX_PIXELS } from './image.js';
import { checkInterpolation, decodeImage, type ColorMode, type Interpolation } from '../data/decode.js';
import { tensor, type Tensor } from '../tensor/index.js';

export interface LoadImgOptions {
  /** `[height, width]` (or one number for a square) to resize to, as Keras's `target_size`; default: the file's own size. */
  targetSize?: [number, number] | number | null;
  /** 'rgb' (default), 'rgba' or 'grayscale', as Keras's `color_mode`. */
  colorMode?: ColorMode;
  /** Resampling when resizing: 'nearest' (Keras's default), 'bilinear', 'bicubic' or 'lanczos'. */
  interpolation?: Interpolation;
  /** Centre-crop to the target's aspect ratio before resizing (Keras's `keep_aspect_ratio`). */
  keepAspectRatio?: boolean;
  /** Refuse images with more pixels than this (Pillow's limit by default). */
  maxPixels?: number;
}

/** A decoded image, what Keras's `load_img` returns as a PIL image: uint8 pixels, row-major, interleaved. */
export interface Img {
  readonly path: string;
  readonly width: number;
  readonly height: number;
  /** 1 (grayscale), 3 (rgb) or 4 (rgba). */
  readonly channels: number;
  readonly colorMode: ColorMode;
  readonly data: Uint8Array;
}

const KNOWN = ['targetSize', 'colorMode', 'interpolation', 'keepAspectRatio', 'maxPixels'];
const MODES: ColorMode[] = ['rgb', 'rgba', 'grayscale'];

function targetOf(t: LoadImgOptions['targetSize']): [number, number] | null {
  if (t === undefined || t === null) return null;
  const pair = typeof t === 'number' ? [t, t] : t;
  if (!Array.isArray(pair) || pair.length !== 2 || !pair.every((d) => Number.isInteger(d) && d > 0)) {
    throw new RangeError(`convnet: loadImg: targetSize must be [height, width] (positive integers) or one integer, got ${JSON.stringify(t)}`);
  }
  return [pair[0], pair[1]];
}

/**
 * Loads an image file (JPEG, PNG, WebP, GIF, TIFF, BMP, PPM) as Keras's `load_img` does. A file
 * that is missing or not an image throws an `ImageReadError` naming the file and the reason.
 */
export async function loadImg(path: string, opts: LoadImgOptions = {}): Promise<Img> {
  for (const k of Object.keys(opts)) {
    if (!KNOWN.includes(k)) throw new RangeError(`convnet: loadImg: unknown option '${k}' (known: ${KNOWN.join(', ')})`);
  }
  const colorMode = opts.colorMode ?? 'rgb';
  if (!MODES.includes(colorMode)) throw new RangeError(`convnet: loadImg: colorMode must be 'rgb', 'rgba' or 'grayscale', got '${colorMode}'`);
  const interpolation = checkInterpolation(opts.interpolation ?? 'nearest');
  const targetSize = targetOf(opts.targetSize);
  let d;
  try {
    d = await decodeImage(path, { targetSize, colorMode, interpolation, keepAspectRatio: !!opts.keepAspectRatio, maxPixels: opts.maxPixels ?? DEFAULT_MAX_PIXELS });
  } catch (e) {
    const err = e as NodeJS.ErrnoException;
    const reason = err.code === 'ENOENT' ? 'no such file'
      : err.code === 'EISDIR' ? 'it is a folder, not an image file'
        : err.code === 'EACCES' ? 'permission denied'
          : /unsupported image format/.test(String(err.message)) ? 'not an image file (JPEG, PNG, WebP, GIF, TIFF, BMP or PPM)'
            : String(err.message ?? err).replace(/^convnet: /, '').replace(`'${path}' is`, 'it is');
    throw new ImageReadError(path, reason);
  }
  return { path, width: d.width, height: d.height, channels: d.channels, colorMode, data: d.data };
}

/**
 * Keras's `img_to_array`: the image as a float32 tensor [height, width, channels] holding the
 * pixel values 0..255 (no rescaling: divide by 255 yourself when the model was trained on x / 255).
 */
export function imgToArray(img: Img): Tensor {
  if (!img || !(img.data instanceof Uint8Array) || img.data.length !== img.width * img.height * img.channels) {
    throw new TypeError('convnet: imgToArray: expects an image from loadImg');
  }
  return tensor(Float32Array.from(img.data), [img.height, img.width, img.channels]);
}
