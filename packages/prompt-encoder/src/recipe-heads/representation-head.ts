import * as tf from '@tensorflow/tfjs';
import { InvalidInputError } from '@recipe-kit/core';
import { linear } from '../transformer/layer-operations.js';
import { seededUniform } from '../transformer/seeded-initializers.js';
import type { VariableStore } from '../transformer/variable-store.js';

/**
 * RECIPE's knowledge head MLP_K or query head MLP_Q (same structure, separate weights; reference
 * `knowl_trans_mlp1/2`, `query_trans_mlp1/2`):
 *   h = W1 x + b1;   r = h + ReLU(W2 h + b2)      (no norm, no final activation)
 * Weights live in the given store under `${name}.input.*` (W1 [inputWidth, dim]) and
 * `${name}.residual.*` (W2 [dim, dim]); initialised as PyTorch nn.Linear: U(±1/√fan_in).
 */
export class RepresentationHead {
  constructor(
    private readonly store: VariableStore,
    readonly name: string,
    readonly inputWidth: number,
    readonly dim: number,
  ) {}

  /** Creates the head's variables in `store`, seeded by (seed, weight name). */
  static create(store: VariableStore, name: string, inputWidth: number, dim: number, seed: number): RepresentationHead {
    addLinear(store, `${name}.input`, inputWidth, dim, seed);
    addLinear(store, `${name}.residual`, dim, dim, seed);
    return new RepresentationHead(store, name, inputWidth, dim);
  }

  /** x [n, inputWidth] → r [n, dim] */
  apply(x: tf.Tensor2D): tf.Tensor2D {
    if (x.shape[1] !== this.inputWidth) {
      throw new InvalidInputError(`${this.name} expects [n, ${this.inputWidth}] features, got [${x.shape.join(', ')}].`, 'Pool the encoder output first.');
    }
    return tf.tidy(() => {
      const w = (part: string): tf.Tensor => this.store.get(`${this.name}.${part}`);
      const h = linear(x, w('input.weight'), w('input.bias')); // [n, dim]
      return tf.add(h, tf.relu(linear(h, w('residual.weight'), w('residual.bias')))) as tf.Tensor2D;
    });
  }
}

/** A PyTorch-default-initialised linear layer: weight [input, output], bias [output], both U(±1/√input). */
export function addLinear(store: VariableStore, name: string, input: number, output: number, seed: number): void {
  const bound = 1 / Math.sqrt(input);
  store.add(`${name}.weight`, seededUniform([input, output], -bound, bound, seed, `${name}.weight`));
  store.add(`${name}.bias`, seededUniform([output], -bound, bound, seed, `${name}.bias`));
}
