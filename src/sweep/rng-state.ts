/**
 * The random streams a model draws from while it trains (Dropout, GaussianNoise, the augmentation
 * layers: each layer's own generator), saved with an epoch checkpoint and put back when a trial
 * resumes on another worker, so that a resumed trial computes the same numbers as an unbroken one.
 * (The data iterator's order is restored by replaying its epoch ends; the validation order is fixed.)
 */
import { Rng, type RngState } from '../tensor/random.js';

interface LayerLike { name: string; layers?: LayerLike[] }

/** Every layer's own generator, depth first in layer order (models nested in models included). */
function layerRngs(model: LayerLike): { name: string; rng: Rng }[] {
  const out: { name: string; rng: Rng }[] = [];
  const walk = (l: LayerLike) => {
    const r = (l as unknown as { rng?: unknown }).rng;
    if (r instanceof Rng) out.push({ name: l.name, rng: r });
    for (const c of l.layers ?? []) walk(c);
  };
  for (const l of model.layers ?? []) walk(l);
  return out;
}

export type RngStates = { layer: string; state: RngState }[];

export function saveRngStates(model: LayerLike): RngStates {
  return layerRngs(model).map(({ name, rng }) => ({ layer: name, state: rng.getState() }));
}

/** Puts the saved states back; throws when the model's random layers are not those saved. */
export function restoreRngStates(model: LayerLike, states: RngStates): void {
  const rngs = layerRngs(model);
  if (rngs.length !== states.length || rngs.some((r, i) => r.name !== states[i].layer)) {
    throw new Error(`the checkpoint's random streams (${states.map((s) => s.layer).join(', ') || 'none'}) do not match the model's (${rngs.map((r) => r.name).join(', ') || 'none'})`);
  }
  rngs.forEach(({ rng }, i) => rng.setState(states[i].state));
}
