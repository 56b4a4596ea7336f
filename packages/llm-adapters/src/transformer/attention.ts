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
 * Repeats each of the `kvHeads` key/value heads `groups` times (grouped-query attention), in the
 * order Hugging Face's repeat_kv uses: query head h reads kv head floor(h / groups).
 * [batch, kvHeads, seq, headDim] → [batch, kvHeads * groups, seq, headDim]
 */
export function repeatKeyValueHeads(x: tf.Tensor4D, groups: number): tf.Tensor4D {
  if (groups === 1) return x;
  const [batch, kvHeads, seq, headDim] = x.shape;
  return tf
    .tile(x.expandDims(2), [1, 1, groups, 1, 1])
    .reshape([batch, kvHeads * groups, seq, headDim]) as tf.Tensor4D;
}

/**
 * Scaled dot-product attention.
 * query [batch, heads, q, headDim], key/value [batch, heads, k, headDim], bias [batch, 1, q, k]
 * → [batch, q, heads * headDim]
 */
export function scaledDotProductAttention(
  query: tf.Tensor4D,
  key: tf.Tensor4D,
  value: tf.Tensor4D,
  bias: tf.Tensor4D,
): tf.Tensor3D {
  const [batch, heads, queryLength, headDim] = query.shape;
  const scores = tf.add(tf.mul(tf.matMul(query, key, false, true), 1 / Math.sqrt(headDim)), bias);
  const weights = tf.softmax(scores, -1);
  const context = tf.matMul(weights, value); // [b, heads, q, headDim]
  return context.transpose([0, 2, 1, 3]).reshape([batch, queryLength, heads * headDim]) as tf.Tensor3D;
}

/** [batch, seq, heads * headDim] → [batch, heads, seq, headDim] */
export function splitHeads(x: tf.Tensor3D, heads: number): tf.Tensor4D {
  const [batch, seq, width] = x.shape;
  return x.reshape([batch, seq, heads, width / heads]).transpose([0, 2, 1, 3]) as tf.Tensor4D;
}
