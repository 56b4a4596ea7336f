import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import * as tf from '@tensorflow/tfjs';
import { InvalidCheckpointError } from '@recipe-kit/core';
import { useTestBackend } from '@recipe-kit/core/testing';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { BertEncoder, ByteLevelBpeTokenizer, padTokenSequences, writeSafetensors, type EncoderTokenizer, type NamedTensor } from '../src/index.js';
import { referenceEmbeddings, referenceEncoderStack, type ReferenceConfig } from './reference/bert-reference.js';
import { tinyRobertaTokenizerFiles, writeTinyBert } from './support/tiny-bert-fixture.js';

let dir: string;
beforeAll(async () => {
  await useTestBackend();
  dir = await mkdtemp(path.join(os.tmpdir(), 'bert-encoder-'));
});
afterAll(async () => {
  await rm(dir, { recursive: true, force: true });
});

function maxAbsDifference(actual: ArrayLike<number>, expected: ArrayLike<number>): number {
  expect(actual.length).toBe(expected.length);
  let max = 0;
  for (let i = 0; i < actual.length; i++) max = Math.max(max, Math.abs((actual[i] as number) - (expected[i] as number)));
  return max;
}

/** The float64 reference over a padded batch: states of real tokens and the pooler output. */
function referenceBatch(
  inputIds: number[][],
  attentionMask: number[][],
  tensors: Map<string, NamedTensor>,
  config: ReferenceConfig,
): { states: number[][][]; pooled: number[][] } {
  const weights = { get: (name: string): NamedTensor => tensors.get(name) as NamedTensor };
  const results = inputIds.map((ids, b) =>
    referenceEncoderStack(referenceEmbeddings(ids, weights, config), attentionMask[b] as number[], weights, config),
  );
  return { states: results.map((r) => r.states), pooled: results.map((r) => r.pooled) };
}

describe('BertEncoder', () => {
  it('RoBERTa (prefixed names, with pooler) matches a float64 reference, padding included', async () => {
    const files = tinyRobertaTokenizerFiles();
    const modelDir = path.join(dir, 'roberta');
    const { tensors } = await writeTinyBert(modelDir, { modelType: 'roberta', prefix: 'roberta.', withPooler: true, vocabSize: files.vocabSize });
    await writeFile(path.join(modelDir, 'vocab.json'), files.vocabJson);
    await writeFile(path.join(modelDir, 'merges.txt'), files.mergesText);
    const encoder = await BertEncoder.load(modelDir);
    expect(encoder.poolerInitialisedRandomly).toBe(false);
    expect(encoder.maxLength).toBe(16 - 2);

    const texts = ['hello the world', 'hi'];
    const { inputIds, attentionMask } = encoder.tokenizer.tokenize(texts, encoder.maxLength);
    expect(inputIds[0]?.slice(0, 3)).toEqual([0, 263, 265]); // <s> hello Ġthe
    expect(inputIds[1]).toEqual([0, 4 + 104, 4 + 105, 2, 1, 1, 1, 1, 1, 1]); // <s> h i </s> <pad>…

    const config: ReferenceConfig = { modelType: 'roberta', hiddenSize: 8, numLayers: 2, numHeads: 2, layerNormEpsilon: 1e-5, padTokenId: 1 };
    const reference = referenceBatch(inputIds, attentionMask, tensors, config);
    const encoded = encoder.encode(texts);
    const states = (await encoded.states.array()) as number[][][];
    const pooled = await encoded.pooled.data();
    expect(await encoded.mask.array()).toEqual(attentionMask);
    // Compare real tokens only: HF computes padded positions too, but nothing downstream reads them.
    for (let b = 0; b < texts.length; b++) {
      for (let t = 0; t < (inputIds[b]?.length ?? 0); t++) {
        if (!attentionMask[b]?.[t]) continue;
        expect(maxAbsDifference(states[b]?.[t] as number[], reference.states[b]?.[t] as number[])).toBeLessThan(1e-4);
      }
    }
    expect(maxAbsDifference(pooled, reference.pooled.flat())).toBeLessThan(1e-4);
    tf.dispose([encoded.states, encoded.mask, encoded.pooled]);
    encoder.dispose();
  });

  it('BERT (unprefixed names, no pooler) matches the reference and initialises the pooler randomly', async () => {
    const modelDir = path.join(dir, 'bert');
    const { tensors } = await writeTinyBert(modelDir, { modelType: 'bert', prefix: '', withPooler: false, vocabSize: 30, seed: 11 });
    const tokenizer: EncoderTokenizer = {
      name: 'test-ids',
      padId: 0,
      tokenize: (texts, maxLength) =>
        padTokenSequences(texts.map((text) => [1, ...[...text].map((c) => 3 + (c.charCodeAt(0) % 27))].slice(0, maxLength - 1).concat([2])), 0),
    };
    const encoder = await BertEncoder.load(modelDir, { tokenizer, seed: 3 });
    expect(encoder.poolerInitialisedRandomly).toBe(true);
    const poolerWeight = encoder.trainableVariables().get('pooler.dense.weight');
    const std = tf.tidy(() => tf.moments(poolerWeight as tf.Tensor).variance.sqrt().dataSync()[0] as number);
    expect(std).toBeGreaterThan(0.005);
    expect(std).toBeLessThan(0.05);

    const stored = new Map(tensors);
    // Put the randomly initialised pooler into the reference's weights (PyTorch layout [out, in]).
    const ourPooler = (await (poolerWeight as tf.Variable).transpose().data()) as Float32Array;
    stored.set('pooler.dense.weight', { shape: [8, 8], data: ourPooler });
    stored.set('pooler.dense.bias', { shape: [8], data: new Float32Array(8) });
    const texts = ['abcde', 'xy'];
    const { inputIds, attentionMask } = tokenizer.tokenize(texts, encoder.maxLength);
    const config: ReferenceConfig = { modelType: 'bert', hiddenSize: 8, numLayers: 2, numHeads: 2, layerNormEpsilon: 1e-12, padTokenId: 0 };
    const reference = referenceBatch(inputIds, attentionMask, stored, config);
    const encoded = encoder.encode(texts);
    const states = (await encoded.states.array()) as number[][][];
    for (let b = 0; b < 2; b++) {
      for (let t = 0; t < (attentionMask[b]?.length ?? 0); t++) {
        if (attentionMask[b]?.[t]) expect(maxAbsDifference(states[b]?.[t] as number[], reference.states[b]?.[t] as number[])).toBeLessThan(1e-4);
      }
    }
    expect(maxAbsDifference(await encoded.pooled.data(), reference.pooled.flat())).toBeLessThan(1e-4);
    tf.dispose([encoded.states, encoded.mask, encoded.pooled]);

    // encodeEmbeddings (bypassing embeddings) equals running the layers on the embedding output.
    const embedded = encoder.embed(inputIds);
    const mask = tf.tensor2d(attentionMask);
    const viaEmbeddings = encoder.encodeEmbeddings(embedded, mask);
    const viaText = encoder.encode(texts);
    expect(maxAbsDifference(await viaEmbeddings.states.data(), await viaText.states.data())).toBe(0);
    expect(maxAbsDifference(await viaEmbeddings.pooled.data(), await viaText.pooled.data())).toBe(0);
    // Sentinel-style input: no mask means every position attends to every other.
    const unmasked = encoder.encodeEmbeddings(embedded);
    expect(await unmasked.mask.data()).toEqual(new Float32Array(2 * (inputIds[0]?.length ?? 0)).fill(1));
    tf.dispose([embedded, mask, viaEmbeddings.states, viaEmbeddings.mask, viaEmbeddings.pooled, viaText.states, viaText.mask, viaText.pooled]);
    tf.dispose([unmasked.states, unmasked.mask, unmasked.pooled]);
    encoder.dispose();
  });

  it('save → load round trip reproduces outputs (HF layout, tokenizer files copied)', async () => {
    const files = tinyRobertaTokenizerFiles();
    const tokenizer = new ByteLevelBpeTokenizer(files);
    const config = {
      modelType: 'roberta' as const, vocabSize: files.vocabSize, hiddenSize: 8, numLayers: 1, numHeads: 2, intermediateSize: 16,
      hiddenActivation: 'gelu' as const, maxPositions: 12, typeVocabSize: 1, layerNormEpsilon: 1e-5, padTokenId: 1, initializerRange: 0.02,
    };
    const encoder = BertEncoder.random(config, tokenizer, 5);
    const saved = path.join(dir, 'saved');
    await encoder.save(saved);
    const loaded = await BertEncoder.load(saved);
    const a = encoder.encode(['hello there']);
    const b = loaded.encode(['hello there']);
    expect(maxAbsDifference(await a.states.data(), await b.states.data())).toBe(0);
    expect(maxAbsDifference(await a.pooled.data(), await b.pooled.data())).toBe(0);
    tf.dispose([a.states, a.mask, a.pooled, b.states, b.mask, b.pooled]);
    encoder.dispose();
    loaded.dispose();
  });

  it('names the missing tensor and the mismatched shape', async () => {
    const files = tinyRobertaTokenizerFiles();
    const modelDir = path.join(dir, 'broken');
    const { tensors } = await writeTinyBert(modelDir, { modelType: 'roberta', prefix: '', withPooler: true, vocabSize: files.vocabSize });
    const tokenizer = new ByteLevelBpeTokenizer(files);
    const without = [...tensors].filter(([name]) => name !== 'encoder.layer.1.output.dense.bias');
    await writeSafetensors(path.join(modelDir, 'model.safetensors'), without);
    await expect(BertEncoder.load(modelDir, { tokenizer })).rejects.toThrow(/no tensor "encoder\.layer\.1\.output\.dense\.bias"/);
    const misShaped = [...tensors].map(([name, t]): [string, NamedTensor] =>
      name === 'encoder.layer.0.intermediate.dense.weight' ? [name, { shape: [8, 16], data: t.data }] : [name, t],
    );
    await writeSafetensors(path.join(modelDir, 'model.safetensors'), misShaped);
    const error = await BertEncoder.load(modelDir, { tokenizer }).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(InvalidCheckpointError);
    expect(String(error)).toMatch(/intermediate\.dense\.weight" has shape \[8, 16\], but config\.json implies \[16, 8\]/);
  });
});
