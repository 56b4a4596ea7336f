import { createHash } from 'node:crypto';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { DataNotFoundError, InvalidCheckpointError, InvalidInputError, type Tokenizer } from '@recipe-kit/core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { loadLlama2cTokenizer } from '../../src/tokenizers/index.js';
import { sharedData, sharedDataMissingReason, sharedDataPath } from '../support/shared-data.js';
import { readFixture } from './read-fixture.js';

/** Written by scripts/reference-llama2c-ids.py with llama2.c's run.c itself, never by our code. */
interface RunCFixture {
  tokenizerSha256: string;
  vocabSize: number;
  cases: { text: string; idsWithBos: number[]; decoded: string }[];
}

interface SyntheticToken {
  piece: string;
  score: number;
}

/** Serialises tokens in tokenizer.bin layout: int32 max_token_length, then float32 score, int32 length, bytes. */
function tokenizerBin(tokens: readonly SyntheticToken[]): Buffer {
  const pieces = tokens.map((token) => Buffer.from(token.piece, 'utf8'));
  const header = Buffer.alloc(4);
  header.writeInt32LE(Math.max(...pieces.map((piece) => piece.length)));
  const records = tokens.map((token, index) => {
    const piece = pieces[index] as Buffer;
    const record = Buffer.alloc(8);
    record.writeFloatLE(token.score);
    record.writeInt32LE(piece.length, 4);
    return Buffer.concat([record, piece]);
  });
  return Buffer.concat([header, ...records]);
}

const specialTokens: SyntheticToken[] = [
  { piece: '<unk>', score: 0 },
  // llama2.c's exporter writes BOS/EOS this way.
  { piece: '\n<s>\n', score: 0 },
  { piece: '\n</s>\n', score: 0 },
];
const byteTokens: SyntheticToken[] = Array.from({ length: 256 }, (_, byte) => ({
  piece: `<0x${byte.toString(16).toUpperCase().padStart(2, '0')}>`,
  score: 0,
}));

/**
 * A full-layout vocabulary (specials, 256 bytes at 3 … 258) plus a few pieces whose scores make the
 * merge order matter; expected ids below are worked out by hand from run.c's rule.
 */
const synthetic = {
  space: 259,
  a: 260,
  b: 261,
  c: 262,
  d: 263,
  spaceA: 264,
  ab: 265,
  bc: 266,
  spaceAb: 267,
  aa: 268,
  cc: 269,
  dd: 270,
} as const;
const syntheticTokens: SyntheticToken[] = [
  ...specialTokens,
  ...byteTokens,
  { piece: ' ', score: -1000 },
  { piece: 'a', score: 0 },
  { piece: 'b', score: 0 },
  { piece: 'c', score: 0 },
  { piece: 'd', score: 0 },
  { piece: ' a', score: 0.5 },
  { piece: 'ab', score: 1 },
  { piece: 'bc', score: 2 },
  // Highest score, but reachable only through "ab", which loses to "bc" in "abc".
  { piece: ' ab', score: 5 },
  { piece: 'aa', score: 1 },
  // run.c's best-merge search starts at -1e10 with a strict `>`, so this merge never happens...
  { piece: 'cc', score: -1e10 },
  // ...while this one, barely above it, does.
  { piece: 'dd', score: -1e9 },
];

let temporaryDirectory = '';
function writeTemporary(name: string, bytes: Uint8Array): string {
  const file = path.join(temporaryDirectory, name);
  writeFileSync(file, bytes);
  return file;
}

beforeAll(() => {
  temporaryDirectory = mkdtempSync(path.join(tmpdir(), 'llama2c-tokenizer-'));
});
afterAll(() => {
  rmSync(temporaryDirectory, { recursive: true, force: true });
});

describe('loadLlama2cTokenizer on a hand-checked synthetic tokenizer.bin', () => {
  let tokenizer: Tokenizer;
  beforeAll(async () => {
    tokenizer = await loadLlama2cTokenizer(writeTemporary('synthetic.bin', tokenizerBin(syntheticTokens)));
  });

  it('counts tokens to end of file and uses llama2.c special ids', () => {
    expect(tokenizer.vocabSize).toBe(syntheticTokens.length);
    expect(tokenizer.bosId).toBe(1);
    expect(tokenizer.eosId).toBe(2);
    expect(tokenizer.name).toBe('llama2c:synthetic.bin');
  });

  it('merges the highest-scoring pair first, not the leftmost or the longest', () => {
    // [BOS, " ", a, b, c]: pairs " a" 0.5, ab 1, bc 2 → bc; then " a" 0.5 (abc absent) → [BOS, " a", bc].
    // Left-to-right merging would have reached " ab" (score 5) + c instead.
    expect(tokenizer.encode('abc')).toEqual([1, synthetic.spaceA, synthetic.bc]);
    // [" ", a, b]: ab 1 beats " a" 0.5 → [" ", ab] → " ab" 5 → [" ab"].
    expect(tokenizer.encode('ab', { addBos: false })).toEqual([synthetic.spaceAb]);
  });

  it('breaks score ties towards the leftmost pair', () => {
    // [" ", a, a, a]: aa (1) at positions 1 and 2 tie; the left one wins → [" ", aa, a], then nothing merges.
    // (Merging the right one would give [" ", a, aa] and then " a".)
    expect(tokenizer.encode('aaa', { addBos: false })).toEqual([synthetic.space, synthetic.aa, synthetic.a]);
  });

  it('never merges a pair scoring -1e10 or less, as run.c', () => {
    expect(tokenizer.encode('cc', { addBos: false })).toEqual([synthetic.space, synthetic.c, synthetic.c]);
    expect(tokenizer.encode('dd', { addBos: false })).toEqual([synthetic.space, synthetic.dd]);
  });

  it('adds the dummy-prefix space only to non-empty text', () => {
    expect(tokenizer.encode('')).toEqual([1]);
    expect(tokenizer.encode('', { addBos: false })).toEqual([]);
    expect(tokenizer.encode(' ', { addBos: false })).toEqual([synthetic.space, synthetic.space]);
  });

  it('falls back to byte ids (byte + 3) for characters without a piece', () => {
    // "é" is C3 A9 in UTF-8.
    expect(tokenizer.encode('é', { addBos: false })).toEqual([synthetic.space, 0xc3 + 3, 0xa9 + 3]);
    // "🦙" is F0 9F A6 99; "a" keeps its piece and merges with the prefix.
    expect(tokenizer.encode('a🦙', { addBos: false })).toEqual([synthetic.spaceA, 0xf0 + 3, 0x9f + 3, 0xa6 + 3, 0x99 + 3]);
  });

  it('decodes like run.c: strips one space after BOS, joins bytes, drops BOS/EOS', () => {
    expect(tokenizer.decode([1, synthetic.spaceA, synthetic.bc])).toBe('abc');
    // Without a BOS the space is kept: the ids may be a continuation.
    expect(tokenizer.decode([synthetic.spaceA, synthetic.bc])).toBe(' abc');
    expect(tokenizer.decode([1, synthetic.space, 0xc3 + 3, 0xa9 + 3, 2])).toBe('é');
    expect(tokenizer.decode([synthetic.a, 2, synthetic.b])).toBe('ab');
    for (const text of ['abc', 'ab', 'aaa', 'cc dd', 'é', 'a🦙 b', ' ', '']) {
      expect(tokenizer.decode(tokenizer.encode(text))).toBe(text);
    }
  });

  it('rejects ids outside the vocabulary', () => {
    expect(() => tokenizer.decode([syntheticTokens.length])).toThrow(InvalidInputError);
  });
});

describe('loadLlama2cTokenizer errors', () => {
  const valid = tokenizerBin(syntheticTokens);

  it('names the file and the token index of a truncated file', async () => {
    // Cut inside the bytes of the last piece ("dd").
    const file = writeTemporary('truncated.bin', valid.subarray(0, valid.length - 1));
    const error = await loadLlama2cTokenizer(file).catch((caught: unknown) => caught);
    expect(error).toBeInstanceOf(InvalidCheckpointError);
    expect((error as Error).message).toContain(file);
    expect((error as Error).message).toContain(`token ${syntheticTokens.length - 1}`);
    // Cut inside a score/length record.
    const headerCut = writeTemporary('header-cut.bin', valid.subarray(0, 4 + 8 + 5 + 3));
    await expect(loadLlama2cTokenizer(headerCut)).rejects.toThrow(/token 1 at byte 17 is truncated/);
  });

  it('rejects a negative piece length', async () => {
    const garbled = Buffer.from(valid);
    // Token 0: score at 4, length at 8.
    garbled.writeInt32LE(-5, 8);
    await expect(loadLlama2cTokenizer(writeTemporary('negative.bin', garbled))).rejects.toThrow(
      /token 0 has negative byte length -5/,
    );
  });

  it('rejects a piece longer than the header allows, and a bad header', async () => {
    const garbled = Buffer.from(valid);
    garbled.writeInt32LE(4, 0);
    await expect(loadLlama2cTokenizer(writeTemporary('long.bin', garbled))).rejects.toThrow(
      /token 0 has byte length 5, above max_token_length 4/,
    );
    await expect(loadLlama2cTokenizer(writeTemporary('empty.bin', new Uint8Array(0)))).rejects.toThrow(
      InvalidCheckpointError,
    );
    await expect(loadLlama2cTokenizer(writeTemporary('header-only.bin', valid.subarray(0, 4)))).rejects.toThrow(
      /holds 0 tokens/,
    );
  });

  it('checks the count against options.vocabSize', async () => {
    const file = writeTemporary('count.bin', valid);
    await expect(loadLlama2cTokenizer(file, { vocabSize: 512 })).rejects.toThrow(
      new RegExp(`has ${syntheticTokens.length} tokens but the model expects 512`),
    );
    await expect(loadLlama2cTokenizer(file, { vocabSize: syntheticTokens.length })).resolves.toBeDefined();
  });

  it('reports a missing file as DataNotFoundError', async () => {
    await expect(loadLlama2cTokenizer(path.join(temporaryDirectory, 'absent.bin'))).rejects.toThrow(
      DataNotFoundError,
    );
  });

  it('refuses byte fallback when the vocabulary has no byte pieces', async () => {
    const tiny = await loadLlama2cTokenizer(
      writeTemporary('tiny.bin', tokenizerBin([...specialTokens, { piece: ' ', score: 0 }, { piece: 'a', score: 0 }])),
    );
    expect(tiny.encode('a')).toEqual([1, 3, 4]);
    expect(() => tiny.encode('b')).toThrow(InvalidInputError);
  });
});

const stories260KTitle = sharedData
  ? 'loadLlama2cTokenizer on stories260K tok512.bin'
  : `loadLlama2cTokenizer on stories260K tok512.bin [skipped: ${sharedDataMissingReason}]`;

describe.skipIf(!sharedData)(stories260KTitle, () => {
  const reference = readFixture<RunCFixture>('llama2c-tok512-reference-ids.json');
  let tokenizer: Tokenizer;
  beforeAll(async () => {
    tokenizer = await loadLlama2cTokenizer(sharedDataPath('models/stories260K/tok512.bin'), { vocabSize: 512 });
  });

  it('reads 512 tokens, the file the run.c fixture was made from', () => {
    expect(tokenizer.vocabSize).toBe(512);
    const sha256 = createHash('sha256').update(readFileSync(sharedDataPath('models/stories260K/tok512.bin'))).digest('hex');
    expect(sha256).toBe(reference.tokenizerSha256);
  });

  it.each(reference.cases)('encodes and decodes $text exactly as run.c', ({ text, idsWithBos, decoded }) => {
    expect(tokenizer.encode(text)).toEqual(idsWithBos);
    expect(tokenizer.encode(text, { addBos: false })).toEqual(idsWithBos.slice(1));
    expect(tokenizer.decode(idsWithBos)).toBe(decoded);
  });

  it('merges "Once upon a time" into whole-word pieces after BOS', () => {
    const ids = tokenizer.encode('Once upon a time');
    expect(ids[0]).toBe(1);
    expect(ids.length).toBeLessThan('Once upon a time'.length);
    expect(ids.slice(1).map((id) => tokenizer.decode([id]))).toEqual([' Once', ' upon', ' a', ' time']);
  });

  it('falls back to bytes for characters outside the 512-token vocabulary', () => {
    // 😀 = F0 9F 98 80.
    expect(tokenizer.encode('😀', { addBos: false }).slice(1)).toEqual([0xf0 + 3, 0x9f + 3, 0x98 + 3, 0x80 + 3]);
    expect(tokenizer.decode(tokenizer.encode('😀'))).toBe('😀');
  });

  it.each([
    'Once upon a time, there was a little dog named Max.',
    'Max liked to run and jump in the green grass.',
    '"Look, Mom!" said Sue. "I found a shiny rock!"',
    'The sun was hot, so they sat under a big tree and ate apples.',
    'Ben felt sorry. He said, "I am sorry, Lily. Can we be friends?"',
  ])('round-trips %s', (text) => {
    expect(tokenizer.decode(tokenizer.encode(text))).toBe(text);
  });
});
