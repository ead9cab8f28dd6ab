import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Figure, colormap, figure, subplot, imshow, title, axis, savefig, niceTicks } from '../../src/viz/index.js';
import { imread } from '../../src/io/index.js';
import { tensor } from '../../src/tensor/index.js';

const tmp = mkdtempSync(join(tmpdir(), 'convnet-viz-'));

/** A 40 x 60 map: a left-to-right ramp, so the colour at each column is known. */
function ramp(): number[][] {
  return Array.from({ length: 40 }, () => Array.from({ length: 60 }, (_, x) => x));
}

test('a rendered figure has its size, the map where it belongs, and drawn titles', async () => {
  const fig = new Figure({ figsize: [8, 4], dpi: 50 });
  fig.subplot(1, 2, 1).imshow(tensor(ramp().flat(), [1, 40, 60, 1]), { cmap: 'gray' }).title('Image').axis('off');
  fig.subplot(1, 2, 2).imshow(ramp(), { cmap: 'viridis' }).title('Activation map').axis('off');
  const path = join(tmp, 'fig.png');
  await fig.savefig(path);
  const png = await imread(path);
  assert.deepEqual(png.shape, [200, 400, 3]);
  const px = png.view() as Uint8Array;
  const at = (x: number, y: number) => Array.from(px.subarray((y * 400 + x) * 3, (y * 400 + x) * 3 + 3));

  const [x1, y1, w1, h1] = fig.imageRect(fig.axes[0]);
  const [x2, y2, w2, h2] = fig.imageRect(fig.axes[1]);
  // Equal aspect (60 x 40 data), centred in its half of the figure, second one to the right.
  assert.ok(Math.abs(w1 / h1 - 1.5) < 0.02 && Math.abs(w2 / h2 - 1.5) < 0.02);
  assert.ok(x1 + w1 < x2, 'the map is right of the image');
  // Autoscaled per map: the first drawn column is the colormap's first colour, the last its last.
  const images = fig.displayList().filter((d) => d.kind === 'image') as { x: number; y: number; w: number; h: number }[];
  assert.equal(images.length, 2);
  const [a, b] = images;
  const lut = colormap('viridis');
  const midY = b.y + (b.h >> 1);
  assert.deepEqual(at(b.x, midY), Array.from(lut.subarray(0, 3)));
  assert.deepEqual(at(b.x + b.w - 1, midY), Array.from(lut.subarray(765, 768)));
  assert.deepEqual(at(a.x, a.y + (a.h >> 1)), [0, 0, 0]);
  assert.deepEqual(at(a.x + a.w - 1, a.y + (a.h >> 1)), [255, 255, 255]);
  assert.ok(Math.abs(a.x - x1) <= 1 && Math.abs(a.w - w1) <= 1 && Math.abs(b.y - y2) <= 1 && Math.abs(b.h - h2) <= 1);
  // Outside the images the figure is white, with axis('off') no frame either.
  assert.deepEqual(at(Math.round(x1) - 3, midY), [255, 255, 255]);
  // Titles: dark pixels in the band just above each image, none far above.
  const darkIn = (xa: number, xb: number, ya: number, yb: number) => {
    let n = 0;
    for (let y = Math.max(0, Math.round(ya)); y < Math.round(yb); y++) for (let x = Math.round(xa); x < Math.round(xb); x++) if (at(x, y)[0] < 128) n++;
    return n;
  };
  assert.ok(darkIn(x1, x1 + w1, y1 - 20, y1 - 1) > 10, 'title text above the image');
  assert.ok(darkIn(x2, x2 + w2, y2 - 20, y2 - 1) > 10, 'title text above the map');
  assert.equal(darkIn(0, 400, 0, 5), 0);
});

test('the pyplot-style functions draw frames and ticks unless axis("off"), and write SVG', async () => {
  figure({ figsize: [4, 3], dpi: 50 });
  subplot(1, 1, 1);
  imshow([[0, 1], [2, 3]], { cmap: 'gray', vmin: 0, vmax: 6 });
  title('with axes');
  const svgPath = join(tmp, 'fig.svg');
  await savefig(svgPath);
  const svg = readFileSync(svgPath, 'utf8');
  assert.match(svg, /^<svg[^>]+width="200" height="150"/);
  assert.match(svg, />with axes<\/text>/);
  assert.match(svg, /<line /, 'frame and ticks are drawn');
  assert.match(svg, /data:image\/png;base64,/);
  axis('off');
  await savefig(svgPath);
  assert.doesNotMatch(readFileSync(svgPath, 'utf8'), /<line /);
  assert.throws(() => imshow([[1]], { cmap: 'nope' }), /unknown colormap 'nope'.*viridis/);
  await assert.rejects(savefig(join(tmp, 'x.gif')), /use .png or .svg/);
});

test('nice ticks follow matplotlib\'s steps', () => {
  assert.deepEqual(niceTicks(-0.5, 299.5, 7), [0, 50, 100, 150, 200, 250]);
  assert.deepEqual(niceTicks(-0.5, 1.5, 5), [-0.5, 0, 0.5, 1, 1.5]);
});
