/** Accepting Keras's snake_case option names beside camelCase ones, with clear errors for the rest. */

/** snake_case -> camelCase. */
export function camel(key: string): string { return key.replace(/_([a-z0-9])/g, (_, c: string) => c.toUpperCase()); }

/**
 * Returns `opts` with camelCase keys. Unknown keys throw (listing the known ones); a key given both
 * ways throws; keys in `unsupported` throw with the reason.
 */
export function normalizeOptions<T extends object>(opts: object | undefined, known: readonly string[], where: string,
  unsupported: Record<string, string> = {}): Partial<T> {
  const out: Record<string, unknown> = {};
  const from: Record<string, string> = {};
  for (const [k, v] of Object.entries(opts ?? {})) {
    if (v === undefined) continue;
    const c = camel(k);
    if (c in unsupported) throw new Error(`convnet: ${where}: option '${k}' is not supported: ${unsupported[c]}`);
    if (!known.includes(c)) throw new Error(`convnet: ${where}: unknown option '${k}'. Known options: ${known.join(', ')} (camelCase or snake_case)`);
    if (c in out) throw new Error(`convnet: ${where}: option given twice, as '${from[c]}' and '${k}'`);
    out[c] = v;
    from[c] = k;
  }
  return out as Partial<T>;
}
