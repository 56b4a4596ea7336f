import { mkdtemp, rm } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { ContextOverflowError, InvalidInputError, type EditRequest } from '@recipe-kit/core';
import { useTestBackend } from '@recipe-kit/core/testing';
import type { DecoderModel } from '@recipe-kit/llm-adapters';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { applyRomePatch } from '../../../src/baselines/rome/apply-rome-patch.js';
import { computeRomePatch } from '../../../src/baselines/rome/compute-rome-patch.js';
import { RomeEditor } from '../../../src/baselines/rome/rome-editor.js';
import { defaultRomeSettings } from '../../../src/baselines/rome/rome-settings.js';
import { captureActivations } from '../../../src/baselines/shared/capture-activations.js';
import type { SecondMoment } from '../../../src/baselines/shared/collect-second-moments.js';
import { generateContextTemplates, MEMIT_TEMPLATE_LENGTHS, type ContextTemplates } from '../../../src/baselines/shared/context-templates.js';
import { prepareEditRows } from '../../../src/baselines/shared/prepare-edit-rows.js';
import { WeightEditState } from '../../../src/baselines/weight-edits/weight-edit-state.js';
import { MICRO_TIMEOUT, microFixture, requestLogProbs, targetIsArgmax, tf, weightValues } from '../shared/micro-fixtures.js';

const LAYER = 1; // round(0.17 · 4)
let model: DecoderModel;
let requests: EditRequest[];
let secondMoment: SecondMoment;
let templates: ContextTemplates;
let dir: string;
beforeAll(async () => {
  await useTestBackend();
  const fixture = await microFixture('synthetic-llama', [LAYER]);
  ({ model, requests } = fixture);
  secondMoment = fixture.secondMoments[0] as SecondMoment;
  templates = await generateContextTemplates(model, { lengths: MEMIT_TEMPLATE_LENGTHS, seed: 0 });
  dir = await mkdtemp(path.join(os.tmpdir(), 'rome-'));
}, MICRO_TIMEOUT);
afterAll(async () => {
  model.dispose();
  await rm(dir, { recursive: true, force: true });
});

const create = (overrides: Partial<ReturnType<typeof defaultRomeSettings>> = {}): Promise<RomeEditor> =>
  RomeEditor.create(model, { settings: { ...defaultRomeSettings(model, LAYER), ...overrides }, templates, secondMoment });
const weightName = 'model.layers.1.mlp.down_proj.weight';

describe('ROME on the synthetic micro LLaMA', { timeout: MICRO_TIMEOUT }, () => {
  it('one edit makes the target the argmax on the edited prompt; restore returns the exact original weights; no tensor leaks', async () => {
    const request = requests[1] as EditRequest;
    const original = weightValues(model, model.weightNames());
    expect(targetIsArgmax(model, request.prompt, request.targetNew)).toBe(false);
    const editor = await create();
    const before = tf.memory().numTensors;
    await editor.edit([request]);
    expect(editor.editCount).toBe(1);
    expect(targetIsArgmax(model, request.prompt, request.targetNew)).toBe(true);
    // Only the edited layer's down projection changed.
    const edited = weightValues(model, model.weightNames());
    expect(model.weightNames().filter((_, i) => edited[i]?.some((x, j) => x !== original[i]?.[j]))).toEqual([weightName]);
    await editor.restore();
    expect(editor.editCount).toBe(0);
    expect(weightValues(model, model.weightNames())).toEqual(original);
    expect(tf.memory().numTensors).toBe(before);
    editor.dispose();
  });

  it('the patch maps the key it was built on to v* exactly (ΔW k* = v* − W k*), for both key modes, and computing it changes nothing', () => {
    for (const keys of ['prefix-averaged', 'original'] as const) {
      const settings = { ...defaultRomeSettings(model, LAYER), keys };
      const flat = templates.flat();
      const unchanged = weightValues(model, [weightName]);
      const patch = computeRomePatch(model, requests[2] as EditRequest, settings, flat, null);
      expect(weightValues(model, [weightName])).toEqual(unchanged);
      expect(Math.hypot(...patch.u)).toBeCloseTo(1, 5);
      const state = new WeightEditState(model);
      applyRomePatch(state, patch);
      const rows = prepareEditRows(model, requests[2] as EditRequest, flat).rewriting;
      const captured = rows.map((row) => ({ ids: row.ids, position: row.lookupIndex }));
      const [outputs] = captureActivations(model, keys === 'original' ? captured.slice(0, 1) : captured, [{ site: 'mlpOutput', layer: LAYER }]) as [Float32Array];
      const d = model.dimensions.hiddenSize;
      const count = outputs.length / d;
      const mean = Array.from({ length: d }, (_, j) => Array.from({ length: count }, (_, r) => outputs[r * d + j] as number).reduce((a, b) => a + b) / count);
      const scale = Math.hypot(...patch.target);
      mean.forEach((value, j) => expect(Math.abs(value - (patch.target[j] as number))).toBeLessThan(1e-4 * scale));
      state.restore();
      state.dispose();
    }
  });

  it('save/load reproduces the edited model\'s logits; a foreign state is refused', async () => {
    const editor = await create();
    await editor.edit([requests[3] as EditRequest]);
    await editor.edit([requests[4] as EditRequest]);
    const edited = requestLogProbs(model, requests.slice(0, 6));
    await editor.save(path.join(dir, 'state'));
    await editor.restore();
    expect(requestLogProbs(model, requests.slice(0, 6))).not.toEqual(edited);
    const loaded = await create();
    await loaded.load(path.join(dir, 'state'));
    expect(loaded.editCount).toBe(2);
    expect(requestLogProbs(model, requests.slice(0, 6))).toEqual(edited);
    await loaded.restore();
    // The state of another editor is refused with the editor that wrote it.
    const other = new WeightEditState(model);
    await other.save(path.join(dir, 'other'), { editor: 'memit', editCount: 1 });
    await expect(loaded.load(path.join(dir, 'other'))).rejects.toThrow(/"memit" editor, not "rome"/);
    loaded.dispose();
    editor.dispose();
  });

  it('refuses a subject not in the prompt, an empty target and a target beyond the context, before changing any weight', async () => {
    const editor = await create();
    const good = requests[5] as EditRequest;
    const original = weightValues(model, [weightName]);
    await expect(editor.edit([good, { ...good, subject: 'Nobody Atall' }])).rejects.toThrow(/does not occur in the prompt/);
    await expect(editor.edit([{ ...good, targetNew: '' }])).rejects.toThrow(InvalidInputError);
    const long = { ...good, targetNew: Array.from({ length: 200 }, () => good.targetNew).join(' ') };
    await expect(editor.edit([long])).rejects.toThrow(ContextOverflowError);
    expect(editor.editCount).toBe(0);
    expect(weightValues(model, [weightName])).toEqual(original);
    editor.dispose();
  });
});
