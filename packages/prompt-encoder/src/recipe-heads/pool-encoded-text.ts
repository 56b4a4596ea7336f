import * as tf from '@tensorflow/tfjs';
import type { EncodedText } from '@recipe-kit/core';

/** RECIPE's padding offset for masked max/min (`999999` in editors/recipe/models.py); fine in float32. */
export const MASKED_POOLING_OFFSET = 999_999;

/**
 * RECIPE's f_rm pooling: concat(pooled, masked mean, masked max, masked min) over tokens.
 * Padding is pushed to −999999 for the max and +999999 for the min; every real token counts
 * (`<s>`, `</s>` included). A row with no real token gets a mean of 0.
 * states [batch, seq, width], mask [batch, seq], pooled [batch, width] → [batch, 4·width]
 */
export function poolEncodedText(encoded: EncodedText): tf.Tensor2D {
  return tf.tidy(() => {
    const mask = encoded.mask.toFloat().expandDims(2); // [b, s, 1]
    const count = tf.maximum(tf.sum(mask, 1), 1); // [b, 1]
    const mean = tf.div(tf.sum(tf.mul(encoded.states, mask), 1), count); // [b, width]
    const padding = tf.mul(tf.sub(1, mask), MASKED_POOLING_OFFSET); // [b, s, 1]
    const max = tf.max(tf.sub(encoded.states, padding), 1); // [b, width]
    const min = tf.min(tf.add(encoded.states, padding), 1); // [b, width]
    return tf.concat([encoded.pooled, mean, max, min], 1) as tf.Tensor2D;
  });
}
