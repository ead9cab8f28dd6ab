/**
 * Reliability (issue 11 §5): filter specs from the command line are bounded. gaussian:1e9 and
 * box-blur:20000 used to end in V8's "Fatal JavaScript invalid size error" (rc 133),
 * getFilter('box-blur:100000') ran out of memory (rc 134) and gaussian:1e6 ran for minutes.
 * Now each is refused at once, naming the spec and the limit; the limits themselves still work.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { fileURLToPath } from 'node:url';
import { getFilter, gaussianKernel, parseKernelJson, MAX_FILTER_SIZE, MAX_GAUSSIAN_SIGMA } from '../../src/ops/filters.js';
import { command as filter } from '../../src/cli/commands/filter.js';
import { command as pool } from '../../src/cli/commands/pool.js';

const fixture = fileURLToPath(new URL('../fixtures/images/rgb.png', import.meta.url));
const LIMIT = /limit is 101x101 \(gaussian sigma up to 12\.5, box-blur size up to 101\)/;

test('huge filter specs are refused quickly with the limit in the message', () => {
  for (const spec of ['gaussian:1e9', 'gaussian:1e6', 'gaussian:13', 'box-blur:20000', 'box-blur:100000', 'box-blur:102', 'gaussian:1e300']) {
    assert.throws(() => getFilter(spec), (e: Error) => e instanceof RangeError && e.message.includes(`'${spec}'`) && LIMIT.test(e.message), spec);
  }
  assert.throws(() => gaussianKernel(1e6), LIMIT);
  assert.throws(() => gaussianKernel(2, 1e9), LIMIT);
  assert.throws(() => gaussianKernel(2, NaN), /truncate must be a positive number/);
  assert.throws(() => getFilter('gaussian:Infinity'), /unknown filter/);
  const wide = JSON.stringify([new Array(MAX_FILTER_SIZE + 1).fill(1)]);
  assert.throws(() => parseKernelJson(wide), LIMIT);
});

test('the limits themselves are accepted', () => {
  assert.equal(getFilter(`box-blur:${MAX_FILTER_SIZE}`).kernel.length, MAX_FILTER_SIZE);
  assert.equal(getFilter(`gaussian:${MAX_GAUSSIAN_SIGMA}`).kernel.length, 101);
  assert.equal(parseKernelJson(JSON.stringify([new Array(MAX_FILTER_SIZE).fill(1)]))[0].length, MAX_FILTER_SIZE);
});

async function run(cmd: typeof filter, argv: string[]): Promise<{ code: number; err: string }> {
  const err: string[] = [];
  const log = console.log, error = console.error;
  console.log = () => {};
  console.error = (...a: unknown[]) => { err.push(a.join(' ')); };
  try {
    let code: number;
    try { code = await cmd.run(argv); } catch (e: any) { err.push(e.message); code = 2; }
    return { code, err: err.join('\n') };
  } finally { console.log = log; console.error = error; }
}

test('convnet filter/pool --kernel gaussian:1e9 and box-blur:20000 fail with a usage error, not a crash', async () => {
  for (const [cmd, name] of [[filter, 'filter'], [pool, 'pool']] as const) {
    for (const spec of ['gaussian:1e9', 'box-blur:20000']) {
      const r = await run(cmd, [fixture, '--kernel', spec, '--out', '/nonexistent/never-written.png']);
      assert.notEqual(r.code, 0);
      assert.match(r.err, new RegExp(`convnet ${name}: filter '${spec}'.*limit is 101x101`), r.err);
    }
  }
});
