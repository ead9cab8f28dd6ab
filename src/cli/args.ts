/** A small, strict argument parser shared by the sub-commands. */
export interface OptionSpec {
  /** 'string' | 'number' | 'boolean' */
  type: 'string' | 'number' | 'boolean';
  alias?: string;
  default?: string | number | boolean;
}

export class UsageError extends Error {}

/** Parses `--name value`, `--name=value` and `--flag`; positionals are returned in order. Unknown options throw UsageError. */
export function parseArgs(argv: string[], spec: Record<string, OptionSpec>, command: string): { options: Record<string, any>; positionals: string[] } {
  const options: Record<string, any> = {};
  for (const [k, s] of Object.entries(spec)) if (s.default !== undefined) options[k] = s.default;
  const positionals: string[] = [];
  const byAlias = new Map<string, string>();
  for (const [k, s] of Object.entries(spec)) if (s.alias) byAlias.set(s.alias, k);
  for (let i = 0; i < argv.length; i++) {
    const a = argv[i];
    if (a.startsWith('-') && a.length > 1 && !/^-\d/.test(a)) {
      let key = a.replace(/^--?/, '');
      let value: string | undefined;
      const eq = key.indexOf('=');
      if (eq >= 0) { value = key.slice(eq + 1); key = key.slice(0, eq); }
      key = byAlias.get(key) ?? key;
      const camel = key.replace(/-([a-z])/g, (_, c) => c.toUpperCase());
      const s = spec[key] ?? spec[camel];
      const name = spec[key] ? key : camel;
      if (!s) throw new UsageError(`convnet ${command}: unknown option '${a}'. Run 'convnet ${command} --help'.`);
      if (s.type === 'boolean') {
        options[name] = value === undefined ? true : !/^(false|0|no)$/i.test(value);
        continue;
      }
      if (value === undefined) {
        value = argv[++i];
        if (value === undefined) throw new UsageError(`convnet ${command}: option '--${key}' needs a value.`);
      }
      if (s.type === 'number') {
        const n = Number(value);
        if (!Number.isFinite(n)) throw new UsageError(`convnet ${command}: option '--${key}' expects a number, got '${value}'.`);
        options[name] = n;
      } else options[name] = value;
    } else positionals.push(a);
  }
  return { options, positionals };
}
