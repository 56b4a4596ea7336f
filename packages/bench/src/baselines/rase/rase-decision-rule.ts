import { InvalidInputError } from '@recipe-kit/core';

/** RASE's retrieval decision thresholds (its eval.py): an edit fires if MAX > max or (DIFF > diff and STD > std). */
export interface RaseThresholds {
  max: number;
  diff: number;
  std: number;
}

/** The paper's values, for its contrastive RoBERTa retriever (recalibrate for any other encoder). */
export const RASE_PAPER_THRESHOLDS: RaseThresholds = { max: 0.9, diff: 0.15, std: 0.05 };

/** The statistics the rule reads from the top-K cosine scores (best first). */
export interface RetrievalStatistics {
  /** Top-1 score. */
  max: number;
  /** Top-1 minus top-2 (top-1 minus 0 when only one fact is stored). */
  diff: number;
  /** Population standard deviation of the top-K scores. */
  std: number;
}

export function retrievalStatistics(scores: readonly number[]): RetrievalStatistics {
  if (scores.length === 0) throw new InvalidInputError('The RASE rule got no retrieval scores.', 'Call it only when the memory holds at least one fact.');
  const mean = scores.reduce((a, b) => a + b, 0) / scores.length;
  const variance = scores.reduce((sum, score) => sum + (score - mean) ** 2, 0) / scores.length;
  const max = scores[0] as number;
  return { max, diff: max - (scores[1] ?? 0), std: Math.sqrt(variance) };
}

/** RASE's rule: is this query about a stored fact (apply its patch) or not (run the unedited model)? */
export function raseFires(statistics: RetrievalStatistics, thresholds: RaseThresholds): boolean {
  return statistics.max > thresholds.max || (statistics.diff > thresholds.diff && statistics.std > thresholds.std);
}
