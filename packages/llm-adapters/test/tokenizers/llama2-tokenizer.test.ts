import { InvalidInputError } from '@recipe-kit/core';
import { describe, expect, it } from 'vitest';
import { createLlama2Tokenizer } from '../../src/tokenizers/index.js';
import { readFixture } from './read-fixture.js';

/** Written by scripts/reference-token-ids.py with Google's SentencePiece, never by our code. */
interface SentencePieceFixture {
  sentencepiece: string;
  vocabSize: number;
  bosId: number;
  eosId: number;
  cases: { text: string; ids: number[]; pieces: string[]; decoded: string }[];
}

const reference = readFixture<SentencePieceFixture>('llama2-reference-ids.json');
const tokenizer = createLlama2Tokenizer();

describe(`createLlama2Tokenizer against SentencePiece ${reference.sentencepiece}`, () => {
  it('declares the LLaMA-2 vocabulary and special ids SentencePiece reports', () => {
    expect(reference.cases.length).toBeGreaterThanOrEqual(25);
    expect(tokenizer.vocabSize).toBe(reference.vocabSize);
    expect(tokenizer.bosId).toBe(reference.bosId);
    expect(tokenizer.eosId).toBe(reference.eosId);
  });

  it.each(reference.cases)('encodes $text exactly as SentencePiece', ({ text, ids }) => {
    expect(tokenizer.encode(text, { addBos: false })).toEqual(ids);
    expect(tokenizer.encode(text, { addBos: true })).toEqual([1, ...ids]);
    // addBos defaults to true.
    expect(tokenizer.encode(text)).toEqual([1, ...ids]);
  });

  it.each(reference.cases)('decodes the ids of $text back to it, as SentencePiece does', ({ text, ids, decoded }) => {
    expect(decoded).toBe(text);
    expect(tokenizer.decode(ids)).toBe(decoded);
    expect(tokenizer.decode(tokenizer.encode(text))).toBe(text);
  });

  it('drops BOS and EOS wherever they are', () => {
    const hello = tokenizer.encode('Hello world', { addBos: false });
    expect(tokenizer.decode([1, ...hello, 2])).toBe('Hello world');
    expect(tokenizer.decode([2, 1, ...hello, 2, 2])).toBe('Hello world');
    expect(tokenizer.decode([1, 2])).toBe('');
  });

  it('decodes a continuation like SentencePiece: the first piece loses its dummy-prefix space', () => {
    // SentencePiece's decode([931]) ("▁time") is "time"; see the class comment.
    const [time] = tokenizer.encode('time', { addBos: false });
    expect(tokenizer.decode([time as number])).toBe('time');
  });

  it('rejects ids outside the vocabulary with a clear error', () => {
    expect(() => tokenizer.decode([1, 32000])).toThrow(InvalidInputError);
    expect(() => tokenizer.decode([-1])).toThrow(/position 0/);
    expect(() => tokenizer.decode([1.5])).toThrow(InvalidInputError);
  });
});
