import * as tf from '@tensorflow/tfjs';
import { buildPairBatch, InvalidInputError, outputColumns, PairTokenizer, type CausalLanguageModel, type ForwardHooks } from '@recipe-kit/core';

/** Which token rows feed the hypernetwork: every attended token (MEND) or the rows that predict target tokens (MALMEN, token = ans). */
export type RowSelection = 'attended' | 'target';

/** The rank-one factors of the edit loss's gradient at each edited layer, per edit. */
export interface GradientFactors {
  /** Per layer, u: the MLP output projection's input at every row, [E, T, in]. */
  keys: Map<number, tf.Tensor3D>;
  /** Per layer, δ = ∂L/∂(projection output) at every row, [E, T, out]. */
  gradients: Map<number, tf.Tensor3D>;
  /** [E, T] 1 for the rows the method uses, 0 elsewhere (padding, unused rows). */
  rows: tf.Tensor2D;
  /** L = Σ_e mean NLL of edit e's target tokens. */
  loss: number;
  dispose(): void;
}

/**
 * Σ_e mean NLL of each row's target tokens: logits [E, T, V], labels [E, T] (logit columns),
 * mask [E, T]. Summing per-edit means keeps every edit's gradient independent of the batch size.
 */
export function summedEditNll(logits: tf.Tensor3D, labels: tf.Tensor2D, mask: tf.Tensor2D): tf.Scalar {
  return tf.tidy(() => {
    const gold = tf.sum(tf.mul(tf.logSoftmax(logits), tf.oneHot(tf.cast(labels, 'int32'), logits.shape[2])), 2); // [E, T]
    const perEdit = tf.div(tf.sum(tf.mul(gold, mask), 1), tf.maximum(tf.sum(mask, 1), 1)); // [E]
    return tf.neg(tf.sum(perEdit)) as tf.Scalar;
  });
}

/**
 * One forward and backward pass of the edit loss over `edits` (prompt + " " + target, teacher
 * forced), reading u with the `mlpKeys` hook and δ as the gradient of a zero probe added to the
 * projection's output (spec §0.3 H4). Σ_rows u δᵀ of a layer is the loss's gradient with respect to
 * its weight (in [in, out] layout); the hypernetworks transform these rank-one factors instead.
 */
export function captureGradientFactors(
  model: CausalLanguageModel,
  layers: readonly number[],
  edits: readonly { prompt: string; target: string }[],
  selection: RowSelection,
  pairs: PairTokenizer = new PairTokenizer(model.tokenizer),
): GradientFactors {
  if (edits.length === 0) throw new InvalidInputError('No edits were given to compute gradients for.', 'Pass at least one edit request.');
  const tokenized = edits.map((edit) => {
    if (edit.prompt.trim().length === 0) throw new InvalidInputError(`An edit to ${JSON.stringify(edit.target)} has an empty prompt.`, 'Give every edit request a prompt.');
    return pairs.pair(edit.prompt, edit.target);
  });
  const columns = outputColumns(model);
  const batch = buildPairBatch(model, tokenized, columns);
  const width = batch.ids.shape[1];
  const keys = new Map<number, tf.Tensor3D>();
  try {
    const targetCounts = tf.tidy(() => tf.sum(batch.mask, 1).dataSync());
    targetCounts.forEach((count, row) => {
      if (count === 0) {
        const edit = edits[row] as { prompt: string; target: string };
        throw new InvalidInputError(`The target ${JSON.stringify(edit.target)} of ${JSON.stringify(edit.prompt)} has no token the model can output.`, 'Edit towards a target written with tokens of the model\'s output vocabulary (micro models output only their corpus\'s tokens).');
      }
    });
    const outputSize = model.dimensions.hiddenSize;
    const probes = layers.map(() => tf.zeros([edits.length, width, outputSize]) as tf.Tensor3D);
    const hooks = (added: readonly tf.Tensor[]): ForwardHooks => ({
      mlpKeys: (layer, layerKeys) => {
        if (layers.includes(layer)) keys.set(layer, tf.keep(layerKeys));
      },
      mlpOutput: (layer, output) => {
        const index = layers.indexOf(layer);
        return index < 0 ? undefined : (tf.add(output, added[index] as tf.Tensor) as tf.Tensor3D);
      },
    });
    const { value, grads } = tf.valueAndGrads((...added: tf.Tensor[]) => summedEditNll(model.forward({ ids: batch.ids, hooks: hooks(added), compactLogits: true }).logits, batch.labels, batch.mask))(probes);
    tf.dispose(probes);
    const loss = value.dataSync()[0] as number;
    value.dispose();
    const rows =
      selection === 'target'
        ? (batch.mask.clone() as tf.Tensor2D)
        : tf.tensor2d(Float32Array.from({ length: edits.length * width }, (_, i) => (i % width < (tokenized[Math.floor(i / width)]?.input.length ?? 0) ? 1 : 0)), [edits.length, width]);
    const gradients = new Map(layers.map((layer, i) => [layer, grads[i] as tf.Tensor3D]));
    return { keys, gradients, rows, loss, dispose: () => tf.dispose([...keys.values(), ...gradients.values(), rows]) };
  } catch (error) {
    tf.dispose([...keys.values()]);
    throw error;
  } finally {
    batch.dispose();
  }
}
