import * as tf from '@tensorflow/tfjs';
import type { CausalLanguageModel, ForwardHooks } from '@recipe-kit/core';
import { tokenBatch } from './token-batch.js';

/** A hook point (spec §0.3): MLP keys (H1), MLP output (H2), or the residual stream after a layer (H3). */
export type HookSite = 'mlpKeys' | 'mlpOutput' | 'residual';

export interface CaptureRow {
  ids: readonly number[];
  /** The token position read in this row. */
  position: number;
}

/**
 * One forward pass over `rows` that reads each requested (site, layer) at each row's position.
 * Returns, per request, a Float32Array [rows, width] (width = intermediate size for keys, hidden otherwise).
 */
export function captureActivations(
  model: CausalLanguageModel,
  rows: readonly CaptureRow[],
  sites: readonly { site: HookSite; layer: number }[],
): Float32Array[] {
  const results: Float32Array[] = sites.map(() => new Float32Array(0));
  tf.tidy(() => {
    const batch = tokenBatch(rows.map((row) => row.ids));
    const flatIndices = tf.tensor1d(rows.map((row, r) => r * batch.width + row.position), 'int32');
    const read = (site: HookSite) => (layer: number, x: tf.Tensor3D): void => {
      sites.forEach((wanted, i) => {
        if (wanted.site !== site || wanted.layer !== layer) return;
        const [b, t, w] = x.shape;
        results[i] = tf.gather(x.reshape([b * t, w]), flatIndices).dataSync() as Float32Array; // [rows, w]
      });
    };
    const hooks: ForwardHooks = { mlpKeys: read('mlpKeys'), mlpOutput: read('mlpOutput'), residual: read('residual') };
    // Only the hooks matter: logits at one position skip the output projection elsewhere.
    model.forward({ ids: batch.ids, attentionMask: batch.mask, hooks, compactLogits: true, logitPositions: [0] });
  });
  return results;
}
