import { mkdtemp, readdir, rm } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { selectBackend } from '@recipe-kit/core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createRecipeKeyDataset } from '../src/benchmarks/recipe-key-dataset.js';
import { renderRetrieverMarkdown } from '../src/benchmarks/retriever-benchmark-markdown.js';
import { measureIndexBackend } from '../src/benchmarks/measure-index-backend.js';
import { naiveDot } from './seeded-random.js';

// The committed synthetic micro LLaMA's trained RECIPE checkpoint (part of the repository, not the shared data).
const modelDirectory = path.resolve(import.meta.dirname, '../../../models/synthetic-llama');
let cache: string;

beforeAll(async () => {
  await selectBackend({});
  cache = await mkdtemp(path.join(os.tmpdir(), 'recipe-keys-'));
});
afterAll(async () => {
  await rm(cache, { recursive: true, force: true });
});

describe('RECIPE key dataset for the retriever benchmark', () => {
  it('encodes made-up facts through the trained heads: own fact retrieved, seeded, cached bit-identically', async () => {
    const options = { checkpoint: path.join(modelDirectory, 'recipe'), worldFile: path.join(modelDirectory, 'synthetic-world.json'), size: 300, queries: 40, seed: 3, cacheDirectory: cache, log: () => {} };
    const dataset = await createRecipeKeyDataset(options);
    expect(dataset.dimension).toBe(256);
    expect(dataset.base).toHaveLength(300 * 256);
    expect(dataset.base.every(Number.isFinite)).toBe(true);
    // A trained retriever: a held-out rephrasing's best key is its own fact for most queries (random keys would give ~1/300).
    const own = Array.from({ length: 40 }, (_, q) => {
      let best = 0;
      for (let row = 1; row < 300; row++) {
        if (naiveDot(dataset.base.subarray(row * 256, (row + 1) * 256), dataset.query(q)) > naiveDot(dataset.base.subarray(best * 256, (best + 1) * 256), dataset.query(q))) best = row;
      }
      return best === dataset.sourceRows[q];
    }).filter(Boolean).length;
    expect(own).toBeGreaterThanOrEqual(32);
    expect((await readdir(cache)).filter((name) => name.endsWith('.f32'))).toHaveLength(1);
    const again = await createRecipeKeyDataset(options);
    expect(again.base).toEqual(dataset.base);
    expect(again.query(7)).toEqual(dataset.query(7));
    expect(again.sourceRows).toEqual(dataset.sourceRows);
    const other = await createRecipeKeyDataset({ ...options, seed: 4, cacheDirectory: undefined });
    expect(other.base).not.toEqual(dataset.base);

    // Its rows get their own table, headed with the encoder's own top-1 share.
    const truth = new Int32Array(40).map((_, q) => dataset.sourceRows[q]!);
    const measurement = await measureIndexBackend({ backend: 'exact', dataset, truth, parameters: {}, k: 4, recallGoal: 0.99, log: () => {} });
    const markdown = renderRetrieverMarkdown({
      createdAt: '2026-01-01T00:00:00.000Z',
      machine: { cpus: 'cpu', cores: 2, memoryGiB: 24, node: 'v20', platform: 'linux', loadAverage: [1, 1, 1] },
      git: 'abc',
      settings: { queries: 40, noise: 0.75, recallGoal: 0.99, k: 4, faissThreads: 1 },
      results: [{ ...measurement, keys: 'recipe', keysSource: 'models/synthetic-llama/recipe', sourceAgreement: own / 40 }],
      skipped: [],
      durable: null,
      endToEnd: null,
    });
    expect(markdown).toContain('## Key width 256, RECIPE keys (`models/synthetic-llama/recipe`)');
    expect(markdown).toContain(`300: ${((100 * own) / 40).toFixed(1)}%`);
  });

  it('refuses a world file without relations, naming the fix', async () => {
    await expect(createRecipeKeyDataset({ checkpoint: path.join(modelDirectory, 'recipe'), worldFile: path.join(modelDirectory, 'config.json'), size: 2, queries: 1, seed: 1, log: () => {} })).rejects.toThrow(/no usable relations[\s\S]*synthetic-world\.json/);
  });
});
