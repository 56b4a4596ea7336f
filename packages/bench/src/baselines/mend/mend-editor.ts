import * as tf from '@tensorflow/tfjs';
import type { CausalLanguageModel, EditRequest } from '@recipe-kit/core';
import { captureGradientFactors } from '../hypernetwork/capture-gradient-factors.js';
import type { GradientDecompositionNetwork } from '../hypernetwork/gradient-decomposition-network.js';
import { HypernetworkEditor } from '../hypernetwork/hypernetwork-editor.js';
import { mendDeltas } from './mend-deltas.js';

/**
 * MEND (Mitchell et al., ICLR 2022): one edit call = one forward/backward of the edit loss, the
 * rank-one gradient factors of each edited layer through the trained hypernetwork, and
 * W ← W − α Σ ũ δ̃ᵀ. Several requests in one call are one batch edit (their rows are summed).
 */
export class MendEditor extends HypernetworkEditor {
  readonly name = 'mend';

  constructor(model: CausalLanguageModel, network: GradientDecompositionNetwork, options: { skipUnreachableTargets?: boolean } = {}) {
    super(model, network, options);
  }

  protected computeDeltas(requests: readonly EditRequest[]): Map<number, tf.Tensor2D> {
    const { layers } = this.network.config;
    const factors = captureGradientFactors(this.model, layers, requests.map((request) => ({ prompt: request.prompt, target: request.targetNew })), 'attended', this.pairs);
    try {
      return new Map(
        layers.map((layer) => [
          layer,
          tf.tidy(() => tf.sum(mendDeltas(this.network, factors.keys.get(layer) as tf.Tensor3D, factors.gradients.get(layer) as tf.Tensor3D, factors.rows, layer), 0) as tf.Tensor2D),
        ]),
      );
    } finally {
      factors.dispose();
    }
  }
}
