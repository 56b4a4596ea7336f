import { useTestBackend } from '@recipe-kit/core/testing';
import { beforeAll, describe, expect, it } from 'vitest';
import { calibrateThreshold } from '../../src/recipe/calibrate-threshold.js';
import { ScriptedRetriever, tinyRequests } from './tiny-recipe-fixtures.js';

beforeAll(async () => {
  await useTestBackend();
});

describe('calibrateThreshold', () => {
  it('fits the w/o-KS threshold and the sentinel margin by balanced accuracy (hand-computed)', () => {
    // Scripted scores (d_r = 11, scale 1/√11): own fact 100/√11, sentinel 10/√11, unrelated 0.
    // Locality queries of requests 1–3 are about people outside the sample (best fact 0); request 0's
    // is about person 3, whose fact is in the sample (best fact 100/√11): one negative cannot be separated.
    const calibration = calibrateThreshold(new ScriptedRetriever(16), tinyRequests(4));
    const own = 100 / Math.sqrt(11);
    const sentinel = 10 / Math.sqrt(11);
    expect(calibration.positives).toBe(8);
    expect(calibration.negatives).toBe(4);
    expect(calibration.threshold).toBeCloseTo(own / 2, 4);
    expect([calibration.truePositiveRate, calibration.trueNegativeRate]).toEqual([1, 0.75]);
    expect(calibration.sentinelMargin.value).toBeCloseTo((own - sentinel + (0 - sentinel)) / 2, 4);
    expect(calibration.sentinelRule).toEqual({ value: 0, truePositiveRate: 1, trueNegativeRate: 0.75 });
  });
});
