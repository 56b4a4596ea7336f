import * as tf from '@tensorflow/tfjs';
import { InvalidInputError } from '@recipe-kit/core';
import { linear } from '../transformer/layer-operations.js';
import type { VariableStore } from '../transformer/variable-store.js';
import { addLinear } from './representation-head.js';

/**
 * RECIPE's continuous prompt encoder MLP_P (reference `PromptTransformer`):
 *   z = r + ReLU(W3 r + b3);   p = W4 z + b4;   p_k = reshape(p, [l, d_llm])
 * Weights: `${name}.residual.*` (W3 [dim, dim]) and `${name}.output.*` (W4 [dim, l·d_llm]).
 */
export class PromptHead {
  constructor(
    private readonly store: VariableStore,
    readonly name: string,
    readonly dim: number,
    readonly promptLength: number,
    readonly llmWidth: number,
    /** > 0: each prompt vector is rescaled to this L2 norm (see RecipeEncoderConfig.promptNorm). */
    readonly promptNorm = 0,
  ) {}

  static create(store: VariableStore, name: string, dim: number, promptLength: number, llmWidth: number, seed: number, promptNorm = 0): PromptHead {
    addLinear(store, `${name}.residual`, dim, dim, seed);
    addLinear(store, `${name}.output`, dim, promptLength * llmWidth, seed);
    return new PromptHead(store, name, dim, promptLength, llmWidth, promptNorm);
  }

  /** r [n, dim] → prompts [n, l, d_llm] (each vector of norm promptNorm when that is set) */
  apply(representations: tf.Tensor2D): tf.Tensor3D {
    if (representations.shape[1] !== this.dim) {
      throw new InvalidInputError(`${this.name} expects [n, ${this.dim}] representations, got [${representations.shape.join(', ')}].`, 'Pass knowledge representations.');
    }
    return tf.tidy(() => {
      const w = (part: string): tf.Tensor => this.store.get(`${this.name}.${part}`);
      const z = tf.add(representations, tf.relu(linear(representations, w('residual.weight'), w('residual.bias'))));
      const p = linear(z as tf.Tensor2D, w('output.weight'), w('output.bias')); // [n, l·d_llm]
      const prompts = p.reshape([representations.shape[0], this.promptLength, this.llmWidth]) as tf.Tensor3D;
      if (this.promptNorm <= 0) return prompts;
      const norms = tf.sqrt(tf.add(tf.sum(tf.square(prompts), 2, true), 1e-12)); // [n, l, 1]
      return tf.mul(prompts, tf.div(this.promptNorm, norms)) as tf.Tensor3D;
    });
  }
}
