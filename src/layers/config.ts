/**
 * Names and configuration dictionaries, the Keras way.
 *
 * - Automatic names: `conv2d`, `conv2d_1`, ... from the class name in snake_case, one counter per
 *   prefix for the whole process (Keras's `backend.get_uid`), reset by `clearSession()`.
 * - Options arrive in camelCase (`kernelSize`) or in Keras's snake_case (`kernel_size`); both are
 *   normalised to camelCase here, and `getConfig()` writes snake_case exactly as Keras 3 does.
 */

const uids = new Map<string, number>();

/** Keras's `to_snake_case`: `MaxPooling2D` -> `max_pooling2d`, `Conv2D` -> `conv2d`. */
export function toSnakeCase(name: string): string {
  let s = name.replace(/\W+/g, '');
  s = s.replace(/(.)([A-Z][a-z]+)/g, '$1_$2');
  s = s.replace(/([a-z])([A-Z])/g, '$1_$2').toLowerCase();
  return s;
}

/** The next automatic name for `prefix`: `prefix`, then `prefix_1`, `prefix_2`, ... */
export function uniqueName(prefix: string): string {
  const n = uids.get(prefix) ?? 0;
  uids.set(prefix, n + 1);
  return n === 0 ? prefix : `${prefix}_${n}`;
}

/** Records that a user-given name is taken, so automatic names do not repeat it later. */
export function reserveName(name: string): void {
  const m = /^(.*?)(?:_(\d+))?$/.exec(name)!;
  const prefix = m[1];
  const n = m[2] === undefined ? 0 : Number(m[2]);
  if ((uids.get(prefix) ?? 0) <= n) uids.set(prefix, n + 1);
}

/** Resets automatic naming (Keras's `keras.backend.clear_session()`): the next Conv2D is `conv2d` again. */
export function clearSession(): void { uids.clear(); }

/** `kernel_size` -> `kernelSize`. */
export function snakeToCamel(key: string): string {
  return key.replace(/_([a-z0-9])/g, (_, c: string) => c.toUpperCase());
}

/** `kernelSize` -> `kernel_size`, `inputShape` -> `input_shape`. */
export function camelToSnake(key: string): string {
  return key.replace(/([a-z0-9])([A-Z])/g, '$1_$2').toLowerCase();
}

/**
 * Copies an options object with every top-level key in camelCase, and checks each key against
 * `known` (camelCase) so a misspelt option fails loudly instead of being ignored.
 */
export function normalizeOptions(
  opts: Record<string, unknown> | undefined, known: readonly string[], where: string,
): Record<string, unknown> {
  const out: Record<string, unknown> = {};
  if (opts === undefined || opts === null) return out;
  if (typeof opts !== 'object' || Array.isArray(opts)) {
    throw new TypeError(`convnet: ${where}: expected an options object, got ${JSON.stringify(opts)}`);
  }
  for (const [k, v] of Object.entries(opts)) {
    const ck = snakeToCamel(k);
    if (!known.includes(ck)) {
      throw new TypeError(`convnet: ${where}: unknown option ${JSON.stringify(k)} (known: ${known.join(', ')})`);
    }
    if (v !== undefined) out[ck] = v;
  }
  return out;
}

/** A positive integer or a pair of them, as Keras accepts for kernel sizes, strides and pools. */
export function intPair(v: unknown, what: string, where: string): [number, number] {
  const p = typeof v === 'number' ? [v, v] : Array.isArray(v) ? v : null;
  if (!p || p.length !== 2 || !p.every((d) => Number.isInteger(d) && d >= 1)) {
    throw new RangeError(`convnet: ${where}: ${what} must be a positive integer or a pair of them, got ${JSON.stringify(v)}`);
  }
  return [p[0], p[1]];
}

export function oneOf<T extends string>(v: unknown, allowed: readonly T[], what: string, where: string): T {
  const s = typeof v === 'string' ? v.toLowerCase() : v;
  if (!allowed.includes(s as T)) {
    throw new RangeError(`convnet: ${where}: ${what} must be one of ${allowed.map((a) => `'${a}'`).join(', ')}, got ${JSON.stringify(v)}`);
  }
  return s as T;
}

export function checkNumber(v: unknown, what: string, where: string, lo = -Infinity, hi = Infinity): number {
  if (typeof v !== 'number' || !Number.isFinite(v) || v < lo || v > hi) {
    throw new RangeError(`convnet: ${where}: ${what} must be a number in [${lo}, ${hi}], got ${JSON.stringify(v)}`);
  }
  return v;
}

/** Keras 3's dtype policy dict, as every layer's config carries it. */
export function dtypePolicy(name = 'float32'): Record<string, unknown> {
  return { module: 'keras', class_name: 'DTypePolicy', config: { name }, registered_name: null };
}

/** A Keras `serialize_keras_object` dict: `{ module, class_name, config, registered_name }`. */
export interface SerializedObject {
  module?: string;
  class_name: string;
  config: Record<string, unknown>;
  registered_name?: string | null;
  build_config?: { input_shape: (number | null)[] };
}
