import { mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import * as tf from '@tensorflow/tfjs';
import { useTestBackend } from '@recipe-kit/core/testing';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { charNgramBuckets, charNgramEmbeddings, charNgrams } from '../src/default-encoder/char-ngrams.js';
import { DefaultEncoder, type DefaultEncoderConfig } from '../src/index.js';

/** Tiny shapes; one hash bucket, so every OOV word shares its word row and only n-grams can tell names apart. */
const tiny: Partial<DefaultEncoderConfig> = {
  vocabularySize: 2000, hashBuckets: 1, width: 16, numLayers: 1, numHeads: 2, intermediateSize: 32, maxLength: 24, seed: 1, trainWordVectors: false,
};
const withNgrams: Partial<DefaultEncoderConfig> = { ...tiny, charNgramBuckets: 512 };

let dir: string;
beforeAll(async () => {
  await useTestBackend();
  dir = await mkdtemp(path.join(os.tmpdir(), 'char-ngrams-'));
});
afterAll(async () => {
  await rm(dir, { recursive: true, force: true });
});

/** Token states of one text, as numbers. */
function states(encoder: DefaultEncoder, text: string): number[] {
  const encoded = encoder.encode([text]);
  const values = Array.from(encoded.states.dataSync());
  tf.dispose([encoded.states, encoded.mask, encoded.pooled]);
  return values;
}

const maxDifference = (a: number[], b: number[]): number => Math.max(...a.map((x, i) => Math.abs(x - (b[i] as number))));

describe('char n-grams of out-of-vocabulary words', () => {
  it('lists the bracketed word and its 3..5-grams once each', () => {
    expect(charNgrams('dofu', 3, 5).sort()).toEqual(['<do', '<dof', '<dofu', '<dofu>', 'dof', 'dofu', 'dofu>', 'fu>', 'ofu', 'ofu>'].sort());
    expect(charNgrams('ab', 3, 3).sort()).toEqual(['<ab', '<ab>', 'ab>'].sort());
    expect(charNgramBuckets('dofu', 3, 5, 64)).toEqual(charNgramBuckets('dofu', 3, 5, 64));
    for (const bucket of charNgramBuckets('trasash', 3, 5, 64)) expect(bucket).toBeLessThan(64);
  });

  it('sums each position\'s n-gram rows / sqrt(count), zero where there are none (hand-computed)', () => {
    const table = tf.tensor2d([[1, 0], [0, 2], [3, 3]]); // 3 buckets × 2 dims
    const out = charNgramEmbeddings(table, [[[], [0, 1]], [[2, 2, 1, 0], []]], 2); // [2, 2, 2]
    const r = 1 / Math.sqrt(2);
    const expected = [[[0, 0], [r, 2 * r]], [[(3 + 3 + 0 + 1) / 2, (3 + 3 + 2 + 0) / 2], [0, 0]]];
    (out.arraySync() as number[][][]).flat(2).forEach((value, i) => expect(value).toBeCloseTo(expected.flat(2)[i] as number, 6));
    tf.dispose([table, out]);
  });

  it('gives OOV positions their buckets, and in-vocabulary words none', async () => {
    const encoder = await DefaultEncoder.create(withNgrams);
    const { inputIds, charNgrams: grams } = encoder.tokenize(['the dofu trasash']);
    expect(grams[0]).toHaveLength(4); // <s> the dofu trasash (</s> and padding need none)
    expect(grams[0]?.[0]).toEqual([]);
    expect(grams[0]?.[1]).toEqual([]);
    expect(grams[0]?.[2]).toEqual(charNgramBuckets('dofu', 3, 5, 512));
    expect(inputIds[0]?.[2]).toBe(inputIds[0]?.[3]); // one hash bucket: the word rows are the same
    const off = await DefaultEncoder.create(tiny);
    expect(off.tokenize(['the dofu']).charNgrams[0]?.[2]).toEqual([]);
    encoder.dispose();
    off.dispose();
  });

  it('tells apart names that share a hash bucket, consistently, and trains the n-gram table', async () => {
    const off = await DefaultEncoder.create(tiny);
    const on = await DefaultEncoder.create(withNgrams);
    const [a, b] = ['by trade, dofu trasash is a', 'by trade, fopa dineth is a'];
    // Without n-grams both names are the same two bucket rows: identical outputs.
    expect(maxDifference(states(off, a), states(off, b))).toBeLessThan(1e-6);
    expect(maxDifference(states(on, a), states(on, b))).toBeGreaterThan(1e-3);
    expect(maxDifference(states(on, a), states(on, a))).toBeLessThan(1e-5);

    const table = on.trainableVariables().get('word_vectors.char_ngrams');
    expect(table?.shape).toEqual([512, 100]);
    const { grads } = tf.variableGrads(() => tf.sum(tf.square(on.encode([a]).states)) as tf.Scalar, [table as tf.Variable]);
    const gradient = grads[(table as tf.Variable).name] as tf.Tensor2D;
    const rowNorms = tf.tidy(() => Array.from(tf.sum(tf.abs(gradient), 1).dataSync()));
    const used = new Set(on.tokenize([a]).charNgrams.flat(2));
    for (const bucket of [...charNgramBuckets('dofu', 3, 5, 512), ...charNgramBuckets('trasash', 3, 5, 512)]) expect(used.has(bucket)).toBe(true);
    rowNorms.forEach((norm, row) => (used.has(row) ? expect(norm).toBeGreaterThan(0) : expect(norm).toBe(0)));
    tf.dispose(Object.values(grads));
    off.dispose();
    on.dispose();
  });

  it('saves and loads the n-gram table; a config saved before n-grams existed loads with them off', async () => {
    const on = await DefaultEncoder.create(withNgrams);
    await on.save(path.join(dir, 'on'));
    const loaded = await DefaultEncoder.load(path.join(dir, 'on'));
    expect(loaded.config.charNgramBuckets).toBe(512);
    expect(states(loaded, 'the dofu trasash')).toEqual(states(on, 'the dofu trasash'));

    const off = await DefaultEncoder.create(tiny);
    const legacy = path.join(dir, 'legacy');
    await off.save(legacy);
    const file = path.join(legacy, 'default-encoder.json');
    const saved = JSON.parse(await readFile(file, 'utf8')) as { config: Record<string, unknown> };
    for (const key of ['charNgramBuckets', 'charNgramMin', 'charNgramMax']) delete saved.config[key];
    await writeFile(file, JSON.stringify(saved));
    const old = await DefaultEncoder.load(legacy);
    expect(old.config.charNgramBuckets).toBe(0);
    // The description (part of RecipeEncoder's fingerprint) of an encoder without n-grams has no n-gram fields.
    expect(Object.keys(old.configJson())).not.toContain('charNgramBuckets');
    expect(Object.keys(loaded.configJson())).toContain('charNgramBuckets');
    for (const encoder of [on, loaded, off, old]) encoder.dispose();
  });
});
