/** Helpers of the sweep's trainer tests: small generated image folders, and a tiny MobileNetV2-shaped base saved as .keras. */
import { mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import sharp from 'sharp';
import { Rng } from '../../src/tensor/random.js';
import { setSeed } from '../../src/tensor/index.js';
import { layers, clearSession, Input, type KerasTensor } from '../../src/layers/index.js';
import { Model } from '../../src/models/index.js';

/** A coloured square on a noisy grey background, one class per colour. */
export async function colourFolder(dir: string, perClass: number, names = ['blue', 'green', 'red'], s = 16): Promise<void> {
  const colours: Record<string, [number, number, number]> = { blue: [30, 40, 220], green: [30, 200, 40], red: [220, 30, 30] };
  const r = new Rng(3);
  for (const name of names) {
    const c = colours[name];
    mkdirSync(join(dir, name), { recursive: true });
    for (let i = 0; i < perClass; i++) {
      const px = new Uint8Array(s * s * 3);
      const x0 = r.int(s / 2), y0 = r.int(s / 2);
      for (let y = 0; y < s; y++) for (let x = 0; x < s; x++) {
        const inside = x >= x0 && x < x0 + s / 2 && y >= y0 && y < y0 + s / 2;
        for (let k = 0; k < 3; k++) px[(y * s + x) * 3 + k] = Math.max(0, Math.min(255, (inside ? c[k] : 128) + Math.round(10 * r.normal())));
      }
      writeFileSync(join(dir, name, `${name}.${i}.png`), await sharp(Buffer.from(px), { raw: { width: s, height: s, channels: 3 } }).png().toBuffer());
    }
  }
}

/** MobileNetV2's inverted residual block (Keras Applications' layer names). */
function invertedResidual(x: KerasTensor, block: number, filters: number, stride: 1 | 2): KerasTensor {
  const p = `block_${block}_`;
  const inC = x.shape[3] as number;
  let h = new layers.Conv2D(inC * 2, 1, { padding: 'same', useBias: false, name: `${p}expand` }).apply(x);
  h = new layers.BatchNormalization({ name: `${p}expand_BN` }).apply(h);
  h = new layers.ReLU({ maxValue: 6, name: `${p}expand_relu` }).apply(h);
  h = new layers.DepthwiseConv2D({ kernelSize: 3, strides: stride, padding: 'same', useBias: false, name: `${p}depthwise` }).apply(h);
  h = new layers.BatchNormalization({ name: `${p}depthwise_BN` }).apply(h);
  h = new layers.ReLU({ maxValue: 6, name: `${p}depthwise_relu` }).apply(h);
  h = new layers.Conv2D(filters, 1, { padding: 'same', useBias: false, name: `${p}project` }).apply(h);
  h = new layers.BatchNormalization({ name: `${p}project_BN` }).apply(h);
  return stride === 1 && inC === filters ? new layers.Add({ name: `${p}add` }).apply([x, h]) : h;
}

/** Saves a tiny MobileNetV2 (stem, two inverted residual blocks, Conv_1 + out_relu, an "ImageNet" head) of `size`x`size` inputs. */
export async function saveTinyMobileNet(path: string, size = 16, seed = 5): Promise<void> {
  setSeed(seed);
  clearSession();
  const inputs = Input({ shape: [size, size, 3], name: 'input_1' });
  let x = new layers.Conv2D(8, 3, { strides: 2, padding: 'same', useBias: false, name: 'Conv1' }).apply(inputs);
  x = new layers.BatchNormalization({ name: 'bn_Conv1' }).apply(x);
  x = new layers.ReLU({ maxValue: 6, name: 'Conv1_relu' }).apply(x);
  x = invertedResidual(x, 1, 8, 1);
  x = invertedResidual(x, 2, 16, 2);
  x = new layers.Conv2D(16, 1, { useBias: false, name: 'Conv_1' }).apply(x);
  x = new layers.BatchNormalization({ name: 'Conv_1_bn' }).apply(x);
  x = new layers.ReLU({ maxValue: 6, name: 'out_relu' }).apply(x);
  x = new layers.GlobalAveragePooling2D({ name: 'global_average_pooling2d' }).apply(x);
  const outputs = new layers.Dense(5, { activation: 'softmax', name: 'predictions' }).apply(x);
  const m = new Model({ inputs, outputs, name: 'mobilenetv2_tiny' });
  await m.save(path);
  m.dispose();
}
