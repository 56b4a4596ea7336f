import * as tf from '@tensorflow/tfjs';
import { knowledgeText, type EditRequest, type RecipeRetrieverModel } from '@recipe-kit/core';

/** The fixed threshold of the "w/o KS" ablation and how well it separates on the data it came from. */
export interface ThresholdCalibration {
  /** Scaled similarity s = r_q·r_k/sqrt(d_r) above which a fact is retrieved. */
  threshold: number;
  /** Share of edit/rephrase queries whose own fact scores above it, and of locality queries whose best fact scores below it. */
  truePositiveRate: number;
  trueNegativeRate: number;
  /** Queries of each kind it was fitted on. */
  positives: number;
  negatives: number;
}

/**
 * Fits the "w/o KS" ablation's fixed threshold on training edits: positives are each edit's prompt and
 * rephrase against its own fact; negatives are locality prompts against the best of all the facts.
 * The threshold maximises balanced accuracy (ties: the midpoint between neighbouring scores).
 */
export function calibrateThreshold(retriever: RecipeRetrieverModel, requests: readonly EditRequest[]): ThresholdCalibration {
  const scale = 1 / Math.sqrt(retriever.config.representationDim);
  const { positives, negatives } = tf.tidy(() => {
    const knowledge = retriever.encodeKnowledge(requests.map((request) => knowledgeText(request.prompt, request.targetNew))).representations; // [n, d]
    const ownQueries = retriever.encodeQueries(requests.flatMap((request) => [request.prompt, ...request.generality.slice(0, 1).map((probe) => probe.prompt)]));
    const owners = requests.flatMap((request, i) => [i, ...request.generality.slice(0, 1).map(() => i)]);
    const ownScores = tf.mul(tf.matMul(ownQueries, knowledge, false, true), scale).arraySync() as number[][];
    const localityQueries = retriever.encodeQueries(requests.flatMap((request) => request.locality.slice(0, 1).map((probe) => probe.prompt)));
    const best = tf.max(tf.mul(tf.matMul(localityQueries, knowledge, false, true), scale), 1).arraySync() as number[];
    return { positives: owners.map((owner, row) => (ownScores[row] as number[])[owner] as number), negatives: best };
  });
  const scored = [...positives.map((score) => ({ score, positive: true })), ...negatives.map((score) => ({ score, positive: false }))].sort((a, b) => a.score - b.score);
  // Sweep thresholds between consecutive scores: below the threshold counts as "not retrieved".
  let best = { accuracy: -1, threshold: 0, tpr: 0, tnr: 0 };
  let negativesBelow = 0;
  let positivesBelow = 0;
  for (let i = 0; i <= scored.length; i++) {
    const tpr = (positives.length - positivesBelow) / Math.max(1, positives.length);
    const tnr = negativesBelow / Math.max(1, negatives.length);
    const accuracy = (tpr + tnr) / 2;
    if (accuracy > best.accuracy) {
      const low = scored[i - 1]?.score ?? (scored[0]?.score ?? 0) - 1;
      const high = scored[i]?.score ?? low + 1;
      best = { accuracy, threshold: (low + high) / 2, tpr, tnr };
    }
    const entry = scored[i];
    if (entry) {
      if (entry.positive) positivesBelow++;
      else negativesBelow++;
    }
  }
  return { threshold: best.threshold, truePositiveRate: best.tpr, trueNegativeRate: best.tnr, positives: positives.length, negatives: negatives.length };
}
