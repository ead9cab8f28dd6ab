import { test } from 'node:test';
import assert from 'node:assert/strict';
import { existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { runNotebook, type NotebookStep } from '../../src/notebook/runner.js';
import type { RunManifest } from '../../src/report/types.js';

function tempDir(): string { return mkdtempSync(join(tmpdir(), 'convnet-nb-')); }

const small = { builtin: { perClass: 4, size: 32 } };

function recorder(names: string[], calls: string[], failAt?: string): NotebookStep[] {
  return names.map((name) => ({
    name,
    async run(ctx) {
      calls.push(name);
      if (name === failAt) throw new Error(`${name} broke`);
      ctx.log(`${name} says hi`);
      ctx.run.add({ type: 'text', title: name, text: ctx.transcript() });
    },
  }));
}

test('steps run in order, each with its own transcript; the report lists them', async () => {
  const root = tempDir();
  try {
    const calls: string[] = [];
    const printed: string[] = [];
    const r = await runNotebook({ out: join(root, 'out'), ...small }, recorder(['a', 'b', 'c'], calls), (l) => printed.push(l));
    assert.deepEqual(calls, ['a', 'b', 'c']);
    const m = JSON.parse(readFileSync(join(root, 'out', 'run.json'), 'utf8')) as RunManifest;
    assert.equal(m.status, 'finished');
    assert.deepEqual(m.sections.map((s) => [s.title, s.type === 'text' ? s.text : '']), [['a', 'a says hi'], ['b', 'b says hi'], ['c', 'c says hi']]);
    assert.ok(existsSync(r.reportPath));
    assert.ok(existsSync(join(root, 'out', 'data', 'shapes', 'horizontal', 'horizontal.3.jpg')));
    assert.ok(existsSync(join(root, 'out', 'data', 'house.jpg')));
    assert.match(printed[0], /generated the built-in set \(8 images/);
  } finally {
    rmSync(root, { recursive: true, force: true });
  }
});

test('a failing step marks the run failed and still writes the report', async () => {
  const root = tempDir();
  try {
    const calls: string[] = [];
    await assert.rejects(runNotebook({ out: join(root, 'out'), ...small }, recorder(['a', 'b', 'c'], calls, 'b'), () => {}), /b broke/);
    assert.deepEqual(calls, ['a', 'b']);
    const m = JSON.parse(readFileSync(join(root, 'out', 'run.json'), 'utf8')) as RunManifest;
    assert.equal(m.status, 'failed');
    assert.match(readFileSync(join(root, 'out', 'index.html'), 'utf8'), /The run failed: b broke/);
  } finally {
    rmSync(root, { recursive: true, force: true });
  }
});

test('bad input is refused before any step runs; user files are never deleted', async () => {
  const root = tempDir();
  try {
    const calls: string[] = [];
    const steps = recorder(['a'], calls);
    const run = (o: Parameters<typeof runNotebook>[0]) => runNotebook({ ...small, ...o }, steps, () => {});
    mkdirSync(join(root, 'mine'));
    writeFileSync(join(root, 'mine', 'thesis.tex'), 'precious');
    await assert.rejects(run({ out: join(root, 'mine') }), /output folder .* already exists; pass --force/);
    await assert.rejects(run({ out: join(root, 'o1'), image: join(root, 'nope.jpg') }), /image '.*nope.jpg' does not exist/);
    writeFileSync(join(root, 'text.jpg'), 'not an image');
    await assert.rejects(run({ out: join(root, 'o2'), image: join(root, 'text.jpg') }), /cannot read image '.*text.jpg'/);
    await assert.rejects(run({ out: join(root, 'o3'), data: join(root, 'nodata') }), /data folder '.*nodata' does not exist/);
    mkdirSync(join(root, 'one', 'Cat'), { recursive: true });
    writeFileSync(join(root, 'one', 'Cat', 'a.jpg'), 'x');
    await assert.rejects(run({ out: join(root, 'o4'), data: join(root, 'one') }), /single class \('Cat'\)/);
    mkdirSync(join(root, 'empty'));
    await assert.rejects(run({ out: join(root, 'o5'), data: join(root, 'empty') }), /no class sub-folders/);
    await assert.rejects(run({ out: join(root, 'o6'), lang: 'fr' as 'en' }), /--lang must be 'en' or 'es'/);
    await assert.rejects(run({ out: join(root, 'o7'), epochs: 0 }), /--epochs must be an integer >= 1/);
    await assert.rejects(run({ out: join(root, 'o8'), targetSize: 8 }), /--target-size must be an integer >= 16/);
    assert.deepEqual(calls, []);
    for (const o of ['o1', 'o2', 'o3', 'o4', 'o5', 'o6', 'o7', 'o8']) assert.ok(!existsSync(join(root, o)), `${o} not created`);
    // --force writes beside the user's file and deletes nothing.
    await run({ out: join(root, 'mine'), force: true });
    assert.equal(readFileSync(join(root, 'mine', 'thesis.tex'), 'utf8'), 'precious');
    assert.deepEqual(calls, ['a']);
  } finally {
    rmSync(root, { recursive: true, force: true });
  }
});
