/** `convnet predict <model> <image>...`: each image's predicted class, as `load_img` + `model.predict` give it in Keras. */
import type { Command } from '../main.js';
import { parseArgs, UsageError } from '../args.js';

const HELP = `Usage: convnet predict <model> <image>... [--classes a,b,...] [--data DIR] [--target-size HxW] [--rescale R] [--json]

Loads a model (.keras, legacy Keras .h5, TF.js folder) and prints, for each image, the predicted
class and its probability. Images are read as keras.utils.load_img reads them (EXIF orientation,
RGB or grayscale to match the model, nearest resizing) at the model's input size.

Class names, first found of:
  --classes cat,dog   the names in class-index order (flow_from_directory sorts the folder names)
  --data DIR          the class sub-folders of the training folder, sorted as flowFromDirectory sorts them
  the model file      models saved by 'convnet notebook' (and saveModel(m, p, { classNames })) keep them
otherwise the classes are printed as their index.

A single sigmoid output (binary) is the probability of class 1: above 0.5 the image is class 1.
Several outputs (softmax) give one probability per class: the largest wins.

Options:
  --classes LIST      comma-separated class names
  --data DIR          take the class names from a training folder's sub-folders
  --target-size S     resize to S: 150, 150x150 or 150,150 (height x width; default: the model's input size)
  --rescale R         multiply the pixels (0..255) by R before predicting: 1/255 (default, as the
                      notebook's ImageDataGenerator(rescale=1/255)), or 1 when the model rescales
                      itself (default then, when its layers include Rescaling)
  --interpolation I   nearest (default, as Keras), bilinear, bicubic or lanczos
  --json              print one JSON array: file, class, index, probability and the raw outputs

Examples:
  convnet predict notebook-out/cnn-dogs-cats.keras my_cat.jpg my_dog.png
  convnet predict model.h5 photos/*.jpg --classes cat,dog --json`;

/** '150', '150x150' or '150,150' as [height, width]. */
export function parseTargetSize(s: string): [number, number] {
  const parts = s.trim().split(/\s*[x,X]\s*/);
  const nums = parts.map(Number);
  if ((parts.length === 1 || parts.length === 2) && nums.every((n) => Number.isInteger(n) && n > 0)) {
    return parts.length === 1 ? [nums[0], nums[0]] : [nums[0], nums[1]];
  }
  throw new UsageError(`convnet predict: --target-size takes a size such as 150, 150x150 or 150,150 (height x width), got '${s}'`);
}

/** '1/255', '0.5' or '1' as a number. */
export function parseRescale(s: string): number {
  const m = /^\s*([0-9.eE+-]+)\s*(?:\/\s*([0-9.eE+-]+)\s*)?$/.exec(s);
  const v = m ? Number(m[1]) / (m[2] === undefined ? 1 : Number(m[2])) : NaN;
  if (!Number.isFinite(v) || v <= 0) throw new UsageError(`convnet predict: --rescale takes a positive number or a fraction such as 1/255, got '${s}'`);
  return v;
}

export interface Prediction { file: string; class: string; index: number; probability: number; output: number[] }

/** Reads the model's outputs for one image: the class index and its probability. */
export function interpret(output: number[]): { index: number; probability: number } {
  if (output.length === 1) {
    const p = output[0];
    return p > 0.5 ? { index: 1, probability: p } : { index: 0, probability: 1 - p };
  }
  let best = 0;
  for (let j = 1; j < output.length; j++) if (output[j] > output[best]) best = j;
  return { index: best, probability: output[best] };
}

export const command: Command = {
  name: 'predict',
  summary: "print each image's predicted class with a trained model",
  help: HELP,
  async run(argv) {
    let parsed;
    let targetSize: [number, number] | null = null;
    let rescale: number | null = null;
    try {
      parsed = parseArgs(argv, {
        classes: { type: 'string' }, data: { type: 'string' }, targetSize: { type: 'string' }, rescale: { type: 'string' },
        interpolation: { type: 'string' }, json: { type: 'boolean', default: false },
      }, 'predict');
      if (parsed.options.targetSize !== undefined) targetSize = parseTargetSize(String(parsed.options.targetSize));
      if (parsed.options.rescale !== undefined) rescale = parseRescale(String(parsed.options.rescale));
    } catch (e) {
      if (e instanceof UsageError) { console.error(e.message); return 2; }
      throw e;
    }
    const [modelPath, ...images] = parsed.positionals;
    if (!modelPath || images.length === 0) { console.error(`convnet predict: expected a model and at least one image.\n\n${HELP}`); return 2; }
    const { loadImg, imgToArray } = await import('../../io/load_img.js');
    const { checkInterpolation } = await import('../../data/decode.js');
    let interpolation;
    try {
      interpolation = checkInterpolation(String(parsed.options.interpolation ?? 'nearest'));
    } catch (e) {
      console.error(`convnet predict: --interpolation: ${(e as Error).message.replace(/^convnet: /, '')}`);
      return 2;
    }

    const io = await import('../../io/models/index.js');
    const data = await io.readModelData(modelPath);
    const shape = data.spec.batchInputShape;
    if (!shape || shape.length !== 4) {
      console.error(`convnet predict: ${modelPath}: the model takes input of shape ${JSON.stringify(shape)}, not images [batch, height, width, channels]`);
      return 1;
    }
    const [, h, w, c] = shape;
    const size = targetSize ?? (h && w ? [h, w] as [number, number] : null);
    if (!size) { console.error(`convnet predict: ${modelPath} takes images of any size: give one with --target-size (e.g. 150x150)`); return 2; }
    const colorMode = c === 1 ? 'grayscale' : c === 4 ? 'rgba' : 'rgb';
    if (rescale === null) rescale = data.spec.layers.some((l) => l.class_name === 'Rescaling') ? 1 : 1 / 255;

    let names: string[] | null = null;
    let namesFrom = '';
    if (parsed.options.classes !== undefined) {
      names = String(parsed.options.classes).split(',').map((s) => s.trim()).filter(Boolean);
      namesFrom = '--classes';
    } else if (parsed.options.data !== undefined) {
      const { inspectDataDir } = await import('../../notebook/dataset.js');
      try {
        names = inspectDataDir(String(parsed.options.data)).classes;
      } catch (e) {
        console.error(`convnet predict: --data: ${(e as Error).message}`);
        return 2;
      }
      namesFrom = `--data ${parsed.options.data}`;
    } else if (data.classNames) {
      names = data.classNames;
      namesFrom = modelPath;
    }

    const model = await io.buildModel(data, modelPath, { compile: false }, (m) => console.error(`convnet: ${m}`));
    const { tensor } = await import('../../tensor/index.js');
    const results: Prediction[] = [];
    let failed = 0;
    const per = size[0] * size[1] * (c ?? 3);
    const BATCH = 32;
    for (let start = 0; start < images.length; start += BATCH) {
      const chunk = images.slice(start, start + BATCH);
      const ok: { file: string; pixels: Float32Array }[] = [];
      for (const file of chunk) {
        try {
          const x = imgToArray(await loadImg(file, { targetSize: size, colorMode, interpolation }));
          const px = x.dataSync() as Float32Array;
          x.dispose();
          for (let i = 0; i < px.length; i++) px[i] *= rescale;
          ok.push({ file, pixels: px });
        } catch (e) {
          failed++;
          console.error(`convnet predict: ${(e as Error).message.replace(/^convnet: /, '')}`);
        }
      }
      if (!ok.length) continue;
      const xs = new Float32Array(ok.length * per);
      ok.forEach((o, i) => xs.set(o.pixels, i * per));
      const x = tensor(xs, [ok.length, size[0], size[1], c ?? 3]);
      const y = await model.predict(x, { verbose: 0 });
      const out = Array.from(y.dataSync() as Float32Array);
      x.dispose(); y.dispose();
      const k = out.length / ok.length;
      if (names && names.length !== Math.max(2, k)) {
        console.error(`convnet predict: ${namesFrom} gives ${names.length} class names (${names.join(', ')}), the model has ${Math.max(2, k)} classes`);
        return 2;
      }
      ok.forEach((o, i) => {
        const output = out.slice(i * k, (i + 1) * k);
        const { index, probability } = interpret(output);
        results.push({ file: o.file, class: names ? names[index] : String(index), index, probability, output });
      });
    }
    model.dispose?.();
    if (parsed.options.json) {
      console.log(JSON.stringify(results, null, 2));
    } else {
      const width = Math.max(0, ...results.map((r) => r.file.length));
      for (const r of results) console.log(`${r.file.padEnd(width)}  ${r.class} (${r.probability.toFixed(4)})`);
    }
    return failed ? 1 : 0;
  },
};
