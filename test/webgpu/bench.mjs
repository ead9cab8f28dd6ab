// The bench page's module (test/webgpu/bench-page.ts serves it): the notebook model's training and
// prediction images/s on the page's WebGPU adapter (src/backend/webgpu/bench.ts).
export async function bench(c, q) {
  const { benchWebGPU } = await import('/src/backend/webgpu/bench.js');
  const lines = [];
  const r = await benchWebGPU({ batch: Number(q.batch || 128), size: Number(q.size || 150), steps: Number(q.steps || 3), log: (l) => lines.push(l) });
  return { ...r, lines, hardwareConcurrency: navigator.hardwareConcurrency, userAgent: navigator.userAgent };
}
