import path from 'node:path';
import type { EditRequest } from '@recipe-kit/core';
import { repositoryRoot, useTestBackend } from '@recipe-kit/core/testing';
import { loadModel, type DecoderModel } from '@recipe-kit/llm-adapters';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { computeRomePatch } from '../../../src/baselines/rome/compute-rome-patch.js';
import { RomeEditor } from '../../../src/baselines/rome/rome-editor.js';
import { defaultRomeSettings, type RomeSettings } from '../../../src/baselines/rome/rome-settings.js';
import { captureActivations } from '../../../src/baselines/shared/capture-activations.js';
import { prepareEditRows } from '../../../src/baselines/shared/prepare-edit-rows.js';
import { MICRO_TIMEOUT, targetIsArgmax } from '../shared/micro-fixtures.js';

// CounterFact eval case 1, one of those that ROME at the subject's last token could not edit on this model.
const request: EditRequest = {
  id: '1',
  prompt: 'The official religion of Edwin of Northumbria is',
  subject: 'Edwin of Northumbria',
  targetNew: 'Islam',
  generality: [],
  locality: [],
};
const LAYER = 1; // round(0.17 · 4)
// The plain prompt only and C = I keep the test cheap; the finding holds with templates and C (bench-results/baselines/README.md).
const templates = ['{}'];
let model: DecoderModel;
let settings: RomeSettings;
beforeAll(async () => {
  await useTestBackend();
  model = await loadModel(path.join(repositoryRoot, 'models', 'counterfact-llama'));
  settings = { ...defaultRomeSettings(model, LAYER), mom2Adjustment: false, keys: 'original' };
}, MICRO_TIMEOUT);
afterAll(() => model.dispose());

describe('ROME on the CounterFact micro LLaMA (issue 7)', { timeout: MICRO_TIMEOUT }, () => {
  it('at the subject\'s last token v* cannot reach the target: the model does not read this fact from that position', () => {
    expect(targetIsArgmax(model, request.prompt, request.targetNew)).toBe(false);
    const patch = computeRomePatch(model, request, settings, templates, null);
    // The target's NLL stays above 1 (it starts near 11.6); the clamp is not what stops it (measured with clamp 100 and 100 steps: 2.1–2.3).
    expect(patch.losses.at(-1)).toBeGreaterThan(1);
  });

  it('with fact-token=last the edit makes the target the argmax, and the MLP output at the last prompt token becomes v*', async () => {
    const lastSettings: RomeSettings = { ...settings, factToken: 'last' };
    const patch = computeRomePatch(model, request, lastSettings, templates, null);
    expect(patch.losses.at(-1)).toBeLessThan(0.5);
    const editor = await RomeEditor.create(model, { settings: lastSettings, templates: [templates] });
    await editor.edit([request]);
    expect(targetIsArgmax(model, request.prompt, request.targetNew)).toBe(true);
    const row = prepareEditRows(model, request, templates, 'last').rewriting[0];
    const [output] = captureActivations(model, [{ ids: row?.ids ?? [], position: row?.lookupIndex ?? 0 }], [{ site: 'mlpOutput', layer: LAYER }]) as [Float32Array];
    const scale = Math.hypot(...patch.target);
    output.forEach((value, j) => expect(Math.abs(value - (patch.target[j] as number))).toBeLessThan(1e-4 * scale));
    await editor.restore();
    expect(targetIsArgmax(model, request.prompt, request.targetNew)).toBe(false);
    editor.dispose();
  });
});
