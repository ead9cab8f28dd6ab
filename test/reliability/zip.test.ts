/**
 * Reliability (issue 11 §9): zip bombs under the archive-wide limits. A 1.5 MB .keras whose
 * config.json inflated to 1.5 GiB took 22 s and 1.8 GB before failing. config.json and
 * metadata.json now have their own small limits (16 MiB, 1 MiB), checked against the sizes the
 * central directory declares, before anything is inflated.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, writeFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { zipSync } from 'fflate';
import { readZip, DEFAULT_ZIP_LIMITS } from '../../src/io/models/zip.js';
import { loadModel } from '../../src/io/models/index.js';

const enc = new TextEncoder();

/** Rewrites the declared uncompressed size of `name` in the central directory (and local header). */
function declare(zip: Uint8Array, name: string, size: number): Uint8Array {
  const out = zip.slice();
  const v = new DataView(out.buffer);
  const nb = enc.encode(name);
  for (let p = 0; p + 46 < out.length; p++) {
    const sig = v.getUint32(p, true);
    if (sig === 0x02014b50 && v.getUint16(p + 28, true) === nb.length && Buffer.from(out.subarray(p + 46, p + 46 + nb.length)).equals(Buffer.from(nb))) v.setUint32(p + 24, size, true);
    if (sig === 0x04034b50 && v.getUint16(p + 26, true) === nb.length && Buffer.from(out.subarray(p + 30, p + 30 + nb.length)).equals(Buffer.from(nb))) v.setUint32(p + 22, size, true);
  }
  return out;
}

test('config.json and metadata.json have their own limits, checked before inflating', () => {
  assert.equal(DEFAULT_ZIP_LIMITS.maxBytesByName['config.json'], 16 * 2 ** 20);
  assert.equal(DEFAULT_ZIP_LIMITS.maxBytesByName['metadata.json'], 2 ** 20);
  const small = zipSync({ 'metadata.json': enc.encode('{}'), 'config.json': [enc.encode('{"a": 1}'), { level: 6 }] });
  // The case: a config.json that declares 1.5 GiB (an archive of ~1.5 MB): refused from the directory.
  const bomb = declare(small, 'config.json', 1.5 * 2 ** 30);
  // Refused from the central directory: the message says nothing was inflated (no timing asserted).
  assert.throws(() => readZip(bomb, {}, 'bomb.keras'), /bomb\.keras: zip entry "config\.json" declares 1610612736 bytes, more than its limit of 16777216 bytes.*nothing was inflated/);
  assert.throws(() => readZip(declare(small, 'metadata.json', 2 ** 21), {}, 'm.keras'), /"metadata\.json" declares 2097152 bytes, more than its limit of 1048576/);
  // A config.json that really inflates to 20 MiB (about 20 KB compressed, under the ratio limit).
  const real = zipSync({ 'metadata.json': enc.encode('{}'), 'config.json': [new Uint8Array(20 * 2 ** 20).fill(32), { level: 9 }] });
  assert.ok(real.length < 100_000);
  assert.throws(() => readZip(real, {}, 'real.keras'), /"config\.json" declares 20971520 bytes, more than its limit/);
  // Limits can be raised per name; the other defaults stay.
  assert.equal(readZip(real, { maxBytesByName: { 'config.json': 2 ** 25 } }, 'ok').get('config.json')!.length, 20 * 2 ** 20);
  assert.throws(() => readZip(declare(small, 'metadata.json', 2 ** 21), { maxBytesByName: { 'config.json': 2 ** 25 } }, 'm'), /metadata\.json/);
  // An entry lying about its size (small declared, large real) stops at the declared size.
  const liar = declare(real, 'config.json', 1000);
  assert.throws(() => readZip(liar, {}, 'liar.keras'), /expands past its declared size of 1000 bytes/);
});

test('loadModel on the bomb fails fast and names the file', async () => {
  const d = mkdtempSync(join(tmpdir(), 'convnet-zip-'));
  const small = zipSync({ 'metadata.json': enc.encode('{"keras_version": "3.5.0"}'), 'config.json': [enc.encode('{}'), { level: 6 }], 'model.weights.h5': new Uint8Array(8) });
  const p = join(d, 'bomb.keras');
  writeFileSync(p, declare(small, 'config.json', 1.5 * 2 ** 30));
  await assert.rejects(loadModel(p), /bomb\.keras.*config\.json.*declares 1610612736 bytes/);
  rmSync(d, { recursive: true });
});
