import type { ContinuationScore, EditedModel, QueryContinuation } from '@recipe-kit/core';

export interface TimedScores {
  scores: ContinuationScore[];
  /** Wall-clock seconds spent scoring. */
  seconds: number;
}

/** Scores requests in batches (rows of similar length together, results in the original order). */
export async function scoreInBatches(edited: EditedModel, requests: readonly QueryContinuation[], batchSize = 16): Promise<TimedScores> {
  const order = requests.map((_, i) => i).sort((a, b) => lengthOf(requests[a]) - lengthOf(requests[b]));
  const scores = new Array<ContinuationScore>(requests.length);
  const started = performance.now();
  for (let start = 0; start < order.length; start += batchSize) {
    const indices = order.slice(start, start + batchSize);
    const batch = await edited.scoreContinuations(indices.map((i) => requests[i] as QueryContinuation));
    indices.forEach((index, k) => (scores[index] = batch[k] as ContinuationScore));
  }
  return { scores, seconds: (performance.now() - started) / 1000 };
}

function lengthOf(request: QueryContinuation | undefined): number {
  return request ? request.context.length + request.continuation.length : 0;
}

/** Share of positions where `predicted` equals `labels` (teacher-forced top-1 accuracy). */
export function tokenAccuracy(predicted: readonly number[], labels: readonly number[]): number {
  if (labels.length === 0) return Number.NaN;
  let hits = 0;
  labels.forEach((label, i) => {
    if (predicted[i] === label) hits++;
  });
  return hits / labels.length;
}

export function mean(values: readonly number[]): number {
  const finite = values.filter((v) => Number.isFinite(v));
  return finite.length === 0 ? Number.NaN : finite.reduce((a, b) => a + b, 0) / finite.length;
}
