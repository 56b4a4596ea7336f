import * as tf from '@tensorflow/tfjs';
import type { GradientDecompositionNetwork } from '../hypernetwork/gradient-decomposition-network.js';

/**
 * MEND's weight change per edit at one layer (spec §6.3): the network maps every row's (u, δ) to
 * (ũ, δ̃), the pseudo-gradient is Σ_rows ũ δ̃ᵀ ([in, out] layout), and ΔW = −α ∇̃W with the layer's
 * learned step α. The minus sign is the paper's; the reference code's "+" (eric-mitchell/mend#13)
 * only makes training learn a negative α.
 * keys [E, T, in], gradients [E, T, out], rows [E, T] (1 = row used) → ΔW per edit [E, in, out].
 */
export function mendDeltas(network: GradientDecompositionNetwork, keys: tf.Tensor3D, gradients: tf.Tensor3D, rows: tf.Tensor2D, layer: number): tf.Tensor3D {
  return tf.tidy(() => {
    const [edits, length, inputSize] = keys.shape;
    const outputSize = gradients.shape[2];
    const mode = network.mode(layer);
    const transformed = network.apply(tf.reshape(keys, [edits * length, inputSize]), tf.reshape(gradients, [edits * length, outputSize]), mode);
    const usedKeys = tf.mul(tf.reshape(transformed.keys, [edits, length, inputSize]), tf.expandDims(rows, 2)); // [E, T, in]
    const pseudoGradient = tf.matMul(usedKeys, tf.reshape(transformed.gradients, [edits, length, outputSize]), true, false); // [E, in, out]
    return tf.mul(pseudoGradient, tf.neg(network.scalar('edit_lr', mode))) as tf.Tensor3D;
  });
}
