import * as tf from '@tensorflow/tfjs';

/** Activations of the feed-forward block, named as Hugging Face's `hidden_act`. */
export type HiddenActivation = 'gelu' | 'gelu_new' | 'relu';

/** x [..., in] · weight [in, out] (+ bias [out]) → [..., out], via one 2-D matMul. */
export function linear<T extends tf.Tensor>(x: T, weight: tf.Tensor, bias?: tf.Tensor): T {
  return tf.tidy(() => {
    const inputWidth = x.shape[x.shape.length - 1] as number;
    const outputWidth = weight.shape[1] as number;
    let y: tf.Tensor = tf.matMul(x.reshape([-1, inputWidth]), weight as tf.Tensor2D);
    if (bias) y = tf.add(y, bias);
    return y.reshape([...x.shape.slice(0, -1), outputWidth]) as T;
  });
}

/** LayerNorm over the last axis (biased variance, as PyTorch). */
export function layerNorm<T extends tf.Tensor>(x: T, weight: tf.Tensor, bias: tf.Tensor, epsilon: number): T {
  return tf.tidy(() => {
    const mean = tf.mean(x, -1, true);
    const centred = tf.sub(x, mean);
    const variance = tf.mean(tf.square(centred), -1, true);
    return tf.add(tf.mul(tf.mul(centred, tf.rsqrt(tf.add(variance, epsilon))), weight), bias) as T;
  });
}

/** The feed-forward activation: exact (erf) GELU as BERT/RoBERTa, GPT-2's tanh GELU, or ReLU. */
export function activate<T extends tf.Tensor>(x: T, activation: HiddenActivation): T {
  return tf.tidy(() => {
    if (activation === 'relu') return tf.relu(x);
    if (activation === 'gelu') return tf.mul(tf.mul(x, 0.5), tf.add(1, tf.erf(tf.mul(x, Math.SQRT1_2)))) as T;
    const inner = tf.mul(Math.sqrt(2 / Math.PI), tf.add(x, tf.mul(0.044715, tf.mul(tf.square(x), x))));
    return tf.mul(tf.mul(0.5, x), tf.add(1, tf.tanh(inner))) as T;
  });
}

/** Large negative score for padded keys: exp() of it underflows to exactly 0 in float32. */
const MASKED_SCORE = -1e9;

/** Additive key-padding bias [batch, 1, 1, keys]: 0 for real keys, −1e9 for padding. mask [batch, keys]. */
export function keyPaddingBias(mask: tf.Tensor2D): tf.Tensor4D {
  return tf.tidy(() => {
    const [batch, keys] = mask.shape;
    return tf.mul(tf.sub(1, mask.toFloat()), MASKED_SCORE).reshape([batch, 1, 1, keys]) as tf.Tensor4D;
  });
}

/**
 * Bidirectional multi-head attention core. query/key/value [batch, seq, heads·headDim],
 * bias [batch, 1, 1, seq] → [batch, seq, heads·headDim].
 */
export function multiHeadAttention(
  query: tf.Tensor3D,
  key: tf.Tensor3D,
  value: tf.Tensor3D,
  bias: tf.Tensor4D,
  heads: number,
): tf.Tensor3D {
  return tf.tidy(() => {
    const [batch, seq, width] = query.shape;
    const headDim = width / heads;
    const split = (x: tf.Tensor3D): tf.Tensor4D =>
      x.reshape([batch, seq, heads, headDim]).transpose([0, 2, 1, 3]) as tf.Tensor4D; // [b, heads, seq, headDim]
    const scores = tf.add(tf.mul(tf.matMul(split(query), split(key), false, true), 1 / Math.sqrt(headDim)), bias); // [b, heads, q, k]
    const context = tf.matMul(tf.softmax(scores, -1), split(value)); // [b, heads, q, headDim]
    return context.transpose([0, 2, 1, 3]).reshape([batch, seq, width]) as tf.Tensor3D;
  });
}
