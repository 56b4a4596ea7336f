import { InvalidInputError } from '@recipe-kit/core';
import { Tiktoken } from 'js-tiktoken/lite';
import r50kBase from 'js-tiktoken/ranks/r50k_base';
import { describe, expect, it } from 'vitest';
import { createGpt2Tokenizer } from '../../src/tokenizers/index.js';
import { readFixture } from './read-fixture.js';

/** Written by scripts/reference-gpt2-ids.mjs with js-tiktoken, a codebase separate from gpt-tokenizer. */
interface TiktokenFixture {
  reference: string;
  vocabSize: number;
  eosId: number;
  cases: { text: string; ids: number[] }[];
}

const reference = readFixture<TiktokenFixture>('gpt2-reference-ids.json');
const tokenizer = createGpt2Tokenizer();

describe(`createGpt2Tokenizer against ${reference.reference}`, () => {
  it('declares GPT-2 vocabulary, no BOS and <|endoftext|> as EOS', () => {
    expect(reference.cases.length).toBeGreaterThanOrEqual(25);
    expect(tokenizer.vocabSize).toBe(50257);
    expect(tokenizer.vocabSize).toBe(reference.vocabSize);
    expect(tokenizer.bosId).toBeNull();
    expect(tokenizer.eosId).toBe(50256);
  });

  it('reproduces ids published by OpenAI (tiktoken README, GPT-2 examples)', () => {
    expect(tokenizer.encode('Hello world')).toEqual([15496, 995]);
    expect(tokenizer.encode('hello world')).toEqual([31373, 995]);
  });

  it.each(reference.cases)('encodes $text as the js-tiktoken fixture', ({ text, ids }) => {
    expect(tokenizer.encode(text)).toEqual(ids);
  });

  it.each(reference.cases)('never adds a BOS and decodes $text back to it', ({ text, ids }) => {
    expect(tokenizer.encode(text, { addBos: true })).toEqual(ids);
    expect(tokenizer.encode(text, { addBos: false })).toEqual(ids);
    expect(tokenizer.decode(ids)).toBe(text);
  });

  it('agrees with a live js-tiktoken r50k_base on texts outside the fixture', () => {
    const live = new Tiktoken(r50kBase);
    const texts = [
      'Paris is the capital of',
      'The Eiffel Tower is located in the city of',
      '  indented\n\tcode() { return 1; }',
      'Numbers 123456789 and 0.000001',
      "O'Neill's café — naïve façade 🤖",
      'ÀÉÎÕÜ àéîõü ÆØÅ æøå',
    ];
    for (const text of texts) expect(tokenizer.encode(text)).toEqual(live.encode(text, [], []));
  });

  it('treats <|endoftext|> typed in text as plain text and drops the EOS id in decode', () => {
    const ids = tokenizer.encode('<|endoftext|>');
    expect(ids).not.toContain(50256);
    expect(tokenizer.decode(ids)).toBe('<|endoftext|>');
    expect(tokenizer.decode([15496, 995, 50256])).toBe('Hello world');
  });

  it('rejects ids outside the vocabulary with a clear error', () => {
    expect(() => tokenizer.decode([50257])).toThrow(InvalidInputError);
    expect(() => tokenizer.decode([15496, -3])).toThrow(/position 1/);
  });
});
