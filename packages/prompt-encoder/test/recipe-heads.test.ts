import { mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import * as tf from '@tensorflow/tfjs';
import { InvalidCheckpointError } from '@recipe-kit/core';
import { useTestBackend } from '@recipe-kit/core/testing';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  BertEncoder,
  ByteLevelBpeTokenizer,
  DefaultEncoder,
  poolEncodedText,
  RECIPE_SPEC_REPRESENTATION_DIM,
  RecipeEncoder,
  type DefaultEncoderConfig,
} from '../src/index.js';
import { tinyRobertaTokenizerFiles } from './support/tiny-bert-fixture.js';

const tinyEncoder: Partial<DefaultEncoderConfig> = {
  vocabularySize: 500, hashBuckets: 8, width: 8, numLayers: 1, numHeads: 2, intermediateSize: 16, maxLength: 16, seed: 3,
};
const tinyHeads = { representationDim: 6, promptLength: 3, llmWidth: 5, sentinelLength: 4, seed: 9 };

let dir: string;
beforeAll(async () => {
  await useTestBackend();
  dir = await mkdtemp(path.join(os.tmpdir(), 'recipe-heads-'));
});
afterAll(async () => {
  await rm(dir, { recursive: true, force: true });
});

async function tinyRecipe(): Promise<RecipeEncoder> {
  return RecipeEncoder.create(await DefaultEncoder.create(tinyEncoder), tinyHeads);
}

/** A variable's values, read synchronously (the tiny test weights are small). */
function await0(variables: Map<string, tf.Variable>, name: string): number[] {
  const variable = variables.get(name);
  if (!variable) throw new Error(`missing variable ${name}`);
  return Array.from(variable.dataSync());
}

async function values(variable: tf.Tensor | undefined): Promise<number[]> {
  if (!variable) throw new Error('missing variable');
  return Array.from(await variable.data());
}

/** x [n][in] · W (row-major [in, out]) + b, in float64. */
function affine(x: number[][], weight: number[], bias: number[]): number[][] {
  const out = bias.length;
  return x.map((row) => bias.map((b, o) => row.reduce((sum, v, i) => sum + v * (weight[i * out + o] as number), b)));
}

describe('poolEncodedText', () => {
  it('concatenates pooled, masked mean, max and min (hand-computed, with padding)', async () => {
    const states = tf.tensor3d([
      [[1, 2], [3, -4], [100, 100]],
      [[-1, 0], [5, 6], [2, -3]],
    ]);
    const mask = tf.tensor2d([[1, 1, 0], [1, 1, 1]]);
    const pooled = tf.tensor2d([[0.5, -0.5], [0, 1]]);
    const result = poolEncodedText({ states, mask, pooled });
    expect(result.shape).toEqual([2, 8]);
    expect(await result.array()).toEqual([
      [0.5, -0.5, 2, -1, 3, 2, 1, -4],
      [0, 1, 2, 1, 5, 6, -1, -3],
    ]);
    tf.dispose([states, mask, pooled, result]);
  });
});

describe('RecipeEncoder', () => {
  it('heads have the right shapes and follow the residual formulas', async () => {
    const recipe = await tinyRecipe();
    const texts = ['the capital of france is paris', 'who is the president'];
    const features = recipe.encodeFeatures(texts);
    expect(features.shape).toEqual([2, 32]);
    const knowledge = recipe.encodeKnowledge(texts);
    const queries = recipe.encodeQueries(texts);
    const sentinel = recipe.sentinelRepresentation();
    expect(knowledge.representations.shape).toEqual([2, 6]);
    expect(knowledge.prompts.shape).toEqual([2, 3, 5]);
    expect(queries.shape).toEqual([2, 6]);
    expect(sentinel.shape).toEqual([1, 6]);
    expect(recipe.sentinel.embeddings.shape).toEqual([1, 4, 8]);

    const v = recipe.trainableVariables();
    const x = (await features.array()) as number[][];
    const relu = (m: number[][]): number[][] => m.map((row) => row.map((e) => Math.max(0, e)));
    const add = (a: number[][], b: number[][]): number[][] => a.map((row, i) => row.map((e, j) => e + (b[i]?.[j] as number)));
    const head = async (name: string): Promise<number[][]> => {
      const h = affine(x, await values(v.get(`${name}.input.weight`)), await values(v.get(`${name}.input.bias`)));
      return add(h, relu(affine(h, await values(v.get(`${name}.residual.weight`)), await values(v.get(`${name}.residual.bias`)))));
    };
    const close = (actual: number[], expected: number[]): void => {
      expect(actual).toHaveLength(expected.length);
      actual.forEach((a, i) => expect(Math.abs(a - (expected[i] as number))).toBeLessThan(1e-4));
    };
    const rk = await head('knowledge_head');
    close(Array.from(await knowledge.representations.data()), rk.flat());
    close(Array.from(await queries.data()), (await head('query_head')).flat());
    const z = add(rk, relu(affine(rk, await values(v.get('prompt_head.residual.weight')), await values(v.get('prompt_head.residual.bias')))));
    const p = affine(z, await values(v.get('prompt_head.output.weight')), await values(v.get('prompt_head.output.bias')));
    close(Array.from(await knowledge.prompts.data()), p.flat()); // reshape [n, l·d_llm] → [n, l, d_llm] is row-major
    // Knowledge and query heads have separate weights.
    expect(await values(v.get('knowledge_head.input.weight'))).not.toEqual(await values(v.get('query_head.input.weight')));
    // The sentinel goes through encodeEmbeddings with an all-ones mask, pooling and the KNOWLEDGE head.
    const manual = tf.tidy(() => recipe.knowledgeHead.apply(poolEncodedText(recipe.encoder.encodeEmbeddings(recipe.sentinel.embeddings as tf.Tensor as tf.Tensor3D, tf.ones([1, 4])))));
    expect(await manual.data()).toEqual(await sentinel.data());
    const sentinelValues = await values(recipe.sentinel.embeddings);
    expect(Math.max(...sentinelValues.map(Math.abs))).toBeLessThanOrEqual(0.05);
    tf.dispose([features, knowledge.representations, knowledge.prompts, queries, sentinel, manual]);
    recipe.dispose();
  });

  it('exposes the spec value of d_r and validates configs', async () => {
    expect(RECIPE_SPEC_REPRESENTATION_DIM).toBe(4096);
    const encoder = await DefaultEncoder.create(tinyEncoder);
    expect(() => RecipeEncoder.create(encoder, { llmWidth: 0 })).toThrow(/llmWidth/);
    encoder.dispose();
  });

  it('gradients reach every trainable variable; sentinel gradients match finite differences', async () => {
    const recipe = await tinyRecipe();
    const variables = recipe.trainableVariables();
    expect([...variables.keys()]).toEqual(expect.arrayContaining(['encoder.word_vectors.weight', 'encoder.pooler.dense.weight', 'knowledge_head.input.weight', 'query_head.residual.bias', 'prompt_head.output.weight', 'sentinel']));
    const texts = ['the city of paris', 'a new president'];
    const { value, grads } = tf.variableGrads(() =>
      tf.tidy(() => {
        const knowledge = recipe.encodeKnowledge(texts);
        const queries = recipe.encodeQueries(texts);
        const sentinel = recipe.sentinelRepresentation();
        // A contrastive-like scalar touching every part: scores against the sentinel and prompts.
        const scores = tf.matMul(queries, tf.concat([sentinel, knowledge.representations]), false, true);
        return tf.add(tf.sum(tf.square(scores)), tf.sum(tf.square(knowledge.prompts))) as tf.Scalar;
      }),
      [...variables.values()],
    );
    expect(Number.isFinite(value.dataSync()[0])).toBe(true);
    for (const [name, variable] of variables) {
      const grad = grads[variable.name];
      expect(grad, name).toBeDefined();
      const norm = tf.tidy(() => tf.norm(grad as tf.Tensor).dataSync()[0] as number);
      expect(Number.isFinite(norm), name).toBe(true);
      expect(norm, name).toBeGreaterThan(0);
    }
    tf.dispose([value, ...Object.values(grads)]);

    // Finite differences on two sentinel entries (float32: ε = 1e-3, central differences).
    const sentinel = recipe.sentinel.embeddings;
    const direction = tf.tensor2d([[0.3, -1.1, 0.7, 0.2, -0.5, 1.3]]);
    const loss = (): tf.Scalar => tf.tidy(() => tf.sum(tf.mul(recipe.sentinelRepresentation(), direction)) as tf.Scalar);
    const analytic = tf.variableGrads(loss, [sentinel]);
    const gradient = await (analytic.grads[sentinel.name] as tf.Tensor).data();
    const original = sentinel.clone();
    const epsilon = 1e-3;
    for (const index of [0, 13]) {
      const evaluate = (delta: number): number =>
        tf.tidy(() => {
          const offset = tf.buffer([1, 4, 8]);
          offset.values[index] = delta;
          sentinel.assign(tf.add(original, offset.toTensor()));
          return loss().dataSync()[0] as number;
        });
      const numeric = (evaluate(epsilon) - evaluate(-epsilon)) / (2 * epsilon);
      const exact = gradient[index] as number;
      expect(Math.abs(exact)).toBeGreaterThan(1e-3);
      expect(Math.abs(numeric - exact)).toBeLessThan(0.02 * Math.max(1, Math.abs(exact)));
    }
    sentinel.assign(original);
    tf.dispose([direction, original, analytic.value, ...Object.values(analytic.grads)]);
    recipe.dispose();
  });

  it('a warm start refuses a source whose frozen word rows came from another seed, and copies from the same seed', async () => {
    const frozen = (seed: number): Promise<DefaultEncoder> => DefaultEncoder.create({ ...tinyEncoder, trainWordVectors: false, seed });
    const [target, other, same] = [RecipeEncoder.create(await frozen(3), tinyHeads), RecipeEncoder.create(await frozen(4), tinyHeads), RecipeEncoder.create(await frozen(3), tinyHeads)];
    expect(() => target.copyWeightsFrom(other)).toThrow(/frozen word vectors drawn from seed 3 from one drawn from seed 4[\s\S]*source encoder's seed/);
    expect(target.copyWeightsFrom(same).fresh).toEqual([]);
    [target, other, same].forEach((encoder) => encoder.dispose());
  });

  it('prompt options: MLP_P on the new target\'s pooled features, and prompt vectors rescaled to a fixed norm', async () => {
    const make = async (extra: Record<string, unknown>): Promise<RecipeEncoder> => RecipeEncoder.create(await DefaultEncoder.create(tinyEncoder), { ...tinyHeads, ...extra });
    const texts = ['the capital of france is paris', 'who is the president'];
    const targets = ['paris', 'nobody'];
    const plain = await make({ promptSource: 'target' });
    const normed = await make({ promptSource: 'target', promptNorm: 2 });
    const v = plain.trainableVariables();
    expect(v.get('prompt_head.residual.weight')?.shape).toEqual([32, 32]); // pooled width 4·8, not d_r 6
    const x = (await plain.encodeFeatures(targets).array()) as number[][];
    const relu = (m: number[][]): number[][] => m.map((row) => row.map((e) => Math.max(0, e)));
    const residual = relu(affine(x, await0(v, 'prompt_head.residual.weight'), await0(v, 'prompt_head.residual.bias')));
    const z = x.map((row, i) => row.map((e, j) => e + (residual[i]?.[j] as number)));
    const expected = affine(z, await0(v, 'prompt_head.output.weight'), await0(v, 'prompt_head.output.bias')).flat();
    expect(() => plain.encodeKnowledge(texts)).toThrow(/targets/);
    const [a, b] = [plain.encodeKnowledge(texts, targets), normed.encodeKnowledge(texts, targets)];
    const spec = await tinyRecipe(); // same seed: r_k does not depend on the prompt source
    const specKnowledge = spec.encodeKnowledge(texts);
    expect(await a.representations.data()).toEqual(await specKnowledge.representations.data());
    const raw = Array.from(await a.prompts.data());
    raw.forEach((value, i) => expect(Math.abs(value - (expected[i] as number))).toBeLessThan(1e-4));
    // Same seed, same weights: the normed prompts are the raw ones scaled to norm 2 per vector [l = 3 of width 5].
    const scaled = Array.from(await b.prompts.data());
    for (let vector = 0; vector < 6; vector += 1) {
      const r = raw.slice(vector * 5, vector * 5 + 5);
      const norm = Math.hypot(...r);
      expect(Math.hypot(...scaled.slice(vector * 5, vector * 5 + 5))).toBeCloseTo(2, 4);
      r.forEach((value, i) => expect(scaled[vector * 5 + i]).toBeCloseTo((2 * value) / norm, 4));
    }
    // Gradients still reach MLP_P through the rescaling (the loss depends on the direction only).
    const target = tf.randomNormal([2, 3, 5], 0, 1, 'float32', 4);
    const { grads } = tf.variableGrads(() => tf.sum(tf.mul(normed.encodeKnowledge(texts, targets).prompts, target)) as tf.Scalar, [...normed.trainableVariables().values()]);
    const gradient = grads[normed.trainableVariables().get('prompt_head.output.weight')?.name ?? ''];
    expect(gradient && (await tf.max(tf.abs(gradient)).data())[0]).toBeGreaterThan(0);
    // Both options are saved, change the fingerprint, and load back.
    const saved = path.join(dir, 'prompt-options');
    await normed.save(saved);
    const config = JSON.parse(await readFile(path.join(saved, 'recipe-encoder.json'), 'utf8')) as { heads: Record<string, unknown> };
    expect(config.heads).toEqual({ ...tinyHeads, promptSource: 'target', promptNorm: 2 });
    expect(await normed.fingerprint()).not.toBe(await plain.fingerprint());
    const loaded = await RecipeEncoder.load(saved);
    const c = loaded.encodeKnowledge(texts, targets);
    expect(await c.prompts.data()).toEqual(await b.prompts.data());
    const encoder = await DefaultEncoder.create(tinyEncoder);
    expect(() => RecipeEncoder.create(encoder, { ...tinyHeads, promptNorm: -1 })).toThrow(/promptNorm/);
    expect(() => RecipeEncoder.create(encoder, { ...tinyHeads, promptSource: 'query' as 'target' })).toThrow(/promptSource/);
    tf.dispose([a.representations, a.prompts, b.representations, b.prompts, c.representations, c.prompts, specKnowledge.representations, specKnowledge.prompts, target, ...Object.values(grads)]);
    [plain, normed, loaded, encoder, spec].forEach((item) => item.dispose());
  });

  it('save → load round trip: identical outputs, config and fingerprint recorded and checked', async () => {
    const recipe = await tinyRecipe();
    const saved = path.join(dir, 'default');
    await recipe.save(saved);
    const config = JSON.parse(await readFile(path.join(saved, 'recipe-encoder.json'), 'utf8')) as Record<string, unknown>;
    expect(config['heads']).toEqual(tinyHeads);
    expect(config['specRepresentationDim']).toBe(4096);
    expect((config['encoder'] as { kind: string }).kind).toBe('default');
    expect(config['fingerprint']).toBe(await recipe.fingerprint());

    const loaded = await RecipeEncoder.load(saved);
    expect(await loaded.fingerprint()).toBe(config['fingerprint']);
    const texts = ['the river flows', 'zzyzx is a place'];
    const [a, b] = [recipe.encodeKnowledge(texts), loaded.encodeKnowledge(texts)];
    expect(await a.representations.data()).toEqual(await b.representations.data());
    expect(await a.prompts.data()).toEqual(await b.prompts.data());
    const [qa, qb, sa, sb] = [recipe.encodeQueries(texts), loaded.encodeQueries(texts), recipe.sentinelRepresentation(), loaded.sentinelRepresentation()];
    expect(await qa.data()).toEqual(await qb.data());
    expect(await sa.data()).toEqual(await sb.data());
    tf.dispose([a.representations, a.prompts, b.representations, b.prompts, qa, qb, sa, sb]);
    loaded.dispose();

    await writeFile(path.join(saved, 'recipe-encoder.json'), JSON.stringify({ ...config, fingerprint: 'sha256:0' }));
    await expect(RecipeEncoder.load(saved)).rejects.toBeInstanceOf(InvalidCheckpointError);
    recipe.dispose();
  });

  it('works around a BERT/RoBERTa encoder too (save/load with its tokenizer files)', async () => {
    const files = tinyRobertaTokenizerFiles();
    const bert = BertEncoder.random(
      { modelType: 'roberta', vocabSize: files.vocabSize, hiddenSize: 8, numLayers: 1, numHeads: 2, intermediateSize: 16, hiddenActivation: 'gelu', maxPositions: 12, typeVocabSize: 1, layerNormEpsilon: 1e-5, padTokenId: 1, initializerRange: 0.02 },
      new ByteLevelBpeTokenizer(files),
      4,
    );
    const recipe = RecipeEncoder.create(bert, tinyHeads);
    const saved = path.join(dir, 'bert');
    await recipe.save(saved);
    const loaded = await RecipeEncoder.load(saved);
    const [a, b] = [recipe.encodeKnowledge(['hello the']), loaded.encodeKnowledge(['hello the'])];
    expect(await a.prompts.data()).toEqual(await b.prompts.data());
    const [sa, sb] = [recipe.sentinelRepresentation(), loaded.sentinelRepresentation()];
    expect(await sa.data()).toEqual(await sb.data());
    tf.dispose([a.representations, a.prompts, b.representations, b.prompts, sa, sb]);
    recipe.dispose();
    loaded.dispose();
  });

  it('warm start copies the weights whose name and shape match and leaves the rest fresh', async () => {
    const trained = await tinyRecipe();
    const target = RecipeEncoder.create(await DefaultEncoder.create({ ...tinyEncoder, seed: 4, charNgramBuckets: 32 }), { ...tinyHeads, seed: 10, promptLength: 2 });
    const before = await values(target.trainableVariables().get('encoder.word_vectors.char_ngrams'));
    const { copied, fresh } = target.copyWeightsFrom(trained);
    // Prompt length 3 → 2: MLP_P's output layer keeps the first two prompt vectors.
    expect(fresh).toEqual(['encoder.word_vectors.char_ngrams']);
    expect(copied).toContain('prompt_head.output.weight (3 → 2 prompt vectors, repeated in turn)');
    expect(copied).toContain('query_head.input.weight');
    expect(copied).toContain('sentinel');
    const ours = target.trainableVariables();
    const theirs = trained.trainableVariables();
    for (const name of copied.filter((copy) => !copy.includes('→'))) expect(await values(ours.get(name))).toEqual(await values(theirs.get(name)));
    expect(await values(ours.get('encoder.word_vectors.char_ngrams'))).toEqual(before);
    // A copy, not shared storage: training the target leaves the source as it was.
    const sentinel = ours.get('sentinel') as tf.Variable;
    sentinel.assign(tf.zerosLike(sentinel));
    expect((await values(theirs.get('sentinel'))).some((v) => v !== 0)).toBe(true);
    // Another prompt source: MLP_P starts fresh, even its output bias, whose shape matches.
    const targetPrompts = RecipeEncoder.create(await DefaultEncoder.create(tinyEncoder), { ...tinyHeads, seed: 10, promptSource: 'target' });
    const switched = targetPrompts.copyWeightsFrom(trained);
    expect(switched.fresh.sort()).toEqual(['prompt_head.output.bias', 'prompt_head.output.weight', 'prompt_head.residual.bias', 'prompt_head.residual.weight']);
    expect(switched.copied).toContain('knowledge_head.input.weight');
    trained.dispose();
    target.dispose();
    targetPrompts.dispose();
  });

  it('warm start into a longer or shorter prompt repeats the trained prompt vectors in turn (prompts, not just shapes)', async () => {
    const trained = await tinyRecipe();
    const facts = ['Ada lives in Paris', 'the sky is green'];
    const source = trained.encodeKnowledge(facts); // prompts [2, 3, 5]
    const expected = await source.prompts.array();
    for (const promptLength of [7, 2]) {
      const target = RecipeEncoder.create(await DefaultEncoder.create(tinyEncoder), { ...tinyHeads, seed: 10, promptLength });
      const { fresh } = target.copyWeightsFrom(trained);
      expect(fresh).toEqual([]);
      const grown = target.encodeKnowledge(facts);
      expect(grown.prompts.shape).toEqual([2, promptLength, 5]);
      const actual = await grown.prompts.array();
      for (let fact = 0; fact < 2; fact++) {
        for (let vector = 0; vector < promptLength; vector++) {
          actual[fact]![vector]!.forEach((value, c) => expect(value).toBeCloseTo(expected[fact]![vector % 3]![c]!, 5));
        }
      }
      tf.dispose([grown.representations, grown.prompts]);
      target.dispose();
    }
    tf.dispose([source.representations, source.prompts]);
    trained.dispose();
  });

  it('leaks no tensors over repeated encode calls', async () => {
    const recipe = await tinyRecipe();
    const run = (): void => {
      const knowledge = recipe.encodeKnowledge(['one fact', 'another fact here']);
      const queries = recipe.encodeQueries(['a question']);
      const sentinel = recipe.sentinelRepresentation();
      const encoded = recipe.encoder.encode(['plain text']);
      const features = recipe.encodeFeatures(['more text']);
      tf.dispose([knowledge.representations, knowledge.prompts, queries, sentinel, encoded.states, encoded.mask, encoded.pooled, features]);
    };
    run();
    const before = tf.memory().numTensors;
    for (let i = 0; i < 3; i++) run();
    expect(tf.memory().numTensors).toBe(before);
    recipe.dispose();
    expect(tf.memory().numTensors).toBeLessThan(before);
  });
});
