import * as tf from '@tensorflow/tfjs';
import { selectBackend, type CausalLanguageModel } from '@recipe-kit/core';
import { createRandomModel, loadModel } from '@recipe-kit/llm-adapters';
import { emptyForwardRow, type ForwardModelSource, type ForwardRow, type ForwardRowPlan } from './forward-report.js';
import { measureForwardRow } from './measure-forward-row.js';

const MIB = 2 ** 20;

function round(value: number, digits = 3): number {
  const scale = 10 ** digits;
  return Math.round(value * scale) / scale;
}

async function buildModel(source: ForwardModelSource): Promise<CausalLanguageModel> {
  if (source.kind === 'file') return loadModel(source.path, { tokenizer: source.tokenizerPath });
  return createRandomModel({ config: source.config, tokenizer: source.tokenizer, seed: source.seed, initStd: source.initStd });
}

/** Parameters of the built model, and those used as a matmul for every token (lm_head or the tied embedding). */
export function countParameters(model: CausalLanguageModel): { parameters: number; matmulParameters: number } {
  let parameters = 0;
  let matmulParameters = 0;
  let hasHead = false;
  for (const name of model.weightNames()) {
    const size = model.getWeight(name).size;
    parameters += size;
    const isEmbedding = name.endsWith('embed_tokens.weight') || name.endsWith('wte.weight');
    if (name === 'lm_head.weight') hasHead = true;
    if (model.getWeight(name).rank === 2 && !isEmbedding) matmulParameters += size;
  }
  if (!hasHead) matmulParameters += model.dimensions.vocabSize * model.dimensions.hiddenSize;
  return { parameters, matmulParameters };
}

function wasmHeapMiB(): number | null {
  const backend = tf.backend() as unknown as { wasm?: { HEAPU8?: Uint8Array } };
  const heap = backend.wasm?.HEAPU8;
  return heap ? round(heap.length / MIB, 1) : null;
}

export interface RunForwardRowOptions {
  /** Progress lines; default none. */
  log?: (line: string) => void;
}

/**
 * One row: activates the plan's backend, builds the model, measures it and frees it. Meant to run in a
 * fresh process (peak RSS is the process's), but works in-process too (tests).
 */
export async function runForwardRow(plan: ForwardRowPlan, options: RunForwardRowOptions = {}): Promise<ForwardRow> {
  const started = performance.now();
  const elapsed = (): number => round((performance.now() - started) / 1000, 2);
  if (plan.skipReason || !plan.source) return emptyForwardRow(plan, 'skipped', plan.skipReason ?? 'no model source', elapsed());
  const log = options.log ?? (() => {});
  const backend = await selectBackend({ backend: plan.backend, log: null });
  log(backend.description);

  const loadStart = performance.now();
  const model = await buildModel(plan.source);
  try {
    const loadSeconds = (performance.now() - loadStart) / 1000;
    const tfjsMiB = tf.memory().numBytes / MIB;
    const { parameters, matmulParameters } = countParameters(model);
    const layersRun = model.dimensions.numLayers;
    log(`loaded in ${loadSeconds.toFixed(1)} s: ${(parameters / 1e6).toFixed(2)} M parameters, ${layersRun} layers, tfjs ${tfjsMiB.toFixed(0)} MiB`);

    const measurement = await measureForwardRow(model, {
      promptTokens: plan.promptTokens,
      prefillWarmupTokens: plan.prefillWarmupTokens,
      prefillRuns: plan.prefillRuns,
      decodePromptTokens: plan.decodePromptTokens,
      decodeTokens: plan.decodeTokens,
      decodeRuns: plan.decodeRuns,
      decodeWarmup: plan.decodeWarmup,
      log,
    });
    const gflops = (tokensPerSecond: number): number => round((tokensPerSecond * 2 * matmulParameters) / 1e9, 3);
    const layersTotal = plan.layersTotal ?? layersRun;
    const row: ForwardRow = {
      model: plan.model,
      backend: plan.backend,
      status: 'measured',
      backendDescription: backend.description,
      layersRun,
      layersTotal,
      truncatedDepth: layersRun < layersTotal,
      parameters,
      parametersFull: plan.parametersFull ?? parameters,
      promptTokens: measurement.promptTokens,
      decodePromptTokens: measurement.decodePromptTokens,
      decodeTokens: measurement.decodeTokens,
      prefillRuns: measurement.prefillSeconds.length,
      decodeRuns: measurement.decodeSeconds.length,
      prefillTokensPerSecond: round(measurement.prefillTokensPerSecond),
      decodeTokensPerSecond: round(measurement.decodeTokensPerSecond),
      prefillLayerTokensPerSecond: round(measurement.prefillTokensPerSecond * layersRun),
      decodeLayerTokensPerSecond: round(measurement.decodeTokensPerSecond * layersRun),
      prefillGflopsPerSecond: gflops(measurement.prefillTokensPerSecond),
      decodeGflopsPerSecond: gflops(measurement.decodeTokensPerSecond),
      prefillSeconds: measurement.prefillSeconds.map((s) => round(s, 4)),
      decodeSeconds: measurement.decodeSeconds.map((s) => round(s, 4)),
      generateFirstTokenSeconds: measurement.generateFirstTokenSeconds.map((s) => round(s, 4)),
      loadSeconds: round(loadSeconds, 2),
      peakRssMiB: round(process.resourceUsage().maxRSS / 1024, 1),
      tfjsMiB: round(tfjsMiB, 1),
      wasmHeapMiB: wasmHeapMiB(),
      leakedTensors: measurement.leakedTensors,
      elapsedSeconds: 0,
      note: plan.note,
      source: plan.source,
    };
    row.elapsedSeconds = elapsed();
    return row;
  } finally {
    model.dispose();
  }
}
