import { describe, expect, it } from 'vitest';
import { sharedData, sharedDataPath } from '@recipe-kit/core/testing';
import { loadCsqa } from '../../src/datasets/load-csqa.js';
import { fixture, tempFile } from './temp-file.js';

const firstPrompt =
  'Please select the correct answer for the following questions:\n' +
  'A revolving door is convenient for two direction travel, but it also serves as a security measure at a what?\n' +
  '(A) bank\n(B) library\n(C) department store\n(D) mall\n(E) new york\nAnswer: (';

const line = (overrides: Record<string, unknown>): string =>
  JSON.stringify({ id: 'q1', question: 'Where?', question_concept: 'x', choices: { label: ['A', 'B'], text: ['here', 'there'] }, answerKey: 'B', ...overrides });

describe.skipIf(!sharedData)('loadCsqa on the shared validation split', () => {
  it('loads 1,221 questions in RECIPE\'s template', async () => {
    const task = await loadCsqa(sharedDataPath('general', 'csqa', 'dev_rand_split.jsonl'));
    expect(task.name).toBe('csqa');
    expect(task.kind).toBe('multiple-choice');
    expect(task.items).toHaveLength(1221);
    expect(task.items[0]).toEqual({ id: '1afa02df02c908a558b4036e80242fac', prompt: firstPrompt, options: ['A', 'B', 'C', 'D', 'E'], answerIndex: 0 });
    expect(task.items[2]?.answerIndex).toBe(1);
  });

  it('honours limit', async () => {
    expect((await loadCsqa(sharedDataPath('general', 'csqa', 'dev_rand_split.jsonl'), { limit: 10 })).items).toHaveLength(10);
  });
});

describe('loadCsqa on fixtures and malformed lines', () => {
  it('reads the original tau-nlp format (question.stem, choice objects) into the same prompt', async () => {
    const task = await loadCsqa(fixture('csqa-original.jsonl'));
    expect(task.items).toHaveLength(2);
    expect(task.items[0]?.prompt).toBe(firstPrompt);
    expect(task.items[1]).toMatchObject({ id: 'b8c0a4703079cf661d7261a60a1bcbff', answerIndex: 1 });
  });

  it('names the line and field of an unknown answer letter, a wrong type and a truncated line', async () => {
    await expect(loadCsqa(tempFile('dev.jsonl', `${line({})}\n${line({ id: 'q2', answerKey: 'F' })}\n`))).rejects.toThrow('dev.jsonl record 1 (line 2, id q2): "answerKey" must be one of the choice labels A, B, found "F"');
    await expect(loadCsqa(tempFile('dev.jsonl', line({ choices: { label: ['A', 'B'], text: ['here'] } })))).rejects.toThrow('dev.jsonl record 0 (line 1, id q1): "choices.text" must be a list as long as "choices.label" (2)');
    await expect(loadCsqa(tempFile('dev.jsonl', line({ question: 42 })))).rejects.toThrow('"question" must be a non-empty string, found number 42');
    await expect(loadCsqa(tempFile('dev.jsonl', `${line({})}\n${line({}).slice(0, 40)}\n`))).rejects.toThrow(/dev\.jsonl record 1 \(line 2\): not valid JSON/);
  });
});
