import * as tf from '@tensorflow/tfjs';
import { RecipeEditor, type CausalLanguageModel } from '@recipe-kit/core';
import { useTestBackend } from '@recipe-kit/core/testing';
import { KnowledgeRepository } from '@recipe-kit/retriever';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { renderRecipeMarkdown, type RecipeBenchmarkReport } from '../../src/benchmarks/recipe-benchmark-markdown.js';
import { buildQuerySet, measureRecipe, percentile, RequestSupply, type RecipeMeasurement } from '../../src/benchmarks/recipe-benchmark-measure.js';
import { NoopEditor } from '../../src/editors/noop-editor.js';
import { machineInfo } from '../../src/evaluation/provenance.js';
import { ScriptedRetriever, tinyLlama, tinyRequests } from '../recipe/tiny-recipe-fixtures.js';

let model: CausalLanguageModel;
let editor: RecipeEditor;
let measurement: RecipeMeasurement;
let tensorsBefore: number;
const logLines: string[] = [];

beforeAll(async () => {
  await useTestBackend();
  model = await tinyLlama(1);
  const retriever = new ScriptedRetriever(model.dimensions.hiddenSize);
  const shape: [number, number] = [retriever.config.promptLength, retriever.config.llmWidth];
  editor = await RecipeEditor.create({
    model,
    retriever,
    createStore: (fingerprint) => new KnowledgeRepository({ dimension: retriever.config.representationDim, promptShape: shape, encoderFingerprint: fingerprint }),
    loadStore: (directory, fingerprint) => KnowledgeRepository.load(directory, { encoderFingerprint: fingerprint }),
  });
  tensorsBefore = tf.memory().numTensors;
  // Sizes out of order and repeated: measured once each, ascending. 20 > the 10 fixture edits, so clones are needed.
  measurement = await measureRecipe({
    editor,
    baseline: new NoopEditor(model),
    tokenizer: model.tokenizer,
    requests: tinyRequests(),
    settings: { sizes: [20, 5, 20], timedEdits: 8, fillBatchSize: 4, probes: 12, queryEdits: 4, repeats: 2, warmupEdits: 2, scoreBatchSize: 4 },
    log: (line) => logLines.push(line),
  });
});

afterAll(() => {
  editor.dispose();
  model.dispose();
});

function expectPositive(value: number): void {
  expect(Number.isFinite(value)).toBe(true);
  expect(value).toBeGreaterThan(0);
}

describe('measureRecipe', () => {
  it('measures every size once, ascending, with the repository holding exactly N edits', () => {
    expect(measurement.settings.sizes).toEqual([5, 20]);
    expect(measurement.sizes.map((result) => result.size)).toEqual([5, 20]);
    for (const result of measurement.sizes) expect(result.editCount).toBe(result.size);
    expect(editor.editCount).toBe(0); // restored afterwards
    expect(logLines.some((line) => line.startsWith('N=20'))).toBe(true);
  });

  it('times the requested number of single edits, retracting to stay at N when N is small', () => {
    const [small, large] = measurement.sizes;
    expect(small?.singleEdit.count).toBe(8);
    expect(small?.singleEdit.retractCycles).toBe(3); // 5 edits to reach N, then 3 retract + edit cycles
    expect(small?.fill.edits).toBe(0);
    expect(small?.fill.msPerEdit).toBeNull();
    expect(large?.singleEdit.retractCycles).toBe(0);
    expect(large?.fill.edits).toBe(20 - 8 - 5);
    for (const result of measurement.sizes) {
      const edit = result.singleEdit;
      for (const value of [edit.meanMs, edit.p50Ms, edit.p99Ms]) expectPositive(value);
      expect(edit.minMs).toBeLessThanOrEqual(edit.p50Ms);
      expect(edit.p50Ms).toBeLessThanOrEqual(edit.p99Ms);
      expect(edit.p99Ms).toBeLessThanOrEqual(edit.maxMs);
    }
    // 5 + 3 (small) + 7 + 8 (large) requests handed out; beyond the 10 fixture edits they are clones.
    expect(measurement.clonedRequests).toBe(23 - 10);
  });

  it('reports finite positive query times and ratios against the unedited model, with the retrieval split', () => {
    for (const { query, editCostInUneditedProbes, memory, leakedTensors } of measurement.sizes) {
      expect(query.probes).toBe(12);
      expect(query.kinds.reliability + query.kinds.generality + query.kinds.locality).toBe(12);
      expect(query.recipeRuns).toHaveLength(2);
      expect(query.uneditedRuns).toHaveLength(2);
      expect(query.retrievalRuns).toHaveLength(2);
      for (const value of [query.recipeMsPerProbe, query.uneditedMsPerProbe, query.ratio, query.retrievalMsPerProbe, editCostInUneditedProbes]) expectPositive(value);
      expect(query.ratio).toBeCloseTo(query.recipeMsPerProbe / query.uneditedMsPerProbe, 2);
      expect(query.llmMsPerProbe).toBeCloseTo(query.recipeMsPerProbe - query.retrievalMsPerProbe, 3);
      expect(query.hitShare).toBeGreaterThan(0); // reliability probes of stored edits retrieve them
      expect(query.hitShare).toBeLessThanOrEqual(1);
      expectPositive(memory.rssMiB);
      expect(memory.tfjsTensors).toBeGreaterThan(0);
      expect(leakedTensors).toBe(0);
    }
    // The whole measurement (fill, edits, retracts, queries, restore) leaves no tensor behind.
    expect(tf.memory().numTensors).toBe(tensorsBefore);
  });

  it('renders one Markdown row per size', () => {
    const report: RecipeBenchmarkReport = {
      benchmark: 'recipe',
      date: '2025-01-01T00:00:00.000Z',
      command: 'node recipe-benchmark.js --sizes 5,20',
      gitCommit: 'abc123',
      gitDirty: false,
      machine: machineInfo(),
      backend: 'tensor backend: test',
      tfjsVersion: tf.version_core,
      model: 'tiny',
      checkpoint: 'scripted',
      checkpointConfig: null,
      editFiles: ['fixture'],
      datasetRequests: 10,
      loadAverageStart: [0, 0, 0],
      loadAverageEnd: [0, 0, 0],
      totalSeconds: 1,
      ...measurement,
    };
    const markdown = renderRecipeMarkdown(report);
    expect(markdown).toContain('# RECIPE editing and query cost');
    expect(markdown).toContain('RECIPE ÷ unedited');
    expect(markdown).toMatch(/^\| 5 \| 5 \| /m);
    expect(markdown).toMatch(/^\| 20 \| 20 \| /m);
    expect(markdown).toContain(`**${measurement.sizes[1]?.query.ratio.toFixed(2)}×**`);
    expect(markdown).toContain('plus 13 clones');
  });
});

describe('benchmark helpers', () => {
  it('clones requests with new ids once the dataset runs out', () => {
    const supply = new RequestSupply(tinyRequests(2));
    expect(supply.take(5).map((request) => request.id)).toEqual(['edit-0', 'edit-1', 'edit-0#1', 'edit-1#1', 'edit-0#2']);
    expect(supply.cloned).toBe(3);
  });

  it('builds the query set kind by kind across the edits, repeating when short', () => {
    const set = buildQuerySet(model.tokenizer, tinyRequests(2), 7, 32);
    expect(set.queryEdits).toBe(2);
    // 2 reliability, 2 rephrases, 2 neighbours, then the first reliability again.
    expect(set.kinds).toEqual({ reliability: 3, generality: 2, locality: 2 });
    expect(set.queries[0]?.queryText).toBe('Anna Berg lives in');
    expect(set.queries[6]?.queryText).toBe('Anna Berg lives in');
  });

  it('uses nearest-rank percentiles', () => {
    const values = Array.from({ length: 200 }, (_, i) => i + 1);
    expect(percentile(values, 50)).toBe(100);
    expect(percentile(values, 99)).toBe(198);
    expect(percentile([3], 99)).toBe(3);
  });
});
