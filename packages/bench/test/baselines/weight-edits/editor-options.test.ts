import { InvalidInputError } from '@recipe-kit/core';
import { describe, expect, it } from 'vitest';
import { numberOption } from '../../../src/baselines/weight-edits/editor-options.js';
import { scaledLayer } from '../../../src/baselines/weight-edits/mlp-projections.js';

describe('numberOption', () => {
  it('returns the fallback when absent and the value when valid', () => {
    expect(numberOption('ft-l', undefined, 'layer', 3)).toBe(3);
    expect(numberOption('ft-l', { layer: '2' }, 'layer', 3, { integer: true, min: 0, max: 3 })).toBe(2);
    expect(numberOption('grace', { eps: '0.5' }, 'eps', 1, { min: 0 })).toBe(0.5);
  });

  it('refuses non-numbers, non-integers and values out of range, naming editor, option and range', () => {
    expect(() => numberOption('ft-l', { layer: 'x' }, 'layer', 3)).toThrow(InvalidInputError);
    expect(() => numberOption('ft-l', { layer: '1.5' }, 'layer', 3, { integer: true })).toThrow(/ft-l editor's option layer=1.5 is not an integer/);
    expect(() => numberOption('ft-l', { layer: '4' }, 'layer', 3, { integer: true, min: 0, max: 3 })).toThrow(/≥ 0 and ≤ 3/);
    expect(() => numberOption('grace', { eps: '' }, 'eps', 1)).toThrow(/--editor-option eps=1/);
  });
});

describe('scaledLayer (spec §14)', () => {
  it('maps the reference depths to 4-layer and 28/32-layer models', () => {
    expect([0.7, 0.88, 0.17].map((f) => scaledLayer(4, f))).toEqual([3, 3, 1]);
    expect(scaledLayer(28, 0.88)).toBe(25);
    expect(scaledLayer(32, 0.7)).toBe(22);
  });
});
