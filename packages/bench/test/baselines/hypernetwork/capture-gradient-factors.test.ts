import * as tf from '@tensorflow/tfjs';
import { buildPairBatch, outputColumns, PairTokenizer, type CausalLanguageModel } from '@recipe-kit/core';
import { useTestBackend } from '@recipe-kit/core/testing';
import { beforeAll, describe, expect, it } from 'vitest';
import { captureGradientFactors, summedEditNll } from '../../../src/baselines/hypernetwork/capture-gradient-factors.js';
import { mlpOutputWeightName } from '../../../src/baselines/shared/edited-module.js';
import { weightDeltaHooks } from '../../../src/baselines/hypernetwork/weight-delta-hooks.js';
import { tinyHypernetworkModel, tinyRequests } from './hypernetwork-fixtures.js';

beforeAll(useTestBackend);

const edits = tinyRequests(3).map((request) => ({ prompt: request.prompt, target: request.targetNew }));

/** ∂L/∂W of the same summed edit loss, by tf.variableGrads with W swapped for a variable. */
function weightGradient(model: CausalLanguageModel, layer: number): Float32Array {
  const name = mlpOutputWeightName(model, layer);
  const original = model.getWeight(name);
  const variable = tf.variable(original.clone(), true);
  model.setWeight(name, variable, { keepPrevious: true });
  try {
    const batch = buildPairBatch(model, edits.map((edit) => new PairTokenizer(model.tokenizer).pair(edit.prompt, edit.target)), outputColumns(model));
    const { value, grads } = tf.variableGrads(() => summedEditNll(model.forward({ ids: batch.ids, compactLogits: true }).logits, batch.labels, batch.mask), [variable]);
    const gradient = (grads[variable.name] as tf.Tensor).dataSync() as Float32Array;
    tf.dispose([value, ...Object.values(grads)]);
    batch.dispose();
    return gradient;
  } finally {
    model.setWeight(name, original);
  }
}

describe('gradient factors of the edit loss (MEND/MALMEN inputs)', () => {
  for (const architecture of ['llama', 'gptj'] as const) {
    it(`${architecture}: Σ_rows u δᵀ over every attended row equals tf.grad of the loss with respect to the weight`, async () => {
      const model = await tinyHypernetworkModel(architecture);
      const factors = captureGradientFactors(model, [0, 1], edits, 'attended');
      expect(factors.loss).toBeGreaterThan(0);
      for (const layer of [0, 1]) {
        const rank1 = tf.tidy(() => {
          const keys = tf.mul(factors.keys.get(layer) as tf.Tensor3D, tf.expandDims(factors.rows, 2));
          return tf.sum(tf.matMul(keys, factors.gradients.get(layer) as tf.Tensor3D, true, false), 0).dataSync() as Float32Array; // [in, out]
        });
        const reference = weightGradient(model, layer);
        const scale = Math.max(...reference.map(Math.abs));
        expect(scale).toBeGreaterThan(1e-4);
        rank1.forEach((value, i) => expect(Math.abs(value - (reference[i] as number))).toBeLessThan(1e-4 * scale));
      }
      factors.dispose();
      model.dispose();
    });
  }

  it('target rows are exactly the positions that predict a target token', async () => {
    const model = await tinyHypernetworkModel('llama');
    const factors = captureGradientFactors(model, [1], edits.slice(0, 1), 'target');
    const pair = new PairTokenizer(model.tokenizer).pair(edits[0]?.prompt as string, edits[0]?.target as string);
    const rows = Array.from(factors.rows.dataSync());
    expect(rows.map((value, position) => (value === 1 ? position : -1)).filter((p) => p >= 0)).toEqual(Array.from({ length: pair.labels.length - pair.firstScored }, (_, i) => pair.firstScored + i));
    factors.dispose();
    model.dispose();
  });

  it('refuses an empty prompt and a target the model cannot output, naming them', async () => {
    const model = await tinyHypernetworkModel('llama');
    expect(() => captureGradientFactors(model, [1], [{ prompt: ' ', target: 'Rome' }], 'attended')).toThrow(/empty prompt/);
    expect(() => captureGradientFactors(model, [1], [{ prompt: 'Anna Berg lives in', target: 'Xylophonequartz' }], 'attended')).toThrow(/"Xylophonequartz" .* has no token the model can output/);
    model.dispose();
  });
});

describe('weightDeltaHooks', () => {
  it('a forward with keys·ΔW added equals the forward of the model whose weight is W + ΔW (shared and per-row ΔW)', async () => {
    const model = await tinyHypernetworkModel('gptj');
    const ids = tf.tensor2d([[11, 13, 33, 35], [37, 38, 39, 42]], [2, 4], 'int32');
    const name = mlpOutputWeightName(model, 1);
    const deltas = [tf.randomNormal([24, 16], 0, 0.3, 'float32', 1), tf.randomNormal([24, 16], 0, 0.3, 'float32', 2)];
    const hooked = model.forward({ ids, hooks: weightDeltaHooks(new Map([[1, tf.stack(deltas)]])) }).logits;
    const original = model.getWeight(name);
    for (const [row, delta] of deltas.entries()) {
      model.setWeight(name, tf.add(original, delta), { keepPrevious: true });
      const edited = model.forward({ ids: tf.slice(ids, [row, 0], [1, 4]) as tf.Tensor2D }).logits;
      const shared = model.forward({ ids, hooks: {} }).logits;
      expect(tf.max(tf.abs(tf.sub(edited, tf.slice(hooked, [row, 0, 0], [1, -1, -1])))).dataSync()[0]).toBeLessThan(1e-4);
      model.setWeight(name, original, { keepPrevious: true });
      const sharedHooked = model.forward({ ids, hooks: weightDeltaHooks(new Map([[1, delta]])) }).logits;
      expect(tf.max(tf.abs(tf.sub(shared, sharedHooked))).dataSync()[0]).toBeLessThan(1e-4);
      expect(tf.max(tf.abs(tf.sub(shared, model.forward({ ids }).logits))).dataSync()[0]).toBeGreaterThan(1e-3);
    }
    model.dispose();
  });
});
