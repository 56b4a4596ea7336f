import * as tf from '@tensorflow/tfjs';

/** Large negative logit for masked keys: exp() of it underflows to exactly 0 in float32. */
const MASKED = -1e9;

/**
 * Additive attention bias [batch, 1, queries, keys]: 0 where query q (at sequence index
 * `pastLength + q`) may attend key k (k <= that index and the key is not padding), MASKED elsewhere.
 * `keyMask` is [batch, keys] with 1 for real positions.
 */
export function attentionBias(keyMask: tf.Tensor2D, queryLength: number, pastLength: number): tf.Tensor4D {
  return tf.tidy(() => {
    const keyLength = keyMask.shape[1];
    const queryIndex = tf.range(pastLength, pastLength + queryLength, 1, 'int32').reshape([queryLength, 1]);
    const keyIndex = tf.range(0, keyLength, 1, 'int32').reshape([1, keyLength]);
    const causal = tf.lessEqual(keyIndex, queryIndex).toFloat(); // [q, k]
    const allowed = tf.mul(causal.expandDims(0), keyMask.toFloat().expandDims(1)); // [b, q, k]
    return tf.mul(tf.sub(1, allowed), MASKED).expandDims(1) as tf.Tensor4D;
  });
}

/**
 * Scaled dot-product attention with grouped-query attention: `groups` query heads share each
 * key/value head (query head h reads kv head floor(h / groups), as Hugging Face's repeat_kv).
 * Instead of copying keys and values per query head, the queries of a group are stacked along the
 * sequence axis, so one matMul serves the whole group (and no rank-5 tile, which has no gradient).
 * query [batch, kvHeads * groups, q, headDim], key/value [batch, kvHeads, k, headDim],
 * bias [batch, 1, q, k] → [batch, q, kvHeads * groups * headDim]
 */
export function scaledDotProductAttention(
  query: tf.Tensor4D,
  key: tf.Tensor4D,
  value: tf.Tensor4D,
  bias: tf.Tensor4D,
  groups = 1,
): tf.Tensor3D {
  const [batch, heads, queryLength, headDim] = query.shape;
  const kvHeads = heads / groups;
  const stackedQuery = groups === 1 ? query : query.reshape([batch, kvHeads, groups * queryLength, headDim]);
  const stackedBias = groups === 1 ? bias : tf.tile(bias, [1, 1, groups, 1]);
  const scores = tf.add(tf.mul(tf.matMul(stackedQuery, key, false, true), 1 / Math.sqrt(headDim)), stackedBias);
  const weights = tf.softmax(scores, -1); // [b, kvHeads, groups * q, k]
  const context = tf.matMul(weights, value).reshape([batch, heads, queryLength, headDim]);
  return context.transpose([0, 2, 1, 3]).reshape([batch, queryLength, heads * headDim]) as tf.Tensor3D;
}

/** [batch, seq, heads * headDim] → [batch, heads, seq, headDim] */
export function splitHeads(x: tf.Tensor3D, heads: number): tf.Tensor4D {
  const [batch, seq, width] = x.shape;
  return x.reshape([batch, seq, heads, width / heads]).transpose([0, 2, 1, 3]) as tf.Tensor4D;
}
