/**
 * The reference backend (the oracle) through the conformance suite: the PyTorch fixtures, finite
 * differences, the flat heap and determinism (its kernel checks would compare it with itself, so
 * they skip with that reason).
 */
import { backendConformance } from './conformance-node.js';
import { ReferenceBackend } from '../../src/backend/reference.js';

backendConformance('reference', () => new ReferenceBackend(), {
  threads: [1],
  skipModelStep: 'the notebook-model step takes ~9 s on the reference backend; the fast backends run it against the same PyTorch numbers',
});
