// Runs in the page of test/webgpu/pipeline.test.ts: the data pipeline's device path (src/data/augment_device.ts,
// augmentOn 'device') on webgpu against the same batch on the reference backend in the same page, from the
// same NumPy draws, and ImageDataGenerator.fit's awaited form on webgpu. Returns plain numbers for the Node
// side to assert. Plain JavaScript: the page loads it as is.

/** A smooth uint8 pattern with edges (so interpolation and brightness have work to do). */
function pixels(n, h, w, c, seed) {
  const a = new Uint8Array(n * h * w * c);
  for (let b = 0; b < n; b++) for (let y = 0; y < h; y++) for (let x = 0; x < w; x++) for (let k = 0; k < c; k++) {
    const v = 128 + 90 * Math.sin((x + 2 * b + seed) / 3.1 + k) * Math.cos((y - b) / 4.3) + ((x * 7 + y * 13 + k * 29 + b) % 23);
    a[((b * h + y) * w + x) * c + k] = Math.max(0, Math.min(255, Math.round(v)));
  }
  return a;
}

export async function augment(c) {
  const wg = await import('/src/backend/webgpu/index.js');
  const g = await wg.initWebGPU();
  if (!g) return { error: `no WebGPU: ${wg.webgpuUnavailableReason()}` };
  const { transformBatch } = await import('/src/data/augment_device.js');
  const { ImageDataGenerator } = await import('/src/data/generator.js');
  const { NumpyRandomState } = await import('/src/data/numpy_random.js');
  const ref = new c.ReferenceBackend();
  const t0 = performance.now();
  const CASES = {
    flips: [{ horizontal_flip: true, vertical_flip: true, rescale: 1 / 255 }, [6, 20, 24, 3]],
    affine: [{ rotation_range: 30, width_shift_range: 0.1, height_shift_range: 2, shear_range: 8, zoom_range: 0.2, channel_shift_range: 20, horizontal_flip: true, fill_mode: 'reflect' }, [6, 20, 24, 3]],
    constant: [{ rotation_range: 40, zoom_range: [0.8, 1.2], fill_mode: 'constant', cval: 9, vertical_flip: true }, [4, 15, 15, 3]],
    wrapNearest: [{ rotation_range: 20, width_shift_range: 0.2, fill_mode: 'wrap', interpolation_order: 0 }, [4, 16, 12, 1]],
    brightness: [{ horizontal_flip: true, brightness_range: [0.5, 1.5] }, [6, 20, 24, 3]],
    affineBrightness: [{ rotation_range: 25, zoom_range: 0.1, brightness_range: [0.6, 1.4], channel_shift_range: 10, samplewise_center: true, samplewise_std_normalization: true }, [6, 20, 24, 3]],
  };
  const out = { cases: {}, fit: null };
  let seed = 1;
  for (const [name, [opts, shape]] of Object.entries(CASES)) {
    const gen = new ImageDataGenerator(opts);
    const [n, h, w] = shape;
    const rs = new NumpyRandomState(seed);
    const params = Array.from({ length: n }, () => gen.getRandomTransform(rs, h, w));
    const px = pixels(...shape, seed++);
    const on = (b) => {
      c.setBackend(b);
      const x8 = c.tensor(px, shape, 'uint8');
      const y = transformBatch(x8, params, gen.augment, gen);
      x8.dispose();
      return y;
    };
    const yr = on(ref);
    const want = yr.dataSync().slice();
    yr.dispose();
    const yg = on(g);
    const got = await yg.data();
    yg.dispose();
    let max = 0, differ = 0;
    for (let i = 0; i < want.length; i++) {
      const d = Math.abs(want[i] - got[i]);
      if (!(d <= max)) max = d;
      if (d > 1e-6 * (1 + Math.abs(want[i]))) differ++;
    }
    out.cases[name] = { max, differ, n: want.length, range: [Math.min(...want), Math.max(...want)] };
  }

  // fit(): statistics reduced on webgpu and read back asynchronously; the same numbers as on the host.
  const x = pixels(5, 9, 11, 3, 99);
  const fitOn = async (b) => {
    c.setBackend(b);
    const gen = new ImageDataGenerator({ featurewise_center: true, featurewise_std_normalization: true });
    const t = c.tensor(Float32Array.from(x, (v) => v / 255), [5, 9, 11, 3]);
    const r = gen.fit(t);
    const promise = r instanceof Promise;
    await r;
    t.dispose();
    return { promise, mean: Array.from(gen.mean), std: Array.from(gen.std) };
  };
  out.fit = { ref: await fitOn(ref), gpu: await fitOn(g) };

  // flow(x, y): a uint8 dataset kept on the GPU, gathered and augmented there ('auto' on webgpu), against
  // the host path on the reference backend: the same order, draws and labels; pixels within the affine tolerance.
  const flowOn = async (b, augmentOn) => {
    c.setBackend(b);
    const gen = new ImageDataGenerator({ rotation_range: 15, zoom_range: 0.1, horizontal_flip: true, brightness_range: [0.7, 1.3], rescale: 1 / 255 });
    // 21x23x3 = 1,449 bytes per image: rows that end inside a 32-bit word (gathered byte by byte on webgpu).
    const x = c.tensor(pixels(10, 21, 23, 3, 5), [10, 21, 23, 3], 'uint8');
    const y = c.tensor(Float32Array.from({ length: 10 }, (_, i) => i % 3), [10]);
    const it = gen.flow(x, y, { batchSize: 4, seed: 21, augmentOn });
    const r = { onDevice: it.onDevice, xs: [], ys: [], params: [] };
    for (let e = 0; e < 2; e++) {
      for (let i = 0; i < it.length; i++) {
        const bt = await it.getBatch(i);
        r.xs.push(Array.from(await bt.x.data())); r.ys.push(Array.from(await bt.y.data())); r.params.push(JSON.stringify(it.lastBatch.params));
        bt.x.dispose(); bt.y.dispose();
      }
      it.onEpochEnd();
    }
    x.dispose(); y.dispose();
    return r;
  };
  const fh = await flowOn(ref, 'host'), fg = await flowOn(g, 'auto');
  let fmax = 0, fdiffer = 0, fn = 0;
  fh.xs.forEach((xs, i) => xs.forEach((v, k) => { const d = Math.abs(v - fg.xs[i][k]); fmax = Math.max(fmax, d); if (d > 1e-6) fdiffer++; fn++; }));
  out.flow = { onDevice: [fh.onDevice, fg.onDevice], sameParams: JSON.stringify(fh.params) === JSON.stringify(fg.params), sameLabels: JSON.stringify(fh.ys) === JSON.stringify(fg.ys), max: fmax, differ: fdiffer, n: fn, batches: fh.xs.length };
  c.setBackend(ref);
  out.ms = performance.now() - t0;
  return out;
}
