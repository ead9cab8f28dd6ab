// Peer benchmark for `convnet bench`: one training step of the notebook's model with
// @tensorflow/tfjs on its pure-JavaScript CPU backend. Prints one JSON line:
// {"img_s": ..., "batch": ..., "steps": ..., "seconds": ...} (or {"error": ...}).
// Usage: node lib/bench-tfjs.mjs <batch> <size> <maxSeconds>
const [batch = 1, size = 150, maxSeconds = 60] = process.argv.slice(2).map(Number);
try {
  const tf = await import('@tensorflow/tfjs');
  await tf.setBackend('cpu');
  await tf.ready();
  const model = tf.sequential();
  model.add(tf.layers.conv2d({ inputShape: [size, size, 3], filters: 32, kernelSize: 3, padding: 'same', activation: 'relu' }));
  model.add(tf.layers.maxPooling2d({ poolSize: 2 }));
  for (const f of [64, 128, 64]) {
    model.add(tf.layers.conv2d({ filters: f, kernelSize: 3, padding: 'same', activation: 'relu' }));
    model.add(tf.layers.maxPooling2d({ poolSize: 2 }));
  }
  model.add(tf.layers.flatten());
  model.add(tf.layers.dropout({ rate: 0.5 }));
  model.add(tf.layers.dense({ units: 128, activation: 'relu' }));
  model.add(tf.layers.dense({ units: 1, activation: 'sigmoid' }));
  model.compile({ optimizer: tf.train.adam(1e-3), loss: 'binaryCrossentropy' });
  const x = tf.randomUniform([batch, size, size, 3]);
  const y = tf.randomUniform([batch, 1]).round();
  let steps = 0;
  const t0 = performance.now();
  do {
    await model.trainOnBatch(x, y);
    steps++;
  } while ((performance.now() - t0) / 1000 < maxSeconds / 4 && steps < 3);
  const seconds = (performance.now() - t0) / 1000;
  console.log(JSON.stringify({ img_s: (steps * batch) / seconds, batch, steps, seconds }));
} catch (e) {
  console.log(JSON.stringify({ error: String(e && e.message ? e.message : e) }));
}
