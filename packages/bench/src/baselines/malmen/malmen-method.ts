import type { HypernetworkMethodDefinition } from '../hypernetwork/hypernetwork-method.js';
import { MalmenTrainer } from './malmen-trainer.js';

/**
 * MALMEN's configuration (spec §7.1) scaled to the micro models. Kept from the reference: 2 blocks,
 * rank min(1920, D), scale/shift after the ReLU, λ = exp(0) at start, loc_coef 1, clip 1, value
 * shifts at answer tokens (token = ans). Changed: see `differences`.
 */
export const MALMEN_METHOD: HypernetworkMethodDefinition = {
  method: 'malmen',
  network: { rank: 1920, blocks: 2, modulation: 'after-activation', scalars: { edit_lr: 3e-3, log_lambda: 0 }, layerCount: (numLayers) => Math.max(1, Math.min(6, Math.floor(numLayers / 2))) },
  training: { editsPerStep: 8, learningRate: 1e-3, scalarLearningRate: 3e-4, editWeight: 1, localityWeight: 1, clipNorm: 1, seed: 1 },
  differences: [
    'edits the MLP output projections of the last min(6, L/2) = 2 layers of a 4-layer model (reference: the last 6 of GPT-J)',
    'meta learning rate 1e-3 (3e-4 for η and log λ) and η starting at 3e-3 (reference 1e-5 and 1e-6: set for GPT-J and far longer runs)',
    '8 edits per meta-step (reference: 512 for zsRE)',
    'the generalisation loss averages the edit prompt and one rephrase (reference: the rephrase)',
    'the last block is linear and the first block\'s B starts at N(0, 1e-6) instead of 0: ReLU has no gradient at the exact-zero identity init, so the reference\'s blocks cannot leave it',
    'the least-squares solve uses the dual N×N form (identical ΔW; cheaper when rows < key width)',
  ],
  createTrainer: (model, network, requests, hyperparameters) => new MalmenTrainer(model, network, requests, hyperparameters),
};
