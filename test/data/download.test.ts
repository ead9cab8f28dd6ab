import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { createServer, type Server } from 'node:http';
import { existsSync, readFileSync, readdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { zipSync, strToU8 } from 'fflate';
import { downloadFile, unzipSafe, safeEntryPath, progressBar } from '../../src/data/download.js';
import { command } from '../../src/cli/commands/download.js';
import { tempDir, cleanup } from './helpers.js';

const files: Record<string, Buffer> = {};
let server: Server;
let base = '';
let dropFirst = new Set<string>();
const rangeSeen: string[] = [];

before(async () => {
  const zip = zipSync({ 'PetImages/Cat/1.jpg': new Uint8Array(3000).fill(7), 'PetImages/Dog/2.jpg': strToU8('dog'.repeat(500)), 'PetImages/': new Uint8Array(0) });
  files['PetImages_small.zip'] = Buffer.from(zip);
  files['house.jpg'] = Buffer.alloc(50_000, 3);
  files['big.bin'] = Buffer.from(Array.from({ length: 200_000 }, (_, i) => (i * 7) & 0xff));
  files['evil.zip'] = Buffer.from(zipSync({ 'ok.txt': strToU8('fine'), '../evil.txt': strToU8('escaped') }));
  files['abs.zip'] = Buffer.from(zipSync({ '/tmp/convnet-abs-evil.txt': strToU8('escaped') }));
  files['bomb.zip'] = Buffer.from(zipSync({ 'zeros.bin': new Uint8Array(5_000_000) }, { level: 9 }));
  server = createServer((req, res) => {
    const name = decodeURIComponent(req.url!.split('/').pop()!);
    const body = files[name];
    if (!body) { res.writeHead(404); res.end(); return; }
    const range = /bytes=(\d+)-/.exec(req.headers.range ?? '');
    if (range) rangeSeen.push(`${name}:${range[1]}`);
    const start = range ? Number(range[1]) : 0;
    if (start >= body.length) { res.writeHead(416, { 'Content-Range': `bytes */${body.length}` }); res.end(); return; }
    const chunk = body.subarray(start);
    res.writeHead(range ? 206 : 200, { 'Content-Length': chunk.length, ...(range ? { 'Content-Range': `bytes ${start}-${body.length - 1}/${body.length}` } : {}) });
    if (dropFirst.has(name)) {
      // Send part of the file, then cut the connection.
      dropFirst.delete(name);
      res.write(chunk.subarray(0, Math.floor(chunk.length / 3)), () => setTimeout(() => res.socket?.destroy(), 20));
      return;
    }
    res.end(chunk);
  });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  const a = server.address() as { port: number };
  base = `http://127.0.0.1:${a.port}/data/`;
});
after(() => { server.closeAllConnections?.(); server.close(); });

test('an interrupted transfer resumes with a Range request and ends complete and size-checked', async () => {
  const dir = tempDir();
  dropFirst = new Set(['big.bin']);
  const progress: number[] = [];
  const log: string[] = [];
  const dest = join(dir, 'big.bin');
  const n = await downloadFile(base + 'big.bin', dest, { expectedSize: 200_000, retryDelayMs: 10, onProgress: (p) => progress.push(p.received), log: (l) => log.push(l) });
  assert.equal(n, 200_000);
  assert.deepEqual(readFileSync(dest), files['big.bin']);
  assert.ok(!existsSync(dest + '.part'));
  assert.match(log.join('\n'), /resuming/);
  assert.ok(rangeSeen.some((r) => r.startsWith('big.bin:') && r !== 'big.bin:0'), rangeSeen.join(','));
  assert.ok(progress.length > 0 && progress.at(-1) === 200_000);
  // A part file left by an earlier run is resumed too.
  const dest2 = join(dir, 'big2.bin');
  writeFileSync(dest2 + '.part', files['big.bin'].subarray(0, 12345));
  files['big2.bin'] = files['big.bin'];
  await downloadFile(base + 'big2.bin', dest2, { expectedSize: 200_000 });
  assert.deepEqual(readFileSync(dest2), files['big.bin']);
  assert.ok(rangeSeen.includes('big2.bin:12345'));
  // Wrong size and missing files fail clearly.
  await assert.rejects(downloadFile(base + 'house.jpg', join(dir, 'h.jpg'), { expectedSize: 123 }), /size check failed/);
  await assert.rejects(downloadFile(base + 'missing.zip', join(dir, 'm.zip')), /HTTP 404/);
  cleanup(dir);
});

test('unzipSafe extracts, and refuses entries that escape the folder and archives that expand too far', async () => {
  const dir = tempDir();
  for (const name of ['PetImages_small.zip', 'evil.zip', 'abs.zip', 'bomb.zip']) writeFileSync(join(dir, name), files[name]);
  const out = join(dir, 'out');
  const r = await unzipSafe(join(dir, 'PetImages_small.zip'), out);
  assert.equal(r.files, 2);
  assert.deepEqual(readFileSync(join(out, 'PetImages/Cat/1.jpg')), Buffer.alloc(3000, 7));
  await assert.rejects(unzipSafe(join(dir, 'evil.zip'), join(dir, 'e')), /outside/);
  assert.ok(!existsSync(join(dir, 'evil.txt')));
  await assert.rejects(unzipSafe(join(dir, 'abs.zip'), join(dir, 'a')), /outside/);
  assert.ok(!existsSync('/tmp/convnet-abs-evil.txt'));
  await assert.rejects(unzipSafe(join(dir, 'bomb.zip'), join(dir, 'b'), { maxBytes: 1_000_000 }), /more than 1000000 bytes/);
  assert.deepEqual(readdirSync(join(dir, 'b')).filter((f) => f.includes('convnet-part')), []);
  assert.equal(safeEntryPath(dir, 'a/../../x'), null);
  assert.equal(safeEntryPath(dir, 'C:\\x'), null);
  assert.equal(safeEntryPath(dir, '..\\x'), null);
  assert.equal(safeEntryPath(dir, 'a/./b'), join(dir, 'a', 'b'));
  assert.match(progressBar({ received: 50, total: 100, bytesPerSecond: 1e6 }), /^\[#{15}\.{15}\]  50%/);
  cleanup(dir);
});

test('convnet download --url fetches both files and extracts the zip into --dest', async () => {
  const dir = tempDir();
  const lines: string[] = [];
  const log = console.log, err = console.error;
  console.log = (...a: unknown[]) => lines.push(a.join(' '));
  console.error = (...a: unknown[]) => lines.push(a.join(' '));
  try {
    assert.equal(await command.run(['--dest', dir, '--url', base]), 0);
    assert.equal(await command.run(['--dest', dir, '--url', base]), 0);
  } finally { console.log = log; console.error = err; }
  assert.deepEqual(readFileSync(join(dir, 'house.jpg')), files['house.jpg']);
  assert.ok(existsSync(join(dir, 'PetImages', 'Dog', '2.jpg')));
  assert.match(lines.join('\n'), /already extracted/);
  cleanup(dir);
});
