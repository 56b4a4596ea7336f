import * as tf from '@tensorflow/tfjs';
import type { PairBatch } from '@recipe-kit/core';

/**
 * Teacher-forced cross-entropy on the target tokens only: per example the mean negative
 * log-likelihood over its masked positions, then the mean over examples (FT-M, GRACE, T-Patcher).
 * logits [B, L, V] (columns as the batch's labels), labels [B, L] int32, mask [B, L].
 */
export function maskedTargetNll(logits: tf.Tensor3D, batch: Pick<PairBatch, 'labels' | 'mask'>): tf.Scalar {
  return tf.tidy(() => {
    const logProbabilities = tf.logSoftmax(logits);
    const gold = tf.sum(tf.mul(logProbabilities, tf.oneHot(batch.labels.toInt(), logits.shape[2])), 2); // [B, L]
    const perExample = tf.div(tf.sum(tf.mul(gold, batch.mask), 1), tf.maximum(tf.sum(batch.mask, 1), 1)); // [B]
    return tf.neg(tf.mean(perExample)) as tf.Scalar;
  });
}

/**
 * FT-L's "prompt_last" objective (spec §3.1): the logits at the last prompt position only, every
 * target token scored there (a bag of tokens; exact cross-entropy for one-token targets).
 * positions[b] is that position in row b; the targets are the masked labels of row b.
 */
export function promptLastNll(logits: tf.Tensor3D, batch: Pick<PairBatch, 'labels' | 'mask'>, positions: readonly number[]): tf.Scalar {
  return tf.tidy(() => {
    const [rows, length, vocabulary] = logits.shape;
    const at = tf.oneHot(tf.tensor1d(positions as number[], 'int32'), length).expandDims(2); // [B, L, 1]
    const last = tf.logSoftmax(tf.sum(tf.mul(logits, at), 1)); // [B, V]
    // Target tokens of each row as weights over the vocabulary, each row summing to 1.
    const targets = tf.sum(tf.mul(tf.oneHot(batch.labels.toInt(), vocabulary), batch.mask.expandDims(2)), 1); // [B, V]
    const weights = tf.div(targets, tf.maximum(tf.sum(targets, 1, true), 1));
    return tf.neg(tf.div(tf.sum(tf.mul(last, weights)), rows)) as tf.Scalar;
  });
}
