import { describe, expect, it } from 'vitest';
import { lowerConfidenceBound, smallestMarginMeeting, type MarginSweepPoint } from '../../src/recipe/fit-margin-for-locality.js';

const point = (margin: number, locality: number, localityLowerBound: number): MarginSweepPoint => ({ margin, reliability: 1 - margin / 10, generality: 1, locality, localityLowerBound });

describe('choosing the sentinel margin for a locality target', () => {
  it('the bound is mean − z·sd/√n (hand-computed) and the point estimate at confidence 0', () => {
    // mean 0.75, sample sd 0.5, n 4: 0.75 − 1.6448536·0.5/2.
    expect(lowerConfidenceBound([1, 1, 0, 1], 0.95)).toBeCloseTo(0.75 - (1.6448536269514722 * 0.5) / 2, 12);
    expect(lowerConfidenceBound([1, 1, 0, 1], 0.99)).toBeCloseTo(0.75 - (2.3263478740408408 * 0.5) / 2, 12);
    expect(lowerConfidenceBound([1, 1, 0, 1], 0)).toBe(0.75);
    expect(lowerConfidenceBound([0.9, 0.9, 0.9], 0.95)).toBeCloseTo(0.9, 12);
    expect(() => lowerConfidenceBound([1], 0.8)).toThrow(/0.8 is not offered/);
  });

  it('picks the smallest margin whose bound (not its point estimate) reaches the target, in any sweep order', () => {
    const sweep = [point(0.6, 0.99, 0.985), point(0, 0.96, 0.955), point(0.4, 0.981, 0.977), point(0.8, 0.995, 0.99)];
    expect(smallestMarginMeeting(sweep, 0.98)?.margin).toBe(0.6);
    expect(smallestMarginMeeting(sweep, 0.99)?.margin).toBe(0.8);
    expect(smallestMarginMeeting(sweep, 0.995)).toBeUndefined();
  });
});
