/**
 * The conformance suite (test/backend/conformance.ts) under node:test: one `describe` per backend,
 * one test per check, the fixtures read from test/fixtures/engine/. CONFORMANCE_TRACE=1 writes each
 * check's name to stderr before it runs (a crash in native code names its check).
 */
import { test, describe } from 'node:test';
import { readFileSync, writeSync } from 'node:fs';
import { conformanceChecks, type ConformanceOptions, type ConformanceFixtures } from './conformance.js';
import type { Backend } from '../../src/backend/backend.js';

export { convParams, fmtConv, UNARY_OPS } from './conformance.js';

let fixtures: ConformanceFixtures | undefined;
const loadFixtures = (): ConformanceFixtures =>
  (fixtures ??= { pytorch: JSON.parse(readFileSync(new URL('../fixtures/engine/pytorch.json', import.meta.url), 'utf8')) });

/**
 * Registers the suite for one backend. `make` creates it (called once, lazily), or is a string: the
 * reason it cannot run here, and every test skips visibly with it.
 */
export function backendConformance(name: string, make: (() => Backend) | string, opts: ConformanceOptions = {}): void {
  describe(`backend conformance: ${name}`, () => {
    for (const c of conformanceChecks(name, make, loadFixtures(), opts)) {
      test(c.name, { skip: c.skip }, async () => {
        if (process.env.CONFORMANCE_TRACE) writeSync(2, `conformance: ${name}: ${c.name}\n`);
        await c.run();
      });
    }
  });
}
