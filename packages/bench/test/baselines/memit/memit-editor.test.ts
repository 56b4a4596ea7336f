import { mkdtemp, rm } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { createRandom, InvalidInputError, type EditRequest } from '@recipe-kit/core';
import { useTestBackend } from '@recipe-kit/core/testing';
import type { DecoderModel } from '@recipe-kit/llm-adapters';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { memitLayerUpdate } from '../../../src/baselines/memit/memit-layer-update.js';
import { MemitEditor } from '../../../src/baselines/memit/memit-editor.js';
import { defaultMemitSettings } from '../../../src/baselines/memit/memit-settings.js';
import { baselineLayers } from '../../../src/baselines/shared/baseline-layers.js';
import type { SecondMoment } from '../../../src/baselines/shared/collect-second-moments.js';
import { spdInverse } from '../../../src/baselines/shared/spd-inverse.js';
import { MICRO_TIMEOUT, microFixture, requestLogProbs, targetIsArgmax, tf, weightValues } from '../shared/micro-fixtures.js';

function randomMatrix(rows: number, columns: number, random: () => number): Float64Array {
  return Float64Array.from({ length: rows * columns }, () => random() * 2 - 1);
}

/** A random SPD f×f matrix (M Mᵀ / f + 0.1 I). */
function randomSecondMoment(f: number, random: () => number): Float64Array {
  const m = randomMatrix(f, f, random);
  return Float64Array.from({ length: f * f }, (_, index) => {
    const [i, j] = [Math.floor(index / f), index % f];
    let sum = i === j ? 0.1 : 0;
    for (let k = 0; k < f; k++) sum += ((m[i * f + k] as number) * (m[j * f + k] as number)) / f;
    return sum;
  });
}

describe('memitLayerUpdate', () => {
  it('for one request is the Sherman–Morrison form C⁻¹k rᵀ / (λ + kᵀC⁻¹k) (ROME\'s direction, λ-damped)', () => {
    const random = createRandom(7);
    const [f, d, lambda] = [6, 4, 2.5];
    const c = randomSecondMoment(f, random);
    const k = randomMatrix(1, f, random);
    const r = randomMatrix(1, d, random);
    const update = memitLayerUpdate(c, f, k, r, 1, d, lambda, 0);
    const inverse = spdInverse(c, f);
    const cInvK = Array.from({ length: f }, (_, i) => Array.from({ length: f }, (__, j) => (inverse[i * f + j] as number) * (k[j] as number)).reduce((a, b) => a + b));
    const denominator = lambda + cInvK.reduce((sum, x, i) => sum + x * (k[i] as number), 0);
    update.forEach((value, index) => {
      const expected = ((cInvK[Math.floor(index / d)] as number) * (r[index % d] as number)) / denominator;
      expect(Math.abs(value - expected)).toBeLessThan(1e-12);
    });
  });

  it('for a batch solves the normal equations (λC + K Kᵀ) ΔWᵀ = K R', () => {
    const random = createRandom(8);
    const [f, d, n, lambda] = [7, 3, 4, 0.7];
    const c = randomSecondMoment(f, random);
    const keys = randomMatrix(n, f, random);
    const residuals = randomMatrix(n, d, random);
    const update = memitLayerUpdate(c, f, keys, residuals, n, d, lambda, 0); // [f, d]
    for (let i = 0; i < f; i++) for (let j = 0; j < d; j++) {
      let left = 0;
      for (let m = 0; m < f; m++) {
        let a = lambda * (c[i * f + m] as number);
        for (let r = 0; r < n; r++) a += (keys[r * f + i] as number) * (keys[r * f + m] as number);
        left += a * (update[m * d + j] as number);
      }
      let right = 0;
      for (let r = 0; r < n; r++) right += (keys[r * f + i] as number) * (residuals[r * d + j] as number);
      expect(Math.abs(left - right)).toBeLessThan(1e-10);
    }
  });
});

const LAYERS = baselineLayers.memit(4); // [0, 1]
let model: DecoderModel;
let requests: EditRequest[];
let secondMoments: SecondMoment[];
let dir: string;
beforeAll(async () => {
  await useTestBackend();
  ({ model, requests, secondMoments } = await microFixture('synthetic-llama', LAYERS));
  dir = await mkdtemp(path.join(os.tmpdir(), 'memit-'));
}, MICRO_TIMEOUT);
afterAll(async () => {
  model.dispose();
  await rm(dir, { recursive: true, force: true });
});

const create = (): Promise<MemitEditor> => MemitEditor.create(model, { settings: defaultMemitSettings(model, LAYERS), secondMoments });
const edited = ['model.layers.0.mlp.down_proj.weight', 'model.layers.1.mlp.down_proj.weight'];

describe('MEMIT on the synthetic micro LLaMA', { timeout: MICRO_TIMEOUT }, () => {
  it('uses layers 0–1 of 4; one edit makes the target the argmax; restore is exact; no tensor leaks', async () => {
    expect(LAYERS).toEqual([0, 1]);
    const request = requests[1] as EditRequest;
    const original = weightValues(model, model.weightNames());
    expect(targetIsArgmax(model, request.prompt, request.targetNew)).toBe(false);
    const editor = await create();
    const before = tf.memory().numTensors;
    await editor.edit([request]);
    expect(targetIsArgmax(model, request.prompt, request.targetNew)).toBe(true);
    const after = weightValues(model, model.weightNames());
    expect(model.weightNames().filter((_, i) => after[i]?.some((x, j) => x !== original[i]?.[j]))).toEqual(edited);
    await editor.restore();
    expect(weightValues(model, model.weightNames())).toEqual(original);
    expect(tf.memory().numTensors).toBe(before);
    editor.dispose();
  });

  it('edits a batch in one call, and save/load reproduces the edited logits', async () => {
    const editor = await create();
    const batch = requests.slice(2, 5);
    await editor.edit(batch);
    expect(editor.editCount).toBe(3);
    expect(batch.filter((r) => targetIsArgmax(model, r.prompt, r.targetNew)).length).toBeGreaterThanOrEqual(2);
    const logProbs = requestLogProbs(model, requests.slice(0, 8));
    await editor.save(dir);
    await editor.restore();
    const loaded = await create();
    await loaded.load(dir);
    expect(requestLogProbs(model, requests.slice(0, 8))).toEqual(logProbs);
    loaded.dispose();
    editor.dispose();
  });

  it('refuses a batch with a bad request (subject not in prompt, empty target) before changing any weight', async () => {
    const editor = await create();
    const original = weightValues(model, edited);
    const good = requests[6] as EditRequest;
    await expect(editor.edit([good, { ...good, subject: 'Nobody Atall' }])).rejects.toThrow(/does not occur in the prompt/);
    await expect(editor.edit([good, { ...good, targetNew: ' ' }])).rejects.toThrow(InvalidInputError);
    expect(weightValues(model, edited)).toEqual(original);
    editor.dispose();
  });
});
