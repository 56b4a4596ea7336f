import * as tf from '@tensorflow/tfjs';
import { buildPairBatch, localityKl, outputColumns, type CausalLanguageModel, type EditRequest, type PairTokenizer, type Probe } from '@recipe-kit/core';
import { summedEditNll } from './capture-gradient-factors.js';

/**
 * The rows a meta-training step scores after editing with E training edits: for each edit its own
 * prompt and one rephrase (both must now give the new target) and one locality prompt (must keep
 * the unedited model's distribution). Rows are [E edit prompts; E rephrases; E locality prompts].
 */
export interface OuterBatch {
  ids: tf.Tensor2D;
  labels: tf.Tensor2D;
  mask: tf.Tensor2D;
  /** Which training edit each row belongs to (row → edit index), length 3E. */
  editIndex: number[];
  edits: number;
  dispose(): void;
}

export function buildOuterBatch(model: CausalLanguageModel, pairs: PairTokenizer, requests: readonly EditRequest[], random: () => number): OuterBatch {
  const pick = (probes: readonly Probe[]): Probe => probes[Math.floor(random() * probes.length)] as Probe;
  const rephrases = requests.map((request) => pick(request.generality));
  const localities = requests.map((request) => pick(request.locality));
  const batch = buildPairBatch(
    model,
    [
      ...requests.map((request) => pairs.pair(request.prompt, request.targetNew)),
      ...rephrases.map((probe, i) => pairs.pair(probe.prompt, (requests[i] as EditRequest).targetNew)),
      ...localities.map((probe) => pairs.pair(probe.prompt, probe.target)),
    ],
    outputColumns(model),
  );
  const edits = requests.length;
  return { ids: batch.ids, labels: batch.labels, mask: batch.mask, editIndex: Array.from({ length: 3 * edits }, (_, row) => row % edits), edits, dispose: () => batch.dispose() };
}

/** The unedited model's logits on the locality rows [E, T, V] (no gradient): the KL's reference. */
export function localityReference(model: CausalLanguageModel, batch: OuterBatch): tf.Tensor3D {
  return tf.tidy(() => model.forward({ ids: rowsOf(batch.ids, batch, 2), compactLogits: true }).logits);
}

/** Rows of group k (0 edit prompts, 1 rephrases, 2 locality prompts) of a [3E, ...] tensor. */
export function rowsOf<T extends tf.Tensor>(tensor: T, batch: OuterBatch, group: number): T {
  return tf.slice(tensor, [group * batch.edits, ...tensor.shape.slice(1).map(() => 0)], [batch.edits, ...tensor.shape.slice(1)]) as T;
}

export interface OuterTerms {
  /** Mean NLL of the new target over edit-prompt and rephrase rows. */
  edit: tf.Scalar;
  /** KL(unedited ‖ edited) over the locality rows' answer positions. */
  locality: tf.Scalar;
}

/** MEND's L_e (on the edit prompt and the rephrase; the original uses the rephrase only) and L_loc, from the edited model's logits [3E, T, V]. */
export function outerTerms(logits: tf.Tensor3D, batch: OuterBatch, reference: tf.Tensor3D): OuterTerms {
  const editRows = tf.slice(logits, [0, 0, 0], [2 * batch.edits, -1, -1]);
  const edit = tf.div(summedEditNll(editRows, tf.slice(batch.labels, [0, 0], [2 * batch.edits, -1]), tf.slice(batch.mask, [0, 0], [2 * batch.edits, -1])), 2 * batch.edits) as tf.Scalar;
  const locality = localityKl(rowsOf(logits, batch, 2), reference, rowsOf(batch.mask, batch, 2));
  return { edit, locality };
}

/** Teacher-forced accuracies of the edited logits (plain numbers for the training log): new target on edit/rephrase rows, agreement with the unedited argmax on locality rows. */
export function outerAccuracies(logits: tf.Tensor3D, batch: OuterBatch, reference: tf.Tensor3D): { editAccuracy: number; localityAgreement: number } {
  return tf.tidy(() => {
    const predicted = tf.argMax(logits, 2); // [3E, T]
    const mask = batch.mask;
    const hits = tf.mul(tf.cast(tf.equal(predicted, tf.cast(batch.labels, 'int32')), 'float32'), mask);
    const editRows = 2 * batch.edits;
    const editAccuracy = tf.div(tf.sum(tf.slice(hits, [0, 0], [editRows, -1])), tf.maximum(tf.sum(tf.slice(mask, [0, 0], [editRows, -1])), 1));
    const agree = tf.mul(tf.cast(tf.equal(rowsOf(predicted, batch, 2), tf.argMax(reference, 2)), 'float32'), rowsOf(mask, batch, 2));
    const localityAgreement = tf.div(tf.sum(agree), tf.maximum(tf.sum(rowsOf(mask, batch, 2)), 1));
    return { editAccuracy: editAccuracy.dataSync()[0] as number, localityAgreement: localityAgreement.dataSync()[0] as number };
  });
}
