import type { EditRequest } from '@recipe-kit/core';
import type { FactMemory } from '../lte/fact-memory.js';
import { raseFires, retrievalStatistics, RASE_PAPER_THRESHOLDS, type RaseThresholds, type RetrievalStatistics } from './rase-decision-rule.js';

export interface RuleAccuracy {
  /** Share of edit prompts and rephrases on which the rule fires (and retrieves their own fact). */
  truePositiveRate: number;
  /** Share of locality prompts on which it does not fire. */
  trueNegativeRate: number;
  balancedAccuracy: number;
}

export interface RaseCalibration {
  thresholds: RaseThresholds;
  calibrated: RuleAccuracy;
  /** The paper's thresholds on the same queries, for comparison. */
  paper: RuleAccuracy & { thresholds: RaseThresholds };
  topK: number;
  storedFacts: number;
  positives: number;
  negatives: number;
}

interface Query {
  statistics: RetrievalStatistics;
  /** Positive queries count only when top-1 is their own fact. */
  ownFactFirst: boolean;
  positive: boolean;
}

function accuracy(queries: readonly Query[], thresholds: RaseThresholds): RuleAccuracy {
  let truePositives = 0;
  let positives = 0;
  let trueNegatives = 0;
  let negatives = 0;
  for (const query of queries) {
    const fires = raseFires(query.statistics, thresholds);
    if (query.positive) {
      positives++;
      if (fires && query.ownFactFirst) truePositives++;
    } else {
      negatives++;
      if (!fires) trueNegatives++;
    }
  }
  const truePositiveRate = truePositives / Math.max(1, positives);
  const trueNegativeRate = trueNegatives / Math.max(1, negatives);
  return { truePositiveRate, trueNegativeRate, balancedAccuracy: (truePositiveRate + trueNegativeRate) / 2 };
}

const grid = (from: number, to: number, step: number): number[] => Array.from({ length: Math.round((to - from) / step) + 1 }, (_, i) => Number((from + i * step).toFixed(6)));

/**
 * Recalibrates RASE's three thresholds for our encoder (spec §11.3): with the training edits stored,
 * edit prompts and rephrases must fire on their own fact and locality prompts must not; the grid
 * point (MAX over 0…1.05, DIFF over 0…0.6 plus "never", STD over 0…0.3) with the best balanced
 * accuracy wins, ties to the earlier (stricter MAX) point.
 */
export function calibrateRaseThresholds(memory: FactMemory, requests: readonly EditRequest[], topK: number): RaseCalibration {
  const queries: Query[] = [];
  const add = (text: string, id: string | null): void => {
    const hits = memory.search(text, topK);
    queries.push({ statistics: retrievalStatistics(hits.map((hit) => hit.score)), ownFactFirst: id !== null && hits[0]?.id === id, positive: id !== null });
  };
  for (const request of requests) {
    add(request.prompt, request.id);
    for (const probe of request.generality) add(probe.prompt, request.id);
    for (const probe of request.locality) add(probe.prompt, null);
  }
  let best: { thresholds: RaseThresholds; result: RuleAccuracy } | null = null;
  for (const max of grid(0, 1.05, 0.025)) {
    for (const diff of [...grid(0, 0.6, 0.025), Number.POSITIVE_INFINITY]) {
      for (const std of grid(0, 0.3, 0.01)) {
        const thresholds = { max, diff, std };
        const result = accuracy(queries, thresholds);
        if (!best || result.balancedAccuracy > best.result.balancedAccuracy) best = { thresholds, result };
        if (diff === Number.POSITIVE_INFINITY) break;
      }
    }
  }
  const chosen = best as { thresholds: RaseThresholds; result: RuleAccuracy };
  return {
    thresholds: chosen.thresholds,
    calibrated: chosen.result,
    paper: { thresholds: RASE_PAPER_THRESHOLDS, ...accuracy(queries, RASE_PAPER_THRESHOLDS) },
    topK,
    storedFacts: memory.size,
    positives: queries.filter((query) => query.positive).length,
    negatives: queries.filter((query) => !query.positive).length,
  };
}
