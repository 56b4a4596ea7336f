import * as tf from '@tensorflow/tfjs';
import { InvalidInputError, type CausalLanguageModel } from '@recipe-kit/core';
import { tokenBatch } from './token-batch.js';

/** The uncentered second moment C = E[k kᵀ] of the MLP keys at one layer (spec §0.6). */
export interface SecondMoment {
  layer: number;
  /** f, the intermediate size. */
  dimension: number;
  /** Token vectors averaged. */
  count: number;
  /** [f, f] row-major, float64 holding float32-rounded values (so a cached copy is identical). */
  matrix: Float64Array;
}

export interface CollectOptions {
  /** Texts per forward pass (default 32). */
  batchSize?: number;
  /** Called after each chunk with texts done / total. */
  onProgress?: (done: number, total: number) => void;
}

/**
 * Σ k kᵀ / N over every attended token (BOS included) of every text, for several layers in one pass
 * per chunk of texts. Each chunk's Kᵀ K is computed on the backend in float32 (the reference's
 * mom2_dtype) and summed in float64 across chunks. Texts longer than the context are truncated.
 */
export function collectSecondMoments(model: CausalLanguageModel, layers: readonly number[], texts: readonly string[], options: CollectOptions = {}): SecondMoment[] {
  if (texts.length === 0) {
    throw new InvalidInputError('The statistics corpus is empty.', 'Give at least a few thousand sentences the model can read (≥ 10 tokens per MLP key dimension).');
  }
  const f = model.dimensions.intermediateSize;
  const sums = layers.map(() => new Float64Array(f * f));
  let count = 0;
  const batchSize = options.batchSize ?? 32;
  for (let start = 0; start < texts.length; start += batchSize) {
    const rows = texts.slice(start, start + batchSize).map((text) => model.tokenizer.encode(text, { addBos: true }).slice(0, model.dimensions.contextLength));
    tf.tidy(() => {
      const batch = tokenBatch(rows);
      const attended = tf.tensor1d(rows.flatMap((row, r) => row.map((_, t) => r * batch.width + t)), 'int32');
      model.forward({
        ids: batch.ids,
        attentionMask: batch.mask,
        compactLogits: true,
        logitPositions: [0], // only the keys are read
        hooks: {
          mlpKeys: (layer, keys) => {
            const at = layers.indexOf(layer);
            if (at < 0) return;
            const [b, t] = keys.shape;
            const k = tf.gather(keys.reshape([b * t, f]), attended); // [N, f]
            const product = tf.matMul(k, k, true, false).dataSync(); // [f, f]
            const sum = sums[at] as Float64Array;
            for (let i = 0; i < product.length; i++) sum[i] = (sum[i] as number) + (product[i] as number);
          },
        },
      });
    });
    count += rows.reduce((total, row) => total + row.length, 0);
    options.onProgress?.(Math.min(start + batchSize, texts.length), texts.length);
  }
  return layers.map((layer, i) => ({
    layer,
    dimension: f,
    count,
    matrix: Float64Array.from(new Float32Array((sums[i] as Float64Array).map((x) => x / count))),
  }));
}
