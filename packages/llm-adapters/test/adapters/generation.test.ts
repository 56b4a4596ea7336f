import * as tf from '@tensorflow/tfjs';
import { ContextOverflowError, InvalidInputError } from '@recipe-kit/core';
import { createRandomModel, type DecoderModel } from '@recipe-kit/llm-adapters';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { useTestBackend } from '../support/backend.js';
import { tinyArchitectures, tinyModel } from '../support/tiny-models.js';

beforeAll(useTestBackend);

/** Greedy decoding by recomputing the whole sequence each step (no cache). */
function greedyByRecomputation(model: DecoderModel, prompt: number[], steps: number, prefix?: tf.Tensor3D): number[] {
  const sequence = [...prompt];
  for (let i = 0; i < steps; i++) {
    const next = tf.tidy(() => {
      const ids = tf.tensor2d([sequence], [1, sequence.length], 'int32');
      const { logits } = model.forward(prefix ? { ids, prefix } : { ids });
      return tf.argMax(logits.slice([0, sequence.length - 1, 0], [1, 1, -1]).reshape([-1])).dataSync()[0] as number;
    });
    sequence.push(next);
  }
  return sequence.slice(prompt.length);
}

describe('generation over a padded output layer', () => {
  it('never emits the rows past the tokenizer (GPT-J 50,400 vs GPT-2 50,257), greedy or sampled', async () => {
    const gptj = tinyArchitectures.find((architecture) => architecture.name === 'gptj')!;
    const model = await createRandomModel({ config: { ...gptj.config, vocab_size: 50400 }, tokenizer: gptj.tokenizer, seed: 3, initStd: 0.2 });
    const rows = model.tokenizer.vocabSize;
    // Make every padding row the most likely next token by far.
    const bias = model.getWeight('lm_head.bias');
    model.setWeight('lm_head.bias', tf.tidy(() => tf.concat([bias.slice([0], [rows]), tf.fill([50400 - rows], 100)])));
    const padded = tf.tidy(() => tf.argMax(model.forward({ ids: tf.tensor2d([[50256, 464]], undefined, 'int32') }).logits.reshape([2, 50400]), 1).dataSync());
    expect(Math.min(...padded)).toBeGreaterThanOrEqual(rows); // the forward pass itself ranks a padding row first
    for (const options of [{ maxTokens: 6, greedy: true }, { maxTokens: 6, temperature: 1, seed: 2 }]) {
      const result = await model.generate([50256, 464], { ...options, stopIds: [] });
      expect(result.generatedIds).toHaveLength(6);
      expect(Math.max(...result.generatedIds)).toBeLessThan(rows);
    }
    model.dispose();
  });
});

describe.each(tinyArchitectures)('$name generation', (architecture) => {
  let model: DecoderModel;
  beforeAll(async () => {
    model = await tinyModel(architecture, 7);
  });
  afterAll(() => model.dispose());

  it('KV-cache generation equals full recomputation', async () => {
    const prompt = [11, 250, 31, 4, 1999];
    const cached = await model.generate(prompt, { maxTokens: 24, greedy: true, stopIds: [] });
    expect(cached.generatedIds).toHaveLength(24);
    expect(cached.generatedIds).toEqual(greedyByRecomputation(model, prompt, 24));
  });

  it('KV-cache generation with a continuous prefix equals recomputation with the same prefix', async () => {
    const prefix = tf.randomNormal([1, 3, model.dimensions.hiddenSize], 0, 1, 'float32', 5) as tf.Tensor3D;
    const prompt = [42, 43, 44];
    const cached = await model.generate(prompt, { maxTokens: 12, greedy: true, stopIds: [], prefix });
    expect(cached.generatedIds).toEqual(greedyByRecomputation(model, prompt, 12, prefix));
    const without = await model.generate(prompt, { maxTokens: 12, greedy: true, stopIds: [] });
    expect(cached.generatedIds).not.toEqual(without.generatedIds);
    prefix.dispose();
  });

  it('seeded sampling is reproducible and differs across seeds', async () => {
    const prompt = [100, 200];
    const a = await model.generate(prompt, { maxTokens: 16, temperature: 1.5, seed: 1, stopIds: [] });
    const b = await model.generate(prompt, { maxTokens: 16, temperature: 1.5, seed: 1, stopIds: [] });
    const c = await model.generate(prompt, { maxTokens: 16, temperature: 1.5, seed: 2, stopIds: [] });
    expect(a.generatedIds).toEqual(b.generatedIds);
    expect(a.generatedIds).not.toEqual(c.generatedIds);
  });

  it('stops at the context window and rejects prompts longer than it', async () => {
    const context = model.dimensions.contextLength;
    const prompt = Array.from({ length: context - 4 }, (_, i) => 10 + i);
    const result = await model.generate(prompt, { maxTokens: 50, greedy: true, stopIds: [] });
    expect(result.stopReason).toBe('contextFull');
    expect(prompt.length + result.generatedIds.length).toBe(context + 1);
    const tooLong = Array.from({ length: context + 1 }, () => 10);
    await expect(model.generate(tooLong, { maxTokens: 1, greedy: true })).rejects.toBeInstanceOf(ContextOverflowError);
    await expect(model.generate(tooLong, { maxTokens: 1, greedy: true })).rejects.toThrow(/longer than the model's context window of 64/);
    expect(() => model.forward({ ids: tf.tensor2d([tooLong], undefined, 'int32') })).toThrow(ContextOverflowError);
  });

  it('rejects ids outside the vocabulary and an empty prompt', async () => {
    await expect(model.generate([model.dimensions.vocabSize], { maxTokens: 1 })).rejects.toBeInstanceOf(InvalidInputError);
    await expect(model.generate([], { maxTokens: 1 })).rejects.toThrow(/at least one prompt token/);
  });

  it('does not leak tensors over repeated generation, forward and scoring', async () => {
    await model.generate([5, 6], { maxTokens: 3, greedy: true, stopIds: [] });
    const before = tf.memory().numTensors;
    for (let i = 0; i < 5; i++) {
      await model.generate([5, 6, 7], { maxTokens: 6, greedy: true, stopIds: [] });
      tf.tidy(() => {
        model.forward({ ids: tf.tensor2d([[1, 2, 3]], undefined, 'int32'), outputHiddenStates: true });
      });
      model.scoreContinuations([{ context: [1, 2], continuation: [3, 4] }]);
    }
    expect(tf.memory().numTensors).toBe(before);
  });
});
