import * as tf from '@tensorflow/tfjs';
import type { TextEncoder } from '@recipe-kit/core';
import { seededUniform } from '../transformer/seeded-initializers.js';
import type { VariableStore } from '../transformer/variable-store.js';
import { poolEncodedText } from './pool-encoded-text.js';
import type { RepresentationHead } from './representation-head.js';

/** Half-width of the sentinel's uniform init (reference: U(−0.05, 0.05)). */
export const SENTINEL_INIT_RANGE = 0.05;

/**
 * RECIPE's Knowledge Sentinel Θ (reference `prot_tokens`): learned pseudo-token embeddings
 * [1, length, width] in the encoder's input space, fed past the embedding module with an all-ones
 * mask, pooled, and mapped by the KNOWLEDGE head: r_Θ = MLP_K(pool(Enc(Θ))).
 */
export class KnowledgeSentinel {
  constructor(
    private readonly store: VariableStore,
    readonly name: string,
    readonly length: number,
    readonly width: number,
  ) {}

  static create(store: VariableStore, name: string, length: number, width: number, seed: number): KnowledgeSentinel {
    store.add(name, seededUniform([1, length, width], -SENTINEL_INIT_RANGE, SENTINEL_INIT_RANGE, seed, name));
    return new KnowledgeSentinel(store, name, length, width);
  }

  /** The embeddings Θ [1, length, width] (the variable itself; do not dispose). */
  get embeddings(): tf.Variable {
    return this.store.get(this.name);
  }

  /** r_Θ [1, dim] */
  representation(encoder: TextEncoder, knowledgeHead: RepresentationHead): tf.Tensor2D {
    return tf.tidy(() => {
      const encoded = encoder.encodeEmbeddings(this.embeddings as tf.Tensor as tf.Tensor3D); // no mask: all ones
      return knowledgeHead.apply(poolEncodedText(encoded));
    });
  }
}
