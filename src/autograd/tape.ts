/**
 * Reverse-mode autograd on a tape. While `valueAndGrad` runs its function, every op whose inputs
 * include a watched tensor appends a node to the tape with its gradient rule (a closure written
 * next to the op). The backward pass walks the tape once, in reverse, iteratively: no recursion,
 * so depth is unlimited.
 */
import { Tensor } from '../tensor/tensor.js';
import { fmtShape, setReshapeHook, copyInto } from '../tensor/tensor.js';
import { accumulate } from '../ops/util.js';

/**
 * Given dL/d(output), returns dL/d(input_i) for each input (null where no gradient flows).
 * `needs[i]` is false for inputs nobody wants a gradient of (an image, a label): a rule may skip
 * computing those and return null. `owned` is true when the rule may overwrite `dy` (no one else
 * holds it): an activation's gradient can then be taken in place.
 */
export type GradFn = (dy: Tensor, needs: readonly boolean[], owned: boolean) => (Tensor | null)[];

/**
 * Gradients an op has already multiplied by the ReLU derivative of the input they flow to, keyed to
 * that input (the max-pool gradient fused with the preceding conv's relu: ops/conv.ts). The mark goes
 * as soon as another gradient is added into the same tensor, so a consumer never skips a derivative
 * part of its gradient has not been through.
 */
export const reluMaskedFor = new WeakMap<Tensor, Tensor>();

interface Node {
  op: string;
  inputs: Tensor[];
  output: Tensor;
  grad: GradFn;
}

class Tape {
  readonly nodes: Node[] = [];
  readonly watched = new Set<number>();
}

let active: Tape | null = null;

// Tensor.reshape is differentiable: the gradient is reshaped back (no copy either way).
setReshapeHook((x, y) => record('reshape', [x], y, (dy) => [dy.reshape(x.shape)]));

/** True while ops are being recorded for a gradient. */
export function isRecording(): boolean { return active !== null; }

/**
 * Records an op on the active tape when one of its inputs is watched. Called by every
 * differentiable op right after computing `output`. The rule is only run in the backward pass.
 */
export function record(op: string, inputs: Tensor[], output: Tensor, grad: GradFn): void {
  const tape = active;
  if (!tape) return;
  let any = false;
  for (const t of inputs) if (tape.watched.has(t.id)) { any = true; break; }
  if (!any) return;
  tape.watched.add(output.id);
  tape.nodes.push({ op, inputs, output, grad });
}

/** Runs `fn` without recording gradients (inference, metrics, optimizer updates). */
export function noGrad<T>(fn: () => T): T {
  const prev = active;
  active = null;
  try { return fn(); } finally { active = prev; }
}

/**
 * Computes `value = f()` and the gradients of `value` (summed, when it is not a scalar)
 * with respect to each tensor of `wrt`. Gradients are new tensors in the caller's scope; a
 * parameter that does not influence the value gets zeros.
 */
export function valueAndGrad(f: () => Tensor, wrt: Tensor[]): { value: Tensor; grads: Tensor[] } {
  if (active) throw new Error('convnet: valueAndGrad: nested gradient tapes are not supported');
  const tape = new Tape();
  for (const t of wrt) tape.watched.add(t.id);
  active = tape;
  let value: Tensor;
  try {
    value = f();
  } finally {
    active = null;
  }
  if (!(value instanceof Tensor)) throw new TypeError('convnet: valueAndGrad: the function must return a Tensor');
  const grads = backward(tape, value, wrt);
  return {
    value,
    grads: wrt.map((t) => grads.get(t.id) ?? zerosLike(t)),
  };
}

/**
 * Walks the tape in reverse. Each node's incoming gradient is released as soon as its rule has
 * run (so a step holds gradients for one layer at a time, not for the whole graph), and
 * gradients are accumulated in place only into tensors no one else holds.
 */
function backward(tape: Tape, value: Tensor, wrt: Tensor[]): Map<number, Tensor> {
  const wanted = new Set(wrt.map((t) => t.id));
  const grads = new Map<number, Tensor>();
  const refs = new Map<Tensor, number>(); // how many entries of `grads` hold each tensor
  const put = (id: number, g: Tensor): void => { grads.set(id, g); refs.set(g, (refs.get(g) ?? 0) + 1); };
  const drop = (id: number): void => {
    const g = grads.get(id)!;
    grads.delete(id);
    const n = refs.get(g)! - 1;
    if (n) refs.set(g, n); else refs.delete(g);
  };
  const seed = new Tensor(value.shape, 'float32');
  seed.store.fill(seed, 1);
  put(value.id, seed);
  for (let i = tape.nodes.length - 1; i >= 0; i--) {
    const node = tape.nodes[i];
    const dy = grads.get(node.output.id);
    if (!dy) continue;
    const needs = node.inputs.map((t) => tape.watched.has(t.id));
    const owned = refs.get(dy) === 1 && dy.exclusive && !wanted.has(node.output.id);
    const gs = node.grad(dy, needs, owned);
    if (!wanted.has(node.output.id)) drop(node.output.id);
    for (let j = 0; j < node.inputs.length; j++) {
      const x = node.inputs[j];
      let g = gs[j];
      if (!g || !needs[j]) continue;
      if (g.size !== x.size) {
        throw new Error(`convnet: internal error: gradient of ${node.op} input ${j} has shape ${fmtShape(g.shape)}, expected ${fmtShape(x.shape)}`);
      }
      if (!(g.shape.length === x.shape.length && g.shape.every((d, k) => d === x.shape[k]))) g = g.reshape(x.shape);
      const prev = grads.get(x.id);
      if (!prev) { put(x.id, g); continue; }
      if (refs.get(prev) === 1 && prev.exclusive) {
        reluMaskedFor.delete(prev);
        accumulate(prev, g);
      } else {
        const sum = new Tensor(x.shape, 'float32');
        copyInto(prev, sum);
        accumulate(sum, g);
        drop(x.id);
        put(x.id, sum);
      }
      if (g !== dy && !refs.has(g) && !gs.some((o, k) => k > j && o === g)) g.dispose();
    }
    if (!refs.has(dy) && !gs.includes(dy)) dy.dispose();
  }
  return grads;
}

function zerosLike(t: Tensor): Tensor {
  const z = new Tensor(t.shape, 'float32');
  z.store.fill(z, 0);
  return z;
}
