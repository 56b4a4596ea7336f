import * as tf from '@tensorflow/tfjs';
import { knowledgeText, type EditRequest, type RecipeRetrieverModel } from '@recipe-kit/core';

/** One fitted decision rule and how well it separates on the data it came from. */
export interface FittedSplit {
  /** Retrieve when the score is above this. */
  value: number;
  /** Share of edit/rephrase queries whose own fact passes, and of locality queries whose best fact does not. */
  truePositiveRate: number;
  trueNegativeRate: number;
}

/** The fixed threshold of the "w/o KS" ablation and the optional sentinel margin, fitted on training edits. */
export interface ThresholdCalibration {
  /** Scaled similarity s = r_q·r_k/sqrt(d_r) above which the w/o-KS ablation retrieves. */
  threshold: number;
  truePositiveRate: number;
  trueNegativeRate: number;
  /** Margin m for the rule s_j > s_0 + m that balances recall and locality (RECIPE itself uses m = 0). */
  sentinelMargin: FittedSplit;
  /** How RECIPE's own rule (m = 0) does on the same queries. */
  sentinelRule: FittedSplit;
  /** Queries of each kind it was fitted on. */
  positives: number;
  negatives: number;
}

/** The cut between consecutive scores that maximises balanced accuracy (positives above, negatives below). */
function bestSplit(positives: readonly number[], negatives: readonly number[]): FittedSplit {
  const scored = [...positives.map((score) => ({ score, positive: true })), ...negatives.map((score) => ({ score, positive: false }))].sort((a, b) => a.score - b.score);
  let best = { accuracy: -1, value: 0, truePositiveRate: 0, trueNegativeRate: 0 };
  let negativesBelow = 0;
  let positivesBelow = 0;
  for (let i = 0; i <= scored.length; i++) {
    const truePositiveRate = (positives.length - positivesBelow) / Math.max(1, positives.length);
    const trueNegativeRate = negativesBelow / Math.max(1, negatives.length);
    const accuracy = (truePositiveRate + trueNegativeRate) / 2;
    if (accuracy > best.accuracy) {
      const low = scored[i - 1]?.score ?? (scored[0]?.score ?? 0) - 1;
      const high = scored[i]?.score ?? low + 1;
      best = { accuracy, value: (low + high) / 2, truePositiveRate, trueNegativeRate };
    }
    const entry = scored[i];
    if (entry?.positive) positivesBelow++;
    else if (entry) negativesBelow++;
  }
  return { value: best.value, truePositiveRate: best.truePositiveRate, trueNegativeRate: best.trueNegativeRate };
}

/**
 * Fits, on training edits, (1) the "w/o KS" ablation's fixed threshold on s and (2) a margin on
 * s − s_0 for the sentinel rule. Positives are each edit's prompt and first rephrase against its own
 * fact; negatives are locality prompts against the best of all the facts. Both maximise balanced
 * accuracy.
 */
export function calibrateThreshold(retriever: RecipeRetrieverModel, requests: readonly EditRequest[]): ThresholdCalibration {
  const scale = 1 / Math.sqrt(retriever.config.representationDim);
  const { positives, negatives, positiveMargins, negativeMargins } = tf.tidy(() => {
    const encoded = retriever.encodeKnowledge(
      requests.map((request) => knowledgeText(request.prompt, request.targetNew)),
      requests.map((request) => request.targetNew),
    );
    const knowledge = encoded.representations; // [n, d]
    const sentinel = retriever.sentinelRepresentation(); // [1, d]
    const ownQueries = retriever.encodeQueries(requests.flatMap((request) => [request.prompt, ...request.generality.slice(0, 1).map((probe) => probe.prompt)]));
    const owners = requests.flatMap((request, i) => [i, ...request.generality.slice(0, 1).map(() => i)]);
    const ownScores = tf.mul(tf.matMul(ownQueries, knowledge, false, true), scale).arraySync() as number[][];
    const ownSentinel = tf.mul(tf.matMul(ownQueries, sentinel, false, true), scale).arraySync() as number[][];
    const localityQueries = retriever.encodeQueries(requests.flatMap((request) => request.locality.slice(0, 1).map((probe) => probe.prompt)));
    const best = tf.max(tf.mul(tf.matMul(localityQueries, knowledge, false, true), scale), 1).arraySync() as number[];
    const localitySentinel = tf.mul(tf.matMul(localityQueries, sentinel, false, true), scale).arraySync() as number[][];
    const positiveScores = owners.map((owner, row) => (ownScores[row] as number[])[owner] as number);
    return {
      positives: positiveScores,
      negatives: best,
      positiveMargins: positiveScores.map((score, row) => score - ((ownSentinel[row] as number[])[0] as number)),
      negativeMargins: best.map((score, row) => score - ((localitySentinel[row] as number[])[0] as number)),
    };
  });
  const threshold = bestSplit(positives, negatives);
  return {
    threshold: threshold.value,
    truePositiveRate: threshold.truePositiveRate,
    trueNegativeRate: threshold.trueNegativeRate,
    sentinelMargin: bestSplit(positiveMargins, negativeMargins),
    sentinelRule: {
      value: 0,
      truePositiveRate: positiveMargins.filter((margin) => margin > 0).length / Math.max(1, positiveMargins.length),
      trueNegativeRate: negativeMargins.filter((margin) => !(margin > 0)).length / Math.max(1, negativeMargins.length),
    },
    positives: positives.length,
    negatives: negatives.length,
  };
}
