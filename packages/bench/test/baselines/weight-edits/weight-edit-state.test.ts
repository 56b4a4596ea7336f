import { mkdtemp, rm } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import * as tf from '@tensorflow/tfjs';
import { InvalidInputError, MissingArtifactError, type CausalLanguageModel } from '@recipe-kit/core';
import { useTestBackend } from '@recipe-kit/core/testing';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { WeightEditState } from '../../../src/baselines/weight-edits/weight-edit-state.js';
import { tinyLlama } from '../../recipe/tiny-recipe-fixtures.js';

const DOWN = 'model.layers.0.mlp.down_proj.weight';
const UP = 'model.layers.0.mlp.up_proj.weight';

let dir: string;
let model: CausalLanguageModel;
beforeAll(async () => {
  await useTestBackend();
  dir = await mkdtemp(path.join(os.tmpdir(), 'weight-edit-state-'));
  model = await tinyLlama(1);
});
afterAll(async () => {
  model.dispose();
  await rm(dir, { recursive: true, force: true });
});

const valuesOf = (name: string, llm = model): Float32Array => llm.getWeight(name).dataSync() as Float32Array;

describe('WeightEditState', () => {
  it('restores every touched weight bit-identically, however often it was changed', () => {
    const before = [valuesOf(DOWN).slice(), valuesOf(UP).slice()];
    const state = new WeightEditState(model);
    state.modify(DOWN, (w) => tf.add(w, 0.1));
    state.modify(DOWN, (w) => tf.mul(w, 3));
    state.set(UP, tf.zerosLike(model.getWeight(UP)));
    expect(state.touchedNames).toEqual([DOWN, UP]);
    expect(valuesOf(DOWN)[0]).toBeCloseTo(((before[0] as Float32Array)[0] as number + 0.1) * 3, 5);
    expect(state.original(DOWN).dataSync()).toEqual(before[0]);
    state.restore();
    expect(state.touchedNames).toEqual([]);
    expect(valuesOf(DOWN)).toEqual(before[0]);
    expect(valuesOf(UP)).toEqual(before[1]);
  });

  it('refuses a value of another shape, naming the weight', () => {
    const state = new WeightEditState(model);
    const wrong = tf.zeros([3, 3]);
    expect(() => state.set(DOWN, wrong)).toThrow(InvalidInputError);
    expect(() => state.set(DOWN, wrong)).toThrow(/down_proj.*shape/);
    wrong.dispose();
  });

  it('saves the edited weights and loads them back into the same model (after a restore)', async () => {
    const state = new WeightEditState(model);
    const original = valuesOf(DOWN).slice();
    state.modify(DOWN, (w) => tf.add(w, tf.randomNormal(w.shape, 0, 0.1, 'float32', 3)));
    const edited = valuesOf(DOWN).slice();
    await state.save(path.join(dir, 'state'), { editCount: 7 });
    state.restore();
    expect(valuesOf(DOWN)).toEqual(original);
    const extra = await state.load(path.join(dir, 'state'));
    expect(extra).toEqual({ editCount: 7 });
    expect(valuesOf(DOWN)).toEqual(edited);
    // Loading over an edited model first restores it: the result is the saved state, not a sum.
    await state.load(path.join(dir, 'state'));
    expect(valuesOf(DOWN)).toEqual(edited);
    state.restore();
    expect(valuesOf(DOWN)).toEqual(original);
  });

  it('refuses a state saved for another model, and a directory without a state', async () => {
    const other = await tinyLlama(2);
    const untouched = valuesOf(DOWN, other).slice();
    const state = new WeightEditState(other);
    await expect(state.load(path.join(dir, 'state'))).rejects.toThrow(/another model/);
    expect(valuesOf(DOWN, other)).toEqual(untouched);
    await expect(state.load(path.join(dir, 'absent'))).rejects.toThrow(MissingArtifactError);
    other.dispose();
  });

  it('leaves no tensor behind over many modify/restore cycles', () => {
    const state = new WeightEditState(model);
    state.modify(DOWN, (w) => tf.add(w, 1));
    state.restore();
    const before = tf.memory().numTensors;
    for (let i = 0; i < 20; i++) {
      state.modify(DOWN, (w) => tf.add(w, 1));
      state.modify(DOWN, (w) => tf.add(w, 1));
      state.restore();
    }
    expect(tf.memory().numTensors).toBe(before);
  });
});
