import { mkdtemp, readdir, rm } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import * as tf from '@tensorflow/tfjs';
import { InvalidInputError } from '@recipe-kit/core';
import { useTestBackend } from '@recipe-kit/core/testing';
import type { DecoderModel } from '@recipe-kit/llm-adapters';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { collectSecondMoments } from '../../../src/baselines/shared/collect-second-moments.js';
import { loadOrCollectSecondMoments } from '../../../src/baselines/shared/second-moment-cache.js';
import { TINY_TEXTS, tinyModel } from './tiny-models.js';

let model: DecoderModel;
let dir: string;
beforeAll(async () => {
  await useTestBackend();
  model = await tinyModel('gptj');
  dir = await mkdtemp(path.join(os.tmpdir(), 'second-moments-'));
});
afterAll(async () => {
  model.dispose();
  await rm(dir, { recursive: true, force: true });
});

/** Σ k kᵀ / N in float64 from each text's keys read one text at a time (no padding involved). */
function reference(layer: number): Float64Array {
  const f = model.dimensions.intermediateSize;
  const sum = new Float64Array(f * f);
  let count = 0;
  for (const text of TINY_TEXTS) {
    const ids = model.tokenizer.encode(text, { addBos: true });
    tf.tidy(() => {
      model.forward({
        ids: tf.tensor2d([ids], [1, ids.length], 'int32'),
        hooks: {
          mlpKeys: (at, keys) => {
            if (at !== layer) return;
            const values = keys.dataSync();
            for (let t = 0; t < ids.length; t++) for (let i = 0; i < f; i++) for (let j = 0; j < f; j++) {
              sum[i * f + j] = (sum[i * f + j] as number) + (values[t * f + i] as number) * (values[t * f + j] as number);
            }
          },
        },
      });
    });
    count += ids.length;
  }
  return sum.map((x) => x / count);
}

describe('second-moment statistics', () => {
  it('equal Σ k kᵀ / N over every token of every text (float64 reference), whatever the chunking', () => {
    const before = tf.memory().numTensors;
    const [layer0, layer1] = collectSecondMoments(model, [0, 1], TINY_TEXTS, { batchSize: 4 });
    const [again] = collectSecondMoments(model, [1], TINY_TEXTS, { batchSize: 3 });
    expect(tf.memory().numTensors).toBe(before);
    const tokens = TINY_TEXTS.reduce((total, text) => total + model.tokenizer.encode(text).length, 0);
    expect(layer1?.count).toBe(tokens);
    for (const [moment, layer] of [[layer0, 0], [layer1, 1]] as const) {
      const expected = reference(layer);
      const scale = Math.max(...expected.map(Math.abs));
      moment?.matrix.forEach((value, i) => expect(Math.abs(value - (expected[i] as number))).toBeLessThan(1e-5 * scale));
    }
    again?.matrix.forEach((value, i) => expect(Math.abs(value - (layer1?.matrix[i] as number))).toBeLessThan(1e-5));
  });

  it('are cached on disk by model fingerprint, corpus hash and layer, and reused bit-for-bit', async () => {
    const logs: string[] = [];
    const log = (line: string): void => void logs.push(line);
    const corpus = { name: 'tiny', texts: TINY_TEXTS };
    const [first] = await loadOrCollectSecondMoments(model, [1], corpus, dir, { log });
    expect(logs).toHaveLength(1);
    const [cached] = await loadOrCollectSecondMoments(model, [1], corpus, dir, { log });
    expect(logs).toHaveLength(1); // read from the cache, nothing collected
    expect(cached?.matrix).toEqual(first?.matrix);
    expect(cached?.count).toBe(first?.count);
    // Layer 0 is missing: only it is collected.
    await loadOrCollectSecondMoments(model, [0, 1], corpus, dir, { log });
    expect(logs[1]).toMatch(/layers 0 over/);
    // Another corpus, or another model, gets its own entry.
    await loadOrCollectSecondMoments(model, [1], { name: 'tiny', texts: TINY_TEXTS.slice(1) }, dir, { log });
    const other = await tinyModel('gptj', 2);
    await loadOrCollectSecondMoments(other, [1], corpus, dir, { log });
    other.dispose();
    expect(logs).toHaveLength(4);
    expect((await readdir(dir)).filter((name) => name.endsWith('.safetensors'))).toHaveLength(4);
  });

  it('refuse an empty corpus', () => {
    expect(() => collectSecondMoments(model, [0], [])).toThrow(InvalidInputError);
  });
});
