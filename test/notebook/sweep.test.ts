import { test } from 'node:test';
import assert from 'node:assert/strict';
import { existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { runSweep, type TrialRunner, type TrialContext } from '../../src/notebook/sweep.js';
import { validateSpace, planTrials, trialId, PRESETS, gridSize, filtersPerBlock, NOTEBOOK_CONFIG } from '../../src/notebook/space.js';
import { inspectDataDir, makeSubset } from '../../src/notebook/dataset.js';
import { readJsonLines } from '../../src/report/files.js';
import type { TrialRecord } from '../../src/report/types.js';

function tempDir(): string { return mkdtempSync(join(tmpdir(), 'convnet-sweep-')); }

function dataDir(root: string, perClass = 10, classes = ['Cat', 'Dog']): string {
  const d = join(root, 'data');
  for (const c of classes) {
    mkdirSync(join(d, c), { recursive: true });
    for (let i = 0; i < perClass; i++) writeFileSync(join(d, c, `${c.toLowerCase()}.${i}.jpg`), 'x');
  }
  return d;
}

/** A stand-in trainer: accuracy grows with filters and falls with the learning rate; records its calls. */
function fakeRunner(calls: TrialContext[], failOn?: number): TrialRunner {
  return async (ctx) => {
    calls.push(ctx);
    if (ctx.index === failOn) throw new Error('boom');
    const f = Number(ctx.config.filters);
    const top = 0.6 + f / 200 - ctx.config.learningRate * 10;
    const val = Array.from({ length: ctx.settings.epochs }, (_, e) => top - 0.05 * (ctx.settings.epochs - 1 - e));
    return {
      history: { loss: val.map((v) => 1 - v), accuracy: val, val_loss: val.map((v) => 1.1 - v), val_accuracy: val },
      params: f * 100,
      saveModel: async (p) => writeFileSync(p, `model of trial ${ctx.index}`),
    };
  };
}

const space = validateSpace({ filters: [16, 32], learningRate: [0.001, 0.01] });

test('a sweep runs every trial, records them, ranks them and keeps the best model', async () => {
  const root = tempDir();
  try {
    const calls: TrialContext[] = [];
    const lines: string[] = [];
    const r = await runSweep({ data: dataDir(root), out: join(root, 'out'), epochs: 3, space, strategy: 'grid', targetSize: 32 }, fakeRunner(calls), (l) => lines.push(l));
    assert.equal(calls.length, 4);
    const recs = readJsonLines<TrialRecord>(join(root, 'out', 'results.jsonl'));
    assert.equal(recs.length, 4);
    assert.deepEqual(recs.map((x) => [x.config.filters, x.config.learningRate]), [[16, 0.001], [16, 0.01], [32, 0.001], [32, 0.01]]);
    assert.equal(recs[0].settings.epochs, 3);
    assert.equal(recs[0].history.val_accuracy.length, 3);
    assert.equal(recs[0].bestEpoch, 3);
    assert.equal(r.best!.config.filters, 32);
    assert.equal(r.best!.config.learningRate, 0.001);
    assert.equal(readFileSync(join(root, 'out', 'best-model.keras'), 'utf8'), 'model of trial 2');
    assert.ok(existsSync(join(root, 'out', 'index.html')));
    const table = lines.join('\n');
    assert.match(table, /rank\s+trial\s+filters\s+learningRate/);
    assert.match(table, /\n\s+1\s+3\s+32\s+0\.001/);
  } finally {
    rmSync(root, { recursive: true, force: true });
  }
});

test('rerunning resumes: finished trials are skipped, failed or new ones run', async () => {
  const root = tempDir();
  try {
    const data = dataDir(root), out = join(root, 'out');
    const opts = { data, out, epochs: 2, space, strategy: 'random' as const, trials: 3, targetSize: 32 };
    const first: TrialContext[] = [];
    const r1 = await runSweep(opts, fakeRunner(first, 1), () => {});
    assert.equal(first.length, 3);
    assert.equal(r1.failed.length, 1);
    assert.equal(readJsonLines(join(out, 'results.jsonl')).length, 2);
    const second: TrialContext[] = [];
    const lines: string[] = [];
    await runSweep(opts, fakeRunner(second), (l) => lines.push(l));
    assert.deepEqual(second.map((c) => c.index), [1], 'only the failed trial reruns');
    assert.match(lines.join('\n'), /Resuming: 2 of 3 trials/);
    const third: TrialContext[] = [];
    await runSweep({ ...opts, trials: 4 }, fakeRunner(third), () => {});
    assert.deepEqual(third.map((c) => c.index), [3], 'more trials: the plan keeps its prefix');
    const recs = readJsonLines<TrialRecord>(join(out, 'results.jsonl'));
    assert.equal(recs.length, 4);
    assert.equal(new Set(recs.map((x) => x.id)).size, 4);
  } finally {
    rmSync(root, { recursive: true, force: true });
  }
});

test('bad input fails before any trial starts', async () => {
  const root = tempDir();
  try {
    const calls: TrialContext[] = [];
    const run = (o: Partial<Parameters<typeof runSweep>[0]>) => runSweep({ data: dataDir(root), out: join(root, 'o'), epochs: 1, space, targetSize: 32, ...o }, fakeRunner(calls), () => {});
    assert.throws(() => validateSpace({ filterz: [1] }, 'space.json'), /space.json: unknown key 'filterz'. Known keys: filters, kernelSize/);
    assert.throws(() => validateSpace({ kernelSize: ['big'] }), /'kernelSize' value "big"/);
    assert.throws(() => validateSpace({ optimizer: [] }), /no values/);
    await assert.rejects(run({ data: join(root, 'missing') }), /does not exist/);
    await assert.rejects(run({ data: dataDir(join(root, 'one'), 3, ['Cat']) }), /single class \('Cat'\)/);
    const emptyClass = dataDir(join(root, 'e'), 3);
    mkdirSync(join(emptyClass, 'Zebra'));
    await assert.rejects(run({ data: emptyClass }), /Zebra' holds no images/);
    await assert.rejects(run({ epochs: 0 }), /--epochs/);
    await assert.rejects(run({ subset: 1.5 }), /--subset/);
    await assert.rejects(run({ space: validateSpace({ convBlocks: [4, 6] }), targetSize: 32 }), /convBlocks 6 would pool a 32x32 input below one pixel/);
    mkdirSync(join(root, 'user'));
    writeFileSync(join(root, 'user', 'notes.txt'), 'mine');
    await assert.rejects(run({ out: join(root, 'user') }), /already exists and is not a sweep; pass --force/);
    assert.equal(readFileSync(join(root, 'user', 'notes.txt'), 'utf8'), 'mine');
    assert.equal(calls.length, 0);
    // A sweep folder with other settings is not mixed in silently.
    await run({ out: join(root, 's') });
    await assert.rejects(run({ out: join(root, 's'), epochs: 2 }), /other settings/);
  } finally {
    rmSync(root, { recursive: true, force: true });
  }
});

test('plans: grid order, seeded random without repeats, stable ids, the exercise preset', () => {
  const grid = planTrials(space, 'grid', undefined, 1);
  assert.equal(grid.length, 4);
  const r1 = planTrials(PRESETS.exercise, 'random', 20, 42);
  const r2 = planTrials(PRESETS.exercise, 'random', 25, 42);
  assert.deepEqual(r2.slice(0, 20), r1);
  assert.equal(new Set(r1.map((c) => JSON.stringify(c))).size, 20);
  const settings = { data: '/d', epochs: 10, targetSize: 150, subset: 1, seed: 42 };
  assert.equal(trialId(r1[0], settings), trialId({ ...r1[0] }, { ...settings }));
  assert.notEqual(trialId(r1[0], settings), trialId(r1[0], { ...settings, epochs: 9 }));
  assert.ok(gridSize(PRESETS.exercise) > 1000);
  for (const k of ['filters', 'kernelSize', 'convBlocks', 'denseUnits', 'learningRate', 'batchSize', 'batchNorm', 'dropout', 'augmentation', 'optimizer']) {
    assert.ok(k in PRESETS.exercise, k);
  }
  assert.deepEqual(filtersPerBlock(NOTEBOOK_CONFIG), [32, 64, 128, 64]);
  assert.deepEqual(filtersPerBlock({ ...NOTEBOOK_CONFIG, filters: 16, convBlocks: 3 }), [16, 32, 64]);
});

test('subset: a seeded fraction of each class, reused when present', () => {
  const root = tempDir();
  try {
    const info = inspectDataDir(dataDir(root, 10));
    const a = makeSubset(info, 0.3, join(root, 'sub'));
    assert.equal(a.files.Cat.length, 3);
    assert.deepEqual(inspectDataDir(join(root, 'sub')).files, a.files);
    const b = makeSubset(info, 0.3, join(root, 'sub'));
    assert.deepEqual(b.files, a.files);
  } finally {
    rmSync(root, { recursive: true, force: true });
  }
});
