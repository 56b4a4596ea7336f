import type { Tokenizer } from '@recipe-kit/core';
// llama-tokenizer-js is an ES module with its own types.d.ts; its default export is a ready-built
// instance. Building another (`new LlamaTokenizer()`) would decode the ~600 kB embedded vocabulary
// again, and the instance keeps no per-call state, so every tokenizer we create shares it.
import sharedLlamaTokenizer from 'llama-tokenizer-js';
import { assertTokenIds } from './assert-token-ids.js';

const vocabSize = 32000;
const bosId = 1;
const eosId = 2;
const name = 'llama2-sentencepiece';

/**
 * Meta's LLaMA-2 32k SentencePiece tokenizer (byte fallback, dummy-prefix space), as used by every
 * LLaMA-2 checkpoint. Ids agree with Google's SentencePiece on `tokenizer.model` (tested against a
 * fixture made by it).
 *
 * `decode` follows SentencePiece: the first piece loses its dummy-prefix space whether or not a BOS
 * precedes it, so `decode(encode(text))` is `text`.
 */
export function createLlama2Tokenizer(): Tokenizer {
  return {
    name,
    vocabSize,
    bosId,
    eosId,
    encode(text: string, options?: { addBos?: boolean }): number[] {
      const addBos = options?.addBos ?? true;
      // The library returns [] for '' even when asked for a BOS; SentencePiece with add_bos gives [1],
      // and a model scoring an empty prompt still needs that BOS to condition on.
      if (text.length === 0) return addBos ? [bosId] : [];
      // Third argument: the dummy-prefix space LLaMA-2's SentencePiece model adds (add_dummy_prefix).
      return sharedLlamaTokenizer.encode(text, addBos, true);
    },
    decode(ids: readonly number[]): string {
      assertTokenIds(ids, vocabSize, name);
      // The library only skips a BOS in first position and would print '</s>' as text, so we drop
      // every BOS/EOS first; then it only has to strip the dummy-prefix space (add_preceding_space).
      const textIds = ids.filter((id) => id !== bosId && id !== eosId);
      return sharedLlamaTokenizer.decode(textIds, false, true);
    },
  };
}
