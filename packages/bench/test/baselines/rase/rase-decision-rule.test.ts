import { describe, expect, it } from 'vitest';
import { BagOfWordsEncoder } from '../../../src/baselines/lte/bag-of-words-encoder.js';
import { FactMemory } from '../../../src/baselines/lte/fact-memory.js';
import { calibrateRaseThresholds } from '../../../src/baselines/rase/calibrate-rase-thresholds.js';
import { thresholdsFromJson, thresholdsToJson } from '../../../src/baselines/rase/calibrate-rase.js';
import { raseFires, retrievalStatistics, RASE_PAPER_THRESHOLDS } from '../../../src/baselines/rase/rase-decision-rule.js';
import { tinyRequests } from '../../recipe/tiny-recipe-fixtures.js';

describe('RASE decision rule', () => {
  it('reads MAX, DIFF and the population STD of the top-K scores', () => {
    const statistics = retrievalStatistics([0.8, 0.5, 0.2]);
    expect(statistics.max).toBe(0.8);
    expect(statistics.diff).toBeCloseTo(0.3, 12);
    expect(statistics.std).toBeCloseTo(Math.sqrt(((0.3) ** 2 + 0 + (0.3) ** 2) / 3), 12);
    expect(retrievalStatistics([0.4])).toEqual({ max: 0.4, diff: 0.4, std: 0 });
    expect(() => retrievalStatistics([])).toThrow(/no retrieval scores/);
  });

  it('fires on MAX > t, or on DIFF > t_d and STD > t_s (the paper\'s thresholds)', () => {
    const t = RASE_PAPER_THRESHOLDS;
    expect(raseFires({ max: 0.91, diff: 0, std: 0 }, t)).toBe(true);
    expect(raseFires({ max: 0.9, diff: 0.1, std: 0.2 }, t)).toBe(false);
    expect(raseFires({ max: 0.5, diff: 0.16, std: 0.06 }, t)).toBe(true);
    expect(raseFires({ max: 0.5, diff: 0.16, std: 0.05 }, t)).toBe(false);
    expect(raseFires({ max: 0.5, diff: 0.15, std: 0.2 }, t)).toBe(false);
  });

  it('recalibrates the thresholds so edit prompts and rephrases fire and locality prompts do not', async () => {
    // Five stored edits; their locality prompts ask about the five people who were not edited.
    const people = tinyRequests().map((r) => r.subject);
    const requests = tinyRequests(5).map((r, i) => ({ ...r, locality: [{ prompt: `${people[i + 5]} works in`, target: 'Rome', type: 'neighborhood' }] }));
    const encoder = BagOfWordsEncoder.fit(requests.flatMap((r) => [r.prompt, ...r.generality.map((p) => p.prompt), ...r.locality.map((p) => p.prompt)]));
    const memory = new FactMemory(encoder);
    await memory.add(requests);
    const calibration = calibrateRaseThresholds(memory, requests, 5);
    expect(calibration).toMatchObject({ topK: 5, storedFacts: 5, positives: 10, negatives: 5 });
    expect(calibration.calibrated.balancedAccuracy).toBeGreaterThanOrEqual(calibration.paper.balancedAccuracy);
    expect(calibration.calibrated.truePositiveRate).toBe(1);
    expect(calibration.calibrated.trueNegativeRate).toBe(1);
    const fires = (text: string): boolean => raseFires(retrievalStatistics(memory.search(text, 5).map((hit) => hit.score)), calibration.thresholds);
    expect(fires('The home of Anna Berg is')).toBe(true);
    expect(fires(`${people[7]} works in`)).toBe(false);
    const never = { max: 0.5, diff: Number.POSITIVE_INFINITY, std: 0.1 };
    expect(thresholdsFromJson(JSON.parse(JSON.stringify(thresholdsToJson(never))), 'x')).toEqual(never);
    expect(() => thresholdsFromJson({ max: 1 }, 'calibration.json')).toThrow(/calibration.json has no numeric threshold "diff"/);
    memory.dispose();
  });
});
