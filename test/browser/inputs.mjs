// The conv2d case of the browser test, shared by the page (checks.mjs) and the Node side's direct
// loop: x [1,5,6,2], w [3,3,2,3], bias [3], small exact binary fractions.
export function convInputs() {
  const x = Array.from({ length: 5 * 6 * 2 }, (_, i) => ((i * 7) % 11) / 4 - 1);
  const w = Array.from({ length: 3 * 3 * 2 * 3 }, (_, i) => ((i * 5) % 13) / 8 - 0.75);
  const bias = [0.5, -0.25, 0];
  return { x, w, bias };
}
