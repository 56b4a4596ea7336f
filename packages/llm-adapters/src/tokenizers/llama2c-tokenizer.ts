import { readFile } from 'node:fs/promises';
import path from 'node:path';
import {
  DataNotFoundError,
  InvalidCheckpointError,
  InvalidConfigError,
  InvalidInputError,
  type Tokenizer,
} from '@recipe-kit/core';
import { assertTokenIds } from './assert-token-ids.js';

// Fixed by llama2.c (run.c hard-codes them), not stored in tokenizer.bin.
const bosId = 1;
const eosId = 2;
/** run.c maps a byte with no piece of its own to id `byte + 3`: ids 3 … 258 are `<0x00>` … `<0xFF>`. */
const byteFallbackOffset = 3;
/** run.c starts its best-merge search at this float; a pair scoring at or below it is never merged. */
const noMergeScore = Math.fround(-1e10);
const spaceByte = 0x20;

interface Llama2cVocabulary {
  /** Raw UTF-8 bytes of each piece, by id (`▁` already replaced by a space by llama2.c's exporter). */
  readonly pieces: readonly Uint8Array[];
  readonly scores: Float32Array;
  /**
   * Piece → id, keyed by the piece's bytes as a latin1 string: one char per byte, so joining two keys
   * gives the key of the joined bytes, exactly like run.c's `sprintf("%s%s")` + `strcmp` lookup,
   * even for pieces that are not whole UTF-8 characters.
   */
  readonly idByPiece: ReadonlyMap<string, number>;
}

/**
 * Loads a tokenizer in karpathy/llama2.c's `tokenizer.bin` format and tokenizes exactly as its
 * `run.c` does (dummy-prefix space, byte fallback, greedy highest-score merges), so ids match what
 * llama2.c models (e.g. stories260K with its 512-token `tok512.bin`) were trained on.
 *
 * The file holds no vocabulary size: every token up to end of file is read, and `options.vocabSize`
 * (the model's, from its checkpoint header) is checked against that count when given.
 */
export async function loadLlama2cTokenizer(
  file: string,
  options?: { vocabSize?: number },
): Promise<Tokenizer> {
  const expectedVocabSize = options?.vocabSize;
  if (expectedVocabSize !== undefined && (!Number.isInteger(expectedVocabSize) || expectedVocabSize <= 0)) {
    throw new InvalidConfigError(
      `loadLlama2cTokenizer: vocabSize must be a positive integer, got ${String(expectedVocabSize)}.`,
      "Pass the model's vocabulary size (from its checkpoint header), or leave it out to accept the file's.",
    );
  }
  let bytes: Uint8Array;
  try {
    bytes = await readFile(file);
  } catch (cause) {
    throw new DataNotFoundError(
      `Cannot read llama2.c tokenizer file ${file}.`,
      'Check the path; llama2.c models ship it as tokenizer.bin (tok512.bin for stories260K).',
      { cause },
    );
  }
  const vocabulary = parseTokenizerBin(bytes, file);
  const vocabSize = vocabulary.pieces.length;
  if (expectedVocabSize !== undefined && expectedVocabSize !== vocabSize) {
    throw new InvalidCheckpointError(
      `llama2.c tokenizer ${file} has ${vocabSize} tokens but the model expects ${expectedVocabSize}.`,
      "Use the tokenizer.bin exported together with this model's checkpoint.",
    );
  }
  return createTokenizer(vocabulary, file);
}

/**
 * Layout (little-endian, as llama2.c's `tokenizer.py` writes it on x86/ARM):
 * int32 max_token_length, then per token: float32 score, int32 byte length, the bytes.
 */
function parseTokenizerBin(bytes: Uint8Array, file: string): Llama2cVocabulary {
  const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  const fail = (problem: string): never => {
    throw new InvalidCheckpointError(
      `llama2.c tokenizer ${file} is malformed: ${problem}.`,
      'Re-download or re-export the file (llama2.c tokenizer.py writes it); it may be truncated or not a tokenizer.bin.',
    );
  };
  if (bytes.byteLength < 4) fail(`the file has ${bytes.byteLength} bytes, too few for the int32 max_token_length header`);
  const maxTokenLength = view.getInt32(0, true);
  if (maxTokenLength <= 0) fail(`max_token_length is ${maxTokenLength}, must be positive`);

  const pieces: Uint8Array[] = [];
  const scores: number[] = [];
  let offset = 4;
  while (offset < bytes.byteLength) {
    const index = pieces.length;
    if (offset + 8 > bytes.byteLength) {
      fail(`token ${index} at byte ${offset} is truncated: its score and length need 8 bytes, ${bytes.byteLength - offset} remain`);
    }
    const score = view.getFloat32(offset, true);
    const length = view.getInt32(offset + 4, true);
    offset += 8;
    if (length < 0) fail(`token ${index} has negative byte length ${length}`);
    // run.c sizes its merge buffer from max_token_length; a longer piece means the header lies.
    if (length > maxTokenLength) fail(`token ${index} has byte length ${length}, above max_token_length ${maxTokenLength}`);
    if (offset + length > bytes.byteLength) {
      fail(`token ${index} is truncated: it needs ${length} bytes, ${bytes.byteLength - offset} remain`);
    }
    pieces.push(bytes.slice(offset, offset + length));
    scores.push(score);
    offset += length;
  }
  if (pieces.length <= eosId) fail(`it holds ${pieces.length} tokens; llama2.c needs at least <unk>, <s>, </s>`);

  const idByPiece = new Map<string, number>();
  pieces.forEach((piece, id) => {
    const key = latin1(piece);
    // Duplicate pieces make run.c's bsearch pick an unspecified one; we keep the lowest id, deterministically.
    if (!idByPiece.has(key)) idByPiece.set(key, id);
  });
  return { pieces, scores: Float32Array.from(scores), idByPiece };
}

function latin1(bytes: Uint8Array | readonly number[]): string {
  let text = '';
  for (const byte of bytes) text += String.fromCharCode(byte);
  return text;
}

function createTokenizer(vocabulary: Llama2cVocabulary, file: string): Tokenizer {
  const { pieces, scores, idByPiece } = vocabulary;
  const vocabSize = pieces.length;
  const name = `llama2c:${path.basename(file)}`;
  const pieceKeys = pieces.map(latin1);
  const encoder = new TextEncoder();
  // ignoreBOM: a decoded text that starts with U+FEFF must keep it; the default decoder would eat it.
  const decoder = new TextDecoder('utf-8', { ignoreBOM: true });

  function lookupPair(left: number, right: number): number {
    return idByPiece.get(`${pieceKeys[left] ?? ''}${pieceKeys[right] ?? ''}`) ?? -1;
  }

  function encode(text: string, options?: { addBos?: boolean }): number[] {
    const addBos = options?.addBos ?? true;
    const bytes = encoder.encode(text);
    const tokens: number[] = [];
    if (addBos) tokens.push(bosId);
    // SentencePiece's add_dummy_prefix, which run.c reproduces: non-empty text starts with a space piece.
    if (bytes.length > 0) {
      const dummyPrefixId = idByPiece.get(' ');
      if (dummyPrefixId === undefined) {
        throw new InvalidCheckpointError(
          `llama2.c tokenizer ${file} has no " " piece, which run.c's encoder adds before every text.`,
          'Use a tokenizer.bin exported by llama2.c tokenizer.py from a SentencePiece model.',
        );
      }
      tokens.push(dummyPrefixId);
    }

    // One UTF-8 character (run.c: a lead byte plus at most 3 continuation bytes) at a time.
    let character: number[] = [];
    for (let index = 0; index < bytes.length; index++) {
      const byte = bytes[index] as number;
      if ((byte & 0xc0) !== 0x80) character = [];
      character.push(byte);
      const next = bytes[index + 1];
      if (next !== undefined && (next & 0xc0) === 0x80 && character.length < 4) continue;
      const id = idByPiece.get(latin1(character));
      if (id !== undefined) {
        tokens.push(id);
      } else {
        for (const characterByte of character) {
          const fallbackId = characterByte + byteFallbackOffset;
          if (fallbackId >= vocabSize) {
            throw new InvalidInputError(
              `${name}: byte 0x${characterByte.toString(16)} of ${JSON.stringify(text.slice(0, 40))} has no piece and the ${vocabSize}-token vocabulary has no byte-fallback id ${fallbackId}.`,
              'Use text this vocabulary covers, or a tokenizer.bin with the 256 <0xXX> byte pieces (ids 3 … 258).',
            );
          }
          tokens.push(fallbackId);
        }
      }
      character = [];
    }

    // run.c's merge: repeatedly merge the adjacent pair whose joined piece is in the vocabulary with
    // the highest score (first such pair on ties, as run.c's strict `>` keeps it). Pair lookups are
    // cached and only the two pairs touching a merge are recomputed, which keeps long texts fast
    // without changing which merge wins.
    const pairIds: number[] = [];
    for (let index = 0; index + 1 < tokens.length; index++) {
      pairIds.push(lookupPair(tokens[index] as number, tokens[index + 1] as number));
    }
    for (;;) {
      let bestScore = noMergeScore;
      let bestIndex = -1;
      for (let index = 0; index < pairIds.length; index++) {
        const id = pairIds[index] as number;
        if (id !== -1 && (scores[id] as number) > bestScore) {
          bestScore = scores[id] as number;
          bestIndex = index;
        }
      }
      if (bestIndex === -1) break;
      tokens[bestIndex] = pairIds[bestIndex] as number;
      tokens.splice(bestIndex + 1, 1);
      pairIds.splice(bestIndex, 1);
      if (bestIndex > 0) {
        pairIds[bestIndex - 1] = lookupPair(tokens[bestIndex - 1] as number, tokens[bestIndex] as number);
      }
      if (bestIndex < pairIds.length) {
        pairIds[bestIndex] = lookupPair(tokens[bestIndex] as number, tokens[bestIndex + 1] as number);
      }
    }
    return tokens;
  }

  function decode(ids: readonly number[]): string {
    assertTokenIds(ids, vocabSize, name);
    const bytes: number[] = [];
    let previousId = -1;
    for (const id of ids) {
      if (id !== bosId && id !== eosId) {
        let piece = pieces[id] as Uint8Array;
        // run.c: the piece right after BOS loses its leading (dummy-prefix) space. Without a BOS the
        // space stays, which is what a continuation ("… upon" + " a") needs.
        if (previousId === bosId && piece[0] === spaceByte) piece = piece.subarray(1);
        const rawByte = parseBytePiece(piece);
        if (rawByte === null) bytes.push(...piece);
        else bytes.push(rawByte);
      }
      previousId = id;
    }
    // Joined first, decoded once: byte-fallback tokens spell a character across several ids.
    return decoder.decode(Uint8Array.from(bytes));
  }

  return { name, vocabSize, bosId, eosId, encode, decode };
}

/** `<0xXX>` pieces stand for the raw byte XX (run.c's `sscanf(piece, "<0x%02hhX>")`). */
function parseBytePiece(piece: Uint8Array): number | null {
  if (piece.length !== 6) return null;
  const match = /^<0x([0-9A-Fa-f]{2})>$/.exec(latin1(piece));
  return match?.[1] === undefined ? null : Number.parseInt(match[1], 16);
}
