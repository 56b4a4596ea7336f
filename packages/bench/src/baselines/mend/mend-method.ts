import type { HypernetworkMethodDefinition } from '../hypernetwork/hypernetwork-method.js';
import { MendTrainer } from './mend-trainer.js';

/**
 * MEND's configuration (spec §6.1) scaled to the micro models. Kept from the reference: 2 residual
 * blocks (n_hidden 1), full rank when D ≤ 1920, scale/shift before the ReLU, cloc 1, clip 100. Changed: see `differences`.
 */
export const MEND_METHOD: HypernetworkMethodDefinition = {
  method: 'mend',
  network: { rank: 1920, blocks: 2, modulation: 'before-activation', scalars: { edit_lr: 5e-3 }, layerCount: (numLayers) => (numLayers <= 4 ? 2 : 3) },
  training: { editsPerStep: 8, learningRate: 1e-3, scalarLearningRate: 3e-4, editWeight: 1, localityWeight: 1, clipNorm: 100, seed: 1 },
  differences: [
    'cedit 1 instead of 0.1: on a micro model the locality KL is not negligible, and with 0.1 meta-training learned to shrink α (edit less) rather than to edit well',
    'edits the MLP output projections (down_proj / fc_out) of the last 2 layers of a 4-layer model (reference: gate/up/down or fc_in/fc_out of the last 3 layers)',
    'learning rates 1e-3 (hypernetwork) and 3e-4 (α), α starting at 5e-3 on normalised factors (reference 1e-6, 1e-4, 1e-4: set for 6–7B models and 10^5 steps)',
    '8 edits per step, each editing its own copy of the model (reference: 1 edit per step, 10 accumulated)',
    'the edit loss averages the edit prompt and one rephrase (reference: the rephrase only)',
    'the first block\'s U starts at N(0, 1e-6) instead of 0 (ReLU has no gradient at the exact-zero identity init); the last block is linear, as in the reference IDMLP',
    'update W − α∇̃W (the paper\'s sign; the reference code adds, which only flips the learned α)',
  ],
  createTrainer: (model, network, requests, hyperparameters) => new MendTrainer(model, network, requests, hyperparameters),
};
