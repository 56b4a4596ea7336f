import { existsSync } from 'node:fs';
import path from 'node:path';
import { InvalidInputError, type Tokenizer } from '@recipe-kit/core';
import type { TokenizerName } from './architecture.js';
import { createGpt2Tokenizer, createLlama2Tokenizer, loadLlama2cTokenizer } from './tokenizers/index.js';

const NAMED_TOKENIZERS: Record<TokenizerName, () => Tokenizer> = {
  llama2: createLlama2Tokenizer,
  gpt2: createGpt2Tokenizer,
};

/** The name under which a tokenizer is recorded in a saved config.json, if it has one. */
export function tokenizerNameOf(tokenizer: Tokenizer): TokenizerName | null {
  if (tokenizer.name === createLlama2Tokenizer().name) return 'llama2';
  if (tokenizer.name === createGpt2Tokenizer().name) return 'gpt2';
  return null;
}

function isTokenizerName(value: string): value is TokenizerName {
  return Object.hasOwn(NAMED_TOKENIZERS, value);
}

/**
 * A tokenizer from what the user gave: an instance, a known name (`llama2`, `gpt2`), or the path
 * of a llama2.c `tokenizer.bin`.
 */
export async function resolveTokenizer(spec: string | Tokenizer): Promise<Tokenizer> {
  if (typeof spec !== 'string') return spec;
  if (isTokenizerName(spec)) return NAMED_TOKENIZERS[spec]();
  if (existsSync(spec)) {
    if (spec.endsWith('.bin')) return loadLlama2cTokenizer(spec);
    throw new InvalidInputError(
      `Tokenizer file ${spec} is not a llama2.c tokenizer.bin.`,
      `Pass a llama2.c tokenizer.bin, or a tokenizer name: ${Object.keys(NAMED_TOKENIZERS).join(', ')} (LLaMA-2 SentencePiece and GPT-2 BPE ship with the package).`,
    );
  }
  throw new InvalidInputError(
    `Tokenizer "${spec}" is neither a known name nor an existing file.`,
    `Use one of ${Object.keys(NAMED_TOKENIZERS).join(', ')}, or the path of a llama2.c tokenizer.bin.`,
  );
}

/** For a llama2.c checkpoint: a `tokenizer.bin` or `tok<vocab>.bin` beside it, if present. */
export function findLlama2cTokenizerBeside(checkpoint: string, vocabSize: number): string | null {
  const directory = path.dirname(checkpoint);
  for (const candidate of ['tokenizer.bin', `tok${vocabSize}.bin`]) {
    const file = path.join(directory, candidate);
    if (existsSync(file)) return file;
  }
  return null;
}

export { isTokenizerName };
