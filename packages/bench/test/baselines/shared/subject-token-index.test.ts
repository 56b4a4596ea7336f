import { InvalidInputError, type Tokenizer } from '@recipe-kit/core';
import { resolveTokenizer } from '@recipe-kit/llm-adapters';
import { beforeAll, describe, expect, it } from 'vitest';
import { subjectTokenIndex } from '../../../src/baselines/shared/subject-token-index.js';

const CASES: [prompt: string, subject: string][] = [
  ['Danielle Darrieux, a native speaker of', 'Danielle Darrieux'],
  ['The mother tongue of Danielle Darrieux is', 'Danielle Darrieux'],
  ['By trade, Dofu Trasash is a', 'Dofu Trasash'],
  ["Apple's headquarters are in", 'Apple'],
  ['Toyota Corolla is produced by', 'Toyota Corolla'],
  ['In Ålesund, the language is', 'Ålesund'],
  ['The capital of Lower Saxony is', 'Saxony'],
  ['Wait. The mother tongue of Anna Berg is', 'Anna Berg'],
];

let tokenizers: Tokenizer[];
beforeAll(async () => {
  tokenizers = [await resolveTokenizer('llama2'), await resolveTokenizer('gpt2')];
});

describe('subjectTokenIndex', () => {
  it('finds the last subject token: the prompt up to the subject tokenizes to the ids before it, and that token ends the subject', () => {
    for (const tokenizer of tokenizers) {
      for (const [prompt, subject] of CASES) {
        const { ids, subjectIndex } = subjectTokenIndex(tokenizer, prompt, subject);
        expect(ids).toEqual(tokenizer.encode(prompt, { addBos: true }));
        const upToSubject = tokenizer.decode(ids.slice(0, subjectIndex + 1));
        const end = prompt.indexOf(subject) + subject.length;
        expect(upToSubject.trim(), `${tokenizer.name}: ${prompt}`).toBe(prompt.slice(0, end).trim());
        // The next token starts after the subject.
        expect(tokenizer.decode(ids.slice(0, subjectIndex + 2)).length).toBeGreaterThan(upToSubject.length);
      }
    }
  });

  it('counts the BOS for LLaMA and none for GPT-2', () => {
    const [llama, gpt2] = tokenizers as [Tokenizer, Tokenizer];
    expect(subjectTokenIndex(gpt2, 'Paris is', 'Paris').subjectIndex).toBe(0);
    expect(subjectTokenIndex(llama, 'Paris is', 'Paris').subjectIndex).toBe(llama.encode('Paris', { addBos: true }).length - 1);
    expect(llama.encode('Paris', { addBos: true })[0]).toBe(llama.bosId);
  });

  it('takes the first occurrence of a repeated subject and repairs the subject\'s case', () => {
    const [, gpt2] = tokenizers as [Tokenizer, Tokenizer];
    expect(subjectTokenIndex(gpt2, 'Rome and Rome again', 'Rome').subjectIndex).toBe(gpt2.encode('Rome').length - 1);
    expect(subjectTokenIndex(gpt2, 'The Beatles played', 'the Beatles').subjectIndex).toBe(gpt2.encode('The Beatles').length - 1);
  });

  it('refuses a subject that is not in the prompt, or is empty, with the fix', () => {
    for (const tokenizer of tokenizers) {
      expect(() => subjectTokenIndex(tokenizer, 'Paris is the capital of', 'Berlin')).toThrow(InvalidInputError);
      expect(() => subjectTokenIndex(tokenizer, 'Paris is the capital of', 'Berlin')).toThrow(/does not occur in the prompt[^]*fix the request/);
      expect(() => subjectTokenIndex(tokenizer, 'Paris is', ' ')).toThrow(/empty subject/);
    }
  });
});
