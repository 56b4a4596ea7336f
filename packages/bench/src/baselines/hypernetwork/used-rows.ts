import type * as tf from '@tensorflow/tfjs';
import type { GradientFactors } from './capture-gradient-factors.js';

/** A layer's used rows of (u, δ) as host arrays: keys [count, in], gradients [count, out] row-major. */
export interface UsedRows {
  keys: Float32Array;
  gradients: Float32Array;
  count: number;
}

/** Gathers the rows marked in `factors.rows` (the hypernetwork's inputs) for one layer. */
export function usedRows(factors: GradientFactors, layer: number): UsedRows {
  const rows = factors.rows.dataSync();
  const keys = (factors.keys.get(layer) as tf.Tensor3D).dataSync() as Float32Array;
  const gradients = (factors.gradients.get(layer) as tf.Tensor3D).dataSync() as Float32Array;
  const used = [...rows.keys()].filter((row) => rows[row] === 1);
  const pick = (values: Float32Array): Float32Array => {
    const width = values.length / rows.length;
    const out = new Float32Array(used.length * width);
    used.forEach((row, i) => out.set(values.subarray(row * width, (row + 1) * width), i * width));
    return out;
  };
  return { keys: pick(keys), gradients: pick(gradients), count: used.length };
}
