/**
 * Where the queue lives: a Redis URL (`redis://[user:password@]host[:port][/db]`, `rediss://` for
 * TLS), turned into BullMQ connection options, and a first contact that turns Redis's and the
 * network's errors into one line that says what to do.
 *
 * Passwords: in the URL, or (better: they stay out of the shell history and `ps`) in the
 * environment: `REDIS_PASSWORD`, or the whole URL in `CONVNET_REDIS_URL` (give `--queue env`).
 */
import { Queue, type ConnectionOptions } from 'bullmq';
import type { Redis } from 'ioredis';

/** The ioredis client BullMQ opened (BullMQ's own dependency; only its type is named here). */
export async function redisOf(q: { client: Promise<unknown> }): Promise<Redis> { return (await q.client) as Redis; }

export interface QueueTarget {
  /** The URL without its password, for messages. */
  display: string;
  connection: { host: string; port: number; db: number; username?: string; password?: string; tls?: Record<string, never> };
}

/** Reads `--queue URL` (or `env`: `$CONVNET_REDIS_URL`); the password comes from the URL or `$REDIS_PASSWORD`. */
export function parseQueueUrl(raw: string, env: NodeJS.ProcessEnv = process.env): QueueTarget {
  let text = raw;
  if (raw === 'env') {
    text = env.CONVNET_REDIS_URL ?? '';
    if (!text) throw new Error(`--queue env: CONVNET_REDIS_URL is not set; export CONVNET_REDIS_URL=redis://[:password@]host:6379/0`);
  }
  let u: URL;
  try { u = new URL(text); } catch { throw new Error(`--queue '${text}' is not a URL; use redis://host:6379/0 (rediss:// for TLS)`); }
  if (u.protocol !== 'redis:' && u.protocol !== 'rediss:') throw new Error(`--queue '${text}': the scheme must be redis:// or rediss:// (TLS), got ${u.protocol}//`);
  if (!u.hostname) throw new Error(`--queue '${text}' names no host; use redis://host:6379/0`);
  const port = u.port ? Number(u.port) : 6379;
  const dbText = u.pathname.replace(/^\//, '');
  const db = dbText ? Number(dbText) : 0;
  if (!Number.isInteger(db) || db < 0) throw new Error(`--queue '${text}': the database after the host must be a number (redis://host:6379/0), got '${dbText}'`);
  const password = u.password ? decodeURIComponent(u.password) : env.REDIS_PASSWORD || undefined;
  const username = u.username ? decodeURIComponent(u.username) : undefined;
  const host = u.hostname.replace(/^\[|\]$/g, '');
  return {
    display: `${u.protocol}//${username ? `${username}@` : ''}${u.host}/${db}`,
    connection: { host, port, db, ...(username ? { username } : {}), ...(password ? { password } : {}), ...(u.protocol === 'rediss:' ? { tls: {} } : {}) },
  };
}

/** One line for a connection error, naming the server and what to do. */
export function connectionError(target: QueueTarget, e: unknown): Error {
  const msg = String((e as Error)?.message ?? e);
  const where = target.display;
  let line: string;
  if (/WRONGPASS|invalid password|invalid username-password/i.test(msg)) line = `Redis at ${where} refused the password (WRONGPASS); check the password in the URL or in REDIS_PASSWORD`;
  else if (/NOAUTH/i.test(msg)) line = `Redis at ${where} needs a password (NOAUTH); put it in the URL (redis://:PASSWORD@host) or in REDIS_PASSWORD`;
  else if (/ECONNREFUSED/.test(msg)) line = `cannot reach Redis at ${where}: connection refused; start it (redis-server, or apt-get install redis-server) or check the host and port in --queue`;
  else if (/ENOTFOUND|EAI_AGAIN/.test(msg)) line = `cannot reach Redis at ${where}: unknown host; check the host in --queue`;
  else if (/ETIMEDOUT|timed? ?out/i.test(msg)) line = `cannot reach Redis at ${where}: no answer (timed out); check the host, the port and any firewall`;
  else if (/self[- ]signed|unable to (get|verify)|certificate/i.test(msg)) line = `TLS with Redis at ${where}: the server's certificate is not trusted (${msg.split('\n')[0]}); give Node its CA with NODE_EXTRA_CA_CERTS=ca.pem`;
  else if (/EPROTO|SSL|TLS/i.test(msg)) line = `TLS with Redis at ${where} failed (${msg.split('\n')[0]}); rediss:// needs a server with TLS on that port`;
  else if (/ECONNRESET/.test(msg) && !target.connection.tls) line = `Redis at ${where} closed the connection; if that port speaks TLS, use rediss://`;
  else line = `Redis at ${where}: ${msg.split('\n')[0]}`;
  const err = new Error(line);
  (err as Error & { oneLine: true }).oneLine = true;
  return err;
}

/** Connection options for BullMQ (workers and the coordinator's queue). */
export function bullConnection(target: QueueTarget, failFast = false): ConnectionOptions {
  return {
    ...target.connection,
    connectTimeout: 5000,
    ...(failFast ? { retryStrategy: () => null, maxRetriesPerRequest: 1, enableOfflineQueue: false } : { maxRetriesPerRequest: null }),
  } as ConnectionOptions;
}

/** Redis 6.2+ (what BullMQ 5 needs), reached and authenticated: or one line saying why not. Nothing is written. */
export async function checkConnection(target: QueueTarget): Promise<void> {
  const q = new Queue('convnet-check', { connection: bullConnection(target, true), prefix: 'convnet', skipMetasUpdate: true });
  q.on('error', () => {});
  try {
    const client = await redisOf(q);
    await client.ping();
    const info = await client.info('server');
    const version = /redis_version:(\d+)\.(\d+)/.exec(info);
    if (version && (Number(version[1]) < 6 || (Number(version[1]) === 6 && Number(version[2]) < 2))) {
      throw Object.assign(new Error(`Redis at ${target.display} is version ${version[1]}.${version[2]}; BullMQ needs Redis 6.2 or newer`), { oneLine: true });
    }
  } catch (e) {
    throw (e as { oneLine?: boolean }).oneLine ? e : connectionError(target, e);
  } finally {
    await q.close().catch(() => {});
  }
}
