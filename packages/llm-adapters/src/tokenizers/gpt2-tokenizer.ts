import type { Tokenizer } from '@recipe-kit/core';
// gpt-tokenizer's per-encoding entry point loads only the r50k_base ranks (GPT-2's, which GPT-J reuses),
// not the larger cl100k/o200k tables its main entry would pull in.
import { decode as decodeR50k, encode as encodeR50k } from 'gpt-tokenizer/encoding/r50k_base';
import { assertTokenIds } from './assert-token-ids.js';

/** 50,000 merges + 256 byte tokens + `<|endoftext|>`. GPT-J's embedding has 50,400 rows; the extra rows are padding no text maps to. */
const vocabSize = 50257;
const endOfTextId = 50256;
const name = 'gpt2-bpe';

/**
 * No special tokens are recognised inside text: `<|endoftext|>` typed in a prompt is encoded as the
 * characters it consists of, like any other text, instead of throwing (the library's default) or
 * silently becoming the EOS id. Callers that want EOS append `eosId` themselves.
 */
const plainTextOnly = { disallowedSpecial: new Set<string>() };

/**
 * GPT-2 byte-level BPE (r50k_base), the tokenizer of GPT-2 and GPT-J. It has no BOS, so `addBos` is
 * ignored; `<|endoftext|>` (50256) is the EOS and is dropped by `decode`.
 */
export function createGpt2Tokenizer(): Tokenizer {
  return {
    name,
    vocabSize,
    bosId: null,
    eosId: endOfTextId,
    encode(text: string): number[] {
      return encodeR50k(text, plainTextOnly);
    },
    decode(ids: readonly number[]): string {
      assertTokenIds(ids, vocabSize, name);
      return decodeR50k(ids.filter((id) => id !== endOfTextId));
    },
  };
}
