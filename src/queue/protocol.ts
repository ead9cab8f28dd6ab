/**
 * What travels through the queue: one trial as plain JSON, checked field by field by the worker
 * before anything runs. A trial names a configuration of convnet's own model (space.ts) and the
 * sweep's settings; no code, no file to load, no layer list travels, so a worker can only ever
 * train the sweep's kind of model on its own copy of the data. A transfer-learning sweep names its
 * base model by path, cut layer and sha256: each worker loads its own copy and checks the hash.
 */
import type { SweepSettings } from '../report/types.js';
import { checkTrialConfig, trialId, type TrialConfig } from '../notebook/space.js';
import type { DataFingerprint } from './fingerprint.js';
import { PIXELS } from '../sweep/base.js';

/** The one BullMQ queue every sweep's trials go through; jobs are named `<sweep>.<trial id>`. */
export const QUEUE_NAME = 'trials';
/** Prefix of every key convnet writes in Redis. */
export const PREFIX = 'convnet';
export const PROTOCOL_VERSION = 1;

export interface TrialJob {
  v: typeof PROTOCOL_VERSION;
  sweep: string;
  id: string;
  index: number;
  config: TrialConfig;
  settings: SweepSettings;
  /** Counts for the ranking and best-model.keras (false on the lower rungs of successive halving). */
  final: boolean;
  rung?: number;
  fingerprint: DataFingerprint;
  queuedAt: string;
}

export const SWEEP_NAME = /^[A-Za-z0-9_-]{1,64}$/;

/** Redis keys of one sweep. */
export function sweepKeys(sweep: string) {
  const base = `${PREFIX}:sweep:${sweep}`;
  return {
    meta: base,
    results: `${base}:results`,
    progress: `${base}:progress`,
    checkpoint: (id: string) => `${base}:checkpoint:${id}`,
    model: (id: string) => `${base}:model:${id}`,
  };
}
export const WORKERS_KEY = `${PREFIX}:workers`;

export function jobId(sweep: string, id: string): string { return `${sweep}.${id}`; }

function fail(why: string): never { throw new Error(`refused a malformed trial: ${why}`); }
const isInt = (v: unknown, lo: number, hi: number) => Number.isInteger(v) && (v as number) >= lo && (v as number) <= hi;
const isHex = (v: unknown, n: number) => typeof v === 'string' && new RegExp(`^[0-9a-f]{${n}}$`).test(v);

/** Checks a job's data field by field; returns it typed, or throws naming the first bad field. */
export function checkTrialJob(data: unknown): TrialJob {
  if (!data || typeof data !== 'object' || Array.isArray(data)) fail('not an object');
  const d = data as Record<string, unknown>;
  const allowed = ['v', 'sweep', 'id', 'index', 'config', 'settings', 'final', 'rung', 'fingerprint', 'queuedAt'];
  const extra = Object.keys(d).find((k) => !allowed.includes(k));
  if (extra) fail(`unknown field '${extra}'`);
  if (d.v !== PROTOCOL_VERSION) fail(`protocol version ${JSON.stringify(d.v)} (this worker speaks ${PROTOCOL_VERSION}; run the same convnet version everywhere)`);
  if (typeof d.sweep !== 'string' || !SWEEP_NAME.test(d.sweep)) fail('sweep name');
  if (!isHex(d.id, 16)) fail('trial id');
  if (!isInt(d.index, 0, 1e7)) fail('index');
  if (typeof d.final !== 'boolean') fail('final');
  if (d.rung !== undefined && !isInt(d.rung, 0, 100)) fail('rung');
  if (typeof d.queuedAt !== 'string' || d.queuedAt.length > 40) fail('queuedAt');
  let config: TrialConfig;
  try { config = checkTrialConfig(d.config); } catch (e) { fail((e as Error).message); }
  const s = d.settings as Record<string, unknown>;
  if (!s || typeof s !== 'object' || Object.keys(s).filter((k) => k !== 'base').sort().join() !== 'data,epochs,seed,subset,targetSize') fail('settings fields');
  if (s.base !== undefined) {
    const b = s.base as Record<string, unknown>;
    if (!b || typeof b !== 'object' || Array.isArray(b) || Object.keys(b).some((k) => !['path', 'cutAt', 'sha256', 'pixels'].includes(k))) fail('settings.base fields');
    if (!(PIXELS as unknown[]).includes(b.pixels)) fail('settings.base.pixels');
    if (typeof b.path !== 'string' || b.path.length > 4096 || !b.path) fail('settings.base.path');
    if (b.cutAt !== undefined && (typeof b.cutAt !== 'string' || !/^[\w.:/-]{1,256}$/.test(b.cutAt))) fail('settings.base.cutAt');
    if (!isHex(b.sha256, 64)) fail('settings.base.sha256');
  }
  if (typeof s.data !== 'string' || s.data.length > 4096) fail('settings.data');
  if (!isInt(s.epochs, 1, 10000) || !isInt(s.targetSize, 8, 4096) || !isInt(s.seed, -(2 ** 31), 2 ** 32)) fail('settings numbers');
  if (!(typeof s.subset === 'number' && s.subset > 0 && s.subset <= 1)) fail('settings.subset');
  const f = d.fingerprint as Record<string, unknown>;
  if (!f || typeof f !== 'object' || !isInt(f.files, 1, 1e9) || !isInt(f.bytes, 0, Number.MAX_SAFE_INTEGER) || !isHex(f.list, 16) || !isHex(f.sample, 16)
    || !Array.isArray(f.classes) || !f.classes.every((c) => typeof c === 'string')) fail('fingerprint');
  const settings = s as unknown as SweepSettings;
  if (trialId(config, settings) !== d.id) fail('the id does not match the configuration and settings');
  return d as unknown as TrialJob;
}
