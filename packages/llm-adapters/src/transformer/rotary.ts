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
  /** [batch, 1, seq, rotaryDim / 2] angles' cosine and sine. */
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

/** x [batch, heads, seq, headDim]; rotates the first `2 * tables.cos.shape[3]` dims of each head. */
export function applyRotary(x: tf.Tensor4D, tables: RotaryTables, layout: RotaryLayout): tf.Tensor4D {
  return tf.tidy(() => {
    const [batch, heads, seq, headDim] = x.shape;
    const half = tables.cos.shape[3];
    const rotaryDim = half * 2;
    const rotated = rotaryDim === headDim ? x : x.slice([0, 0, 0, 0], [batch, heads, seq, rotaryDim]);
    const columns = tf.tensor1d(angleColumns(half, layout), 'int32');
    const cos = tf.gather(tables.cos, columns, 3);
    const sin = tf.gather(tables.sin, columns, 3);
    const partner = tf
      .matMul(rotated.reshape([batch * heads * seq, rotaryDim]), rotationMatrix(half, layout))
      .reshape([batch, heads, seq, rotaryDim]);
    const out = tf.add(tf.mul(rotated, cos), tf.mul(partner, sin)) as tf.Tensor4D;
    if (rotaryDim === headDim) return out;
    const pass = x.slice([0, 0, 0, rotaryDim], [batch, heads, seq, headDim - rotaryDim]);
    return tf.concat([out, pass], 3) as tf.Tensor4D;
  });
}
