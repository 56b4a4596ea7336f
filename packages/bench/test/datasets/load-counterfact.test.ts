import { writeFileSync } from 'node:fs';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { DataNotFoundError, InvalidDatasetError, InvalidInputError } from '@recipe-kit/core';
import { sharedData, sharedDataPath } from '@recipe-kit/core/testing';
import { loadCounterfact } from '../../src/datasets/load-counterfact.js';
import { fixture, tempFile, tempJson } from './temp-file.js';

const record = {
  case_id: 4521,
  prompt: 'The mother tongue of Danielle Darrieux is',
  target_new: 'English',
  subject: 'Danielle Darrieux',
  ground_truth: 'French',
  rephrase_prompt: 'Where Danielle Darrieux is from, people speak the language of',
  locality_prompt: 'Michel Rocard is a native speaker of',
  locality_ground_truth: 'French',
};

describe.skipIf(!sharedData)('loadCounterfact on the shared files', () => {
  const directory = () => sharedDataPath('editing', 'counterfact');

  it('loads the 8,000 eval records with the documented first record', async () => {
    const requests = await loadCounterfact(directory(), { split: 'eval' });
    expect(requests).toHaveLength(8000);
    expect(requests[0]).toEqual({
      id: '0',
      prompt: 'The mother tongue of Danielle Darrieux is',
      subject: 'Danielle Darrieux',
      targetNew: 'English',
      groundTruth: 'French',
      generality: [{ prompt: 'Where Danielle Darrieux is from, people speak the language of', target: 'English', type: 'rephrase' }],
      locality: [{ prompt: 'Michel Rocard is a native speaker of', target: 'French', type: 'neighborhood' }],
    });
    expect(new Set(requests.map((request) => request.id)).size).toBe(8000);
  });

  it('loads the 10,000 train records, by directory and split or by file', async () => {
    const requests = await loadCounterfact(directory(), { split: 'train' });
    expect(requests).toHaveLength(10000);
    expect(requests[0]).toMatchObject({ id: '2', prompt: 'Toko Yasuda, the', subject: 'Toko Yasuda', targetNew: 'piano', groundTruth: 'guitar' });
    expect(await loadCounterfact(sharedDataPath('editing', 'counterfact', 'counterfact-train.json'), { limit: 3 })).toEqual(requests.slice(0, 3));
  });

  it('asks for a split when a directory holds both', async () => {
    await expect(loadCounterfact(directory())).rejects.toThrow(InvalidInputError);
    await expect(loadCounterfact(directory())).rejects.toThrow(/split: 'eval'/);
  });
});

describe('loadCounterfact on fixtures and malformed files', () => {
  it('reads the ROME format: template prompt, paraphrases, neighbourhood prompts answered with target_true', async () => {
    const requests = await loadCounterfact(fixture('counterfact-rome.json'));
    expect(requests).toHaveLength(2);
    expect(requests[0]).toMatchObject({ id: '0', prompt: 'The mother tongue of Danielle Darrieux is', subject: 'Danielle Darrieux', targetNew: 'English', groundTruth: 'French' });
    expect(requests[0]?.generality).toHaveLength(2);
    expect(requests[0]?.generality.every((probe) => probe.target === 'English' && probe.type === 'rephrase')).toBe(true);
    expect(requests[0]?.locality).toEqual([
      { prompt: 'The mother tongue of Léon Blum is', target: 'French', type: 'neighborhood' },
      { prompt: 'The native language of Montesquieu is', target: 'French', type: 'neighborhood' },
      { prompt: 'François Bayrou, a native', target: 'French', type: 'neighborhood' },
    ]);
    expect(requests[1]?.prompt).toBe('Edwin of Northumbria is affiliated with the religion of');
  });

  it('honours limit', async () => {
    expect(await loadCounterfact(fixture('counterfact-rome.json'), { limit: 1 })).toHaveLength(1);
    expect(await loadCounterfact(fixture('counterfact-rome.json'), { limit: 0 })).toEqual([]);
    await expect(loadCounterfact(fixture('counterfact-rome.json'), { limit: -1 })).rejects.toThrow(InvalidInputError);
  });

  it('names file, record, case_id, field and the value found', async () => {
    const file = tempJson('counterfact-eval.json', [record, { ...record, case_id: 17, target_new: null }]);
    await expect(loadCounterfact(file)).rejects.toThrow(InvalidDatasetError);
    await expect(loadCounterfact(file)).rejects.toThrow('counterfact-eval.json record 1 (case_id 17): "target_new" must be a non-empty string, found null');
  });

  it('reports a missing field and a wrong type', async () => {
    const { rephrase_prompt: _dropped, ...withoutRephrase } = record;
    await expect(loadCounterfact(tempJson('cf.json', [withoutRephrase]))).rejects.toThrow('cf.json record 0 (case_id 4521): "rephrase_prompt" must be a non-empty string, found nothing (the field is missing)');
    await expect(loadCounterfact(tempJson('cf.json', [{ ...record, case_id: 1.5 }]))).rejects.toThrow('cf.json record 0: "case_id" must be an integer, found number 1.5');
    await expect(loadCounterfact(tempJson('cf.json', [{ ...record, locality_prompt: 7 }]))).rejects.toThrow('"locality_prompt" must be a non-empty string, found number 7');
  });

  it('rejects a subject that is not in the prompt, naming both', async () => {
    const file = tempJson('cf.json', [{ ...record, subject: 'Michel Rocard' }]);
    await expect(loadCounterfact(file)).rejects.toThrow('cf.json record 0 (case_id 4521): "subject" "Michel Rocard" does not occur in "prompt" "The mother tongue of Danielle Darrieux is"');
    expect(await loadCounterfact(file, { subjectMismatch: 'skip' })).toEqual([]);
  });

  it('repairs a subject that differs from the prompt only in case', async () => {
    const [request] = await loadCounterfact(tempJson('cf.json', [{ ...record, subject: 'danielle darrieux' }]));
    expect(request?.subject).toBe('Danielle Darrieux');
  });

  it('rejects files that are not a JSON list of records', async () => {
    await expect(loadCounterfact(tempFile('cf.json', '[{"case_id": 0, "prompt": '))).rejects.toThrow(/cf\.json is not valid JSON/);
    await expect(loadCounterfact(tempJson('cf.json', { data: [record] }))).rejects.toThrow('cf.json: the top level must be a JSON list of records, found an object with keys "data"');
    await expect(loadCounterfact(tempJson('cf.json', [record, 'oops']))).rejects.toThrow('cf.json record 1: must be a JSON object, found "oops"');
  });

  it('checks ROME records too: template placeholder and nested target', async () => {
    const rome = { case_id: 3, requested_rewrite: { prompt: 'The mother tongue of {} is', subject: 'X', target_new: { str: 'English' }, target_true: { str: 'French' } }, paraphrase_prompts: [], neighborhood_prompts: [] };
    await expect(loadCounterfact(tempJson('rome.json', [{ ...rome, requested_rewrite: { ...rome.requested_rewrite, target_new: {} } }]))).rejects.toThrow('rome.json record 0 (case_id 3): "requested_rewrite.target_new.str" must be a non-empty string, found nothing');
    await expect(loadCounterfact(tempJson('rome.json', [{ ...rome, requested_rewrite: { ...rome.requested_rewrite, prompt: 'X speaks' } }]))).rejects.toThrow('"requested_rewrite.prompt" must be a template containing "{}"');
    await expect(loadCounterfact(tempJson('rome.json', [{ ...rome, paraphrase_prompts: ['ok', 3] }]))).rejects.toThrow('"paraphrase_prompts[1]" must be a non-empty string, found number 3');
  });

  it('says which file is missing, and which split is ambiguous', async () => {
    await expect(loadCounterfact('/nonexistent/counterfact.json')).rejects.toThrow(DataNotFoundError);
    const eval1 = tempJson('cf/counterfact-eval.json', [record]);
    const directory = path.dirname(eval1);
    expect(await loadCounterfact(directory)).toHaveLength(1);
    await expect(loadCounterfact(directory, { split: 'train' })).rejects.toThrow(/No CounterFact train file .*counterfact-train\.json/);
    writeFileSync(path.join(directory, 'counterfact-edit.json'), JSON.stringify([record]));
    await expect(loadCounterfact(directory, { split: 'eval' })).rejects.toThrow(/counterfact-eval\.json and counterfact-edit\.json .* ambiguous/);
  });
});
