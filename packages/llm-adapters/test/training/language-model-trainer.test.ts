import { mkdtempSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import * as tf from '@tensorflow/tfjs';
import { useTestBackend } from '@recipe-kit/core/testing';
import { createRandomModel, LanguageModelTrainer, type DecoderModel, type TrainerOptions } from '@recipe-kit/llm-adapters';
import { beforeAll, describe, expect, it } from 'vitest';

beforeAll(useTestBackend);

const corpus = ['Alice lives in Paris.', 'Bob lives in Lagos.', 'Carol works as a baker.', 'Dave plays the violin.', 'Erin lives in Oslo.'];

async function microModel(seed: number): Promise<DecoderModel> {
  const tokenizerModel = await createRandomModel({
    config: { model_type: 'llama', hidden_size: 8, intermediate_size: 8, num_hidden_layers: 1, num_attention_heads: 1, vocab_size: 32000, max_position_embeddings: 32 },
    tokenizer: 'llama2',
  });
  const ids = new Set<number>([0, 1, 2]);
  for (const line of corpus) for (const id of tokenizerModel.tokenizer.encode(line)) ids.add(id);
  tokenizerModel.dispose();
  return createRandomModel({
    config: {
      model_type: 'llama', hidden_size: 32, intermediate_size: 64, num_hidden_layers: 2, num_attention_heads: 4, num_key_value_heads: 2,
      vocab_size: 32000, max_position_embeddings: 32, recipe_kit_vocabulary_ids: [...ids],
    },
    tokenizer: 'llama2',
    seed,
  });
}

function examples(model: DecoderModel): number[][] {
  return corpus.map((line) => model.tokenizer.encode(line));
}

async function weightsOf(model: DecoderModel): Promise<Float32Array[]> {
  return model.weightNames().sort().map((name) => model.getWeight(name).dataSync() as Float32Array);
}

const options: TrainerOptions = { steps: 8, batchSize: 3, learningRate: 1e-2, warmupSteps: 2, seed: 7 };

describe('LanguageModelTrainer', () => {
  it('drives the loss down on a tiny corpus', async () => {
    const model = await microModel(1);
    const trainer = new LanguageModelTrainer(model, examples(model), { ...options, steps: 60, batchSize: 5 });
    const first = trainer.trainStep().loss;
    let last = first;
    for (let i = 1; i < 60; i++) last = trainer.trainStep().loss;
    expect(last).toBeLessThan(first * 0.3);
    // It has memorised a fact: greedy continuation of "Alice lives in" is " Paris".
    const prompt = model.tokenizer.encode('Alice lives in');
    const result = await model.generate(prompt, { maxTokens: 1, greedy: true });
    expect(result.text.trim()).toBe('Paris');
    trainer.dispose();
    model.dispose();
  });

  it('gives identical weights for the same seed, and different ones for another seed', async () => {
    const runs: Float32Array[][] = [];
    for (const seed of [7, 7, 8]) {
      const model = await microModel(1);
      const trainer = new LanguageModelTrainer(model, examples(model), { ...options, seed });
      for (let i = 0; i < 4; i++) trainer.trainStep();
      runs.push(await weightsOf(model));
      trainer.dispose();
      model.dispose();
    }
    const equal = (a: Float32Array[], b: Float32Array[]): boolean => a.every((w, i) => Buffer.from(w.buffer).equals(Buffer.from((b[i] as Float32Array).buffer)));
    expect(equal(runs[0] as Float32Array[], runs[1] as Float32Array[])).toBe(true);
    expect(equal(runs[0] as Float32Array[], runs[2] as Float32Array[])).toBe(false);
  });

  it('resumes from a checkpoint exactly where an uninterrupted run would be', async () => {
    const straightModel = await microModel(1);
    const straight = new LanguageModelTrainer(straightModel, examples(straightModel), options);
    for (let i = 0; i < 6; i++) straight.trainStep();

    const firstHalfModel = await microModel(1);
    const firstHalf = new LanguageModelTrainer(firstHalfModel, examples(firstHalfModel), options);
    for (let i = 0; i < 3; i++) firstHalf.trainStep();
    const directory = path.join(mkdtempSync(path.join(os.tmpdir(), 'recipe-kit-train-')), 'checkpoint');
    await firstHalf.saveCheckpoint(directory);
    firstHalf.dispose();
    firstHalfModel.dispose();

    const resumed = await LanguageModelTrainer.resume(directory, examples(straightModel), options);
    expect(resumed.step).toBe(3);
    for (let i = 0; i < 3; i++) resumed.trainStep();
    expect(resumed.losses).toEqual(straight.losses);
    const a = await weightsOf(straightModel);
    const b = await weightsOf(resumed.model);
    a.forEach((w, i) => expect(Buffer.from(w.buffer).equals(Buffer.from((b[i] as Float32Array).buffer))).toBe(true));
    await expect(LanguageModelTrainer.resume(directory, examples(straightModel), { ...options, learningRate: 0.5 })).rejects.toThrow(/other training options/);
    straight.dispose();
    resumed.dispose();
    straightModel.dispose();
    resumed.model.dispose();
  });

  it('does not leak tensors across steps', async () => {
    const model = await microModel(2);
    const trainer = new LanguageModelTrainer(model, examples(model), options);
    trainer.trainStep();
    const before = tf.memory().numTensors;
    for (let i = 0; i < 5; i++) trainer.trainStep();
    expect(tf.memory().numTensors).toBe(before);
    trainer.dispose();
    model.dispose();
  });
});
