/** The charting library (Vega, Vega-Lite, vega-embed), copied beside each report so it opens offline. */
import { copyFileSync, existsSync, mkdirSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

/** Script files in the order the page loads them. */
export const VENDOR_SCRIPTS = [
  { pkg: 'vega', file: 'vega.min.js' },
  { pkg: 'vega-lite', file: 'vega-lite.min.js' },
  { pkg: 'vega-embed', file: 'vega-embed.min.js' },
] as const;

/** Folder, relative to the report, that holds the scripts. */
export const ASSETS_DIR = 'report-assets';

/** Finds `node_modules/<pkg>/build/<file>` walking up from this module (works from src/ and dist/). */
export function vendorPath(pkg: string, file: string): string {
  let dir = dirname(fileURLToPath(import.meta.url));
  for (;;) {
    const p = join(dir, 'node_modules', pkg, 'build', file);
    if (existsSync(p)) return p;
    const up = dirname(dir);
    if (up === dir) throw new Error(`report: cannot find ${pkg}/build/${file}; run 'npm ci' so the charting library is installed`);
    dir = up;
  }
}

/** Copies the charting scripts to `<dir>/report-assets/`. */
export function copyVendorScripts(dir: string): void {
  mkdirSync(join(dir, ASSETS_DIR), { recursive: true });
  for (const { pkg, file } of VENDOR_SCRIPTS) copyFileSync(vendorPath(pkg, file), join(dir, ASSETS_DIR, file));
}
