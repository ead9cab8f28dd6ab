/**
 * Keras's progress bar (`keras.utils.Progbar`). On a terminal (verbose 1) a live line:
 *
 *     76/76 ━━━━━━━━━━━━━━━━━━━━ 45s 455ms/step - accuracy: 0.5562 - loss: 0.6724
 *
 * Elsewhere (verbose 2, what 'auto' picks when output is not a terminal) one line per epoch:
 *
 *     76/76 - 45s - 455ms/step - accuracy: 0.5562 - loss: 0.6724 - val_accuracy: 0.5725 - val_loss: 0.6718
 *
 * and, so that a log shows an epoch of several minutes moving, a progress line at most every
 * `logInterval` seconds (30) while it runs, when the output is not a terminal:
 *
 *     37/76 - ETA: 18s - 455ms/step - accuracy: 0.5562 - loss: 0.6724
 */
import { writeOut, stdoutIsTTY } from '../runtime.js';

export interface ProgbarOptions {
  width?: number;
  verbose?: 1 | 2;
  /** Minimum seconds between live updates. */
  interval?: number;
  unitName?: string;
  /** Where the text goes (process.stdout by default). */
  write?: (s: string) => void;
  /** Whether the output is a terminal (live bar with colours). */
  isTTY?: boolean;
  /** verbose 2 off a terminal: least seconds between progress lines within an epoch (default 30). */
  logInterval?: number;
  /** The clock, in milliseconds (`performance.now` by default); tests pass a fake one. */
  now?: () => number;
}

export function formatValue(v: number): string {
  if (!Number.isFinite(v)) return Number.isNaN(v) ? 'nan' : v > 0 ? 'inf' : '-inf';
  return Math.abs(v) > 1e-3 ? v.toFixed(4) : pyExp(v);
}

/** Python's '{:.4e}' (two-digit exponent at least). */
function pyExp(v: number): string {
  const [m, e] = v.toExponential(4).split('e');
  const sign = e[0] === '-' ? '-' : '+';
  const digits = e.replace(/^[+-]/, '').padStart(2, '0');
  return `${m}e${sign}${digits}`;
}

export function formatTime(perUnit: number, unit: string): string {
  if (perUnit >= 1 || perUnit === 0) return ` ${perUnit.toFixed(0)}s/${unit}`;
  if (perUnit >= 1e-3) return ` ${(perUnit * 1000).toFixed(0)}ms/${unit}`;
  return ` ${(perUnit * 1e6).toFixed(0)}us/${unit}`;
}

/** Python's '%d:%02d' formats of an ETA in seconds. */
function formatEta(eta: number): string {
  if (eta > 3600) return `${Math.floor(eta / 3600)}:${String(Math.floor((eta % 3600) / 60)).padStart(2, '0')}:${String(Math.floor(eta % 60)).padStart(2, '0')}`;
  if (eta > 60) return `${Math.floor(eta / 60)}:${String(Math.floor(eta % 60)).padStart(2, '0')}`;
  return `${Math.floor(eta)}s`;
}

export class Progbar {
  readonly target: number | null;
  readonly width: number;
  readonly verbose: 1 | 2;
  readonly interval: number;
  readonly unitName: string;
  private readonly write: (s: string) => void;
  private readonly tty: boolean;
  private values = new Map<string, number>();
  private readonly clock: () => number;
  private readonly start: number;
  private lastUpdate = 0;
  private timeAfterFirst: number | null = null;
  private prevWidth = 0;
  private readonly logInterval: number;
  private lastLine: number;

  constructor(target: number | null, opts: ProgbarOptions = {}) {
    this.target = target;
    this.width = opts.width ?? 20;
    this.verbose = opts.verbose ?? 1;
    this.interval = opts.interval ?? 0.05;
    this.unitName = opts.unitName ?? 'step';
    this.write = opts.write ?? writeOut;
    this.tty = opts.isTTY ?? stdoutIsTTY();
    this.logInterval = opts.logInterval ?? 30;
    this.clock = opts.now ?? (() => performance.now());
    this.start = this.clock() / 1000;
    this.lastLine = this.start;
  }

  /**
   * Shows progress at step `current` with the running values of the metrics (already averaged);
   * `note` ends the final line (e.g. 'interrupted').
   */
  update(current: number, values: [string, number][] = [], finalize?: boolean, note?: string): void {
    const fin = finalize ?? (this.target !== null && current >= this.target);
    for (const [k, v] of values) this.values.set(k, v);
    const now = this.clock() / 1000;
    const perUnit = this.stepDuration(current, now);
    if (this.verbose === 1) {
      if (now - this.lastUpdate < this.interval && !fin) return;
      let bar: string;
      let visible = 0;
      const b = (s: string) => (this.tty ? `\x1b[1m${s}\x1b[0m` : s);
      if (this.target !== null && this.target > 0) {
        const digits = Math.floor(Math.log10(this.target)) + 1;
        const count = `${String(current).padStart(digits)}/${this.target}`;
        const done = Math.floor(this.width * (current / this.target));
        const filled = '━'.repeat(Math.max(0, Math.min(done, this.width)));
        const rest = '━'.repeat(this.width - filled.length);
        bar = `${b(count)} ` + (this.tty ? (filled ? `\x1b[32m${filled}\x1b[0m` : '') + `\x1b[37m${rest}\x1b[0m` : filled + rest);
        visible = count.length + 1 + this.width;
      } else {
        bar = `${String(current).padStart(7)}/Unknown`;
        visible = bar.length;
      }
      let info: string;
      if (this.target !== null && this.target > 0 && !fin) info = ` ${b(formatEta(perUnit * (this.target - current)))}`;
      else info = ` ${b(`${(now - this.start).toFixed(0)}s`)}`;
      let infoVisible = info.replace(/\x1b\[[0-9;]*m/g, '').length;
      const rest = formatTime(perUnit, this.unitName) + this.metricsText() + (fin && note ? ` - ${note}` : '');
      info += rest; infoVisible += rest.length;
      const total = visible + infoVisible;
      let msg = (this.tty ? '\r' : '\n') + bar + info;
      if (this.tty && this.prevWidth > total) msg += ' '.repeat(this.prevWidth - total);
      if (fin) msg += '\n';
      if (!this.tty && msg.startsWith('\n')) msg = msg.slice(1) + (fin ? '' : '\n');
      this.write(msg);
      this.prevWidth = total;
    } else if (fin && this.target !== null && this.target > 0) {
      const digits = Math.floor(Math.log10(this.target)) + 1;
      const count = `${String(current).padStart(digits)}/${this.target}`;
      this.write(`${count} - ${(now - this.start).toFixed(0)}s -${formatTime(perUnit, this.unitName)}${this.metricsText()}${note ? ` - ${note}` : ''}\n`);
    } else if (!this.tty && current > 0 && this.target !== null && this.target > 0 && now - this.lastLine >= this.logInterval) {
      const digits = Math.floor(Math.log10(this.target)) + 1;
      const count = `${String(current).padStart(digits)}/${this.target}`;
      this.write(`${count} - ETA: ${formatEta(perUnit * (this.target - current))} -${formatTime(perUnit, this.unitName)}${this.metricsText()}\n`);
      this.lastLine = now;
    }
    this.lastUpdate = now;
  }

  private metricsText(): string {
    let s = '';
    for (const [k, v] of this.values) s += ` - ${k}: ${formatValue(v)}`;
    return s;
  }

  /** Time per step, ignoring the first step (compilation-like warm-up) once there are more. */
  private stepDuration(current: number, now: number): number {
    if (!current) return 0;
    let t: number;
    if (this.timeAfterFirst !== null && current > 1) t = (now - this.timeAfterFirst) / (current - 1);
    else t = (now - this.start) / current;
    if (current === 1) this.timeAfterFirst = now;
    return t;
  }
}
