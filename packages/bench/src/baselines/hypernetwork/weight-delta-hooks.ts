import * as tf from '@tensorflow/tfjs';
import type { ForwardHooks } from '@recipe-kit/core';

/**
 * Hooks under which the model computes as if layer l's MLP output projection were W + ΔW_l,
 * without touching W: the projection's output gains keys · ΔW_l. ΔW_l is [in, out] (one edit state
 * for every row) or [B, in, out] (row b edited by its own ΔW, e.g. one training edit per row), and
 * stays differentiable, which is how meta-training reaches the hypernetwork.
 */
export function weightDeltaHooks(deltas: ReadonlyMap<number, tf.Tensor>): ForwardHooks {
  const keys = new Map<number, tf.Tensor3D>();
  return {
    mlpKeys: (layer, layerKeys) => {
      if (deltas.has(layer)) keys.set(layer, layerKeys);
    },
    mlpOutput: (layer, output) => {
      const delta = deltas.get(layer);
      const input = keys.get(layer);
      if (!delta || !input) return undefined;
      const [batch, length, width] = input.shape;
      const shift =
        delta.rank === 3
          ? tf.matMul(input, delta as tf.Tensor3D) // [B, T, in] · [B, in, out]
          : tf.reshape(tf.matMul(tf.reshape(input, [batch * length, width]), delta as tf.Tensor2D), [batch, length, -1]);
      return tf.add(output, shift) as tf.Tensor3D;
    },
  };
}
