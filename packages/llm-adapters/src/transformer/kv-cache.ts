import type * as tf from '@tensorflow/tfjs';

/** Keys and values of one layer for every position seen so far: [batch, kvHeads, seen, headDim]. */
export interface LayerKeyValues {
  key: tf.Tensor4D;
  value: tf.Tensor4D;
}

/** One entry per layer. */
export type KeyValueCache = LayerKeyValues[];

export function disposeCache(cache: KeyValueCache | null | undefined): void {
  if (!cache) return;
  for (const entry of cache) {
    entry.key.dispose();
    entry.value.dispose();
  }
}
