import * as tf from '@tensorflow/tfjs';
import { useTestBackend } from '@recipe-kit/core/testing';
import { createRandomModel, loadModel, saveModel } from '@recipe-kit/llm-adapters';
import { mkdtempSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { beforeAll, describe, expect, it } from 'vitest';
import { tinyArchitectures } from '../support/tiny-models.js';

beforeAll(useTestBackend);

describe.each(tinyArchitectures)('$name with a compact vocabulary', (architecture) => {
  const kept = [0, 1, 2, 13, 100, 450, 4799, 29871, 31000];

  it('equals the full-vocabulary model on the kept ids; other ids get probability 0', async () => {
    const full = await createRandomModel({ config: architecture.config, tokenizer: architecture.tokenizer, seed: 5, initStd: 0.2 });
    const compact = await createRandomModel({
      config: { ...architecture.config, recipe_kit_vocabulary_ids: kept },
      tokenizer: architecture.tokenizer,
      seed: 5,
      initStd: 0.2,
    });
    // Copy the kept rows of the full model into the compact one, and every other weight as is.
    const embeddingName = architecture.name === 'llama' ? 'model.embed_tokens.weight' : 'transformer.wte.weight';
    const rows = tf.tensor1d(kept, 'int32');
    for (const name of full.weightNames()) {
      const value = full.getWeight(name);
      if (name === embeddingName) compact.setWeight(name, tf.gather(value, rows));
      else if (name === 'lm_head.weight') compact.setWeight(name, tf.gather(value, rows, 1));
      else if (name === 'lm_head.bias') compact.setWeight(name, tf.gather(value, rows));
      else compact.setWeight(name, value.clone());
    }
    const ids = tf.tensor2d([[1, 450, 4799, 13, 100]], undefined, 'int32');
    const fullLogits = full.forward({ ids }).logits;
    const compactLogits = compact.forward({ ids }).logits;
    expect(compactLogits.shape).toEqual([1, 5, full.dimensions.vocabSize]);
    const difference = tf.max(tf.abs(tf.sub(tf.gather(fullLogits, rows, 2), tf.gather(compactLogits, rows, 2)))).dataSync()[0];
    expect(difference).toBeLessThan(1e-5);
    const absent = compactLogits.slice([0, 0, 3], [1, 1, 1]).dataSync()[0];
    expect(absent).toBe(-1e9);
    const generated = await compact.generate([1, 450], { maxTokens: 10, temperature: 2, seed: 1, stopIds: [] });
    expect(generated.generatedIds.every((id) => kept.includes(id))).toBe(true);
    // An id outside the kept set does not crash: it reads the row of the smallest kept id.
    expect(() => compact.forward({ ids: tf.tensor2d([[1, 777]], undefined, 'int32') })).not.toThrow();

    // Scoring over stored rows equals scoring over the expanded logits (absent ids: probability 0).
    const [score] = compact.scoreContinuations([{ context: [1, 450], continuation: [4799, 13, 777], candidateIds: [100, 3] }]);
    const fullLogProbabilities = tf.logSoftmax(compact.forward({ ids: tf.tensor2d([[1, 450, 4799, 13]], undefined, 'int32') }).logits).arraySync() as number[][][];
    expect(score?.logProbs[0]).toBeCloseTo(fullLogProbabilities[0]?.[1]?.[4799] as number, 4);
    expect(score?.logProbs[1]).toBeCloseTo(fullLogProbabilities[0]?.[2]?.[13] as number, 4);
    expect(score?.logProbs[2]).toBeLessThan(-1e8);
    expect(score?.candidateLogProbs?.[0]).toBeCloseTo(fullLogProbabilities[0]?.[1]?.[100] as number, 4);
    expect(score?.candidateLogProbs?.[1]).toBeLessThan(-1e8);
    const row = fullLogProbabilities[0]?.[1] as number[];
    expect(score?.argmaxIds[0]).toBe(row.indexOf(Math.max(...row)));

    const directory = mkdtempSync(path.join(os.tmpdir(), 'recipe-kit-compact-'));
    await saveModel(compact, directory);
    const reloaded = await loadModel(directory);
    const again = reloaded.forward({ ids }).logits;
    expect(Buffer.from(again.dataSync().buffer).equals(Buffer.from(compactLogits.dataSync().buffer))).toBe(true);
    tf.dispose([ids, rows, fullLogits, compactLogits, again]);
    full.dispose();
    compact.dispose();
    reloaded.dispose();
  });
});
