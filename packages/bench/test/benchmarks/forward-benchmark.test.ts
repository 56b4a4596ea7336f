import * as tf from '@tensorflow/tfjs';
import { selectBackend } from '@recipe-kit/core';
import { createRandomModel } from '@recipe-kit/llm-adapters';
import { afterEach, describe, expect, it } from 'vitest';
import { describeMachine, emptyForwardRow, type ForwardReport, type ForwardRow, type ForwardRowPlan } from '../../src/benchmarks/forward-report.js';
import {
  LLAMA_1B_CONFIG,
  WASM_HEAP_LIMIT_BYTES,
  estimateWasmHeapBytes,
  forwardRowPlans,
  llamaParameterCounts,
  parametersAtDepth,
  planCpuDepth,
  planWasmDepth,
} from '../../src/benchmarks/forward-row-plans.js';
import { benchmarkPromptIds, measureForwardRow, median } from '../../src/benchmarks/measure-forward-row.js';
import { forwardRatios, renderForwardMarkdown } from '../../src/benchmarks/render-forward-markdown.js';
import { countParameters, runForwardRow } from '../../src/benchmarks/run-forward-row.js';

/** Tiny LLaMA: hidden 32, 2 layers, GQA 4/2, the real 32k LLaMA-2 vocabulary. */
const tinyConfig: Record<string, unknown> = {
  model_type: 'llama',
  hidden_size: 32,
  intermediate_size: 48,
  num_hidden_layers: 2,
  num_attention_heads: 4,
  num_key_value_heads: 2,
  vocab_size: 32000,
  max_position_embeddings: 64,
  rms_norm_eps: 1e-5,
  tie_word_embeddings: false,
};

function tinyPlan(backend: 'wasm' | 'cpu', layersTotal = 2): ForwardRowPlan {
  return {
    model: 'tiny-llama',
    backend,
    source: { kind: 'random', config: tinyConfig, tokenizer: 'llama2', seed: 3, initStd: 0.2 },
    layersTotal,
    layersRun: 2,
    parametersFull: null,
    promptTokens: 8,
    prefillWarmupTokens: 4,
    prefillRuns: 3,
    decodePromptTokens: 5,
    decodeTokens: 4,
    decodeRuns: 2,
    decodeWarmup: true,
    note: 'test model',
  };
}

function expectPositive(value: number | null): void {
  expect(value).not.toBeNull();
  expect(Number.isFinite(value)).toBe(true);
  expect(value as number).toBeGreaterThan(0);
}

function expectMeasuredRow(row: ForwardRow, backend: 'wasm' | 'cpu'): void {
  expect(row.status).toBe('measured');
  expect(row.backend).toBe(backend);
  expect(row.backendDescription).toContain(backend);
  expect(row.layersRun).toBe(2);
  expect(row.promptTokens).toBe(8);
  expect(row.decodePromptTokens).toBe(5);
  expect(row.decodeTokens).toBe(4);
  expect(row.prefillSeconds).toHaveLength(3);
  expect(row.decodeSeconds).toHaveLength(2);
  expect(row.generateFirstTokenSeconds).toHaveLength(2);
  expect(row.prefillRuns).toBe(3);
  expect(row.decodeRuns).toBe(2);
  for (const value of [
    row.prefillTokensPerSecond,
    row.decodeTokensPerSecond,
    row.prefillLayerTokensPerSecond,
    row.decodeLayerTokensPerSecond,
    row.prefillGflopsPerSecond,
    row.decodeGflopsPerSecond,
    row.peakRssMiB,
    row.tfjsMiB,
    row.loadSeconds,
    row.parameters,
  ]) {
    expectPositive(value);
  }
  expect(row.prefillLayerTokensPerSecond).toBeCloseTo((row.prefillTokensPerSecond as number) * 2, 1);
  expect(row.leakedTensors).toBe(0);
  expect(row.source?.kind).toBe('random');
  if (backend === 'wasm') expectPositive(row.wasmHeapMiB);
  else expect(row.wasmHeapMiB).toBeNull();
}

const report = (rows: ForwardRow[]): ForwardReport => ({
  benchmark: 'forward',
  date: '2025-01-01T00:00:00.000Z',
  gitCommit: 'abc123',
  gitDirty: false,
  machine: describeMachine(tf.version_core),
  totalSeconds: 1,
  loadAverageStart: [0, 0, 0],
  loadAverageEnd: [0, 0, 0],
  rows,
});

describe('forward benchmark: planning', () => {
  const savedData = process.env['RECIPE_KIT_DATA'];
  afterEach(() => {
    if (savedData === undefined) delete process.env['RECIPE_KIT_DATA'];
    else process.env['RECIPE_KIT_DATA'] = savedData;
  });

  it('counts LLaMA parameters as the built model has them', async () => {
    await selectBackend({ backend: 'wasm', log: null });
    const model = await createRandomModel({ config: tinyConfig, tokenizer: 'llama2', seed: 1 });
    try {
      const counts = llamaParameterCounts(tinyConfig);
      expect(parametersAtDepth(counts, 2)).toBe(countParameters(model).parameters);
    } finally {
      model.dispose();
    }
  });

  it('truncates the 1B shape on wasm (4.4 GB of float32 > 4 GiB) and runs it whole on cpu', () => {
    const counts = llamaParameterCounts(LLAMA_1B_CONFIG);
    const wasm = planWasmDepth(counts);
    expect(wasm.fullParameterBytes).toBeGreaterThan(WASM_HEAP_LIMIT_BYTES);
    expect(wasm.layersRun).toBeGreaterThan(0);
    expect(wasm.layersRun).toBeLessThan(22);
    expect(estimateWasmHeapBytes(counts, wasm.layersRun)).toBeLessThanOrEqual(WASM_HEAP_LIMIT_BYTES);
    expect(estimateWasmHeapBytes(counts, wasm.layersRun + 1)).toBeGreaterThan(WASM_HEAP_LIMIT_BYTES);
    expect(wasm.note).toMatch(/TRUNCATED DEPTH/);
    expect(planCpuDepth(counts, 64 * 2 ** 30).layersRun).toBe(22);
    expect(planCpuDepth(counts, 4 * 2 ** 30).layersRun).toBeLessThan(22);

    const plans = forwardRowPlans({ repositoryRoot: '/nonexistent', models: ['llama-1b-shape'] });
    const wasmPlan = plans.find((plan) => plan.backend === 'wasm');
    expect(wasmPlan?.layersRun).toBe(wasm.layersRun);
    expect(wasmPlan?.source?.kind === 'random' && wasmPlan.source.config['num_hidden_layers']).toBe(wasm.layersRun);
    expect(wasmPlan?.note).toMatch(/TRUNCATED DEPTH/);
  });

  it('records stories260K as skipped, with the reason, when the shared data is absent', () => {
    process.env['RECIPE_KIT_DATA'] = '/nonexistent/recipe-kit-data';
    const plans = forwardRowPlans({ repositoryRoot: '/nonexistent', models: ['stories260K'], backends: ['wasm'] });
    expect(plans).toHaveLength(1);
    expect(plans[0]?.skipReason).toMatch(/RECIPE_KIT_DATA/);
    const row = emptyForwardRow(plans[0] as ForwardRowPlan, 'skipped', plans[0]?.skipReason ?? '', 0);
    expect(row.status).toBe('skipped');
    expect(renderForwardMarkdown(report([row]))).toMatch(/\| stories260K \| wasm \|.*skipped: shared data not found/);
  });
});

describe('forward benchmark: measuring a tiny model in-process', () => {
  it('builds deterministic prompts of the asked length', async () => {
    const model = await createRandomModel({ config: tinyConfig, tokenizer: 'llama2', seed: 1 });
    try {
      const ids = benchmarkPromptIds(model.tokenizer, 40);
      expect(ids).toHaveLength(40);
      expect(ids[0]).toBe(model.tokenizer.bosId);
      expect(benchmarkPromptIds(model.tokenizer, 40)).toEqual(ids);
      expect(median([3, 1, 2])).toBe(2);
      expect(median([4, 1, 2, 3])).toBe(2.5);
    } finally {
      model.dispose();
    }
  });

  it('measureForwardRow times prefill and decode without leaking tensors', async () => {
    await selectBackend({ backend: 'wasm', log: null });
    const model = await createRandomModel({ config: tinyConfig, tokenizer: 'llama2', seed: 2, initStd: 0.2 });
    try {
      const lines: string[] = [];
      const measurement = await measureForwardRow(model, {
        promptTokens: 6,
        prefillRuns: 2,
        decodeTokens: 3,
        decodeRuns: 2,
        log: (line) => lines.push(line),
      });
      expect(measurement.prefillSeconds).toHaveLength(2);
      expect(measurement.decodeSeconds).toHaveLength(2);
      expect(measurement.decodePromptTokens).toBe(6);
      expectPositive(measurement.prefillTokensPerSecond);
      expectPositive(measurement.decodeTokensPerSecond);
      expect(measurement.leakedTensors).toBe(0);
      expect(lines.some((line) => line.startsWith('warm-up forward'))).toBe(true);
      expect(lines.filter((line) => line.startsWith('decode '))).toHaveLength(2);
    } finally {
      model.dispose();
    }
  });

  const rows: ForwardRow[] = [];
  it.each(['wasm', 'cpu'] as const)('runForwardRow measures a tiny LLaMA on %s', async (backend) => {
    const row = await runForwardRow(tinyPlan(backend));
    expectMeasuredRow(row, backend);
    expect(row.truncatedDepth).toBe(false);
    rows.push(row);
  });

  it('labels a truncated-depth row as such', async () => {
    const row = await runForwardRow({ ...tinyPlan('wasm', 4), model: 'tiny-llama-deep', parametersFull: 123_456_789 });
    expect(row.truncatedDepth).toBe(true);
    expect(row.layersTotal).toBe(4);
    expect(row.parametersFull).toBe(123_456_789);
    const markdown = renderForwardMarkdown(report([row]));
    expect(markdown).toContain('**2/4 (truncated)**');
    expect(markdown).toMatch(/tiny-llama-deep on wasm is a truncated-depth measurement/);
  });

  it('renders the Markdown table and the wasm/cpu ratios', () => {
    expect(rows).toHaveLength(2);
    const skipped = emptyForwardRow({ ...tinyPlan('cpu'), model: 'absent-model', skipReason: 'no data' }, 'skipped', 'no data', 0);
    const markdown = renderForwardMarkdown(report([...rows, skipped]));
    expect(markdown).toMatch(/^# Forward benchmark — 2025-01-01T00:00:00.000Z/);
    expect(markdown).toContain('| model | backend | layers run/total |');
    expect(markdown).toMatch(/\| tiny-llama \| wasm \| 2\/2 \|/);
    expect(markdown).toMatch(/\| tiny-llama \| cpu \| 2\/2 \|/);
    expect(markdown).toMatch(/\| absent-model \| cpu \|.*skipped: no data/);
    expect(markdown).toContain('## wasm ÷ cpu (same run)');
    expect(markdown).toMatch(/\| tiny-llama \| 2\/2 \| tokens\/s \| \d+\.\d\d× \| \d+\.\d\d× \|/);

    const [ratio] = forwardRatios(rows);
    expect(ratio?.basis).toBe('tokens/s');
    expectPositive(ratio?.prefill ?? null);
    expectPositive(ratio?.decode ?? null);
    expectPositive(ratio?.peakRss ?? null);
    // Different depths compare per layer, never tokens/s of different models.
    const deeper = { ...rows[1], layersRun: 4, prefillLayerTokensPerSecond: 1, decodeLayerTokensPerSecond: 1 } as ForwardRow;
    const [depthRatio] = forwardRatios([rows[0] as ForwardRow, deeper]);
    expect(depthRatio?.basis).toBe('layer-tokens/s');
    expect(depthRatio?.prefill).toBeCloseTo(rows[0]?.prefillLayerTokensPerSecond as number, 5);
  });
});
