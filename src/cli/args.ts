/**
 * A small, strict argument parser shared by the sub-commands, and the one place that formats the CLI's
 * error lines. Exit codes: 2 for usage errors (UsageError: a bad option or argument), 1 for failures.
 */
export interface OptionSpec {
  /** 'string' | 'number' | 'boolean' */
  type: 'string' | 'number' | 'boolean';
  alias?: string;
  default?: string | number | boolean;
  /** Numbers: must be an integer (default from NUMBER_RULES by option name). */
  integer?: boolean;
  /** Numbers: smallest and largest accepted values (default from NUMBER_RULES by option name). */
  min?: number;
  max?: number;
}

/** A usage error: the command line itself is wrong. The CLI exits with status 2. */
export class UsageError extends Error {}

/** Exit status of a usage error. */
export const EXIT_USAGE = 2;
/** Exit status of a failure (bad file, failed download, ...). */
export const EXIT_FAILURE = 1;

/**
 * What the common numeric options accept, by name, so every command checks them alike (a wrong value
 * is a usage error, exit 2). A spec's own `integer`/`min`/`max` take precedence.
 */
const NUMBER_RULES: Record<string, { integer?: boolean; min?: number; max?: number; what: string }> = {
  epochs: { integer: true, min: 1, what: 'a positive integer' },
  batchSize: { integer: true, min: 1, what: 'a positive integer' },
  trials: { integer: true, min: 1, what: 'a positive integer' },
  threads: { integer: true, min: 1, what: 'a positive integer' },
  workers: { integer: true, min: 0, what: 'an integer >= 0' },
  poolSize: { integer: true, min: 1, what: 'a positive integer' },
  targetSize: { integer: true, min: 1, what: 'a positive integer' },
  maxBytes: { integer: true, min: 1, what: 'a positive integer' },
  maxPixels: { integer: true, min: 1, what: 'a positive integer' },
  port: { integer: true, min: 0, max: 65535, what: 'an integer from 0 to 65535' },
  seed: { integer: true, min: 0, what: 'an integer >= 0' },
  subset: { min: Number.MIN_VALUE, max: 1, what: 'a fraction in (0, 1]' },
  dpi: { min: Number.MIN_VALUE, what: 'a positive number' },
};

const kebab = (name: string) => name.replace(/[A-Z]/g, (c) => `-${c.toLowerCase()}`);

/** Levenshtein distance (small strings only). */
function distance(a: string, b: string): number {
  const d = Array.from({ length: b.length + 1 }, (_, j) => j);
  for (let i = 1; i <= a.length; i++) {
    let prev = d[0];
    d[0] = i;
    for (let j = 1; j <= b.length; j++) {
      const cur = d[j];
      d[j] = Math.min(d[j] + 1, d[j - 1] + 1, prev + (a[i - 1] === b[j - 1] ? 0 : 1));
      prev = cur;
    }
  }
  return d[b.length];
}

/** The closest of `candidates` to `word`, when it is close enough to be a likely typo; else undefined. */
export function closest(word: string, candidates: Iterable<string>): string | undefined {
  let best: string | undefined;
  let bestD = Infinity;
  for (const c of candidates) {
    const dist = distance(word, c);
    if (dist < bestD) { best = c; bestD = dist; }
  }
  if (best === undefined) return undefined;
  const limit = word.length <= 3 ? 1 : word.length <= 6 ? 2 : 3;
  const prefix = word.length >= 3 && (best.startsWith(word) || word.startsWith(best));
  return bestD <= limit || prefix ? best : undefined;
}

/** Parses `--target-size`: N, or a square pair NxN / N,N (Keras's target_size is a pair). */
function parseSize(option: string, value: string, command: string): number | undefined {
  const m = /^\s*(\d+)\s*[x×,]\s*(\d+)\s*$/i.exec(value);
  if (!m) return undefined;
  const [h, w] = [Number(m[1]), Number(m[2])];
  if (h !== w) {
    throw new UsageError(`convnet ${command}: option '--${option}' makes square images here: give one size (150) or an equal pair (150x150 or 150,150), got '${value}'.`);
  }
  return h;
}

/** Parses `--name value`, `--name=value` and `--flag`; positionals are returned in order. Bad options throw UsageError. */
export function parseArgs(argv: string[], spec: Record<string, OptionSpec>, command: string): { options: Record<string, any>; positionals: string[] } {
  const options: Record<string, any> = {};
  for (const [k, s] of Object.entries(spec)) if (s.default !== undefined) options[k] = s.default;
  const positionals: string[] = [];
  const byAlias = new Map<string, string>();
  for (const [k, s] of Object.entries(spec)) if (s.alias) byAlias.set(s.alias, k);
  for (let i = 0; i < argv.length; i++) {
    const a = argv[i];
    if (a === '--') { positionals.push(...argv.slice(i + 1)); break; }
    if (a.startsWith('-') && a.length > 1 && !/^-\d/.test(a)) {
      let key = a.replace(/^--?/, '');
      let value: string | undefined;
      const eq = key.indexOf('=');
      if (eq >= 0) { value = key.slice(eq + 1); key = key.slice(0, eq); }
      key = byAlias.get(key) ?? key;
      const camel = key.replace(/-([a-z])/g, (_, c) => c.toUpperCase());
      const s = spec[key] ?? spec[camel];
      const name = spec[key] ? key : camel;
      if (!s) {
        const near = closest(kebab(camel), Object.keys(spec).map(kebab));
        const hint = near ? ` Did you mean --${near}?` : '';
        throw new UsageError(`convnet ${command}: unknown option '${a}'.${hint} Run 'convnet ${command} --help' for the options.`);
      }
      const flag = kebab(name);
      if (s.type === 'boolean') {
        options[name] = value === undefined ? true : !/^(false|0|no)$/i.test(value);
        continue;
      }
      if (value === undefined) {
        value = argv[++i];
        if (value === undefined) throw new UsageError(`convnet ${command}: option '--${flag}' needs a value.`);
      }
      if (s.type === 'number') {
        const rule = NUMBER_RULES[name];
        const integer = s.integer ?? rule?.integer ?? false;
        const min = s.min ?? rule?.min;
        const max = s.max ?? rule?.max;
        const what = s.integer !== undefined || s.min !== undefined || s.max !== undefined || !rule
          ? [integer ? 'an integer' : 'a number', min !== undefined ? `>= ${min}` : '', max !== undefined ? `<= ${max}` : ''].filter(Boolean).join(' ')
          : rule.what;
        const n = name === 'targetSize' ? parseSize(flag, value, command) ?? Number(value) : Number(value);
        const takes = name === 'targetSize' ? `${what} (or a square pair such as 150x150 or 150,150)` : what;
        if (value.trim() === '' || !Number.isFinite(n)) throw new UsageError(`convnet ${command}: option '--${flag}' expects ${takes}, got '${value}'.`);
        if ((integer && !Number.isInteger(n)) || (min !== undefined && n < min) || (max !== undefined && n > max)) {
          throw new UsageError(`convnet ${command}: option '--${flag}' expects ${takes}, got '${value}'.`);
        }
        options[name] = n;
      } else options[name] = value;
    } else positionals.push(a);
  }
  return { options, positionals };
}

/**
 * The one place that prefixes a CLI error: `convnet <command>: <message>`. Library messages carry
 * their own prefixes (`convnet: `, `report: `, `convnet sweep: `); those are dropped first so none is
 * doubled. A missing file (ENOENT) names the path and says it does not exist.
 */
export function errorLine(command: string | null, e: unknown): string {
  const err = e as NodeJS.ErrnoException | undefined;
  let message = String(err && typeof err === 'object' && 'message' in err ? err.message : e);
  if (err && typeof err === 'object' && err.code === 'ENOENT' && typeof err.path === 'string' && /^ENOENT\b/.test(message)) {
    message = `'${err.path}' does not exist (no such file or folder)`;
  }
  const own = command ? new RegExp(`^(convnet( ${command})?: |${command}: )`) : /^convnet: /;
  for (let prev = ''; prev !== message;) { prev = message; message = message.replace(own, '').replace(/^convnet: /, ''); }
  return command ? `convnet ${command}: ${message}` : `convnet: ${message}`;
}

/** The exit status for an error: 2 for a usage error, 1 otherwise. */
export function exitCode(e: unknown): number {
  return e instanceof UsageError ? EXIT_USAGE : EXIT_FAILURE;
}
