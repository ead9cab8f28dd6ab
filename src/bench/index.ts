/**
 * The benchmark sections of `convnet bench`: every `src/bench/<area>.ts` beside this file
 * exporting `run({ quick, log })` (DEVELOPING.md, "Benchmarks"), run in a fixed order
 * (engine first, then the others by name).
 */
import { readdirSync } from 'node:fs';
import { fileURLToPath } from 'node:url';

export type Figures = Record<string, number | string | null>;
export interface SectionOptions { quick: boolean; log: (line: string) => void }
export interface Section { name: string; run(opts: SectionOptions): Promise<Figures> }

/** The section names found beside this file (engine first). */
export function sectionNames(): string[] {
  const dir = fileURLToPath(new URL('.', import.meta.url));
  const names = new Set<string>();
  for (const f of readdirSync(dir)) {
    const m = /^([a-z][\w-]*)\.(ts|js)$/.exec(f);
    if (m && m[1] !== 'index' && !f.endsWith('.d.ts')) names.add(m[1]);
  }
  return [...names].sort((a, b) => (a === 'engine' ? -1 : b === 'engine' ? 1 : a.localeCompare(b)));
}

/** Loads a section by name. */
export async function loadSection(name: string): Promise<Section> {
  const ext = import.meta.url.endsWith('.ts') ? 'ts' : 'js';
  const mod = await import(new URL(`./${name}.${ext}`, import.meta.url).href) as { run?: Section['run'] };
  if (typeof mod.run !== 'function') throw new Error(`convnet bench: section '${name}' does not export run()`);
  return { name, run: mod.run };
}
