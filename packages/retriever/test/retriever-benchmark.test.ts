import { describe, expect, it } from 'vitest';
import { measureIndexBackend } from '../src/benchmarks/measure-index-backend.js';
import { renderRetrieverMarkdown } from '../src/benchmarks/retriever-benchmark-markdown.js';
import { createVectorDataset, type VectorDataset } from '../src/benchmarks/vector-dataset.js';
import { naiveDot } from './seeded-random.js';

/** The exact scan's best row per query, by a plain loop (the reference the benchmark's recall is against). */
function exactTopOne(dataset: VectorDataset): Int32Array {
  const { dimension, size } = dataset;
  const row = (index: number): Float32Array => dataset.base.subarray(index * dimension, (index + 1) * dimension);
  return new Int32Array(dataset.queryCount).map((_, q) => {
    let best = 0;
    for (let candidate = 1; candidate < size; candidate++) if (naiveDot(row(candidate), dataset.query(q)) > naiveDot(row(best), dataset.query(q))) best = candidate;
    return best;
  });
}

describe('retriever benchmark pieces', () => {
  it('makes unit keys and queries at the requested cosine to their source key', () => {
    const dataset = createVectorDataset({ dimension: 512, size: 50, queries: 20, noise: 0.75, seed: 1 });
    for (let row = 0; row < 50; row++) expect(naiveDot(dataset.base.subarray(row * 512, (row + 1) * 512), dataset.base.subarray(row * 512, (row + 1) * 512))).toBeCloseTo(1, 5);
    const cosines = Array.from({ length: 20 }, (_, q) => naiveDot(dataset.query(q), dataset.base.subarray(dataset.sourceRows[q]! * 512, (dataset.sourceRows[q]! + 1) * 512)));
    const mean = cosines.reduce((a, b) => a + b, 0) / cosines.length;
    // cos = 1 / sqrt(1 + 0.75²) = 0.8 for a noise norm of 0.75 (up to sampling of the noise norm).
    expect(mean).toBeGreaterThan(0.77);
    expect(mean).toBeLessThan(0.83);
  });

  it('measures the exact backend with recall 1 and renders the row', async () => {
    const dataset = createVectorDataset({ dimension: 8, size: 300, queries: 20, noise: 0.5, seed: 2 });
    const truth = exactTopOne(dataset);
    const measurement = await measureIndexBackend({ backend: 'exact', dataset, truth, parameters: {}, k: 4, recallGoal: 0.99, log: () => {} });
    expect(measurement.recallAt1).toBe(1);
    expect(measurement.size).toBe(300);
    expect(measurement.diskBytesPerEdit).toBe(32);
    const markdown = renderRetrieverMarkdown({
      createdAt: '2026-01-01T00:00:00.000Z',
      machine: { cpus: 'cpu', cores: 2, memoryGiB: 24, node: 'v20', platform: 'linux', loadAverage: [1, 1, 1] },
      git: 'abc',
      settings: { queries: 20, noise: 0.5, recallGoal: 0.99, k: 4, faissThreads: 1 },
      results: [measurement],
      skipped: [
        { backend: 'chroma', dimension: 8, size: 300, reason: 'no server' },
        { backend: 'lancedb', dimension: 8, size: 300, reason: 'too slow' },
        { backend: 'chroma', dimension: 8, size: 300, reason: 'no server', keys: 'recipe' },
      ],
      durable: null,
      endToEnd: null,
    });
    expect(markdown).toMatch(/\| 300 \| exact \| — \| \d+ \|/);
    // One line per reason, naming which keys each skipped row was for.
    expect(markdown).toContain('- chroma, width 8, N 300; chroma, width 8 (RECIPE keys), N 300: no server\n');
    expect(markdown).toContain('- lancedb, width 8, N 300: too slow\n');
    // Every latency phase carries the load it ran under, in the JSON and in the table.
    expect(measurement.query.load?.start).toHaveLength(3);
    expect(measurement.singleInsert.load?.end).toHaveLength(3);
    expect(measurement.query.cpuMeanMs).toBeGreaterThan(0);
    expect(markdown).toMatch(new RegExp(`\\| ${measurement.query.load!.start[0]} → ${measurement.query.load!.end[0]} \\|`));
  });

  it("sweeps LanceDB's nprobes like faiss's knob: probing every partition finds at least what one does, and the row keeps the setting it stopped at", async () => {
    const dataset = createVectorDataset({ dimension: 16, size: 600, queries: 40, noise: 0.5, seed: 5 });
    const truth = exactTopOne(dataset);
    const parameters: Record<string, number> = { batchRows: 100, indexAt: 300, numPartitions: 8, nprobes: 1 };
    // Goal 1.01 cannot be reached, so every value is measured.
    const measurement = await measureIndexBackend({ backend: 'lancedb', dataset, truth, parameters, k: 4, recallGoal: 1.01, sweep: { parameter: 'nprobes', values: [1, 8] }, log: () => {} });
    expect(measurement.sweep?.map((step) => step.value)).toEqual([1, 8]);
    const [one, all] = measurement.sweep!;
    expect(all!.recallAt1).toBeGreaterThanOrEqual(one!.recallAt1);
    expect(all!.recallAt1).toBeGreaterThan(0.9);
    expect(measurement.parameters['nprobes']).toBe(8);
    expect(measurement.notes.join(' ')).toMatch(/recall goal 1.01 not reached at nprobes ≤ 8/);
  });

  it("scores how often the rescored best is the query's own key, and shows it beside the exact scan's on RECIPE-key rows", async () => {
    const dataset = createVectorDataset({ dimension: 8, size: 40, queries: 10, noise: 0.2, seed: 4 });
    const truth = exactTopOne(dataset);
    // Three queries claim another source than the one they were made from: the exact scan cannot find "their" key.
    for (const q of [0, 3, 7]) dataset.sourceRows[q] = (truth[q]! + 1) % 40;
    const expected = Array.from(truth).filter((row, q) => row === dataset.sourceRows[q]).length / 10;
    expect(expected).toBeLessThanOrEqual(0.7);
    const measurement = await measureIndexBackend({ backend: 'exact', dataset, truth, parameters: {}, k: 4, recallGoal: 0.99, log: () => {} });
    expect(measurement.recallAt1).toBe(1);
    expect(measurement.sourceAt1).toBe(expected);
    const markdown = renderRetrieverMarkdown({
      createdAt: '2026-01-01T00:00:00.000Z',
      machine: { cpus: 'cpu', cores: 2, memoryGiB: 24, node: 'v20', platform: 'linux', loadAverage: [1, 1, 1] },
      git: 'abc',
      settings: { queries: 10, noise: 0.2, recallGoal: 0.99, k: 4, faissThreads: 1 },
      results: [{ ...measurement, keys: 'recipe', keysSource: 'models/x/recipe', sourceAgreement: 0.5 }],
      skipped: [],
      durable: null,
      endToEnd: null,
    });
    expect(markdown).toContain('| recall@1 | own fact @1 (exact) |');
    expect(markdown).toContain(`| 1.000 | ${expected.toFixed(3)} (0.500) |`);
  });

  it('makes structured keys with the requested mean pairwise cosine, and the same i.i.d. keys as before at 0', () => {
    const structured = createVectorDataset({ dimension: 256, size: 200, queries: 1, noise: 0.75, seed: 5, sharedCosine: 0.4 });
    const iid = createVectorDataset({ dimension: 256, size: 200, queries: 1, noise: 0.75, seed: 5 });
    const meanCosine = (base: Float32Array): number => {
      let sum = 0;
      let pairs = 0;
      for (let a = 0; a < 200; a++) for (let b = a + 1; b < 200; b++, pairs++) sum += naiveDot(base.subarray(a * 256, (a + 1) * 256), base.subarray(b * 256, (b + 1) * 256));
      return sum / pairs;
    };
    expect(meanCosine(structured.base)).toBeCloseTo(0.4, 1);
    expect(Math.abs(meanCosine(iid.base))).toBeLessThan(0.02);
    expect(createVectorDataset({ dimension: 256, size: 200, queries: 1, noise: 0.75, seed: 5, sharedCosine: 0 }).base).toEqual(iid.base);
  });
});
