import { useTestBackend } from '@recipe-kit/core/testing';
import { createRandomModel, LanguageModelTrainer } from '@recipe-kit/llm-adapters';
import { beforeAll, describe, expect, it } from 'vitest';

beforeAll(useTestBackend);

describe('LanguageModelTrainer loss starts', () => {
  it('scores only the tokens from each example\'s loss start (the first step\'s loss is the answers\' mean NLL)', async () => {
    const model = await createRandomModel({
      config: { model_type: 'llama', hidden_size: 16, intermediate_size: 32, num_hidden_layers: 1, num_attention_heads: 2, vocab_size: 32000, max_position_embeddings: 32 },
      tokenizer: 'llama2',
      seed: 4,
    });
    const examples = ['Alice lives in Paris.', 'Bob plays the violin well'].map((line) => model.tokenizer.encode(line));
    const starts = [examples[0]!.length - 2, 3];
    // Reference before any update: the mean over answer tokens of -log p, from teacher-forced scoring.
    const scores = model.scoreContinuations(examples.map((ids, i) => ({ context: ids.slice(0, starts[i]), continuation: ids.slice(starts[i]) })));
    const logProbs = scores.flatMap((score) => score.logProbs);
    const expected = -logProbs.reduce((a, b) => a + b, 0) / logProbs.length;
    const trainer = new LanguageModelTrainer(model, examples, { steps: 1, batchSize: 2, learningRate: 1e-3, seed: 0 }, starts);
    expect(trainer.trainStep().loss).toBeCloseTo(expected, 4);
    expect(() => new LanguageModelTrainer(model, examples, { steps: 1, batchSize: 2, learningRate: 1e-3, seed: 0 }, [1])).toThrow(/2 examples/);
    expect(() => new LanguageModelTrainer(model, examples, { steps: 1, batchSize: 2, learningRate: 1e-3, seed: 0 }, [1, 99])).toThrow(/leaves no token/);
    trainer.dispose();
    model.dispose();
  });
});
