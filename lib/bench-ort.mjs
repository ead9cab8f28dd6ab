// Peer benchmark for `convnet bench`: ONNX Runtime predicting the notebook's model, exported to ONNX
// by convnet (model.save('x.onnx')). Uses onnxruntime-node when installed (`npm run bench:peers`),
// else onnxruntime-web's WebAssembly build in Node, and says which. Prints one JSON line
// {"img_s", "img_per_cpu_s", "runtime", "version"}: the best of `reps` timed batches after a warm-up one.
// Usage: node lib/bench-ort.mjs <model.onnx> <batch> <reps> <threads>
const [path, batchArg, repsArg, threadsArg] = process.argv.slice(2);
const batch = Number(batchArg), reps = Number(repsArg), threads = Number(threadsArg);
try {
  let ort, runtime;
  try {
    // CONVNET_BENCH_PEERS: a folder where the peers were installed apart (npm install --prefix DIR onnxruntime-node).
    const dir = process.env.CONVNET_BENCH_PEERS;
    if (dir) {
      const { createRequire } = await import('node:module');
      const { pathToFileURL } = await import('node:url');
      const req = createRequire(`${dir}/package.json`);
      ort = await import(pathToFileURL(req.resolve('onnxruntime-node')).href);
    } else {
      ort = await import('onnxruntime-node');
    }
    runtime = 'onnxruntime-node';
  } catch {
    ort = await import('onnxruntime-web');
    ort.env.wasm.numThreads = threads;
    runtime = 'onnxruntime-web (WebAssembly, in Node)';
  }
  const { readFileSync } = await import('node:fs');
  const opts = runtime === 'onnxruntime-node'
    ? { intraOpNumThreads: threads, interOpNumThreads: 1, graphOptimizationLevel: 'all' }
    : { graphOptimizationLevel: 'all' };
  const session = await ort.InferenceSession.create(readFileSync(path), opts);
  const x = new Float32Array(batch * 150 * 150 * 3);
  for (let i = 0; i < x.length; i++) x[i] = ((i * 2654435761) % 1000) / 1000;
  const feeds = { [session.inputNames[0]]: new ort.Tensor('float32', x, [batch, 150, 150, 3]) };
  await session.run(feeds);
  let best = Infinity, bestCpu = Infinity;
  for (let r = 0; r < reps; r++) {
    const t0 = performance.now(), c0 = process.cpuUsage();
    await session.run(feeds);
    const c = process.cpuUsage(c0);
    best = Math.min(best, (performance.now() - t0) / 1000);
    bestCpu = Math.min(bestCpu, (c.user + c.system) / 1e6);
  }
  const version = ort.env?.versions?.common ?? ort.env?.versions?.node ?? ort.env?.versions?.web ?? null;
  console.log(JSON.stringify({ img_s: batch / best, img_per_cpu_s: batch / bestCpu, runtime, version, threads }));
} catch (e) {
  console.log(JSON.stringify({ error: e instanceof Error ? e.message : String(e) }));
}
process.exit(0);
