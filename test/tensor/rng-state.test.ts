import { test } from 'node:test';
import assert from 'node:assert/strict';
import { Rng } from '../../src/tensor/random.js';
import { saveRngStates, restoreRngStates } from '../../src/sweep/rng-state.js';

const draws = (r: Rng, n: number) => {
  const out: number[] = [];
  for (let i = 0; i < n; i++) out.push(i % 3 === 0 ? r.normal() : i % 3 === 1 ? r.nextU32() : r.random());
  return out;
};

test('Rng: a stream resumed from a saved (JSON round-tripped) state continues identically', () => {
  for (const pendingSpare of [false, true]) {
    const a = new Rng(1234);
    draws(a, 100);
    if (pendingSpare) a.normal(); // leaves Box-Muller's second draw pending: it is part of the state
    const saved = JSON.parse(JSON.stringify(a.getState()));
    assert.equal(saved[4] === null, !pendingSpare);
    const expected = draws(a, 200);
    const b = new Rng(999);
    b.setState(saved);
    assert.deepEqual(draws(b, 200), expected);
    assert.deepEqual(b.getState(), a.getState());
  }
  // getState is a copy: drawing afterwards does not change it
  const r = new Rng(5);
  const s = r.getState();
  const copy = [...s];
  r.nextU32();
  assert.deepEqual(s, copy);
});

test('Rng.setState refuses what getState cannot have returned, and the generator stays usable', () => {
  const r = new Rng(7);
  const before = r.getState();
  for (const bad of [[1, 2, 3], [0, 0, 0, 0, null], [1.5, 2, 3, 4, null], [1, 2, 3, 4, 'x'], [1, 2, 3, 2 ** 33, null], null]) {
    assert.throws(() => r.setState(bad as any), /Rng\.setState: expected \[s0, s1, s2, s3, spare\]/);
  }
  assert.deepEqual(r.getState(), before);
  r.random();
});

test('saveRngStates/restoreRngStates put every layer stream back (nested models included)', () => {
  const model = { name: 'm', layers: [{ name: 'drop', rng: new Rng(1) }, { name: 'inner', layers: [{ name: 'noise', rng: new Rng(2) }] }] };
  const rngs = [model.layers[0].rng!, (model.layers[1] as any).layers[0].rng as Rng];
  rngs.forEach((r) => draws(r, 17));
  const saved = JSON.parse(JSON.stringify(saveRngStates(model)));
  assert.deepEqual(saved.map((s: { layer: string }) => s.layer), ['drop', 'noise']);
  const expected = rngs.map((r) => draws(r, 50));
  restoreRngStates(model, saved);
  assert.deepEqual(rngs.map((r) => draws(r, 50)), expected);
  assert.throws(() => restoreRngStates({ name: 'x', layers: [] }, saved), /do not match the model's \(none\)/);
});
