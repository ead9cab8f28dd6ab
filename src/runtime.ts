/**
 * What differs between Node and browsers, in one place, so that the engine, layers and models run
 * in both: console output, the TTY check, yielding to the event loop, Ctrl-C, and Node-only
 * modules that must never load in a browser (they are imported dynamically, behind `isNode`).
 */

/** Whether this is Node (a browser, or a Web Worker, has no `process.versions.node`). */
export const isNode = typeof process !== 'undefined' && !!process.versions?.node;

/** A line buffer over console.log: browsers have no stdout, and console output is one call per line. */
function consoleWriter(log: (line: string) => void): (s: string) => void {
  let pending = '';
  return (s: string) => {
    const lines = (pending + s).split('\n');
    pending = lines.pop()!;
    // Progress bars redraw with '\r': keep only what follows the last one.
    for (const l of lines) log(l.slice(l.lastIndexOf('\r') + 1));
  };
}
const consoleOut = consoleWriter((l) => console.log(l));
const consoleErr = consoleWriter((l) => console.warn(l));

/** Writes text to stdout (Node) or the console (browsers, line by line). */
export function writeOut(s: string): void {
  if (isNode) process.stdout.write(s); else consoleOut(s);
}

/** Writes text to stderr (Node) or the console as warnings (browsers). */
export function writeErr(s: string): void {
  if (isNode) process.stderr.write(s); else consoleErr(s);
}

/** Whether stdout is a terminal (never in a browser: progress is printed one line per epoch). */
export function stdoutIsTTY(): boolean {
  return isNode && !!process.stdout?.isTTY;
}

/** Resolves on the next turn of the event loop, after pending I/O and timers. */
export function nextTurn(): Promise<void> {
  if (typeof setImmediate === 'function') return new Promise((r) => setImmediate(r));
  // Browsers: a message event is not clamped to 4 ms like nested setTimeout(0).
  if (typeof MessageChannel === 'function') {
    return new Promise((r) => {
      const ch = new MessageChannel();
      ch.port1.onmessage = () => { ch.port1.close(); r(); };
      ch.port2.postMessage(null);
    });
  }
  return new Promise((r) => setTimeout(r, 0));
}

/** Calls `fn` on Ctrl-C (SIGINT) in Node; returns the function that removes it. A no-op in browsers. */
export function onInterrupt(fn: () => void): () => void {
  if (!isNode) return () => {};
  process.on('SIGINT', fn);
  return () => { process.removeListener('SIGINT', fn); };
}

/**
 * Stands in for a Node-only module in browsers: every function of it throws a clear error naming
 * what needs Node, so `const { writeFileSync } = isNode ? await import('node:fs') : nodeOnly(...)` loads.
 */
export function nodeOnly<T extends object>(what: string): T {
  return new Proxy({}, {
    get: (_t, name) => () => {
      throw new Error(`convnet: ${what} needs Node (${String(name)} is not available in a browser)`);
    },
  }) as T;
}

/**
 * A copy of a WebAssembly module whose imported memory is declared unshared. The kernels are
 * built for the shared heap; a browser page that is not cross-origin isolated has no
 * SharedArrayBuffer, so its heap is an ordinary memory, which a shared import refuses to link.
 * Atomic instructions stay valid on unshared memory; only the thread pool needs sharing, and it
 * is not started then (one thread).
 */
export function withUnsharedMemory(bytes: Uint8Array): Uint8Array<ArrayBuffer> {
  const b = bytes.slice();
  let p = 8; // magic and version
  const uleb = (): number => {
    let r = 0, s = 0, x: number;
    do { x = b[p++]; r += (x & 0x7f) * 2 ** s; s += 7; } while (x & 0x80);
    return r;
  };
  while (p < b.length) {
    const id = b[p++];
    const size = uleb();
    const end = p + size;
    if (id === 2) { // the import section
      for (let n = uleb(); n > 0; n--) {
        for (let name = 0; name < 2; name++) { const len = uleb(); p += len; } // module and field names
        const kind = b[p++];
        if (kind === 0) uleb(); // function: type index
        else if (kind === 1) { p++; const f = b[p++]; uleb(); if (f & 1) uleb(); } // table: reftype, limits
        else if (kind === 2) { const f = b[p]; b[p++] = f & ~2; uleb(); if (f & 1) uleb(); } // memory: limits, bit 1 = shared
        else if (kind === 3) p += 2; // global: value type, mutability
        else if (kind === 4) { p++; uleb(); } // tag
        else throw new Error(`convnet: unknown WebAssembly import kind ${kind}`);
      }
      return b;
    }
    p = end;
  }
  return b;
}
