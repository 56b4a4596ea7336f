import { readFile, writeFile, mkdir } from 'node:fs/promises';
import path from 'node:path';
import { DataNotFoundError, InvalidCheckpointError, InvalidInputError } from '@recipe-kit/core';
import { padTokenSequences, type EncoderTokenizer, type TokenizedBatch } from './encoder-tokenizer.js';

/** GPT-2's pre-tokenizer: contractions, letter runs, digit runs, other symbols, whitespace. */
const PRE_TOKENIZER = /'s|'t|'re|'ve|'m|'ll|'d| ?\p{L}+| ?\p{N}+| ?[^\s\p{L}\p{N}]+|\s+(?!\S)|\s+/gu;

/** GPT-2's reversible map from bytes to printable unicode characters. */
function byteToCharacterTable(): string[] {
  const printable: number[] = [];
  for (let b = 33; b <= 126; b++) printable.push(b);
  for (let b = 161; b <= 172; b++) printable.push(b);
  for (let b = 174; b <= 255; b++) printable.push(b);
  const table = new Array<string>(256);
  let extra = 0;
  for (let b = 0; b < 256; b++) {
    table[b] = printable.includes(b) ? String.fromCharCode(b) : String.fromCharCode(256 + extra++);
  }
  return table;
}

export interface ByteLevelBpeFiles {
  /** Contents of vocab.json: token string → id. */
  vocabJson: string;
  /** Contents of merges.txt (an optional `#version` line, then one "a b" merge per line, by priority). */
  mergesText: string;
}

/**
 * RoBERTa's tokenizer: GPT-2 byte-level BPE (same merges as GPT-2) with RoBERTa's own vocab.json ids
 * (which differ from GPT-2's: `<s>`=0, `<pad>`=1, `</s>`=2, `<unk>`=3, then tokens by fairseq frequency).
 * Each text becomes `<s> tokens </s>`, truncated to maxLength with `</s>` kept (HF truncation).
 * `add_prefix_space` is false, as roberta-base.
 */
export class ByteLevelBpeTokenizer implements EncoderTokenizer {
  readonly name = 'roberta-byte-level-bpe';
  readonly padId: number;
  readonly bosId: number;
  readonly eosId: number;
  readonly unknownId: number;
  private readonly vocabulary: Map<string, number>;
  private readonly mergeRanks = new Map<string, number>();
  private readonly byteCharacters = byteToCharacterTable();
  private readonly cache = new Map<string, number[]>();

  constructor(private readonly files: ByteLevelBpeFiles, source = 'vocab.json/merges.txt') {
    let parsed: unknown;
    try {
      parsed = JSON.parse(files.vocabJson);
    } catch (cause) {
      throw new InvalidCheckpointError(`${source}: vocab.json is not JSON.`, 'Use the tokenizer files of the checkpoint.', { cause });
    }
    if (typeof parsed !== 'object' || parsed === null) throw new InvalidCheckpointError(`${source}: vocab.json is not an object.`, 'Use the checkpoint vocab.json.');
    this.vocabulary = new Map(Object.entries(parsed as Record<string, number>));
    const special = (token: string): number => {
      const id = this.vocabulary.get(token);
      if (id === undefined) throw new InvalidCheckpointError(`${source}: vocab.json has no "${token}".`, 'This tokenizer expects RoBERTa special tokens.');
      return id;
    };
    this.bosId = special('<s>');
    this.padId = special('<pad>');
    this.eosId = special('</s>');
    this.unknownId = special('<unk>');
    let rank = 0;
    for (const line of files.mergesText.split('\n')) {
      if (line.startsWith('#version') || line.trim() === '') continue;
      this.mergeRanks.set(line.replace(/\r$/, ''), rank++);
    }
  }

  /** Reads vocab.json and merges.txt from a Hugging Face directory. */
  static async fromDirectory(dir: string): Promise<ByteLevelBpeTokenizer> {
    const read = async (name: string): Promise<string> =>
      readFile(path.join(dir, name), 'utf8').catch((cause: unknown) => {
        throw new DataNotFoundError(`${path.join(dir, name)} is missing.`, 'A RoBERTa directory needs vocab.json and merges.txt (or inject a tokenizer).', { cause });
      });
    return new ByteLevelBpeTokenizer({ vocabJson: await read('vocab.json'), mergesText: await read('merges.txt') }, dir);
  }

  /** Ids of the text's tokens, without special tokens. */
  encodeText(text: string): number[] {
    const ids: number[] = [];
    for (const match of text.matchAll(PRE_TOKENIZER)) {
      const piece = match[0];
      let pieceIds = this.cache.get(piece);
      if (!pieceIds) {
        const characters = [...Buffer.from(piece, 'utf8')].map((b) => this.byteCharacters[b] as string);
        pieceIds = this.bpe(characters).map((token) => this.vocabulary.get(token) ?? this.unknownId);
        if (this.cache.size < 100_000) this.cache.set(piece, pieceIds);
      }
      ids.push(...pieceIds);
    }
    return ids;
  }

  tokenize(texts: readonly string[], maxLength: number): TokenizedBatch {
    if (maxLength < 2) throw new InvalidInputError(`maxLength ${maxLength} leaves no room for <s> and </s>.`, 'Use maxLength >= 2.');
    return padTokenSequences(
      texts.map((text) => [this.bosId, ...this.encodeText(text).slice(0, maxLength - 2), this.eosId]),
      this.padId,
    );
  }

  async save(dir: string): Promise<void> {
    await mkdir(dir, { recursive: true });
    await writeFile(path.join(dir, 'vocab.json'), this.files.vocabJson);
    await writeFile(path.join(dir, 'merges.txt'), this.files.mergesText);
  }

  /** Standard BPE: repeatedly merge the adjacent pair of lowest rank. */
  private bpe(symbols: string[]): string[] {
    let parts = symbols;
    while (parts.length > 1) {
      let bestRank = Number.POSITIVE_INFINITY;
      let bestIndex = -1;
      for (let i = 0; i < parts.length - 1; i++) {
        const rank = this.mergeRanks.get(`${parts[i]} ${parts[i + 1]}`);
        if (rank !== undefined && rank < bestRank) {
          bestRank = rank;
          bestIndex = i;
        }
      }
      if (bestIndex < 0) break;
      const first = parts[bestIndex] as string;
      const second = parts[bestIndex + 1] as string;
      // Merge every occurrence of this pair, left to right (as GPT-2's reference implementation).
      const merged: string[] = [];
      for (let i = 0; i < parts.length; i++) {
        if (i < parts.length - 1 && parts[i] === first && parts[i + 1] === second) {
          merged.push(first + second);
          i++;
        } else {
          merged.push(parts[i] as string);
        }
      }
      parts = merged;
    }
    return parts;
  }
}
