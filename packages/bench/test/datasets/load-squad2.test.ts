import { describe, expect, it } from 'vitest';
import { loadSquad2, squad2Prompt } from '../../src/datasets/load-squad2.js';
import { fixture, tempFile, tempJson } from './temp-file.js';

describe('loadSquad2 on an official-format fixture', () => {
  it('builds RECIPE\'s prompt and uses the first answer, or N/A when impossible', async () => {
    const task = await loadSquad2(fixture('squad2-dev.json'));
    expect(task.kind).toBe('generative');
    expect(task.items).toHaveLength(4);
    expect(task.items[0]).toEqual({
      id: '56ddde6b9a695914005b9628',
      prompt:
        'Please read the context and find the answer to the question. If there is no answer, reply N/A.\n' +
        'Title: Normans\n' +
        'Context: The Normans (Norman: Nourmands; French: Normands; Latin: Normanni) were the people who in the 10th and 11th centuries gave their name to Normandy, a region in France.\n' +
        'Question: In what country is Normandy located?\n' +
        'Answer:',
      answer: 'France',
    });
    expect(task.items[1]?.answer).toBe('N/A');
    expect(task.items[3]?.prompt).toContain('\nTitle: Super_Bowl_50\n');
    expect((await loadSquad2(fixture('squad2-dev.json'), { limit: 3 })).items.map((item) => item.id)).toEqual(['56ddde6b9a695914005b9628', '5ad39d53604f3c001a3fe8d3', '56dddf4066d3e219004dad5f']);
  });

  it('reads the Hugging Face JSON Lines export (empty answer list = unanswerable)', async () => {
    const rows = [
      { id: 'a', title: 'T', context: 'C', question: 'Q?', answers: { text: ['x', 'x'], answer_start: [0, 0] } },
      { id: 'b', title: 'T', context: 'C', question: 'Q2?', answers: { text: [], answer_start: [] } },
    ];
    const task = await loadSquad2(tempFile('validation.jsonl', rows.map((row) => JSON.stringify(row)).join('\n')));
    expect(task.items).toEqual([
      { id: 'a', prompt: squad2Prompt('T', 'C', 'Q?'), answer: 'x' },
      { id: 'b', prompt: squad2Prompt('T', 'C', 'Q2?'), answer: 'N/A' },
    ]);
  });

  it('names the question, its id and the nested field of malformed data', async () => {
    const qa = { id: 'q1', question: 'Who?', answers: [{ text: 'Me' }], is_impossible: false };
    const file = (qas: unknown[]) => tempJson('dev-v2.0.json', { version: 'v2.0', data: [{ title: 'T', paragraphs: [{ context: 'C', qas }] }] });
    await expect(loadSquad2(file([qa, { ...qa, id: 'q2', answers: [] }]))).rejects.toThrow('dev-v2.0.json question 1 (id q2): "data[0].paragraphs[0].qas[1].answers" must be a non-empty list, found an empty list');
    await expect(loadSquad2(file([{ ...qa, is_impossible: 'no' }]))).rejects.toThrow('"data[0].paragraphs[0].qas[0].is_impossible" must be true or false, found "no"');
    await expect(loadSquad2(file([{ ...qa, answers: [{ text: null }] }]))).rejects.toThrow('(id q1): "data[0].paragraphs[0].qas[0].answers[0].text" must be a non-empty string, found null');
    await expect(loadSquad2(tempJson('dev-v2.0.json', [qa]))).rejects.toThrow('dev-v2.0.json file 0: must be a JSON object, found a list of 1');
    await expect(loadSquad2(tempJson('dev-v2.0.json', { version: 'v2.0' }))).rejects.toThrow('"data" must be a list, found nothing');
  });
});
