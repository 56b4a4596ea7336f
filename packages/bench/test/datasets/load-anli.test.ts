import { describe, expect, it } from 'vitest';
import { DataNotFoundError } from '@recipe-kit/core';
import { sharedData, sharedDataPath } from '@recipe-kit/core/testing';
import { anliPrompt, loadAnli } from '../../src/datasets/load-anli.js';
import { fixture, tempFile } from './temp-file.js';

describe.skipIf(!sharedData)('loadAnli on the shared analysis CSVs', () => {
  const round = (n: number) => sharedDataPath('general', 'anli', `ANLI_analysis_r${n}_dev.csv`);

  it('loads 1,000 / 1,000 / 1,198 items, finding columns by header name (their order differs per round)', async () => {
    const counts = [];
    for (const n of [1, 2, 3]) counts.push((await loadAnli(round(n))).items.length);
    expect(counts).toEqual([1000, 1000, 1198]);
    const labels = (await loadAnli(round(2))).items.map((item) => item.answerIndex);
    expect([0, 1, 2].map((label) => labels.filter((l) => l === label).length)).toEqual([334, 333, 333]);
  });

  it('loads all three rounds from the directory, with the exact template', async () => {
    const task = await loadAnli(sharedDataPath('general', 'anli'));
    expect(task.items).toHaveLength(3198);
    expect(task.items[0]).toMatchObject({ id: 'bf628cf5-6948-4595-a6d0-daf99beb47b9', options: ['entailment', 'neutral', 'contradiction'], answerIndex: 2 });
    expect(task.items[0]?.prompt).toBe(
      'premise: Linguistics is the scientific study of language, and involves an analysis of language form, language meaning, and language in context. The earliest activities in the documentation and description of language have been attributed to the 4th century BCE Indian grammarian Pāṇini, who wrote a formal description of the Sanskrit language in his "Aṣṭādhyāyī ".\n' +
        'hypothesis: Form and meaning are the only aspects of language linguistics is concerned with.\n' +
        'Please determine whether the logical relationship between the hypothesis and the premise is entailment, neutral, or contradiction: ',
    );
    expect((await loadAnli(sharedDataPath('general', 'anli'), { rounds: [3], limit: 7 })).items).toHaveLength(7);
  });
});

describe('loadAnli on fixtures and malformed files', () => {
  it('reads the official JSON Lines format', async () => {
    const task = await loadAnli(fixture('anli-r1-dev.jsonl'));
    expect(task.items.map((item) => item.answerIndex)).toEqual([0, 1]);
    expect(task.items[1]?.prompt).toBe(anliPrompt('Alexandra Lendon Bastedo was a British actress.', 'Alexandra Bastedo was named by her mother.'));
  });

  it('names row, line, uid and field', async () => {
    const header = 'uid,context,statement,gold_label\r\n';
    await expect(loadAnli(tempFile('r1.csv', `${header}u1,"A, B",C,e\r\nu2,P,H,x\r\n`))).rejects.toThrow('r1.csv row 1 (line 3, uid u2): "gold_label" must be e, n or c (entailment, neutral, contradiction; or 0, 1, 2), found "x"');
    await expect(loadAnli(tempFile('r1.csv', `${header}u1,P,H\r\n`))).rejects.toThrow('r1.csv row 0 (line 2): expected 4 columns (uid, context, statement, gold_label), found 3');
    await expect(loadAnli(tempFile('r1.csv', 'uid,premise,hypothesis\r\n'))).rejects.toThrow('r1.csv: the header has no "context" column');
  });

  it('says which round is missing from a directory', async () => {
    const r1 = tempFile('anli/ANLI_analysis_r1_dev.csv', 'uid,context,statement,gold_label\nu1,P,H,n\n');
    const directory = r1.slice(0, -'/ANLI_analysis_r1_dev.csv'.length);
    await expect(loadAnli(directory)).rejects.toThrow(DataNotFoundError);
    await expect(loadAnli(directory)).rejects.toThrow(/ANLI round 2 not found/);
    expect((await loadAnli(directory, { rounds: [1] })).items).toHaveLength(1);
  });
});
