import { test } from 'node:test';
import assert from 'node:assert/strict';
import { existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { cli } from '../cli/capture.js';
import { generateBuiltinData } from '../../src/notebook/builtin-data.js';
import { readJsonLines } from '../../src/report/files.js';
import type { TrialRecord } from '../../src/report/types.js';

test('convnet sweep trains, resumes and ranks; convnet report rebuilds the page', async () => {
  const root = mkdtempSync(join(tmpdir(), 'convnet-cli-'));
  try {
    const d = await generateBuiltinData(join(root, 'bd'), { perClass: 30, size: 32 });
    writeFileSync(join(root, 'space.json'), JSON.stringify({ filters: [8, 16], convBlocks: [2] }));
    const args = ['sweep', d.dataDir, '--epochs', '1', '--space', join(root, 'space.json'), '--strategy', 'grid', '--target-size', '16', '--out', join(root, 'sw')];
    const r1 = await cli(...args);
    assert.equal(r1.code, 0, r1.err);
    const recs = readJsonLines<TrialRecord>(join(root, 'sw', 'results.jsonl'));
    assert.deepEqual(recs.map((r) => r.config.filters), [8, 16]);
    assert.equal(recs[0].history.val_accuracy.length, 1);
    assert.ok(recs[0].params > 0 && recs[0].seconds > 0);
    assert.ok(existsSync(join(root, 'sw', 'best-model.keras')));
    assert.match(r1.out, /rank\s+trial\s+filters/);
    const r2 = await cli(...args);
    assert.equal(r2.code, 0);
    assert.match(r2.out, /Resuming: 2 of 2 trials already finished/);
    assert.equal(readJsonLines(join(root, 'sw', 'results.jsonl')).length, 2);
    rmSync(join(root, 'sw', 'index.html'));
    const r3 = await cli('report', join(root, 'sw'));
    assert.equal(r3.code, 0, r3.err);
    assert.match(readFileSync(join(root, 'sw', 'index.html'), 'utf8'), /Ranking/);
  } finally {
    rmSync(root, { recursive: true, force: true });
  }
});

test('bad input: clear messages and non-zero exits before anything long starts', async () => {
  const root = mkdtempSync(join(tmpdir(), 'convnet-cli-'));
  try {
    writeFileSync(join(root, 'space.json'), JSON.stringify({ filter: [8] }));
    mkdirSync(join(root, 'data', 'Cat'), { recursive: true });
    writeFileSync(join(root, 'data', 'Cat', 'a.jpg'), 'x');
    let r = await cli('sweep', join(root, 'data'), '--space', join(root, 'space.json'));
    assert.equal(r.code, 2);
    assert.match(r.err, /unknown key 'filter'. Known keys: filters/);
    r = await cli('sweep', join(root, 'data'), '--out', join(root, 'o'));
    assert.equal(r.code, 1);
    assert.match(r.err, /single class/);
    r = await cli('sweep', join(root, 'data'), '--preset', 'huge');
    assert.match(r.err, /unknown preset 'huge'/);
    r = await cli('sweep');
    assert.equal(r.code, 2);
    r = await cli('notebook', '--image', join(root, 'missing.jpg'), '--out', join(root, 'nb'));
    assert.equal(r.code, 1);
    assert.match(r.err, /image '.*missing.jpg' does not exist/);
    r = await cli('notebook', '--bogus');
    assert.equal(r.code, 2);
    assert.match(r.err, /unknown option '--bogus'/);
    r = await cli('report', join(root, 'nowhere'));
    assert.equal(r.code, 1);
    assert.match(r.err, /does not exist/);
    r = await cli('notebook', '--help');
    assert.match(r.out, /--target-size S +images are resized to S x S: 150, 150x150 or 150,150/);
  } finally {
    rmSync(root, { recursive: true, force: true });
  }
});
