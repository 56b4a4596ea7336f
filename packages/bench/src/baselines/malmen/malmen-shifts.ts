import * as tf from '@tensorflow/tfjs';
import type { GradientDecompositionNetwork } from '../hypernetwork/gradient-decomposition-network.js';

/**
 * MALMEN's value shift per cached row (spec §7.3): (k̃, g̃) = net(k, g) and D_n = −η ⟨k_n, k̃_n⟩ g̃_n,
 * the change of the layer's output at key k_n that one pseudo-gradient step −η k̃ g̃ᵀ would make.
 * keys [N, in], gradients [N, out] → D [N, out]; differentiable in the network and η.
 */
export function malmenShifts(network: GradientDecompositionNetwork, keys: tf.Tensor2D, gradients: tf.Tensor2D, layer: number): tf.Tensor2D {
  return tf.tidy(() => {
    const mode = network.mode(layer);
    const transformed = network.apply(keys, gradients, mode);
    const coefficients = tf.sum(tf.mul(keys, transformed.keys), 1, true); // [N, 1]
    return tf.mul(tf.mul(coefficients, transformed.gradients), tf.neg(network.scalar('edit_lr', mode))) as tf.Tensor2D;
  });
}
