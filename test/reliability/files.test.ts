/**
 * Reliability (issue 11 §6, §10, §11): FIFOs never hang a read; stale temporaries of killed
 * saves are cleaned up; one decoder policy for imread, the data pipeline and check --decode;
 * imsave names the file for a 0x0 image and refuses NaN.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, mkdirSync, writeFileSync, readFileSync, readdirSync, rmSync, unlinkSync, existsSync } from 'node:fs';
import { execFileSync, spawn } from 'node:child_process';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import sharp from 'sharp';
import { imread, imsave } from '../../src/io/index.js';
import { cleanStaleTemps, writeFileAtomic, writeFileAtomicSync, readRegularFile, tempOwner } from '../../src/io/files.js';
import { decodeImage } from '../../src/data/decode.js';
import { ImageDataGenerator } from '../../src/data/index.js';
import { zeros, tensor } from '../../src/tensor/index.js';

const fixtures = fileURLToPath(new URL('../fixtures/images/', import.meta.url));
const tmp = () => mkdtempSync(join(tmpdir(), 'convnet-rel-'));
const DECODE = { targetSize: null, colorMode: 'rgb' as const, interpolation: 'nearest' as const, keepAspectRatio: false, maxPixels: 1e8 };

/** Fails the test instead of hanging when a read blocks. */
function within<T>(ms: number, p: Promise<T>, what: string): Promise<T> {
  return Promise.race([p, new Promise<T>((_, rej) => setTimeout(() => rej(new Error(`${what}: still blocked after ${ms} ms`)), ms).unref())]);
}

test('imread on a FIFO is refused at once, naming the file', async () => {
  const d = tmp();
  const fifo = join(d, 'pipe.jpg');
  execFileSync('mkfifo', [fifo]);
  await assert.rejects(within(3000, imread(fifo), 'imread'), /cannot read image '.*pipe\.jpg': it is a FIFO \(named pipe\), not an image file/);
  await assert.rejects(within(3000, readRegularFile(fifo), 'readRegularFile'), /FIFO/);
  await assert.rejects(within(3000, decodeImage(fifo, DECODE), 'decodeImage'), /pipe\.jpg' is a FIFO/);
  rmSync(d, { recursive: true });
});

test('a listed file replaced by a FIFO mid-epoch is skipped with its name and reason; the epoch goes on', async () => {
  const d = tmp();
  mkdirSync(join(d, 'a')); mkdirSync(join(d, 'b'));
  const jpg = readFileSync(join(fixtures, 'rgb.jpg'));
  for (let i = 0; i < 4; i++) { writeFileSync(join(d, 'a', `${i}.jpg`), jpg); writeFileSync(join(d, 'b', `${i}.jpg`), jpg); }
  for (const workers of [0, 1]) {
    const lines: string[] = [];
    const it = await new ImageDataGenerator().flowFromDirectory(d, { targetSize: [9, 13], batchSize: 8, shuffle: false, workers, log: (l: string) => lines.push(l) });
    assert.equal(it.samples, 8);
    const victim = join(d, 'b', '2.jpg');
    unlinkSync(victim);
    execFileSync('mkfifo', [victim]);
    const batch = await within(5000, it.getBatch(0), `getBatch with ${workers} workers`);
    assert.equal(batch.x.shape[0], 7, 'the FIFO is left out of the batch');
    assert.ok(lines.some((l) => /skipping .*b\/2\.jpg: cannot decode \(.*FIFO/.test(l)), lines.join('\n'));
    unlinkSync(victim);
    writeFileSync(victim, jpg);
    await (it as any).close?.();
  }
  assert.equal((await imread(join(d, 'a', '0.jpg'))).shape[0], 9, 'reads work after');
  rmSync(d, { recursive: true });
});

test('stale temporaries of dead processes are removed on the next save to the folder; live ones stay', async () => {
  const d = tmp();
  // A process that has exited: its pid is free.
  const child = spawn(process.execPath, ['-e', '0']);
  const deadPid: number = await new Promise((r) => child.on('exit', () => r(child.pid!)));
  const stale = [`.model.keras.${deadPid}.0a1b2c3d.tmp`, `.run.json.${deadPid}.tmp`, `.model-01.tmp-${deadPid}.keras`, `cache.bin.${deadPid}.deadbeef.tmp`, `.best-model.${deadPid}.keras`];
  const live = [`.model.keras.${process.pid}.0a1b2c3d.tmp`, `.other.bin.1.00000000.tmp`]; // ours, and pid 1 (alive)
  const unrelated = ['model.keras', '.hidden', 'notes.tmp', `.x.${deadPid}.tmpx`, `.mine.${deadPid}.keras`];
  for (const n of [...stale, ...live, ...unrelated]) writeFileSync(join(d, n), Buffer.alloc(1000));
  mkdirSync(join(d, `.dir.${deadPid}.0a1b2c3d.tmp`)); // not a regular file: left alone
  for (const n of stale) assert.equal(tempOwner(n), deadPid, n);
  await writeFileAtomic(join(d, 'model.keras'), 'new');
  const left = readdirSync(d).sort();
  for (const n of stale) assert.ok(!left.includes(n), `${n} removed`);
  for (const n of [...live, ...unrelated, `.dir.${deadPid}.0a1b2c3d.tmp`]) assert.ok(left.includes(n), `${n} kept`);
  assert.equal(readFileSync(join(d, 'model.keras'), 'utf8'), 'new');
  // The sync writer (run.json, sweep files) cleans too; a killed save is the case from the issue.
  const d2 = tmp();
  writeFileSync(join(d2, `.run.json.${deadPid}.1234abcd.tmp`), Buffer.alloc(1 << 20));
  writeFileAtomicSync(join(d2, 'run.json'), '{}');
  assert.deepEqual(readdirSync(d2), ['run.json']);
  assert.deepEqual(cleanStaleTemps(d2), [], 'scanned once per folder a minute');
  rmSync(d, { recursive: true }); rmSync(d2, { recursive: true });
});

test('a save killed with SIGKILL mid-write leaves a temporary that the next save removes', async () => {
  const d = tmp();
  // A child that opens the temporary, writes part of it, then waits to be killed.
  const script = `
    const { writeFileAtomic } = await import(${JSON.stringify(new URL('../../src/io/files.ts', import.meta.url).href)});
    const fs = await import('node:fs');
    await writeFileAtomic(${JSON.stringify(join(d, 'ok.bin'))}, 'x');
    const fh = await fs.promises.open(${JSON.stringify(d)} + '/.model.keras.' + process.pid + '.00ff00ff.tmp', 'wx');
    await fh.write(Buffer.alloc(4 << 20));
    process.stdout.write('ready\\n');
    setInterval(() => {}, 1000);`;
  const child = spawn(process.execPath, ['--import', 'tsx', '--input-type=module', '-e', script], { stdio: ['ignore', 'pipe', 'inherit'] });
  await new Promise<void>((r) => child.stdout!.on('data', (b) => { if (String(b).includes('ready')) r(); }));
  child.kill('SIGKILL');
  await new Promise((r) => child.on('exit', r));
  const tmpName = `.model.keras.${child.pid}.00ff00ff.tmp`;
  assert.ok(existsSync(join(d, tmpName)), 'the killed save left its temporary');
  await writeFileAtomic(join(d, 'model.keras'), 'saved');
  assert.ok(!existsSync(join(d, tmpName)), 'the next save removed it');
  rmSync(d, { recursive: true });
});

test('one decoder policy: imread accepts exactly what the data pipeline accepts', async () => {
  const d = tmp();
  const jpg = readFileSync(join(fixtures, 'rgb.jpg'));
  // A larger JPEG so that garbling the scan data leaves the markers intact.
  const big = await sharp({ create: { width: 64, height: 48, channels: 3, background: { r: 200, g: 30, b: 90 } } }).jpeg({ quality: 90 }).toBuffer();
  const sos = big.indexOf(Buffer.from([0xff, 0xda]));
  const garbled = Buffer.from(big);
  for (let i = sos + 40; i < garbled.length - 20; i += 7) garbled[i] = garbled[i] ^ 0x5a === 0xff ? 0x12 : garbled[i] ^ 0x5a;
  const cases: Record<string, Buffer> = {
    'intact.jpg': jpg,
    'no-eoi.jpg': big.subarray(0, big.length - 2),
    'garbled.jpg': garbled,
    'cut60.jpg': big.subarray(0, Math.floor(big.length * 0.6)),
    'header-only.jpg': big.subarray(0, sos + 4),
  };
  const verdicts: Record<string, [boolean, boolean]> = {};
  for (const [name, bytes] of Object.entries(cases)) {
    const p = join(d, name);
    writeFileSync(p, bytes);
    const a = await imread(p).then(() => true, () => false);
    const b = await decodeImage(p, DECODE).then(() => true, () => false);
    verdicts[name] = [a, b];
    assert.equal(a, b, `${name}: imread ${a ? 'accepts' : 'refuses'}, the pipeline ${b ? 'accepts' : 'refuses'}`);
  }
  assert.deepEqual(verdicts['intact.jpg'], [true, true]);
  assert.deepEqual(verdicts['garbled.jpg'], [true, true], 'a garbled scan decodes (as Pillow does)');
  assert.deepEqual(verdicts['header-only.jpg'], [false, false]);
  rmSync(d, { recursive: true });
});

test('imsave: a 0x0 image names the file; NaN is refused and nothing is written', async () => {
  const d = tmp();
  const p0 = join(d, 'empty.png');
  await assert.rejects(imsave(p0, zeros([0, 0])), /imsave\('.*empty\.png'\): the image is 0 x 0 pixels/);
  await assert.rejects(imsave(p0, zeros([0, 5, 3])), /empty\.png'\): the image is 0 x 5 pixels/);
  const pn = join(d, 'nan.png');
  await assert.rejects(imsave(pn, tensor([[0.5, NaN], [NaN, 1]])), /imsave\('.*nan\.png'\): the image holds 2 NaN value\(s\) of 4/);
  assert.deepEqual(readdirSync(d), [], 'nothing written');
  await imsave(join(d, 'ok.png'), tensor([[0.5, 0.25], [0, 1]]));
  assert.deepEqual((await imread(join(d, 'ok.png'))).shape, [2, 2]);
  assert.deepEqual(readdirSync(d), ['ok.png'], 'written atomically: no temporary left');
  rmSync(d, { recursive: true });
});

test('convnet download --help is truthful about --url: sizes are checked only from the default address', async () => {
  const { command } = await import('../../src/cli/commands/download.js');
  const help = command.help!.replace(/\s+/g, ' ');
  assert.doesNotMatch(help, /; sizes are checked;/);
  assert.match(help, /From the default address each file's size is checked against the notebook's; with --url it is not/);
  assert.match(help, /--url BASE .*sizes are not checked against the notebook's with it/);
  // And the code does what the help says: an expected size only without --url.
  const src = readFileSync(fileURLToPath(new URL('../../src/cli/commands/download.ts', import.meta.url)), 'utf8');
  assert.match(src, /expectedSize: parsed\.options\.url \? null : f\.size/);
});

test('loadModel on a FIFO or a socket named .keras is refused at once', async () => {
  const { loadModel } = await import('../../src/io/models/index.js');
  const { createServer } = await import('node:net');
  const d = tmp();
  const fifo = join(d, 'pipe.keras');
  execFileSync('mkfifo', [fifo]);
  await assert.rejects(within(3000, loadModel(fifo), 'loadModel(FIFO)'), /pipe\.keras.*not a file \(a FIFO/);
  const sock = join(d, 'sock.keras');
  const srv = createServer();
  await new Promise<void>((r) => srv.listen(sock, r));
  await assert.rejects(within(3000, readRegularFile(sock), 'readRegularFile(socket)'), /sock\.keras' is a socket, not a regular file/);
  await assert.rejects(within(3000, loadModel(sock), 'loadModel(socket)'), /sock\.keras.*not a file/);
  srv.close();
  rmSync(d, { recursive: true, force: true });
});

test('a decoded-image cache file killed mid-build is removed when the next cache is built in that folder', async () => {
  const { FileCache } = await import('../../src/data/cache.js');
  const d = tmp();
  const child = spawn(process.execPath, ['-e', '0']);
  const deadPid: number = await new Promise((r) => child.on('exit', () => r(child.pid!)));
  const stale = `old.cache.${deadPid}.0badc0de.tmp`;
  writeFileSync(join(d, stale), Buffer.alloc(1 << 20));
  const c = await FileCache.open(join(d, 'new.cache'), [{ path: '/x/a.jpg', bytes: 10, mtimeMs: 1 }], 12, { k: 1 });
  assert.ok(!existsSync(join(d, stale)), 'stale cache temporary removed');
  assert.ok(existsSync(join(d, 'new.cache')));
  await c.close();
  rmSync(d, { recursive: true, force: true });
});
