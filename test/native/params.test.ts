/**
 * The native backend's parameter blocks are named once, in src/kernels/params.ts: the TypeScript side
 * (src/backend/native/backend.ts) writes them by name, and native/src/params.h, generated from that file
 * by native/gen-params.mjs, gives the C++ side the same names. These tests fail when the committed header
 * is stale, when the generator would silently drop a member it cannot read, and when a bare slot number
 * comes back on either side.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync, mkdtempSync, mkdirSync, copyFileSync, writeFileSync, rmSync } from 'node:fs';
import { spawnSync } from 'node:child_process';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { generate, generateTs, parseEnums, SOURCE, HEADER, LAYOUT_TS } from '../../native/gen-params.mjs';
import { layoutMismatch, nativeAvailable } from '../../src/backend/native/index.js';
import { PARAMS_LAYOUT } from '../../src/backend/native/layout.js';

const root = new URL('../../', import.meta.url).pathname;
const read = (p: string): string => readFileSync(join(root, p), 'utf8');

test('native/src/params.h and src/backend/native/layout.ts are what native/gen-params.mjs makes of src/kernels/params.ts', () => {
  assert.equal(readFileSync(HEADER, 'utf8'), generate(readFileSync(SOURCE, 'utf8')),
    'native/src/params.h is stale: run `node native/gen-params.mjs` (npm run build:native does) and commit it');
  assert.equal(readFileSync(LAYOUT_TS, 'utf8'), generateTs(readFileSync(SOURCE, 'utf8')),
    'src/backend/native/layout.ts is stale: run `node native/gen-params.mjs` (npm run build:native does) and commit it');
  const h = readFileSync(HEADER, 'utf8');
  assert.match(h, /namespace Conv \{\nconstexpr int BATCH = 0;/);
  assert.match(h, /enum Kernel \{\n {2}K_MATMUL = 0,/);
});

test('gen-params: a member that is not NAME = <integer literal> is refused with the enum and member named', () => {
  const good = 'export const enum A {\n  /** doc, with a comma */\n  X = 0, // f32\n  Y = 3,\n}\nexport const enum NativeKernel {\n  K = 0,\n}\n';
  assert.deepEqual(parseEnums(good).map((e: { name: string; members: [string, number][] }) => [e.name, e.members]),
    [['A', [['X', 0], ['Y', 3]]], ['NativeKernel', [['K', 0]]]]);
  assert.throws(() => parseEnums(good.replace('Y = 3', 'Y = 1 << 2')), /enum A: 'Y = 1 << 2' is not NAME = <integer literal>/);
  assert.throws(() => parseEnums(good.replace('Y = 3', 'Y')), /enum A: 'Y' is not/);
  assert.throws(() => parseEnums(good.replace('NativeKernel', 'B')), /NativeKernel .* is missing/);
  // The generated text follows the TS: a changed slot changes the header.
  assert.notEqual(generate(good), generate(good.replace('Y = 3', 'Y = 4')));
  assert.match(generate(good), /namespace A \{\nconstexpr int X = 0;\nconstexpr int Y = 3;\n\}/);
  assert.equal(generate(good.replace(/\n/g, '\r\n')), generate(good), 'CRLF line ends read the same');
  assert.notEqual(generateTs(good), generateTs(good.replace('Y = 3', 'Y = 4')), 'the layout hash follows the values');
  assert.notEqual(generateTs(good), generateTs(good.replace('Y = 3', 'Z = 3')), 'and the names');
});

test('gen-params --check exits 1 on a stale header and 0 once it is rewritten (atomically, beside the sources)', () => {
  const dir = mkdtempSync(join(tmpdir(), 'convnet-params-'));
  try {
    mkdirSync(join(dir, 'native/src'), { recursive: true });
    mkdirSync(join(dir, 'src/kernels'), { recursive: true });
    mkdirSync(join(dir, 'src/backend/native'), { recursive: true });
    copyFileSync(join(root, 'native/gen-params.mjs'), join(dir, 'native/gen-params.mjs'));
    writeFileSync(join(dir, 'src/kernels/params.ts'), read('src/kernels/params.ts').replace('  PAD_LEFT = 14,', '  PAD_LEFT = 14,\n  EXTRA = 40,'));
    copyFileSync(HEADER, join(dir, 'native/src/params.h'));
    const run = (...args: string[]) => spawnSync(process.execPath, [join(dir, 'native/gen-params.mjs'), ...args], { encoding: 'utf8' });
    const stale = run('--check');
    assert.equal(stale.status, 1, stale.stderr);
    assert.match(stale.stderr, /stale: .*params\.h/);
    const w = run();
    assert.equal(w.status, 0, w.stderr);
    assert.match(readFileSync(join(dir, 'native/src/params.h'), 'utf8'), /constexpr int EXTRA = 40;/);
    const hash = /PARAMS_LAYOUT = (0x[0-9a-f]{8})u;/.exec(readFileSync(join(dir, 'native/src/params.h'), 'utf8'))?.[1];
    assert.ok(hash && hash !== `0x${PARAMS_LAYOUT.toString(16).padStart(8, '0')}`, 'a new slot changes the layout hash');
    assert.match(readFileSync(join(dir, 'src/backend/native/layout.ts'), 'utf8'), new RegExp(`PARAMS_LAYOUT = ${hash};`));
    assert.equal(run('--check').status, 0);
    writeFileSync(join(dir, 'src/kernels/params.ts'), 'export const enum A {\n  X = Y,\n}\n');
    const bad = run();
    assert.equal(bad.status, 1);
    assert.match(bad.stderr, /enum A: 'X = Y'/);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});

test('no bare slot numbers: backend.ts writes, and kernels.inc reads, the native block by name only', () => {
  const ts = read('src/backend/native/backend.ts');
  assert.doesNotMatch(ts, /\bP\[\s*\d/, 'src/backend/native/backend.ts indexes the parameter block with a number');
  assert.doesNotMatch(ts, /new Float64Array\(\d/, 'the block size is NativeBlock.SLOTS');
  const inc = read('native/src/kernels.inc');
  // The parameter-reading parts: the *_params() helpers and the dispatch at the end.
  const helpers = [...inc.matchAll(/static \w+ \w+_params\(const double\* P\) \{[\s\S]*?\n\}/g)].map((m) => m[0]);
  assert.equal(helpers.length, 2, 'conv_params and pool_params');
  const dispatch = inc.slice(inc.indexOf('int RUN_NAME('));
  assert.ok(dispatch.length > 1000, 'the RUN_NAME dispatch');
  for (const part of [...helpers, dispatch]) {
    const bare = /\bP\[\s*\d[^\]]*\]/.exec(part);
    assert.equal(bare, null, `native/src/kernels.inc reads ${bare?.[0]} by number`);
  }
  // Every kernel id has its case in the dispatch, and the C++ ids are only the generated ones.
  const ids = [...read('src/kernels/params.ts').matchAll(/export const enum NativeKernel \{([\s\S]*?)\}/g)][0][1]
    .split(',').map((s) => s.replace(/\/\/.*|\/\*[\s\S]*?\*\//g, '').trim()).filter(Boolean).map((s) => s.split('=')[0].trim());
  assert.ok(ids.length >= 20);
  for (const id of ids) assert.match(dispatch, new RegExp(`case K_${id}:`), `the dispatch has no case for K_${id}`);
  assert.doesNotMatch(read('native/src/common.h'), /K_MATMUL\s*=/, 'kernel ids are defined in params.h only');
});

test('an addon built from other parameter layouts is refused with what to do, not run with slots it reads elsewhere', () => {
  assert.equal(layoutMismatch({ layout: () => PARAMS_LAYOUT }), undefined);
  assert.match(layoutMismatch({}) ?? '', /built from other parameter layouts \(it reports none, src\/kernels\/params\.ts gives 0x[0-9a-f]{8}\); rebuild it with 'npm run build:native'/);
  assert.match(layoutMismatch({ layout: () => 1 }) ?? '', /it has 0x00000001/);
  // The addon here (when built) was built from these layouts, or it would not load.
  if (nativeAvailable()) assert.equal(layoutMismatch({ layout: () => PARAMS_LAYOUT }), undefined);
});
