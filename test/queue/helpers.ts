/** Test helpers: a private redis-server per test file (free port, AOF in a temp folder), worker processes, tiny data. */
import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { createServer, connect } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Queue } from 'bullmq';
import type { Redis } from 'ioredis';
import { generateBuiltinData } from '../../src/notebook/builtin-data.js';
import { PREFIX, QUEUE_NAME } from '../../src/queue/protocol.js';

const which = spawnSync('sh', ['-c', 'command -v redis-server'], { encoding: 'utf8' });
export const REDIS_SERVER = which.status === 0 ? which.stdout.trim() : '';
export const SKIP = REDIS_SERVER ? false : 'redis-server is not installed (apt-get install redis-server): queue tests skipped';

export function tempDir(tag: string): string { return mkdtempSync(join(tmpdir(), `convnet-queue-${tag}-`)); }

async function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const s = createServer();
    s.once('error', reject);
    s.listen(0, '127.0.0.1', () => { const p = (s.address() as { port: number }).port; s.close(() => resolve(p)); });
  });
}

async function waitForPort(port: number, ms = 10000): Promise<void> {
  const end = Date.now() + ms;
  for (;;) {
    const ok = await new Promise<boolean>((r) => {
      const c = connect(port, '127.0.0.1', () => { c.end(); r(true); });
      c.once('error', () => r(false));
    });
    if (ok) return;
    if (Date.now() > end) throw new Error(`redis-server did not listen on ${port}`);
    await new Promise((r) => setTimeout(r, 50));
  }
}

export interface TestRedis { port: number; url: string; dir: string; stop(): Promise<void>; restart(): Promise<void>; client(): Promise<{ redis: Redis; close(): Promise<void> }> }

/** `redis-server --port <free> --save '' --appendonly yes --dir <tmp>`; `stop()` kills it and removes the folder. */
export async function startRedis(extra: string[] = [], password?: string, tls?: { cert: string; key: string }): Promise<TestRedis> {
  const port = await freePort();
  if (tls) extra = ['--port', '0', '--tls-port', String(port), '--tls-cert-file', tls.cert, '--tls-key-file', tls.key, '--tls-ca-cert-file', tls.cert, '--tls-auth-clients', 'no', ...extra];
  const dir = tempDir('redis');
  let proc: ChildProcess;
  const launch = async () => {
    proc = spawn(REDIS_SERVER, [...(tls ? [] : ['--port', String(port)]), '--bind', '127.0.0.1', '--save', '', '--appendonly', 'yes', '--dir', dir, ...extra], { stdio: 'ignore' });
    await waitForPort(port);
  };
  const halt = () => new Promise<void>((r) => { if (proc.exitCode !== null) return r(); proc.once('exit', () => r()); proc.kill('SIGTERM'); });
  await launch();
  return {
    port, dir, url: `redis://127.0.0.1:${port}/0`,
    async stop() { await halt(); rmSync(dir, { recursive: true, force: true }); },
    /** A clean shutdown (SIGTERM: the AOF is flushed) and a start on the same port and folder. */
    async restart() { await halt(); await launch(); },
    async client() {
      const q = new Queue(QUEUE_NAME, { connection: { host: '127.0.0.1', port, password, maxRetriesPerRequest: null }, prefix: PREFIX, skipMetasUpdate: true });
      const redis = (await q.client) as unknown as Redis;
      return { redis, close: () => q.close() };
    },
  };
}

export interface Spawned { proc: ChildProcess; output: () => string; exited: Promise<number | null> }

/** `convnet worker ...` in its own process, from the sources. */
export function spawnCli(args: string[], env: Record<string, string> = {}): Spawned {
  const proc = spawn(process.execPath, ['--import', 'tsx', join(import.meta.dirname, 'run-cli.ts'), ...args], {
    cwd: join(import.meta.dirname, '..', '..'), stdio: ['ignore', 'pipe', 'pipe'], env: { ...process.env, CONVNET_TEST: '1', ...env },
  });
  let out = '';
  proc.stdout!.on('data', (d) => { out += d; });
  proc.stderr!.on('data', (d) => { out += d; });
  const exited = new Promise<number | null>((r) => proc.once('exit', (code) => r(code)));
  return { proc, output: () => out, exited };
}

/** The built-in data set at a tiny size. */
export async function tinyData(root: string, perClass = 40, size = 16): Promise<string> {
  return (await generateBuiltinData(join(root, 'bd'), { perClass, size })).dataDir;
}

export async function waitFor<T>(what: string, fn: () => Promise<T | undefined | false>, ms = 30000): Promise<T> {
  const end = Date.now() + ms;
  for (;;) {
    const v = await fn();
    if (v) return v;
    if (Date.now() > end) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 50));
  }
}
