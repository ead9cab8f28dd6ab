import { test } from 'node:test';
import assert from 'node:assert/strict';
import { existsSync, mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { command as filter } from '../../src/cli/commands/filter.js';
import { command as pool } from '../../src/cli/commands/pool.js';
import { imread } from '../../src/io/index.js';
import { captured } from '../cli/capture.js';

const tmp = mkdtempSync(join(tmpdir(), 'convnet-cli-'));
const fixture = fileURLToPath(new URL('../fixtures/images/rgb.png', import.meta.url));
const house = fileURLToPath(new URL('../../../shared/data/house.jpg', import.meta.url));

/** Runs a command, capturing what it prints. */
const run = (cmd: typeof filter, argv: string[]) => captured(() => cmd.run(argv));

test('convnet filter draws the image and its activation map', async () => {
  const out = join(tmp, 'f.png');
  const r = await run(filter, [fixture, '--kernel', '[[1,0,-1],[1,0,-1],[1,0,-1]]', '--mode', 'constant', '--out', out]);
  assert.equal(r.code, 0, r.err);
  assert.match(r.out, /activation map: \(1, 9, 13, 1\)/);
  assert.deepEqual((await imread(out)).shape, [500, 1000, 3]);
});

test('convnet pool prints each shape as the notebook does', async (t) => {
  if (!existsSync(house)) { t.skip('../shared/data/house.jpg is absent'); return; }
  const out = join(tmp, 'p.png');
  const r = await run(pool, [house, '--out', out]);
  assert.equal(r.code, 0, r.err);
  assert.deepEqual(r.out.split('\n').slice(0, 4), [
    'Original image: (1, 300, 300, 1)', 'After pooling 1: (1, 150, 150, 1)',
    'After pooling 2: (1, 75, 75, 1)', 'After pooling 3: (1, 37, 37, 1)']);
  assert.deepEqual((await imread(out)).shape, [800, 1600, 3]);
});

test('bad arguments exit non-zero and say what to do', async () => {
  let r = await run(filter, [fixture, '--kernel', 'blurry']);
  assert.equal(r.code, 2); assert.match(r.err, /unknown filter 'blurry'.*Known filters: vertical-edges/);
  r = await run(filter, [fixture, '--kernel', '[[1,0,-1],[1,0']);
  assert.equal(r.code, 2); assert.match(r.err, /not valid JSON.*write it like/);
  r = await run(filter, [join(tmp, 'missing.jpg'), '--out', join(tmp, 'x.png')]);
  assert.equal(r.code, 1); assert.match(r.err, /missing\.jpg'.*no such file \(check the path\)/);
  r = await run(pool, [fixture, '--steps', '0']);
  assert.equal(r.code, 2); assert.match(r.err, /--steps must be an integer from 1 to 12/);
  r = await run(pool, []);
  assert.equal(r.code, 2); assert.match(r.err, /give one image file/);
  r = await run(filter, [fixture, '--mode', 'edge']);
  assert.equal(r.code, 2); assert.match(r.err, /unknown --mode 'edge'; use one of reflect/);
  r = await run(filter, [fixture, '--out', join(tmp, 'x.jpg')]);
  assert.equal(r.code, 2); assert.match(r.err, /--out must end in .png or .svg/);
});
