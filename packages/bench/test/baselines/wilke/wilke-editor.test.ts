import { mkdtemp, rm } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { type EditRequest } from '@recipe-kit/core';
import { useTestBackend } from '@recipe-kit/core/testing';
import type { DecoderModel } from '@recipe-kit/llm-adapters';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { computeRomePatch } from '../../../src/baselines/rome/compute-rome-patch.js';
import { defaultRomeSettings } from '../../../src/baselines/rome/rome-settings.js';
import { baselineLayers } from '../../../src/baselines/shared/baseline-layers.js';
import type { SecondMoment } from '../../../src/baselines/shared/collect-second-moments.js';
import { generateContextTemplates, MEMIT_TEMPLATE_LENGTHS, type ContextTemplates } from '../../../src/baselines/shared/context-templates.js';
import { inverseSecondMoment } from '../../../src/baselines/shared/inverse-second-moment.js';
import { WilkeEditor } from '../../../src/baselines/wilke/wilke-editor.js';
import { MICRO_TIMEOUT, microFixture, requestLogProbs, targetIsArgmax, tf, weightValues } from '../shared/micro-fixtures.js';

const LAYERS = baselineLayers.wilke(4); // [0, 1]
let model: DecoderModel;
let requests: EditRequest[];
let secondMoments: SecondMoment[];
let templates: ContextTemplates;
let dir: string;
beforeAll(async () => {
  await useTestBackend();
  ({ model, requests, secondMoments } = await microFixture('synthetic-gptj', LAYERS));
  templates = await generateContextTemplates(model, { lengths: MEMIT_TEMPLATE_LENGTHS, seed: 0 });
  dir = await mkdtemp(path.join(os.tmpdir(), 'wilke-'));
}, MICRO_TIMEOUT);
afterAll(async () => {
  model.dispose();
  await rm(dir, { recursive: true, force: true });
});

const settings = (): ReturnType<typeof defaultRomeSettings> => defaultRomeSettings(model, 0);
const create = (): Promise<WilkeEditor> => WilkeEditor.create(model, { settings: settings(), layers: LAYERS, secondMoments, templates });

describe('WILKE on the synthetic micro GPT-J', { timeout: MICRO_TIMEOUT }, () => {
  it('applies ROME at the candidate layer with the smallest ‖ΔW‖/‖W‖, which makes the target the argmax; restore is exact', async () => {
    expect(LAYERS).toEqual([0, 1]);
    const request = requests[0] as EditRequest;
    expect(targetIsArgmax(model, request.prompt, request.targetNew)).toBe(false);
    // The relative update of each candidate, computed independently on the unedited model.
    const expected = LAYERS.map((layer, i) => {
      const patch = computeRomePatch(model, request, { ...settings(), layer }, templates.flat(), inverseSecondMoment(secondMoments[i] as SecondMoment, settings().epsilon));
      const weightNorm = tf.tidy(() => tf.norm(model.getWeight(patch.weightName)).dataSync()[0] as number);
      return Math.hypot(...patch.right) / weightNorm;
    });
    const original = weightValues(model, model.weightNames());
    const editor = await create();
    const before = tf.memory().numTensors;
    await editor.edit([request]);
    const [choice] = editor.choices;
    expect(choice?.relativeUpdates.map((x) => x.toPrecision(5))).toEqual(expected.map((x) => x.toPrecision(5)));
    expect(choice?.layer).toBe(LAYERS[expected.indexOf(Math.min(...expected))]);
    expect(targetIsArgmax(model, request.prompt, request.targetNew)).toBe(true);
    const after = weightValues(model, model.weightNames());
    expect(model.weightNames().filter((_, i) => after[i]?.some((x, j) => x !== original[i]?.[j]))).toEqual([`transformer.h.${choice?.layer}.mlp.fc_out.weight`]);
    await editor.restore();
    expect(editor.choices).toEqual([]);
    expect(weightValues(model, model.weightNames())).toEqual(original);
    expect(tf.memory().numTensors).toBe(before);
    editor.dispose();
  });

  it('save/load reproduces the edited logits and the chosen layers; bad requests are refused first', async () => {
    const editor = await create();
    await editor.edit([requests[1] as EditRequest]);
    const logProbs = requestLogProbs(model, requests.slice(0, 6));
    const choices = editor.choices;
    await editor.save(dir);
    await editor.restore();
    const loaded = await create();
    await loaded.load(dir);
    expect(loaded.choices).toEqual(choices);
    expect(loaded.editCount).toBe(1);
    expect(requestLogProbs(model, requests.slice(0, 6))).toEqual(logProbs);
    await loaded.restore();
    const good = requests[3] as EditRequest;
    await expect(loaded.edit([good, { ...good, subject: 'Nobody Atall' }])).rejects.toThrow(/does not occur in the prompt/);
    await expect(loaded.edit([{ ...good, targetNew: '' }])).rejects.toThrow(/empty target/);
    expect(loaded.editCount).toBe(0);
    loaded.dispose();
    editor.dispose();
  });
});
