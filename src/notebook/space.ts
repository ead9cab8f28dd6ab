/**
 * The sweep's search space: which network, optimiser and data settings a trial may vary.
 *
 * A space maps each known key to its candidate values; keys left out keep the notebook's own
 * value (`NOTEBOOK_CONFIG`). The `exercise` preset is the notebook's exercise (filters per conv
 * layer, kernel size, number of conv blocks, dense units, learning rate, batch size) plus what goes
 * beyond it (batch normalisation, dropout, augmentation, optimizer).
 */
import { createHash } from 'node:crypto';
import { Rng } from '../tensor/random.js';
import type { ParamValue, SweepSettings } from '../report/types.js';

/** One trial's full configuration. */
export interface TrialConfig {
  /** Filters of the conv layers: a number (first block; each later block doubles it, up to 256) or a list like "32-64-128-64". */
  filters: number | string;
  kernelSize: number;
  convBlocks: number;
  denseUnits: number;
  learningRate: number;
  batchSize: number;
  batchNorm: boolean;
  dropout: number;
  augmentation: boolean;
  optimizer: string;
}

export type SpaceKey = keyof TrialConfig;
export type SearchSpace = Partial<Record<SpaceKey, ParamValue[]>>;

/**
 * The notebook's model: Conv2D 32-64-128-64 (3x3, same, relu) each with 2x2 max pooling, Flatten,
 * Dropout 0.5, Dense 128, Dense 1; Adam 1e-3, batch 128.
 */
export const NOTEBOOK_CONFIG: TrialConfig = {
  filters: '32-64-128-64', kernelSize: 3, convBlocks: 4, denseUnits: 128, learningRate: 0.001, batchSize: 128,
  batchNorm: false, dropout: 0.5, augmentation: false, optimizer: 'adam',
};

export const OPTIMIZERS = ['adam', 'adamw', 'rmsprop', 'sgd'] as const;

type Check = (v: ParamValue) => string | undefined;
const positiveInt: Check = (v) => (Number.isInteger(v) && (v as number) > 0 ? undefined : 'a positive integer');
const CHECKS: Record<SpaceKey, Check> = {
  filters: (v) => (typeof v === 'number' ? positiveInt(v) : typeof v === 'string' && /^\d+(-\d+)*$/.test(v) ? undefined : 'a positive integer or a list like "32-64-128"'),
  kernelSize: (v) => (Number.isInteger(v) && (v as number) >= 1 && (v as number) <= 11 ? undefined : 'an integer from 1 to 11 (3 or 5 in the exercise)'),
  convBlocks: (v) => (Number.isInteger(v) && (v as number) >= 1 && (v as number) <= 6 ? undefined : 'an integer from 1 to 6'),
  denseUnits: positiveInt,
  learningRate: (v) => (typeof v === 'number' && v > 0 && v < 10 ? undefined : 'a number > 0'),
  batchSize: positiveInt,
  batchNorm: (v) => (typeof v === 'boolean' ? undefined : 'true or false'),
  dropout: (v) => (typeof v === 'number' && v >= 0 && v < 1 ? undefined : 'a number in [0, 1)'),
  augmentation: (v) => (typeof v === 'boolean' ? undefined : 'true or false'),
  optimizer: (v) => ((OPTIMIZERS as readonly string[]).includes(v as string) ? undefined : OPTIMIZERS.join(', ')),
};
export const SPACE_KEYS = Object.keys(CHECKS) as SpaceKey[];

export const PRESETS: Record<string, SearchSpace> = {
  exercise: {
    filters: [16, 32, 64],
    kernelSize: [3, 5],
    convBlocks: [2, 3, 4],
    denseUnits: [64, 128, 256],
    learningRate: [0.001, 0.0003],
    batchSize: [32, 64, 128],
    batchNorm: [false, true],
    dropout: [0, 0.3, 0.5],
    augmentation: [false, true],
    optimizer: ['adam', 'rmsprop'],
  },
  /** Only the notebook's model: one trial. */
  notebook: {},
  /** A head on a pretrained base (`convnet sweep --base`): what a head's training varies. */
  transfer: {
    learningRate: [0.001, 0.0003, 0.0001],
    batchSize: [32, 64],
    dropout: [0, 0.2, 0.5],
  },
};

/** Checks a space (from a file or a preset); unknown keys and bad values are errors naming the key. */
export function validateSpace(space: unknown, source = 'space'): SearchSpace {
  if (!space || typeof space !== 'object' || Array.isArray(space)) throw new Error(`${source}: expected a JSON object mapping parameters to lists of values`);
  const out: SearchSpace = {};
  for (const [key, values] of Object.entries(space as Record<string, unknown>)) {
    if (!(SPACE_KEYS as string[]).includes(key)) {
      throw new Error(`${source}: unknown key '${key}'. Known keys: ${SPACE_KEYS.join(', ')}`);
    }
    const list = Array.isArray(values) ? values : [values];
    if (list.length === 0) throw new Error(`${source}: '${key}' has no values`);
    for (const v of list) {
      const why = CHECKS[key as SpaceKey](v as ParamValue);
      if (why) throw new Error(`${source}: '${key}' value ${JSON.stringify(v)} is not valid (expected ${why})`);
    }
    out[key as SpaceKey] = list as ParamValue[];
  }
  return out;
}

/** Number of distinct configurations in a space. */
export function gridSize(space: SearchSpace): number {
  return Object.values(space).reduce((n, v) => n * (v as ParamValue[]).length, 1);
}

/** The configuration at position `i` of the grid (the last key varies fastest). */
function gridAt(space: SearchSpace, keys: SpaceKey[], i: number): TrialConfig {
  const cfg: TrialConfig = { ...NOTEBOOK_CONFIG };
  for (let k = keys.length - 1; k >= 0; k--) {
    const values = space[keys[k]]!;
    (cfg as unknown as Record<string, ParamValue>)[keys[k]] = values[i % values.length];
    i = Math.floor(i / values.length);
  }
  return cfg;
}

/**
 * The trials to run: every grid point in order (`grid`, cut at `trials` when given), or `trials`
 * distinct points drawn with the seed (`random`). The same arguments give the same plan, which is
 * what lets a rerun resume.
 */
export function planTrials(space: SearchSpace, strategy: 'grid' | 'random', trials: number | undefined, seed: number): TrialConfig[] {
  const keys = SPACE_KEYS.filter((k) => space[k]);
  const total = gridSize(space);
  const n = Math.min(total, trials ?? total);
  if (strategy === 'grid') return Array.from({ length: n }, (_, i) => gridAt(space, keys, i));
  const rng = new Rng(seed);
  const chosen = new Set<number>();
  const out: TrialConfig[] = [];
  while (out.length < n) {
    const i = rng.int(total);
    if (chosen.has(i)) continue;
    chosen.add(i);
    out.push(gridAt(space, keys, i));
  }
  return out;
}

/** Canonical JSON (sorted keys). */
function canonical(v: unknown): string {
  if (v && typeof v === 'object' && !Array.isArray(v)) {
    return `{${Object.keys(v).sort().map((k) => `${JSON.stringify(k)}:${canonical((v as Record<string, unknown>)[k])}`).join(',')}}`;
  }
  return JSON.stringify(v);
}

/** Stable id of a trial: the same configuration under the same settings always gets the same id. */
export function trialId(config: TrialConfig, settings: SweepSettings): string {
  return createHash('sha256').update(canonical({ config, settings })).digest('hex').slice(0, 16);
}

/** The filters of each conv layer of a configuration. */
export function filtersPerBlock(config: TrialConfig): number[] {
  if (typeof config.filters === 'string') {
    const list = config.filters.split('-').map(Number);
    return Array.from({ length: config.convBlocks }, (_, i) => list[Math.min(i, list.length - 1)]);
  }
  return Array.from({ length: config.convBlocks }, (_, i) => Math.min(256, (config.filters as number) * 2 ** i));
}

/** Only the keys that differ from the notebook's model, for short labels. */
export function configDiff(config: TrialConfig): Record<string, ParamValue> {
  const out: Record<string, ParamValue> = {};
  for (const k of SPACE_KEYS) if (config[k] !== NOTEBOOK_CONFIG[k]) out[k] = config[k];
  return out;
}

/**
 * Checks a full configuration received from elsewhere (a queue's trial): exactly the known keys,
 * each with a valid value. Nothing else is accepted, so a trial can only ever be a convnet model.
 */
export function checkTrialConfig(config: unknown, source = 'trial config'): TrialConfig {
  if (!config || typeof config !== 'object' || Array.isArray(config)) throw new Error(`${source}: expected an object`);
  const keys = Object.keys(config);
  const extra = keys.filter((k) => !(SPACE_KEYS as string[]).includes(k));
  if (extra.length) throw new Error(`${source}: unknown key '${extra[0]}'`);
  for (const k of SPACE_KEYS) {
    if (!(k in config)) throw new Error(`${source}: missing '${k}'`);
    const why = CHECKS[k]((config as Record<string, ParamValue>)[k]);
    if (why) throw new Error(`${source}: '${k}' value ${JSON.stringify((config as Record<string, unknown>)[k])} is not valid (expected ${why})`);
  }
  return config as TrialConfig;
}
