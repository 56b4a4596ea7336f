import * as tf from '@tensorflow/tfjs';
import type { CausalLanguageModel, EditRequest } from '@recipe-kit/core';
import { useTestBackend } from '@recipe-kit/core/testing';
import { beforeAll, describe, expect, it } from 'vitest';
import { FT_L_FACTORY, FT_M_FACTORY } from '../../../src/baselines/ft/fine-tune-editor-factories.js';
import { FineTuneEditor } from '../../../src/baselines/ft/fine-tune-editor.js';
import { mlpProjections } from '../../../src/baselines/weight-edits/mlp-projections.js';
import { maskedTargetNll, promptLastNll } from '../../../src/baselines/weight-edits/target-losses.js';
import { describeEditorConformance, loadMicroModel, MICRO_MODELS, microEdits } from '../weight-edits/editor-conformance.js';

beforeAll(useTestBackend);

describeEditorConformance('ft-l', (model) => FT_L_FACTORY.create(model, {}));
describeEditorConformance('ft-m', (model) => FT_M_FACTORY.create(model, {}));

describe('fine-tuning losses against hand-computed values', () => {
  // Two rows, vocabulary 3, length 2; row 0 scores position 1 (label 2), row 1 positions 0 and 1 (labels 0, 1).
  const logits = [[[0, 0, 0], [1, 2, 3]], [[2, 0, 0], [0, 1, 0]]];
  const labels = [[0, 2], [0, 1]];
  const mask = [[0, 1], [1, 1]];
  const logSoftmax = (row: number[]): number[] => {
    const total = Math.log(row.reduce((sum, x) => sum + Math.exp(x), 0));
    return row.map((x) => x - total);
  };
  const batch = (): { labels: tf.Tensor2D; mask: tf.Tensor2D } => ({ labels: tf.tensor2d(labels, undefined, 'int32'), mask: tf.tensor2d(mask) });

  it('FT-M: mean over examples of the mean target-token NLL', () => {
    const row0 = -(logSoftmax([1, 2, 3])[2] as number);
    const row1 = -((logSoftmax([2, 0, 0])[0] as number) + (logSoftmax([0, 1, 0])[1] as number)) / 2;
    const value = tf.tidy(() => maskedTargetNll(tf.tensor3d(logits), batch()).dataSync()[0] as number);
    expect(value).toBeCloseTo((row0 + row1) / 2, 5);
  });

  it('FT-L: every target token scored at the last prompt position', () => {
    // Row 0's last prompt position is 1 (target 2); row 1's is 0 (targets 0 and 1, both scored there).
    const row0 = -(logSoftmax([1, 2, 3])[2] as number);
    const row1 = -((logSoftmax([2, 0, 0])[0] as number) + (logSoftmax([2, 0, 0])[1] as number)) / 2;
    const value = tf.tidy(() => promptLastNll(tf.tensor3d(logits), batch(), [1, 0]).dataSync()[0] as number);
    expect(value).toBeCloseTo((row0 + row1) / 2, 5);
  });
});

describe('FT-L norm constraint', () => {
  let model: CausalLanguageModel;
  let request: EditRequest;
  beforeAll(async () => {
    const micro = MICRO_MODELS[0];
    model = await loadMicroModel(micro);
    request = microEdits(micro, model, 1)[0] as EditRequest;
  });

  it('keeps every element of the trained projection within ε of its value before the edit, and changes nothing else', async () => {
    const epsilon = 1e-3;
    const editor = new FineTuneEditor(model, { objective: 'prompt-last', layer: 3, steps: 5, learningRate: 1e-2, normConstraint: epsilon });
    const name = mlpProjections(model, 3).output;
    const others = model.weightNames().filter((n) => n !== name);
    const before = (model.getWeight(name).dataSync() as Float32Array).slice();
    const otherBefore = others.map((n) => model.getWeight(n).dataSync().slice());
    await editor.edit([request]);
    const after = model.getWeight(name).dataSync();
    let largest = 0;
    before.forEach((value, i) => (largest = Math.max(largest, Math.abs((after[i] as number) - value))));
    // lr 1e-2 for 5 steps would move elements by up to 5e-2 without the box.
    expect(largest).toBeGreaterThan(epsilon * 0.99);
    expect(largest).toBeLessThanOrEqual(epsilon * 1.001);
    others.forEach((n, i) => expect(model.getWeight(n).dataSync(), n).toEqual(otherBefore[i]));
    await editor.restore();
    editor.dispose();
    model.dispose();
  });
});
