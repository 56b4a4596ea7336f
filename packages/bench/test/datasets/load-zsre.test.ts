import { describe, expect, it } from 'vitest';
import { InvalidDatasetError } from '@recipe-kit/core';
import { sharedData, sharedDataPath } from '@recipe-kit/core/testing';
import { loadZsre } from '../../src/datasets/load-zsre.js';
import { tempJson } from './temp-file.js';

const record = {
  subject: 'IAAF Combined Events Challenge',
  src: 'When was the inception of IAAF Combined Events Challenge?',
  pred: '2011',
  rephrase: 'When was the IAAF Combined Events Challenge launched?',
  alt: '2006',
  answers: ['1998'],
  loc: 'nq question: what is the name of the last episode of spongebob',
  loc_ans: 'The String',
  cond: '2011 >> 2006 || When was the inception of IAAF Combined Events Challenge?',
};

describe.skipIf(!sharedData)('loadZsre on the shared 700-record subset', () => {
  const file = () => sharedDataPath('editing', 'zsre', 'zsre-eval-subset.json');

  it('loads all 700 records, every subject inside its question', async () => {
    const skipped: string[] = [];
    const requests = await loadZsre(file(), { onSkip: (message) => skipped.push(message) });
    expect(requests).toHaveLength(700);
    expect(skipped).toEqual([]);
    expect(requests[0]).toEqual({
      id: '0',
      prompt: 'When was the inception of IAAF Combined Events Challenge?',
      subject: 'IAAF Combined Events Challenge',
      targetNew: '2006',
      groundTruth: '1998',
      generality: [{ prompt: 'When was the IAAF Combined Events Challenge launched?', target: '2006', type: 'rephrase' }],
      locality: [{ prompt: 'nq question: what is the name of the last episode of spongebob', target: 'The String', type: 'neighborhood' }],
    });
    expect(requests.every((request) => request.prompt.includes(request.subject))).toBe(true);
  });

  it('strips the leading space some alt values carry (record 326: " Delaware River")', async () => {
    const requests = await loadZsre(file());
    expect(requests[326]?.targetNew).toBe('Delaware River');
    expect(requests[326]?.generality[0]?.target).toBe('Delaware River');
  });

  it('honours limit', async () => {
    const requests = await loadZsre(file(), { limit: 5 });
    expect(requests.map((request) => request.id)).toEqual(['0', '1', '2', '3', '4']);
  });
});

describe('loadZsre on malformed records', () => {
  it('names the record and the field', async () => {
    await expect(loadZsre(tempJson('zsre.json', [record, { ...record, answers: [] }]))).rejects.toThrow('zsre.json record 1: "answers" must be a non-empty list, found an empty list');
    await expect(loadZsre(tempJson('zsre.json', [{ ...record, answers: [3] }]))).rejects.toThrow('zsre.json record 0: "answers[0]" must be a non-empty string, found number 3');
    await expect(loadZsre(tempJson('zsre.json', [{ ...record, loc_ans: undefined }]))).rejects.toThrow(InvalidDatasetError);
    await expect(loadZsre(tempJson('zsre.json', [{ ...record, loc_ans: undefined }]))).rejects.toThrow('"loc_ans" must be a non-empty string, found nothing');
  });

  it('skips (and reports) a record whose subject is not in src, keeping the other ids; or throws on request', async () => {
    const file = tempJson('zsre.json', [{ ...record, subject: 'Spongebob' }, record]);
    const skipped: string[] = [];
    const requests = await loadZsre(file, { onSkip: (message) => skipped.push(message) });
    expect(requests.map((request) => request.id)).toEqual(['1']);
    expect(skipped[0]).toContain('zsre.json record 0: "subject" "Spongebob" does not occur in "src" "When was the inception of IAAF Combined Events Challenge?"');
    await expect(loadZsre(file, { subjectMismatch: 'error' })).rejects.toThrow('"subject" "Spongebob" does not occur in "src"');
  });
});
