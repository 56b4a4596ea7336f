import type { EditRequest } from '@recipe-kit/core';
import { describe, expect, it } from 'vitest';
import { computeLocalityReference, scoreEditCases } from '../../src/metrics/edit-metrics.js';
import { ScriptedModel } from '../support/scripted-model.js';

const request: EditRequest = {
  id: 'case-1',
  prompt: 'The mother tongue of Danielle Darrieux is',
  subject: 'Danielle Darrieux',
  targetNew: 'British English',
  generality: [
    { prompt: 'Danielle Darrieux speaks', target: 'British English', type: 'rephrase' },
    { prompt: 'The language of Danielle Darrieux is', target: 'British English', type: 'rephrase' },
  ],
  locality: [{ prompt: 'Michel Rocard is a native speaker of', target: 'French language today', type: 'neighborhood' }],
};

describe('edit metrics (hand-computed on a scripted model)', async () => {
  it('reliability and generality are teacher-forced token accuracy on the target, averaged over items', async () => {
    const model = new ScriptedModel();
    const wrong = model.id('wrong');
    // Reliability: 1 of 2 target tokens right. Generality: 2/2 and 0/2 → mean 0.5.
    model.answers.set(request.prompt, [model.id('British'), wrong]);
    model.answers.set('The language of Danielle Darrieux is', [wrong, wrong]);
    const reference = await computeLocalityReference(model, [request]);
    const { cases, probes } = await scoreEditCases(model, [request], reference);
    expect(probes).toBe(4);
    expect(cases[0]?.reliability).toBe(0.5);
    expect(cases[0]?.generality).toBe(0.5);
    expect(cases[0]?.generalityByType).toEqual({ rephrase: 0.5 });
  });

  it('locality is agreement with the unedited model\'s own argmax, not with the dataset answer', async () => {
    const model = new ScriptedModel();
    const [a, b, c, d] = ['x1', 'x2', 'x3', 'x4'].map((w) => model.id(w)) as [number, number, number, number];
    const locality = request.locality[0]?.prompt as string;
    // Before the edit the model answers [a, b, c] (not the dataset's "French language today").
    model.answers.set(locality, [a, b, c]);
    const reference = await computeLocalityReference(model, [request]);
    expect(reference.get('case-1')).toEqual([[a, b, c]]);
    // After the edit it changes one of the three positions: locality 2/3.
    model.answers.set(locality, [a, d, c]);
    const { cases } = await scoreEditCases(model, [request], reference);
    expect(cases[0]?.locality).toBeCloseTo(2 / 3, 12);
    expect(cases[0]?.localityByType).toEqual({ neighborhood: 2 / 3 });
  });

  it('scores the target positions of the joint tokenization of prompt + " " + target', async () => {
    const model = new ScriptedModel();
    await scoreEditCases(model, [{ ...request, generality: [], locality: [] }], new Map());
    const call = model.calls[0];
    expect(call?.queryText).toBe(request.prompt);
    expect(call?.context).toEqual(model.tokenizer.encode(request.prompt));
    expect(call?.continuation).toEqual([model.id('British'), model.id('English')]);
  });

  it('refuses to score locality without a pre-edit reference', async () => {
    const model = new ScriptedModel();
    await expect(scoreEditCases(model, [request], new Map())).rejects.toThrow(/before the first edit/);
  });
});
