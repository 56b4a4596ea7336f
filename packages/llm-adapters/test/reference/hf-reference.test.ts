import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import * as tf from '@tensorflow/tfjs';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createRandomModel, loadModel, saveModel } from '../../src/index.js';
import type { DecoderModel } from '../../src/transformer/decoder-model.js';
import { useTestBackend } from '../support/backend.js';
import { HfGptjReference, HfLlamaReference, type HfReference } from './hf-reference.js';
import { readSafetensorsF32, type PlainTensor } from './safetensors-mini.js';

const LOGIT_TOLERANCE = 1e-4;
/**
 * Greedy steps must be real decisions: with every logit within LOGIT_TOLERANCE of the reference, only a
 * top-1/top-2 gap below 2 × LOGIT_TOLERANCE could legitimately flip argmax, so a mismatch is then a bug.
 * (A 32000-entry vocabulary gives gaps of a few 1e-4 now and then; the seeds below avoid near-ties.)
 */
const MIN_GREEDY_MARGIN = 2 * LOGIT_TOLERANCE;

type Config = Record<string, unknown>;

interface Case {
  name: string;
  config: Config;
  tokenizer: 'llama2' | 'gpt2';
  seed: number;
  /**
   * Config fields that, given wrongly to the reference, must change the logits clearly: proves the
   * comparison would notice an adapter that ignored that field (rope_theta, rotary_dim, epsilon).
   */
  wrong: Config;
}

const llama = (extra: Config): Config => ({
  model_type: 'llama',
  hidden_size: 32,
  num_hidden_layers: 2,
  num_attention_heads: 4,
  num_key_value_heads: 2,
  intermediate_size: 48,
  vocab_size: 32000,
  max_position_embeddings: 64,
  rms_norm_eps: 1e-5,
  rope_theta: 10000,
  tie_word_embeddings: false,
  ...extra,
});

const gptj = (extra: Config): Config => ({
  model_type: 'gptj',
  n_embd: 32,
  n_layer: 2,
  n_head: 4,
  rotary_dim: 4,
  n_inner: 64,
  vocab_size: 50257,
  n_positions: 64,
  layer_norm_epsilon: 1e-5,
  tie_word_embeddings: false,
  ...extra,
});

const cases: Case[] = [
  { name: 'LLaMA untied, rope_theta 10000', config: llama({}), tokenizer: 'llama2', seed: 11, wrong: { rope_theta: 500000 } },
  { name: 'LLaMA untied, rope_theta 500000', config: llama({ rope_theta: 500000 }), tokenizer: 'llama2', seed: 12, wrong: { rope_theta: 10000 } },
  {
    name: 'LLaMA tied embeddings, rms_norm_eps 1e-3',
    config: llama({ tie_word_embeddings: true, rms_norm_eps: 1e-3 }),
    tokenizer: 'llama2',
    seed: 13,
    wrong: { rms_norm_eps: 1e-6 },
  },
  { name: 'GPT-J untied, partial rotary (4 of 8 dims)', config: gptj({}), tokenizer: 'gpt2', seed: 21, wrong: { rotary_dim: 8 } },
  {
    name: 'GPT-J tied embeddings, layer_norm_epsilon 1e-3',
    config: gptj({ tie_word_embeddings: true, layer_norm_epsilon: 1e-3 }),
    tokenizer: 'gpt2',
    seed: 22,
    wrong: { layer_norm_epsilon: 1e-5 },
  },
];

const texts = ['The quick brown fox jumps over the lazy dog, and then it ran far away.', 'Hello world, once upon a time'];

function buildReference(config: Config, tensors: Map<string, PlainTensor>, overrides: Config = {}): HfReference {
  return config['model_type'] === 'llama' ? new HfLlamaReference(config, tensors, overrides) : new HfGptjReference(config, tensors, overrides);
}

/**
 * Runs `model.forward` on the sequences as one right-padded batch and returns, per sequence, the
 * largest |ours − reference| over its real positions and the whole vocabulary.
 */
function batchDiffs(model: DecoderModel, sequences: number[][], reference: HfReference, padId: number): number[] {
  const width = Math.max(...sequences.map((s) => s.length));
  const ids = sequences.flatMap((s) => [...s, ...Array<number>(width - s.length).fill(padId)]);
  const mask = sequences.flatMap((s) => [...s.map(() => 1), ...Array<number>(width - s.length).fill(0)]);
  const logits = tf.tidy(
    () =>
      model.forward({
        ids: tf.tensor2d(ids, [sequences.length, width], 'int32'),
        attentionMask: tf.tensor2d(mask, [sequences.length, width]),
      }).logits,
  );
  const vocab = reference.vocabSize;
  expect(logits.shape).toEqual([sequences.length, width, vocab]);
  const ours = logits.dataSync();
  logits.dispose();
  return sequences.map((sequence, row) => {
    const expected = reference.logits(sequence);
    let worst = 0;
    expected.forEach((values, pos) => {
      const base = (row * width + pos) * vocab;
      for (let v = 0; v < vocab; v++) worst = Math.max(worst, Math.abs(ours[base + v]! - values[v]!));
    });
    return worst;
  });
}

describe.each(cases)('$name against a float64 Hugging Face reference', ({ config, tokenizer, seed, wrong }) => {
  let model: DecoderModel;
  let directory: string;
  let savedConfig: Config;
  let tensors: Map<string, PlainTensor>;
  let reference: HfReference;
  let sequences: number[][];

  beforeAll(async () => {
    await useTestBackend();
    model = await createRandomModel({ config, tokenizer, seed, initStd: 0.2 });
    directory = mkdtempSync(path.join(tmpdir(), 'hf-reference-'));
    await saveModel(model, directory);
    savedConfig = JSON.parse(readFileSync(path.join(directory, 'config.json'), 'utf8')) as Config;
    tensors = readSafetensorsF32(path.join(directory, 'model.safetensors'));
    reference = buildReference(savedConfig, tensors);
    // Two sequences of different lengths (the shorter one right-padded in the batch).
    sequences = texts.map((text) => model.tokenizer.encode(text));
    const [long, short] = sequences as [number[], number[]];
    expect(long.length).toBeGreaterThan(short.length + 3);
    expect(long.length).toBeGreaterThan(12);
  });

  afterAll(() => {
    model?.dispose();
    if (directory) rmSync(directory, { recursive: true, force: true });
  });

  it('saved config.json carries the fields the reference reads', () => {
    for (const key of Object.keys(config)) expect(savedConfig[key], key).toEqual(config[key]);
  });

  it(`forward logits of a right-padded batch of 2 match at every real position (max |Δ| < ${LOGIT_TOLERANCE})`, () => {
    // Pad with a real token id, so leaked padding would change the numbers.
    const diffs = batchDiffs(model, sequences, reference, 42);
    for (const diff of diffs) expect(diff).toBeLessThan(LOGIT_TOLERANCE);
    // Not vacuous: the logits spread over whole units.
    const last = reference.logits(sequences[1]!).at(-1)!;
    expect(Math.max(...last) - Math.min(...last)).toBeGreaterThan(1);
  });

  it('greedy generate (KV cache) for 20 tokens equals the reference greedy (full recompute)', async () => {
    for (const prompt of sequences) {
      const ours = await model.generate(prompt, { maxTokens: 20, greedy: true, stopIds: [] });
      const expected = reference.greedy(prompt, 20);
      expect(Math.min(...expected.margins)).toBeGreaterThan(MIN_GREEDY_MARGIN);
      expect(ours.generatedIds).toEqual(expected.ids);
    }
  });

  it('a model reloaded with loadModel from the saved directory matches the reference too', async () => {
    const reloaded = await loadModel(directory);
    try {
      for (const diff of batchDiffs(reloaded, sequences, reference, 7)) expect(diff).toBeLessThan(LOGIT_TOLERANCE);
    } finally {
      reloaded.dispose();
    }
  });

  it(`is sensitive to the config: a reference given ${JSON.stringify(wrong)} disagrees clearly`, () => {
    const mistaken = buildReference(savedConfig, tensors, wrong);
    const diffs = batchDiffs(model, sequences, mistaken, 42);
    expect(Math.max(...diffs)).toBeGreaterThan(1e-2);
  });
});
