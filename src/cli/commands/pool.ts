/** `convnet pool <image>`: filters the image, then pools the activation map step by step (max and average). */
import type { Command } from '../main.js';
import { parseArgs, UsageError } from '../args.js';
import { ImageReadError } from '../../io/image.js';
import { getFilter, filterNames } from '../../ops/filters.js';
import { correlate } from '../../ops/ndimage.js';
import type { NdMode } from '../../ops/ndimage.js';
import { maxPool2d, avgPool2d } from '../../ops/index.js';
import { Figure } from '../../viz/figure.js';
import { fmtShape, scope } from '../../tensor/index.js';
import type { Tensor } from '../../tensor/index.js';
import { readGrayFloat, checkCommon } from './filter.js';

const HELP = `Usage: convnet pool <image> [options]

Reads the image as gray, correlates it with a filter (default laplacian) to get an activation map
[1, H, W, 1], then applies 2x2 max pooling and average pooling (Keras MaxPooling2D /
AveragePooling2D, padding 'valid') again and again, printing each shape and drawing every step.

Options:
  --kernel, -k <name|json>  ${filterNames().join(', ')}, or a JSON kernel (default laplacian)
  --steps <n>               how many times to pool (default 3)
  --pool-size <n>           pool size and stride (default 2)
  --mode <mode>             border mode of the filter (default constant)
  --cmap <name>             colormap (default gray)
  --out, -o <file.png|svg>  where to write the figure (default pool.png)
  --dpi <n>                 figure resolution (default 100)`;

export const command: Command = {
  name: 'pool',
  summary: 'Pool a filtered image step by step (max and average) and draw each step',
  help: HELP,
  async run(argv) {
    try {
      const { options: o, positionals } = parseArgs(argv, {
        kernel: { type: 'string', alias: 'k', default: 'laplacian' },
        steps: { type: 'number', default: 3 },
        poolSize: { type: 'number', default: 2 },
        mode: { type: 'string', default: 'constant' },
        cval: { type: 'number', default: 0 },
        cmap: { type: 'string', default: 'gray' },
        out: { type: 'string', alias: 'o', default: 'pool.png' },
        dpi: { type: 'number', default: 100 },
      }, 'pool');
      if (positionals.length !== 1) throw new UsageError(`convnet pool: give one image file, e.g. 'convnet pool house.jpg --steps 3 --out pool.png' (got ${positionals.length} positional arguments).`);
      checkCommon('pool', o);
      if (!Number.isInteger(o.steps) || o.steps < 1 || o.steps > 12) throw new UsageError(`convnet pool: --steps must be an integer from 1 to 12, got ${o.steps}.`);
      if (!Number.isInteger(o.poolSize) || o.poolSize < 1) throw new UsageError(`convnet pool: --pool-size must be a positive integer, got ${o.poolSize}.`);
      let filter;
      try { filter = getFilter(o.kernel); } catch (e: any) { throw new UsageError(e.message.replace(/^convnet: /, 'convnet pool: ')); }
      const img = await readGrayFloat(positionals[0]);
      const [H, W] = img.shape;
      const map = correlate(img, filter.kernel, { mode: o.mode as NdMode, cval: o.cval }).reshape([1, H, W, 1]);
      console.log(`Original image: ${fmtShape(map.shape)}`);
      const maxes: Tensor[] = [], avgs: Tensor[] = [];
      let m = map, a = map;
      for (let s = 0; s < o.steps; s++) {
        if (m.shape[1] < o.poolSize || m.shape[2] < o.poolSize) {
          console.log(`Stopped after ${s} step(s): a ${o.poolSize}x${o.poolSize} pool does not fit in ${fmtShape(m.shape)}.`);
          break;
        }
        m = scope(() => maxPool2d(m, { poolSize: o.poolSize }));
        a = scope(() => avgPool2d(a, { poolSize: o.poolSize }));
        maxes.push(m); avgs.push(a);
        console.log(`After pooling ${s + 1}: ${fmtShape(m.shape)}`);
      }
      const cols = maxes.length + 1;
      const fig = new Figure({ figsize: [4 * cols, 8], dpi: o.dpi });
      fig.subplot(2, cols, 1).imshow(map, { cmap: o.cmap }).title(`Activation map ${fmtShape(map.shape)}`).axis('off');
      fig.subplot(2, cols, cols + 1).imshow(img, { cmap: o.cmap }).title('Original image').axis('off');
      maxes.forEach((t, i) => fig.subplot(2, cols, i + 2).imshow(t, { cmap: o.cmap }).title(`Max pooling ${fmtShape(t.shape)}`).axis('off'));
      avgs.forEach((t, i) => fig.subplot(2, cols, cols + i + 2).imshow(t, { cmap: o.cmap }).title(`Average pooling ${fmtShape(t.shape)}`).axis('off'));
      await fig.savefig(o.out);
      console.log(`Wrote ${o.out}`);
      return 0;
    } catch (e: any) {
      if (e instanceof UsageError) { console.error(e.message); return 2; }
      if (e instanceof ImageReadError) { console.error(`${e.message}. Give the path of a JPEG, PNG, WebP, GIF, BMP or TIFF file.`); return 1; }
      throw e;
    }
  },
};
