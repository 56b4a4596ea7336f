import * as tf from '@tensorflow/tfjs';
import { ContextOverflowError, InvalidInputError, type EditRequest } from '@recipe-kit/core';
import { useTestBackend } from '@recipe-kit/core/testing';
import type { DecoderModel } from '@recipe-kit/llm-adapters';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { captureActivations } from '../../../src/baselines/shared/capture-activations.js';
import { optimiseTargetValue, type TargetValueSettings } from '../../../src/baselines/shared/optimise-target-value.js';
import { prepareEditRows } from '../../../src/baselines/shared/prepare-edit-rows.js';
import { tinyModel } from './tiny-models.js';

const request: EditRequest = { id: 'e0', prompt: 'Anna Berg lives in', subject: 'Anna Berg', targetNew: 'Paris', generality: [], locality: [] };
const templates = ['{}', 'I think so. {}', 'Because of that. {}'];
const settings: TargetValueSettings = { layer: 0, site: 'mlpOutput', steps: 30, learningRate: 0.5, weightDecay: 1e-3, clampNormFactor: 4, klFactor: 0.0625 };

let models: DecoderModel[];
beforeAll(async () => {
  await useTestBackend();
  models = [await tinyModel('llama'), await tinyModel('gptj', 1, 24)];
});
afterAll(() => models.forEach((model) => model.dispose()));

describe('prepareEditRows', () => {
  it('builds template(prompt) + target[:-1] rows with the subject-last index and the essence prompt', () => {
    const [llama] = models as [DecoderModel];
    const rows = prepareEditRows(llama, request, templates);
    expect(rows.rewriting).toHaveLength(3);
    const plain = rows.rewriting[0];
    const joint = llama.tokenizer.encode('Anna Berg lives in Paris', { addBos: true });
    expect(plain?.ids).toEqual(joint.slice(0, -1));
    expect(plain?.targetIds).toEqual(joint.slice(llama.tokenizer.encode('Anna Berg lives in', { addBos: true }).length));
    expect(plain?.targetStart).toBe(llama.tokenizer.encode('Anna Berg lives in', { addBos: true }).length - 1);
    expect(llama.tokenizer.decode(plain?.ids.slice(0, (plain?.lookupIndex ?? 0) + 1) ?? [])).toBe('Anna Berg');
    expect(llama.tokenizer.decode(rows.essence.ids)).toBe('Anna Berg is a');
  });

  it('with fact-token=last reads every row at its last prompt token (the essence row at its last token)', () => {
    const [llama] = models as [DecoderModel];
    const subjectRows = prepareEditRows(llama, { ...request, targetNew: 'Paris France' }, templates);
    const rows = prepareEditRows(llama, { ...request, targetNew: 'Paris France' }, templates, 'last');
    rows.rewriting.forEach((row, i) => {
      expect(row.lookupIndex).toBe(row.targetStart);
      expect(row.lookupIndex).toBeGreaterThan(subjectRows.rewriting[i]?.lookupIndex ?? Infinity);
      expect(llama.tokenizer.decode(row.ids.slice(0, row.lookupIndex + 1))).toMatch(/lives in$/);
      expect(row.ids).toEqual(subjectRows.rewriting[i]?.ids);
    });
    expect(rows.essence.lookupIndex).toBe(rows.essence.ids.length - 1);
  });

  it('refuses a subject not in the prompt, an empty target, and a target beyond the context, with the fix', () => {
    const [llama, gptj] = models as [DecoderModel, DecoderModel];
    expect(() => prepareEditRows(llama, { ...request, subject: 'Boris Cole' }, templates)).toThrow(/does not occur in the prompt/);
    expect(() => prepareEditRows(llama, { ...request, targetNew: '  ' }, templates)).toThrow(InvalidInputError);
    expect(() => prepareEditRows(llama, { ...request, targetNew: '' }, templates)).toThrow(/empty target/);
    const long = { ...request, targetNew: Array.from({ length: 30 }, () => 'Paris').join(' ') };
    expect(() => prepareEditRows(gptj, long, templates)).toThrow(ContextOverflowError);
    expect(() => prepareEditRows(gptj, long, templates)).toThrow(/longer than the model's context of 24[^]*--skip-overlong/);
    // A template that would overflow is skipped; the plain prompt is kept.
    const fits = { ...request, targetNew: 'Paris Paris Paris Paris Paris Paris Paris Paris Paris Paris' };
    expect(prepareEditRows(gptj, fits, ['{}', `${'I think so. '.repeat(4)}{}`]).rewriting).toHaveLength(1);
  });
});

describe('optimiseTargetValue', () => {
  it('lowers the loss, starts from m₀ at the plain prompt, respects the norm clamp, and leaks no tensor', () => {
    for (const model of models) {
      for (const site of ['mlpOutput', 'residual'] as const) {
        const before = tf.memory().numTensors;
        const rows = prepareEditRows(model, request, templates);
        const value = optimiseTargetValue(model, rows, { ...settings, site });
        expect(tf.memory().numTensors).toBe(before);
        expect(value.losses.at(-1), `${model.architecture} ${site}: ${value.losses.map((x) => x.toFixed(2))}`).toBeLessThan((value.losses[0] as number) * 0.9);
        const [initial] = captureActivations(model, [{ ids: rows.rewriting[0]?.ids ?? [], position: rows.rewriting[0]?.lookupIndex ?? 0 }], [{ site, layer: 0 }]);
        expect(Array.from(value.initial)).toEqual(Array.from(initial ?? []));
        const norm = (x: ArrayLike<number>): number => Math.hypot(...Array.from(x));
        // A tight clamp binds: ‖δ‖ ends at (not above) clamp · ‖m₀‖.
        const clamp = 0.05;
        const clamped = optimiseTargetValue(model, rows, { ...settings, site, clampNormFactor: clamp, steps: 4 });
        const delta = clamped.target.map((v, i) => v - (clamped.initial[i] as number));
        expect(norm(delta) / (clamp * norm(clamped.initial))).toBeCloseTo(1, 4);
      }
    }
  });

  it('stops early once the loss is below stopLoss and takes no step on the last iteration', () => {
    const [llama] = models as [DecoderModel];
    const rows = prepareEditRows(llama, request, ['{}']);
    expect(optimiseTargetValue(llama, rows, { ...settings, stopLoss: 1e9 }).losses).toHaveLength(1);
    // One step: the loss is computed, no update, so v* = m₀.
    const value = optimiseTargetValue(llama, rows, { ...settings, steps: 1 });
    expect(Array.from(value.target)).toEqual(Array.from(value.initial));
  });

  it('early-stop=argmax stops at the first step where the target is the argmax, on the same trajectory, with a smaller δ', () => {
    const [llama] = models as [DecoderModel];
    // At the last prompt token (the random tiny model cannot be steered from the subject).
    const rows = prepareEditRows(llama, request, ['{}'], 'last');
    const long = { ...settings, steps: 60, stopLoss: 1e-9 };
    const full = optimiseTargetValue(llama, rows, long);
    const tensors = tf.memory().numTensors;
    const early = optimiseTargetValue(llama, rows, { ...long, stopWhenArgmax: true });
    expect(tf.memory().numTensors).toBe(tensors);
    expect(early.losses.length).toBeLessThan(full.losses.length);
    expect(early.losses).toEqual(full.losses.slice(0, early.losses.length));
    const norm = (value: { target: Float32Array; initial: Float32Array }): number => Math.hypot(...Array.from(value.target, (v, i) => v - (value.initial[i] as number)));
    expect(norm(early)).toBeLessThan(norm(full));
    // At the stop the target is the argmax with δ added at the subject; one step earlier it was not.
    const row = rows.rewriting[0] as (typeof rows.rewriting)[number];
    const argmaxWith = (value: { target: Float32Array; initial: Float32Array }): number => tf.tidy(() => {
      const delta = tf.sub(tf.tensor1d(value.target), tf.tensor1d(value.initial));
      const mask = tf.oneHot([row.lookupIndex], row.ids.length).reshape([1, row.ids.length, 1]);
      const hooks = { mlpOutput: (layer: number, x: tf.Tensor3D) => (layer === settings.layer ? (tf.add(x, tf.mul(mask, delta)) as tf.Tensor3D) : undefined) };
      const logits = llama.forward({ ids: tf.tensor2d([row.ids], undefined, 'int32'), hooks, compactLogits: true }).logits;
      return tf.argMax(logits.slice([0, row.targetStart, 0], [1, 1, -1]).reshape([-1])).dataSync()[0] as number;
    });
    const targetRow = (id: number): number => (llama.outputIds ? llama.outputIds.indexOf(id) : id);
    expect(argmaxWith(early)).toBe(targetRow(row.targetIds[0] as number));
    const before = optimiseTargetValue(llama, rows, { ...long, steps: early.losses.length - 1 });
    expect(argmaxWith(before)).not.toBe(targetRow(row.targetIds[0] as number));
  });
});
