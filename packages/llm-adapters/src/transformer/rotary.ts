import * as tf from '@tensorflow/tfjs';

/**
 * Rotary position embeddings. Angles are position × inverse frequency, computed in float32 like the
 * reference implementations. Two layouts exist:
 *  - `half` (Hugging Face LLaMA): dimension i pairs with i + rotaryDim/2.
 *  - `interleaved` (GPT-J, Meta/llama2.c): dimension 2i pairs with 2i + 1.
 */
export type RotaryLayout = 'half' | 'interleaved';

export interface RotaryTables {
  /** [batch, 1, seq, rotaryDim / 2] */
  cos: tf.Tensor4D;
  sin: tf.Tensor4D;
}

export function inverseFrequencies(rotaryDim: number, theta: number): Float32Array {
  const result = new Float32Array(rotaryDim / 2);
  for (let i = 0; i < rotaryDim / 2; i++) result[i] = 1 / Math.pow(theta, (2 * i) / rotaryDim);
  return result;
}

/** positions [batch, seq] int32 → cos/sin tables broadcastable over heads. */
export function rotaryTables(positions: tf.Tensor2D, inverseFrequency: Float32Array): RotaryTables {
  return tf.tidy(() => {
    const [batch, seq] = positions.shape;
    const angles = tf.mul(
      positions.toFloat().reshape([batch, 1, seq, 1]),
      tf.tensor1d(inverseFrequency).reshape([1, 1, 1, inverseFrequency.length]),
    ) as tf.Tensor4D;
    return { cos: tf.cos(angles), sin: tf.sin(angles) };
  });
}

/** x [batch, heads, seq, headDim]; rotates the first `2 * tables.cos.shape[3]` dims of each head. */
export function applyRotary(x: tf.Tensor4D, tables: RotaryTables, layout: RotaryLayout): tf.Tensor4D {
  const [batch, heads, seq, headDim] = x.shape;
  const half = tables.cos.shape[3];
  const rotaryDim = half * 2;
  const rotated = rotaryDim === headDim ? x : x.slice([0, 0, 0, 0], [batch, heads, seq, rotaryDim]);
  let out: tf.Tensor4D;
  if (layout === 'half') {
    const [x1, x2] = tf.split(rotated, 2, 3) as [tf.Tensor4D, tf.Tensor4D];
    out = tf.concat(
      [tf.sub(tf.mul(x1, tables.cos), tf.mul(x2, tables.sin)), tf.add(tf.mul(x2, tables.cos), tf.mul(x1, tables.sin))],
      3,
    ) as tf.Tensor4D;
  } else {
    // [b, h, s, half, 2]: pairs (2i, 2i+1) side by side, split without strided slices (no gradient on wasm).
    const pairs = rotated.reshape([batch, heads, seq, half, 2]);
    const [even, odd] = tf.split(pairs, 2, 4).map((t) => t.reshape([batch, heads, seq, half])) as [tf.Tensor4D, tf.Tensor4D];
    const newEven = tf.sub(tf.mul(even, tables.cos), tf.mul(odd, tables.sin));
    const newOdd = tf.add(tf.mul(odd, tables.cos), tf.mul(even, tables.sin));
    out = tf.stack([newEven, newOdd], 4).reshape([batch, heads, seq, rotaryDim]) as tf.Tensor4D;
  }
  if (rotaryDim === headDim) return out;
  const pass = x.slice([0, 0, 0, rotaryDim], [batch, heads, seq, headDim - rotaryDim]);
  return tf.concat([out, pass], 3) as tf.Tensor4D;
}
