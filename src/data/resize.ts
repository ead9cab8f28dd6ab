/**
 * Pixel-level helpers that must match Pillow exactly: nearest-neighbour resize (what Keras's
 * `load_img` does by default), the RGB -> L conversion, and Keras's keep-aspect-ratio centre crop.
 */

/** Crop box [x0, y0, x1, y1] that Keras's `load_img(keep_aspect_ratio=True)` takes from a w x h image. */
export function keepAspectBox(width: number, height: number, targetH: number, targetW: number): [number, number, number, number] {
  let cropH = Math.floor((width * targetH) / targetW);
  let cropW = Math.floor((height * targetW) / targetH);
  cropH = Math.min(height, cropH);
  cropW = Math.min(width, cropW);
  const y0 = Math.floor((height - cropH) / 2);
  const x0 = Math.floor((width - cropW) / 2);
  return [x0, y0, x0 + cropW, y0 + cropH];
}

/**
 * Pillow's `Image.resize(size, NEAREST, box)`: source coordinates accumulate in doubles from
 * `box0 + scale / 2` (ImagingScaleAffine), so this reproduces its rounding bit for bit.
 */
export function nearestIndices(outSize: number, b0: number, b1: number, inSize: number): Int32Array {
  const scale = (b1 - b0) / outSize;
  const idx = new Int32Array(outSize);
  let o = b0 + scale * 0.5;
  for (let i = 0; i < outSize; i++) {
    let v = o < 0 ? -1 : Math.trunc(o);
    if (v >= inSize) v = inSize - 1;
    if (v < 0) v = 0;
    idx[i] = v;
    o += scale;
  }
  return idx;
}

/** Nearest resize of interleaved uint8 pixels (channels c) inside `box` to outW x outH. */
export function resizeNearest(src: Uint8Array, w: number, h: number, c: number, outW: number, outH: number,
  box: [number, number, number, number] = [0, 0, w, h]): Uint8Array {
  const xs = nearestIndices(outW, box[0], box[2], w);
  const ys = nearestIndices(outH, box[1], box[3], h);
  const out = new Uint8Array(outW * outH * c);
  let o = 0;
  for (let y = 0; y < outH; y++) {
    const row = ys[y] * w * c;
    for (let x = 0; x < outW; x++) {
      const s = row + xs[x] * c;
      for (let k = 0; k < c; k++) out[o++] = src[s + k];
    }
  }
  return out;
}

/** Pillow's RGB -> L (ITU-R 601-2 luma, the same fixed-point rounding as Convert.c). */
export function rgbToL(src: Uint8Array, pixels: number, c: number): Uint8Array {
  const out = new Uint8Array(pixels);
  for (let i = 0, s = 0; i < pixels; i++, s += c) {
    out[i] = (src[s] * 19595 + src[s + 1] * 38470 + src[s + 2] * 7471 + 0x8000) >>> 16;
  }
  return out;
}
