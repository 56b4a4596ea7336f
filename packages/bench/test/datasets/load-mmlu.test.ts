import { describe, expect, it } from 'vitest';
import { InvalidDatasetError, InvalidInputError } from '@recipe-kit/core';
import { sharedData, sharedDataPath } from '@recipe-kit/core/testing';
import { loadMmlu } from '../../src/datasets/load-mmlu.js';
import { fixture, tempFile } from './temp-file.js';

describe.skipIf(!sharedData)('loadMmlu on the shared copy (header row, answers 0–3)', () => {
  const directory = () => sharedDataPath('general', 'mmlu');

  it('loads the 14,042 test questions of 57 subjects, ids subject:row', async () => {
    const task = await loadMmlu(directory());
    expect(task.items).toHaveLength(14042);
    expect(new Set(task.items.map((item) => item.id.split(':')[0])).size).toBe(57);
    expect(task.items[0]).toEqual({
      id: 'abstract_algebra:0',
      prompt: 'Please select the correct answer for the following questions:\nFind the degree for the given field extension Q(sqrt(2), sqrt(3), sqrt(18)) over Q.\n(A) 0\n(B) 4\n(C) 2\n(D) 6\nAnswer: (',
      options: ['A', 'B', 'C', 'D'],
      answerIndex: 1,
    });
  });

  it('loads the 285 dev questions, and filters subjects', async () => {
    expect((await loadMmlu(directory(), { split: 'dev' })).items).toHaveLength(285);
    const task = await loadMmlu(directory(), { split: 'dev', subjects: ['anatomy', 'virology'] });
    expect(task.items.map((item) => item.id)).toEqual(['anatomy:0', 'anatomy:1', 'anatomy:2', 'anatomy:3', 'anatomy:4', 'virology:0', 'virology:1', 'virology:2', 'virology:3', 'virology:4']);
    await expect(loadMmlu(directory(), { subjects: ['astrology'] })).rejects.toThrow(/Unknown MMLU subject "astrology"[\s\S]*abstract_algebra/);
  });

  it('keeps a question whose quoted field spans lines and ends in CR (college_mathematics dev)', async () => {
    const task = await loadMmlu(directory(), { split: 'dev', subjects: ['college_mathematics'] });
    expect(task.items).toHaveLength(5);
    expect(task.items.some((item) => item.prompt.includes('\r'))).toBe(true);
  });
});

describe('loadMmlu on Hendrycks-format fixtures (no header, letters)', () => {
  it('parses RFC 4180 quoting and orders subjects alphabetically', async () => {
    const task = await loadMmlu(fixture('mmlu'), { split: 'test' });
    expect(task.items.map((item) => item.id)).toEqual(['astronomy:0', 'toy_arithmetic:0', 'toy_arithmetic:1']);
    expect(task.items[0]?.answerIndex).toBe(2);
    expect(task.items[2]).toEqual({
      id: 'toy_arithmetic:1',
      prompt: 'Please select the correct answer for the following questions:\nWhich of these contains a comma, a "quote" and\na newline?\n(A) a, b\n(B) "c"\n(C) d\n(D) e\nf\nAnswer: (',
      options: ['A', 'B', 'C', 'D'],
      answerIndex: 0,
    });
    expect((await loadMmlu(fixture('mmlu'), { split: 'dev' })).items).toHaveLength(1);
    expect((await loadMmlu(fixture('mmlu'), { limit: 2 })).items).toHaveLength(2);
    expect((await loadMmlu(fixture('mmlu', 'test', 'astronomy_test.csv'))).items[0]?.id).toBe('astronomy:0');
  });

  it('names file, row, line and field of malformed rows', async () => {
    const wrongColumns = tempFile('data/test/physics_test.csv', 'Q1,a,b,c,d,A\nQ2,a,b,c,B\n');
    await expect(loadMmlu(wrongColumns)).rejects.toThrow('physics_test.csv row 1 (line 2): expected 6 columns (question, A, B, C, D, answer), found 5');
    const badLetter = tempFile('data/test/physics_test.csv', 'Q1,a,b,c,d,A\nQ2,a,b,c,d,E\n');
    await expect(loadMmlu(badLetter)).rejects.toThrow('physics_test.csv row 1 (line 2, id physics:1): "answer" must be a letter A–D (or an index 0–3), found "E"');
    const emptyQuestion = tempFile('data/test/physics_test.csv', ',a,b,c,d,A\n');
    await expect(loadMmlu(emptyQuestion)).rejects.toThrow(InvalidDatasetError);
    const unclosed = tempFile('data/test/physics_test.csv', 'Q1,a,b,c,d,A\n"Q2,a,b,c,d,A\n');
    await expect(loadMmlu(unclosed)).rejects.toThrow(/physics_test\.csv line 2: a quoted field is never closed/);
  });

  it('rejects an unknown split', async () => {
    // @ts-expect-error: a JavaScript caller or a CLI flag can pass anything.
    await expect(loadMmlu(fixture('mmlu'), { split: 'validation' })).rejects.toThrow(InvalidInputError);
  });
});
