import * as tf from '@tensorflow/tfjs';

/** RMSNorm over the last axis: x / sqrt(mean(x²) + eps) · weight. */
export function rmsNorm(x: tf.Tensor3D, weight: tf.Tensor, epsilon: number): tf.Tensor3D {
  return tf.tidy(() => {
    const meanSquare = tf.mean(tf.square(x), -1, true);
    return tf.mul(tf.mul(x, tf.rsqrt(tf.add(meanSquare, epsilon))), weight) as tf.Tensor3D;
  });
}

/** LayerNorm over the last axis (biased variance, as PyTorch). */
export function layerNorm(x: tf.Tensor3D, weight: tf.Tensor, bias: tf.Tensor, epsilon: number): tf.Tensor3D {
  return tf.tidy(() => {
    const { mean, variance } = tf.moments(x, -1, true);
    const normalized = tf.mul(tf.sub(x, mean), tf.rsqrt(tf.add(variance, epsilon)));
    return tf.add(tf.mul(normalized, weight), bias) as tf.Tensor3D;
  });
}

/** GPT-2's tanh approximation of GELU ("gelu_new"). */
export function geluNew(x: tf.Tensor): tf.Tensor {
  return tf.tidy(() => {
    const inner = tf.mul(Math.sqrt(2 / Math.PI), tf.add(x, tf.mul(0.044715, tf.mul(tf.square(x), x))));
    return tf.mul(tf.mul(0.5, x), tf.add(1, tf.tanh(inner)));
  });
}

/** SiLU (x · sigmoid(x)), written out so its gradient exists on every backend. */
export function silu(x: tf.Tensor): tf.Tensor {
  return tf.mul(x, tf.sigmoid(x));
}

/** x [batch, seq, in] · w [in, out] (+ bias [out]) → [batch, seq, out], via one 2-D matMul. */
export function linear(x: tf.Tensor3D, weight: tf.Tensor, bias?: tf.Tensor): tf.Tensor3D {
  const [batch, seq, width] = x.shape;
  let y = tf.matMul(x.reshape([batch * seq, width]), weight as tf.Tensor2D);
  if (bias) y = tf.add(y, bias);
  return y.reshape([batch, seq, weight.shape[1] as number]) as tf.Tensor3D;
}
