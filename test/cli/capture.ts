/** Runs CLI code in-process, capturing what it prints: one helper for the CLI, notebook, image and predict tests. */
import { main } from '../../src/cli/main.js';

export interface Captured { code: number; out: string; err: string }

/** Calls `f` (a command's run, or main) with console.log captured as `out` and console.error/warn as `err`. */
export async function captured(f: () => Promise<number>): Promise<Captured> {
  const out: string[] = [], err: string[] = [];
  const log = console.log, error = console.error, warn = console.warn;
  console.log = (...a: unknown[]) => { out.push(a.join(' ')); };
  console.error = console.warn = (...a: unknown[]) => { err.push(a.join(' ')); };
  try {
    const code = await f();
    return { code, out: out.join('\n'), err: err.join('\n') };
  } finally {
    console.log = log; console.error = error; console.warn = warn;
  }
}

/** `convnet ARGV...` in-process. */
export function cli(...argv: string[]): Promise<Captured> { return captured(() => main(argv)); }
