/** `convnet filter <image> --kernel <name|json> --out fig.png`: the image and its activation map side by side. */
import type { Command } from '../main.js';
import { parseArgs, UsageError } from '../args.js';
import { imread, ImageReadError } from '../../io/image.js';
import { getFilter, filterNames } from '../../ops/filters.js';
import { correlate } from '../../ops/ndimage.js';
import type { NdMode } from '../../ops/ndimage.js';
import { Figure, colormapNames } from '../../viz/figure.js';
import { fmtShape } from '../../tensor/index.js';
import type { Tensor } from '../../tensor/index.js';

const MODES = ['reflect', 'constant', 'nearest', 'mirror', 'wrap', 'grid-mirror', 'grid-constant', 'grid-wrap'];

const HELP = `Usage: convnet filter <image> --kernel <name|json> [options]

Reads the image as gray (scikit-image's imread(as_gray=True)), correlates it with the kernel
(scipy.ndimage.correlate semantics) and draws the image and its activation map side by side.

Options:
  --kernel, -k <name|json>  ${filterNames().join(', ')},
                            or a JSON kernel such as '[[1,0,-1],[1,0,-1],[1,0,-1]]'  (default vertical-edges)
  --mode <mode>             border mode: ${MODES.join(', ')} (default reflect, as SciPy)
  --cval <number>           value outside the image for mode constant (default 0)
  --cmap <name>             colormap of both panels (default gray)
  --out, -o <file.png|svg>  where to write the figure (default filter.png)
  --dpi <n>                 figure resolution (default 100)`;

/** Reads an image as gray float32 in [0, 1]. */
export async function readGrayFloat(path: string): Promise<Tensor> {
  return imread(path, { asGray: true });
}

/** Checks the shared options; throws UsageError with what to do. */
export function checkCommon(cmd: string, o: Record<string, any>): void {
  if (!MODES.includes(o.mode)) throw new UsageError(`convnet ${cmd}: unknown --mode '${o.mode}'; use one of ${MODES.join(', ')}.`);
  if (!colormapNames().includes(o.cmap)) throw new UsageError(`convnet ${cmd}: unknown --cmap '${o.cmap}'; use one of ${colormapNames().join(', ')}.`);
  if (!/\.(png|svg)$/i.test(o.out)) throw new UsageError(`convnet ${cmd}: --out must end in .png or .svg, got '${o.out}'.`);
}

export const command: Command = {
  name: 'filter',
  summary: 'Correlate an image with a filter and draw it beside its activation map',
  help: HELP,
  async run(argv) {
    try {
      const { options: o, positionals } = parseArgs(argv, {
        kernel: { type: 'string', alias: 'k', default: 'vertical-edges' },
        mode: { type: 'string', default: 'reflect' },
        cval: { type: 'number', default: 0 },
        cmap: { type: 'string', default: 'gray' },
        out: { type: 'string', alias: 'o', default: 'filter.png' },
        dpi: { type: 'number', default: 100 },
      }, 'filter');
      if (positionals.length !== 1) throw new UsageError(`convnet filter: give one image file, e.g. 'convnet filter house.jpg --kernel laplacian --out fig.png' (got ${positionals.length} positional arguments).`);
      checkCommon('filter', o);
      let filter;
      try { filter = getFilter(o.kernel); } catch (e: any) { throw new UsageError(e.message.replace(/^convnet: /, 'convnet filter: ')); }
      const img = await readGrayFloat(positionals[0]);
      const map = correlate(img, filter.kernel, { mode: o.mode as NdMode, cval: o.cval });
      const [H, W] = img.shape;
      const v = map.dataSync();
      let lo = Infinity, hi = -Infinity;
      for (const x of v) { if (x < lo) lo = x; if (x > hi) hi = x; }
      console.log(`Image: ${fmtShape([H, W])} gray, activation map: ${fmtShape([1, H, W, 1])}, values ${lo.toFixed(4)} to ${hi.toFixed(4)}`);
      const fig = new Figure({ figsize: [10, 5], dpi: o.dpi });
      fig.subplot(1, 2, 1).imshow(img, { cmap: o.cmap }).title('Original image').axis('off');
      fig.subplot(1, 2, 2).imshow(map, { cmap: o.cmap }).title(`Activation map (${filter.name})`).axis('off');
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
