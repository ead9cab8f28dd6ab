/**
 * Optimizers against their published update rules, computed here independently in float64 over
 * several steps with changing gradients (tolerance 1e-6 relative: the library computes in float32).
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { tensor } from '../../src/tensor/index.js';
import { Variable } from '../../src/layers/index.js';
import { optimizers, getOptimizer, ExponentialDecay, CosineDecay, type Optimizer } from '../../src/optimizers/index.js';

const W0 = [0.5, -1.2, 2.0, 0.0, -0.3];
const grad = (step: number) => W0.map((_, i) => Math.sin(1 + step * 1.7 + i * 0.9) * (i + 1) * 0.3);
const STEPS = 6;

function run(opt: Optimizer): number[] {
  const v = new Variable(tensor(W0), 'kernel', 'dense/kernel');
  for (let s = 0; s < STEPS; s++) opt.applyGradients([tensor(grad(s))], [v]);
  return Array.from(v.value.dataSync());
}

function near(a: number[], b: number[], what: string): void {
  a.forEach((x, i) => assert.ok(Math.abs(x - b[i]) <= 1e-6 * Math.max(1, Math.abs(b[i])), `${what}[${i}]: ${x} vs ${b[i]}`));
}

test('SGD: plain, momentum, Nesterov (Keras 3 defaults: lr 0.01, momentum 0)', () => {
  for (const [momentum, nesterov] of [[0, false], [0.9, false], [0.9, true]] as const) {
    const lr = 0.1;
    const w = W0.slice(), vel = W0.map(() => 0);
    for (let s = 0; s < STEPS; s++) {
      const g = grad(s);
      for (let i = 0; i < w.length; i++) {
        if (momentum === 0) { w[i] -= lr * g[i]; continue; }
        vel[i] = momentum * vel[i] - lr * g[i];
        w[i] += nesterov ? momentum * vel[i] - lr * g[i] : vel[i];
      }
    }
    near(run(new optimizers.SGD({ learningRate: lr, momentum, nesterov })), w, `SGD m=${momentum} n=${nesterov}`);
  }
  const d = new optimizers.SGD();
  assert.equal(d.learningRate, 0.01);
  assert.equal(d.momentum, 0);
});

function adamRef(lr: number, b1: number, b2: number, eps: number, wd: number, amsgrad: boolean): number[] {
  const w = W0.slice(), m = W0.map(() => 0), v = W0.map(() => 0), vh = W0.map(() => 0);
  for (let s = 0; s < STEPS; s++) {
    const g = grad(s), t = s + 1;
    const alpha = lr * Math.sqrt(1 - b2 ** t) / (1 - b1 ** t);
    for (let i = 0; i < w.length; i++) {
      w[i] -= w[i] * wd * lr;
      m[i] += (g[i] - m[i]) * (1 - b1);
      v[i] += (g[i] * g[i] - v[i]) * (1 - b2);
      vh[i] = Math.max(vh[i], v[i]);
      w[i] -= alpha * m[i] / (Math.sqrt(amsgrad ? vh[i] : v[i]) + eps);
    }
  }
  return w;
}

test('Adam, Adam with amsgrad, AdamW (Keras 3 defaults: lr 1e-3, betas 0.9/0.999, epsilon 1e-7; AdamW weight decay 0.004)', () => {
  near(run(new optimizers.Adam({ learningRate: 0.05 })), adamRef(0.05, 0.9, 0.999, 1e-7, 0, false), 'Adam');
  near(run(new optimizers.Adam({ learningRate: 0.05, beta1: 0.8, beta_2: 0.99, amsgrad: true })), adamRef(0.05, 0.8, 0.99, 1e-7, 0, true), 'Adam amsgrad');
  near(run(new optimizers.AdamW({ learningRate: 0.05 })), adamRef(0.05, 0.9, 0.999, 1e-7, 0.004, false), 'AdamW');
  const a = new optimizers.Adam();
  assert.deepEqual([a.learningRate, a.beta1, a.beta2, a.epsilon], [0.001, 0.9, 0.999, 1e-7]);
  assert.deepEqual(a.getConfig(), {
    name: 'adam', learning_rate: 0.0010000000474974513, weight_decay: null, clipnorm: null, global_clipnorm: null, clipvalue: null,
    use_ema: false, ema_momentum: 0.99, ema_overwrite_frequency: null, loss_scale_factor: null, gradient_accumulation_steps: null,
    beta_1: 0.9, beta_2: 0.999, epsilon: 1e-7, amsgrad: false,
  });
  assert.equal(new optimizers.AdamW().weightDecay, 0.004);
});

test('RMSprop: plain, momentum, centered (Keras 3 defaults: lr 1e-3, rho 0.9, epsilon 1e-7)', () => {
  for (const [momentum, centered] of [[0, false], [0.5, false], [0.5, true]] as const) {
    const lr = 0.01, rho = 0.9, eps = 1e-7;
    const w = W0.slice(), ms = W0.map(() => 0), mom = W0.map(() => 0), mg = W0.map(() => 0);
    for (let s = 0; s < STEPS; s++) {
      const g = grad(s);
      for (let i = 0; i < w.length; i++) {
        ms[i] = rho * ms[i] + (1 - rho) * g[i] * g[i];
        let den = ms[i];
        if (centered) { mg[i] = rho * mg[i] + (1 - rho) * g[i]; den -= mg[i] * mg[i]; }
        const inc = lr * g[i] / Math.sqrt(den + eps);
        if (momentum > 0) { mom[i] = momentum * mom[i] + inc; w[i] -= mom[i]; } else w[i] -= inc;
      }
    }
    near(run(new optimizers.RMSprop({ learningRate: lr, momentum, centered })), w, `RMSprop m=${momentum} c=${centered}`);
  }
  const r = new optimizers.RMSprop();
  assert.deepEqual([r.learningRate, r.rho, r.momentum, r.epsilon, r.centered], [0.001, 0.9, 0, 1e-7, false]);
});

test('clipnorm, clipvalue and globalClipnorm clip the gradient before the update', () => {
  const lr = 1;
  const g = grad(0);
  const norm = Math.sqrt(g.reduce((s, x) => s + x * x, 0));
  const v1 = new Variable(tensor(W0), 'k', 'a/k');
  new optimizers.SGD({ learningRate: lr, clipnorm: 0.1 }).applyGradients([tensor(g)], [v1]);
  near(Array.from(v1.value.dataSync()), W0.map((w, i) => w - lr * g[i] * 0.1 / norm), 'clipnorm');
  const v2 = new Variable(tensor(W0), 'k', 'a/k');
  new optimizers.SGD({ learningRate: lr, clipvalue: 0.2 }).applyGradients([tensor(g)], [v2]);
  near(Array.from(v2.value.dataSync()), W0.map((w, i) => w - lr * Math.min(0.2, Math.max(-0.2, g[i]))), 'clipvalue');
  const v3 = new Variable(tensor(W0), 'k', 'a/k'), v4 = new Variable(tensor([3, 4]), 'b', 'a/b');
  new optimizers.SGD({ learningRate: lr, globalClipnorm: 1 }).applyGradients([tensor(g), tensor([3, 4])], [v3, v4]);
  const gn = Math.sqrt(norm * norm + 25);
  near(Array.from(v4.value.dataSync()), [3 - 3 / gn, 4 - 4 / gn], 'globalClipnorm');
  assert.throws(() => new optimizers.SGD({ clipnorm: 1, clipvalue: 1 }), /only one of clipnorm, clipvalue and globalClipnorm/);
});

test('learning-rate schedules drive the step size; optimizer variables follow Keras order', () => {
  const sched = new ExponentialDecay({ initialLearningRate: 0.1, decaySteps: 2, decayRate: 0.5 });
  const w = W0.slice();
  for (let s = 0; s < STEPS; s++) { const g = grad(s); const lr = 0.1 * 0.5 ** (s / 2); for (let i = 0; i < w.length; i++) w[i] -= lr * g[i]; }
  const opt = new optimizers.SGD({ learningRate: sched });
  near(run(opt), w, 'SGD with ExponentialDecay');
  const cos = new CosineDecay({ initialLearningRate: 1, decaySteps: 10, alpha: 0.1 });
  assert.ok(Math.abs(cos.call(5) - (0.9 * 0.5 + 0.1)) < 1e-12 && Math.abs(cos.call(20) - 0.1) < 1e-12);
  assert.equal((opt.getConfig().learning_rate as any).class_name, 'ExponentialDecay');

  const adam = new optimizers.Adam();
  const a = new Variable(tensor([1, 2]), 'kernel', 'dense/kernel'), b = new Variable(tensor([1]), 'bias', 'dense/bias');
  adam.applyGradients([tensor([0.1, 0.2]), tensor([0.3])], [a, b]);
  assert.deepEqual(adam.variables().map((v) => v.path), ['adam/iteration', 'adam/learning_rate', 'adam/dense_kernel_momentum', 'adam/dense_kernel_velocity', 'adam/dense_bias_momentum', 'adam/dense_bias_velocity']);
  assert.equal(adam.iterations, 1);
  assert.ok(getOptimizer('adam') instanceof optimizers.Adam);
  assert.ok(getOptimizer({ class_name: 'SGD', config: { learning_rate: 0.5, momentum: 0.9, nesterov: false, clipnorm: null } }) instanceof optimizers.SGD);
});
