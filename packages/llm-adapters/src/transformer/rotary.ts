import * as tf from '@tensorflow/tfjs';

/**
 * Rotary position embeddings. Angles are position × inverse frequency, computed in float32 like the
 * reference implementations. Two layouts exist:
 *  - `half` (Hugging Face LLaMA): dimension i pairs with i + rotaryDim/2.
 *  - `interleaved` (GPT-J, Meta/llama2.c): dimension 2i pairs with 2i + 1.
 * Both are written as x·cos + (x·R)·sin with a fixed signed permutation matrix R, because the
 * split/stack formulation runs through tfjs-wasm's slow SplitV/Unpack kernels (3× slower training).
 */
export type RotaryLayout = 'half' | 'interleaved';

export interface RotaryTables {
  /** [batch, 1, seq, rotaryDim]: each angle's cosine and sine, already spread over its pair of dims. */
  cos: tf.Tensor4D;
  sin: tf.Tensor4D;
  /** [rotaryDim, rotaryDim]: the signed permutation R of the layout. */
  rotation: tf.Tensor2D;
}

export function inverseFrequencies(rotaryDim: number, theta: number): Float32Array {
  const result = new Float32Array(rotaryDim / 2);
  for (let i = 0; i < rotaryDim / 2; i++) result[i] = 1 / Math.pow(theta, (2 * i) / rotaryDim);
  return result;
}

/**
 * positions [batch, seq] int32 → cos/sin tables broadcastable over heads, built once per forward pass
 * (every layer's queries and keys share them; spreading them per call cost a gather each time).
 */
export function rotaryTables(positions: tf.Tensor2D, inverseFrequency: Float32Array, layout: RotaryLayout): RotaryTables {
  return tf.tidy(() => {
    const [batch, seq] = positions.shape;
    const half = inverseFrequency.length;
    const angles = tf.mul(positions.toFloat().reshape([batch, 1, seq, 1]), tf.tensor1d(inverseFrequency).reshape([1, 1, 1, half]));
    const spread = tf.gather(angles, tf.tensor1d(angleColumns(half, layout), 'int32'), 3) as tf.Tensor4D; // [batch, 1, seq, rotaryDim]
    return { cos: tf.cos(spread), sin: tf.sin(spread), rotation: rotationMatrix(half, layout) };
  });
}

/** Column indices that spread the rotaryDim/2 angles over rotaryDim dims in a layout. */
function angleColumns(half: number, layout: RotaryLayout): Int32Array {
  const columns = new Int32Array(2 * half);
  for (let d = 0; d < 2 * half; d++) columns[d] = layout === 'half' ? d % half : Math.floor(d / 2);
  return columns;
}

/** R with (x·R)[d] = the partner of d with its sign: half: [-x2, x1]; interleaved: [-x1, x0, -x3, x2, …]. */
function rotationMatrix(half: number, layout: RotaryLayout): tf.Tensor2D {
  const size = 2 * half;
  const values = new Float32Array(size * size);
  for (let d = 0; d < size; d++) {
    // Output column d takes input row `source` with `sign`.
    const [source, sign] =
      layout === 'half' ? (d < half ? [d + half, -1] : [d - half, 1]) : d % 2 === 0 ? [d + 1, -1] : [d - 1, 1];
    values[source * size + d] = sign;
  }
  return tf.tensor2d(values, [size, size]);
}

/** x [batch, heads, seq, headDim]; rotates the first `tables.cos.shape[3]` dims of each head. */
export function applyRotary(x: tf.Tensor4D, tables: RotaryTables): tf.Tensor4D {
  return tf.tidy(() => {
    const [batch, heads, seq, headDim] = x.shape;
    const rotaryDim = tables.cos.shape[3];
    const rotated = rotaryDim === headDim ? x : x.slice([0, 0, 0, 0], [batch, heads, seq, rotaryDim]);
    const partner = tf.matMul(rotated.reshape([batch * heads * seq, rotaryDim]), tables.rotation).reshape([batch, heads, seq, rotaryDim]);
    const out = tf.add(tf.mul(rotated, tables.cos), tf.mul(partner, tables.sin)) as tf.Tensor4D;
    if (rotaryDim === headDim) return out;
    const pass = x.slice([0, 0, 0, rotaryDim], [batch, heads, seq, headDim - rotaryDim]);
    return tf.concat([out, pass], 3) as tf.Tensor4D;
  });
}
