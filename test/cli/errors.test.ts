// The CLI's errors: one prefix, the file or option named, what to do, and exit codes 2 (usage) / 1 (failure).
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { cli } from './capture.js';
import { parseArgs, errorLine, exitCode, closest, UsageError } from '../../src/cli/args.js';
import { downloadFile } from '../../src/data/download.js';
import { Sequential } from '../../src/models/index.js';
import { Dense } from '../../src/layers/index.js';
import { saveModel } from '../../src/io/models/index.js';

const noDoubledPrefix = (s: string) => assert.doesNotMatch(s, /convnet( \w+)?: (convnet( \w+)?|\w+): \1?/i, s);

test('convnet summary / export of a missing file name it and say what to give', async () => {
  const dir = mkdtempSync(join(tmpdir(), 'convnet-cli-'));
  try {
    for (const argv of [['summary', join(dir, 'nothere.keras')], ['export', join(dir, 'nothere.keras'), join(dir, 'out.onnx')]]) {
      const r = await cli(...argv);
      assert.equal(r.code, 1, r.err);
      assert.match(r.err, new RegExp(`^convnet ${argv[0]}: '.*nothere\\.keras' does not exist: give the path of a \\.keras or \\.h5 file`));
      assert.doesNotMatch(r.err, /ENOENT|stat/);
      assert.equal(r.err.split('\n').length, 1);
    }
  } finally { rmSync(dir, { recursive: true, force: true }); }
});

test('each error has one prefix: the library\'s own ("convnet: ", "report: ") are dropped', async () => {
  assert.equal(errorLine('notebook', new Error('convnet: flowFromDirectory: no images in /x')), 'convnet notebook: flowFromDirectory: no images in /x');
  assert.equal(errorLine('report', new Error("report: folder '/x' does not exist")), "convnet report: folder '/x' does not exist");
  assert.equal(errorLine('sweep', new Error('convnet sweep: convnet: bad')), 'convnet sweep: bad');
  assert.equal(errorLine(null, new Error('convnet: convnet: bad')), 'convnet: bad');
  const enoent = Object.assign(new Error("ENOENT: no such file or directory, stat '/x/y.keras'"), { code: 'ENOENT', path: '/x/y.keras' });
  assert.equal(errorLine('summary', enoent), "convnet summary: '/x/y.keras' does not exist (no such file or folder)");
  const r = await cli('report', join(tmpdir(), 'convnet-no-such-run'));
  assert.equal(r.code, 1);
  assert.match(r.err, /^convnet report: folder '.*convnet-no-such-run' does not exist/);
  noDoubledPrefix(r.err);
});

test('convnet export names --format (not the library option { format }) when it cannot tell the format', async () => {
  const dir = mkdtempSync(join(tmpdir(), 'convnet-cli-'));
  try {
    const model = new Sequential([new Dense(2, { inputShape: [3] })]);
    await saveModel(model, join(dir, 'm.keras'));
    for (const out of ['out.h5x', 'out.pb']) {
      const r = await cli('export', join(dir, 'm.keras'), join(dir, out));
      if (r.code === 0) continue; // the output path decided the format by itself
      assert.equal(r.code, 2, r.err);
      assert.match(r.err, /--format/);
      assert.doesNotMatch(r.err, /\{ ?format ?\}/);
      noDoubledPrefix(r.err);
    }
    const r = await cli('export', join(dir, 'm.keras'), join(dir, 'x.onnx'), '--format', 'pdf');
    assert.equal(r.code, 2);
    assert.match(r.err, /--format must be keras, tfjs or onnx, got 'pdf'/);
  } finally { rmSync(dir, { recursive: true, force: true }); }
});

test('--target-size takes N, NxN and N,N (a square pair); anything else says what it takes', () => {
  const spec = { targetSize: { type: 'number' as const } };
  for (const v of ['150', '150x150', '150,150', '150X150']) assert.equal(parseArgs(['--target-size', v], spec, 'notebook').options.targetSize, 150, v);
  assert.equal(parseArgs(['--target-size=64x64'], spec, 'notebook').options.targetSize, 64);
  assert.throws(() => parseArgs(['--target-size', '150x100'], spec, 'notebook'), (e: Error) => e instanceof UsageError && /square images here: give one size \(150\) or an equal pair/.test(e.message));
  assert.throws(() => parseArgs(['--target-size', 'big'], spec, 'notebook'), /'--target-size' expects a positive integer \(or a square pair such as 150x150 or 150,150\), got 'big'/);
});

test('notebook and sweep help say what --target-size takes (150, 150x150 or 150,150)', async () => {
  for (const cmd of ['notebook', 'sweep', 'predict']) {
    const r = await cli(cmd, '--help');
    assert.equal(r.code, 0, cmd);
    assert.match(r.out + r.err, /--target-size \S+ +[^\n]*150, 150x150 or 150,150/, `${cmd} --help`);
    assert.doesNotMatch(r.out + r.err, /--target-size N\b/, `${cmd} --help`);
  }
});

test('unknown options and commands get a "did you mean" when one is close', async () => {
  let r = await cli('notebook', '--epoch', '3');
  assert.equal(r.code, 2);
  assert.match(r.err, /unknown option '--epoch'\. Did you mean --epochs\?/);
  r = await cli('notebook', '--target_size', '32');
  assert.match(r.err, /Did you mean --target-size\?/);
  r = await cli('notebook', '--zzzzzz');
  assert.equal(r.code, 2);
  assert.doesNotMatch(r.err, /Did you mean/);
  r = await cli('notebok');
  assert.equal(r.code, 2);
  assert.match(r.err, /unknown command 'notebok'\. Did you mean 'notebook'\?/);
  assert.equal(closest('trails', ['trials', 'epochs']), 'trials');
  assert.equal(closest('xyz', ['trials', 'epochs']), undefined);
});

test('exit codes: usage errors 2 (--epochs abc and --epochs 0 alike), failures 1, no command 2', async () => {
  for (const bad of ['abc', '0', '-1', '2.5']) {
    const r = await cli('notebook', '--epochs', bad);
    assert.equal(r.code, 2, `--epochs ${bad}: ${r.err}`);
    assert.match(r.err, new RegExp(`^convnet notebook: option '--epochs' expects a positive integer, got '${bad.replace('.', '\\.')}'`));
  }
  let r = await cli('sweep', 'somewhere', '--epochs', '0');
  assert.equal(r.code, 2, r.err);
  r = await cli('notebook', '--port', '70000');
  assert.equal(r.code, 2);
  assert.match(r.err, /'--port' expects an integer from 0 to 65535/);
  r = await cli();
  assert.equal(r.code, 2);
  assert.match(r.err, /Usage: convnet <command>/);
  r = await cli('--help');
  assert.equal(r.code, 0);
  assert.equal(exitCode(new UsageError('x')), 2);
  assert.equal(exitCode(new Error('x')), 1);
  r = await cli('--version');
  assert.match(r.out, /^\d+\.\d+\.\d+/);
});

test('download: a refused connection and an unknown host are named, not retried as "resuming"', async () => {
  // A port nobody listens on: bind one, then close it.
  const srv = createServer();
  await new Promise<void>((res) => srv.listen(0, '127.0.0.1', res));
  const port = (srv.address() as { port: number }).port;
  await new Promise<void>((res) => srv.close(() => res()));
  const dir = mkdtempSync(join(tmpdir(), 'convnet-dl-'));
  try {
    const log: string[] = [];
    await assert.rejects(downloadFile(`http://127.0.0.1:${port}/x.zip`, join(dir, 'x.zip'), { retryDelayMs: 1, log: (l) => log.push(l) }),
      /127\.0\.0\.1:\d+ refused the connection \(ECONNREFUSED\)/);
    assert.deepEqual(log, [], 'a refused connection is not retried');
    const r = await cli('download', '--dest', dir, '--url', `http://127.0.0.1:${port}/`);
    assert.equal(r.code, 1);
    assert.match(r.err, /^convnet download: 127\.0\.0\.1:\d+ refused the connection/m);
    assert.doesNotMatch(r.err, /resuming|fetch failed/);
    // .invalid never resolves (RFC 2606): a DNS failure, whether offline or not.
    const log2: string[] = [];
    await assert.rejects(downloadFile('http://convnet-test.invalid/x.zip', join(dir, 'y.zip'), { retries: 1, retryDelayMs: 1, log: (l) => log2.push(l) }),
      /resolve the host name 'convnet-test\.invalid'|'convnet-test\.invalid' could not be resolved/);
    assert.ok(log2.every((l) => !/resuming/.test(l)), log2.join('\n'));
  } finally { rmSync(dir, { recursive: true, force: true }); }
});
