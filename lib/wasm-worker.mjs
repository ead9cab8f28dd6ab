// A kernel worker of convnet's WebAssembly thread pool (src/backend/wasm/pool.ts).
//
// It instantiates the kernels module on the shared heap memory, then loops: sleep on the control
// block's sequence word, claim parts of the current job with compare-and-swap, run them, count
// them done. Plain JavaScript so that it runs unchanged under Node (worker_threads) and in
// browsers (a module Web Worker), from src/ and from dist/.
const SEQ = 0, CLAIM = 1, DONE = 2, KERNEL = 3, NPARTS = 4, PARAMS = 5, READY = 6, ERROR = 7;
const SPIN_MS = 0.2;

/** Claims and runs parts of the current job until none is left (same code as the main thread's). */
function runParts(ctl, fns) {
  for (;;) {
    const w = Atomics.load(ctl, CLAIM);
    const part = w & 0xff;
    const parts = Atomics.load(ctl, NPARTS);
    if (part >= parts) return;
    const kernel = Atomics.load(ctl, KERNEL), params = Atomics.load(ctl, PARAMS);
    if (Atomics.compareExchange(ctl, CLAIM, w, w + 1) !== w) continue;
    try {
      fns[kernel](params, part, parts);
    } catch (e) {
      Atomics.store(ctl, ERROR, 1);
    }
    if (Atomics.add(ctl, DONE, 1) + 1 === parts) Atomics.notify(ctl, DONE);
  }
}

async function start({ memory, module, kernels }) {
  const instance = await WebAssembly.instantiate(module, { env: { memory } });
  const fns = kernels.map((name) => instance.exports[name]);
  const ctl = new Int32Array(memory.buffer, 0, 1024);
  let seen = Atomics.load(ctl, SEQ);
  Atomics.add(ctl, READY, 1);
  runParts(ctl, fns);
  for (;;) {
    let s = Atomics.load(ctl, SEQ);
    if (s === seen) {
      const until = performance.now() + SPIN_MS;
      for (let i = 0; s === seen; i++) {
        s = Atomics.load(ctl, SEQ);
        if ((i & 255) === 255 && performance.now() > until) break;
      }
      while (s === seen) {
        Atomics.wait(ctl, SEQ, seen);
        s = Atomics.load(ctl, SEQ);
      }
    }
    seen = s;
    runParts(ctl, fns);
  }
}

if (typeof process !== 'undefined' && process.versions && process.versions.node) {
  const { workerData } = await import('node:worker_threads');
  start(workerData);
} else {
  self.onmessage = (e) => { self.onmessage = null; start(e.data); };
}
