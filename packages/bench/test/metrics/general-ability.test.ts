import { describe, expect, it } from 'vitest';
import { scoreGeneralAbility } from '../../src/metrics/general-ability.js';
import { ScriptedModel } from '../support/scripted-model.js';

describe('general-ability metrics (hand-computed)', async () => {
  it('multiple choice: a hit when the gold option\'s first token scores highest among the options', async () => {
    const model = new ScriptedModel();
    model.candidateAnswers.set('q1 Answer: (', [-2, -0.5, -3]); // picks B
    model.candidateAnswers.set('q2 Answer: (', [-0.1, -0.5, -3]); // picks A
    model.candidateAnswers.set('q3 Answer: (', [-4, -4.5, -1]); // picks C
    const result = await scoreGeneralAbility(model, {
      name: 'toy',
      kind: 'multiple-choice',
      items: [
        { id: '1', prompt: 'q1 Answer: (', options: ['A', 'B', 'C'], answerIndex: 1 },
        { id: '2', prompt: 'q2 Answer: (', options: ['A', 'B', 'C'], answerIndex: 2 },
        { id: '3', prompt: 'q3 Answer: (', options: ['A', 'B', 'C'], answerIndex: 2 },
      ],
    });
    expect(result.score).toBeCloseTo(2 / 3, 12);
    expect(result.metric).toBe('option-token accuracy');
    // The word tokenizer joins "(" and the option: the candidates are the joint tokens "(A", "(B", "(C".
    expect(model.calls[0]?.candidateIds).toEqual(['(A', '(B', '(C'].map((w) => model.id(w)));
  });

  it('generative: mean over items of exp(mean log p) of the answer tokens (1/perplexity)', async () => {
    const model = new ScriptedModel();
    model.logProbs.set('Context one Answer:', [-1, -3]); // 1/ppl = e^-2
    model.logProbs.set('Context two Answer:', [-0.5]); // e^-0.5
    const result = await scoreGeneralAbility(model, {
      name: 'toy-squad',
      kind: 'generative',
      items: [
        { id: 'a', prompt: 'Context one Answer:', answer: 'N/A now' },
        { id: 'b', prompt: 'Context two Answer:', answer: 'Paris' },
      ],
    });
    expect(result.score).toBeCloseTo((Math.exp(-2) + Math.exp(-0.5)) / 2, 12);
  });
});
