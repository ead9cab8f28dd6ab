/**
 * Reliability (issue 11 §8): the report server serves only regular files whose real path stays
 * inside the run folder (a symlink figures/link.png -> /etc/passwd was served with 200), never
 * blocks on a FIFO, and answers only requests whose Host header names it (DNS rebinding).
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, mkdirSync, writeFileSync, symlinkSync, rmSync } from 'node:fs';
import { execFileSync } from 'node:child_process';
import { request } from 'node:http';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { serveReport } from '../../src/report/serve.js';

function get(url: string, host?: string): Promise<{ status: number; body: string }> {
  return new Promise((resolve, reject) => {
    const u = new URL(url);
    const req = request({ host: '127.0.0.1', port: u.port, path: u.pathname, headers: host === undefined ? {} : { host } }, (res) => {
      let body = '';
      res.setEncoding('utf8');
      res.on('data', (c) => { body += c; });
      res.on('end', () => resolve({ status: res.statusCode ?? 0, body }));
    });
    req.setTimeout(5000, () => { req.destroy(new Error(`timeout on ${url}`)); });
    req.on('error', reject);
    req.end();
  });
}

test('report server: symlinks out of the folder, FIFOs and foreign Host headers are refused', async () => {
  const dir = mkdtempSync(join(tmpdir(), 'convnet-serve-'));
  const outside = mkdtempSync(join(tmpdir(), 'convnet-outside-'));
  writeFileSync(join(outside, 'secret.png'), 'SECRET');
  mkdirSync(join(dir, 'figures'));
  writeFileSync(join(dir, 'figures', 'ok.png'), 'PNGDATA');
  symlinkSync('/etc/passwd', join(dir, 'figures', 'link.png'));
  symlinkSync(join(outside, 'secret.png'), join(dir, 'figures', 'secret.png'));
  symlinkSync(outside, join(dir, 'figures', 'out'));
  symlinkSync('ok.png', join(dir, 'figures', 'alias.png')); // stays inside: served
  execFileSync('mkfifo', [join(dir, 'figures', 'pipe.png')]);
  const server = await serveReport(dir, { port: 0 });
  try {
    const base = server.url;
    const port = new URL(base).port;
    assert.deepEqual(await get(base + 'figures/ok.png'), { status: 200, body: 'PNGDATA' });
    assert.deepEqual(await get(base + 'figures/alias.png'), { status: 200, body: 'PNGDATA' });
    for (const p of ['figures/link.png', 'figures/secret.png', 'figures/out/secret.png', 'figures/pipe.png', 'figures', 'nothing.png']) {
      const r = await get(base + p);
      assert.equal(r.status, 404, p);
      assert.doesNotMatch(r.body, /root:|SECRET/, p);
    }
    assert.equal((await get(base + 'figures/ok.png', `localhost:${port}`)).status, 200);
    for (const host of [`evil.example:${port}`, 'evil.example', `127.0.0.1:${Number(port) + 1}`, `localhost.evil.example:${port}`]) {
      const r = await get(base + 'figures/ok.png', host);
      assert.equal(r.status, 403, `Host: ${host}`);
      assert.equal((await get(base, host)).status, 403, `page with Host: ${host}`);
    }
  } finally {
    await server.close();
    rmSync(dir, { recursive: true, force: true });
    rmSync(outside, { recursive: true, force: true });
  }
});
