import * as tf from '@tensorflow/tfjs';
import { InvalidConfigError, RecipeKitError, tokenizeProbe, type CausalLanguageModel, type EditRequest, type Editor, type QueryContinuation } from '@recipe-kit/core';
import { createRandomModel } from '@recipe-kit/llm-adapters';
import { editorLabel } from '../evaluation/run-evaluation.js';
import { editorNames } from '../editors/editor-registry.js';
import { NoopEditor } from '../editors/noop-editor.js';
import { scoreInBatches } from '../metrics/batched-scoring.js';
import { median } from '../benchmarks/recipe-benchmark-measure.js';
import { ALL_EDITORS, type EfficiencyConfig, type EfficiencyEditor, type EfficiencyModelConfig } from './compare-config.js';
import { createEfficiencyEditor } from './efficiency-editors.js';
import type { EfficiencyEditorResult, EfficiencyModelResult, EfficiencyReport } from '../report/efficiency-report.js';

/**
 * A wasm32 heap holds at most 4 GiB, and running out aborts the wasm module for the rest of the
 * process. Measured on a random llama-1b shape (weights W): queries peak at about 1.9·W (XNNPACK
 * keeps packed copies), one GRACE training step at about 1.9·W + 1.3 GiB (5 layers: 1.25 GiB of
 * weights, 3.8 GiB peak; 8 layers aborted). 1.25 GB of float32 weights leaves the editors that train
 * per edit (GRACE, T-Patcher, RASE's ROME patches) room for their backward pass.
 */
const WASM_WEIGHT_BYTES_LIMIT = 1.25e9;

/** The configured efficiency editors with `"all"` expanded to every registered editor (default options). */
export function expandEfficiencyEditors(editors: readonly EfficiencyEditor[]): EfficiencyEditor[] {
  return editors.some((editor) => editor.name === ALL_EDITORS) ? editorNames().map((name) => ({ name, options: {} })) : [...editors];
}

function layerKey(architecture: string): string {
  return architecture === 'gptj' ? 'n_layer' : 'num_hidden_layers';
}

function configLayers(model: EfficiencyModelConfig): number {
  const layers = model.config[layerKey(model.architecture)];
  if (typeof layers !== 'number' || !Number.isInteger(layers) || layers < 1) {
    throw new InvalidConfigError(`efficiency model ${model.name}: config.${layerKey(model.architecture)} is ${String(layers)}.`, 'Give the layer count as a positive integer.');
  }
  return layers;
}

/** Half the queries are the stored edits' prompts (retrieval hits), half unrelated locality prompts (misses). */
function efficiencyQueries(model: CausalLanguageModel, requests: readonly EditRequest[], count: number): QueryContinuation[] {
  const edited = requests.map((request) => tokenizeProbe(model.tokenizer, request.prompt, request.targetNew));
  const unrelated = requests.flatMap((request) => request.locality.map((probe) => tokenizeProbe(model.tokenizer, probe.prompt, probe.target)));
  const half = Math.ceil(count / 2);
  return [...edited.slice(0, half), ...(unrelated.length > 0 ? unrelated : edited).slice(0, count - half)];
}

/** Median ms per query over `repeats` timed passes (after one untimed warm-up pass). */
async function timeQueries(editor: Pick<Editor, 'scoreContinuations' | 'model'>, queries: readonly QueryContinuation[], repeats: number): Promise<number[]> {
  await scoreInBatches(editor, queries, 1);
  const runs: number[] = [];
  for (let repeat = 0; repeat < repeats; repeat++) {
    const { seconds } = await scoreInBatches(editor, queries, 1);
    runs.push((1000 * seconds) / queries.length);
  }
  return runs;
}

async function measureEditor(
  entry: EfficiencyEditor,
  model: CausalLanguageModel,
  requests: readonly EditRequest[],
  queries: readonly QueryContinuation[],
  settings: EfficiencyConfig,
  modelDirectory: string,
): Promise<EfficiencyEditorResult> {
  const name = entry.name;
  const base = { editor: editorLabel(name, entry.options), ...(Object.keys(entry.options).length > 0 ? { options: entry.options } : {}), storedEdits: 0, editMsMean: null, msPerQuery: null, uneditedMsPerQuery: null, ratio: null, runs: [], uneditedRuns: [], leakedTensors: 0 };
  if (!editorNames().includes(name)) return { ...base, status: 'skipped', reason: `no editor named ${name} is registered` };
  const tensorsBefore = tf.memory().numTensors;
  // The unedited model, timed right before the editor, so that both see the same machine load.
  const uneditedRuns = await timeQueries(new NoopEditor(model), queries, settings.repeats);
  let editor: Editor;
  try {
    editor = await createEfficiencyEditor(entry, model, modelDirectory, settings.seed);
  } catch (error) {
    if (error instanceof RecipeKitError) return { ...base, status: 'skipped', reason: error.message, uneditedRuns };
    throw error;
  }
  let result: EfficiencyEditorResult;
  try {
    const editSeconds: number[] = [];
    for (const request of requests.slice(0, settings.storedEdits)) {
      const started = performance.now();
      await editor.edit([request]);
      editSeconds.push((performance.now() - started) / 1000);
    }
    const runs = await timeQueries(editor, queries, settings.repeats);
    const msPerQuery = median(runs);
    const uneditedMsPerQuery = median(uneditedRuns);
    result = {
      ...base,
      status: 'measured',
      storedEdits: editSeconds.length,
      editMsMean: name === 'none' ? null : (1000 * editSeconds.reduce((a, b) => a + b, 0)) / editSeconds.length,
      msPerQuery,
      uneditedMsPerQuery,
      ratio: msPerQuery / uneditedMsPerQuery,
      runs,
      uneditedRuns,
    };
  } catch (error) {
    // A baseline that breaks on this shape is reported (status and message), not allowed to sink the whole run.
    result = { ...base, status: 'failed', reason: (error as Error).message, uneditedRuns };
  }
  await editor.restore().catch(() => undefined);
  editor.dispose();
  return { ...result, leakedTensors: Math.max(0, tf.memory().numTensors - tensorsBefore) };
}

function parameterCount(model: CausalLanguageModel): { total: number; firstLayer: number } {
  let total = 0;
  let firstLayer = 0;
  for (const name of model.weightNames()) {
    const size = model.getWeight(name).size;
    total += size;
    if (/\.(layers|h)\.0\./.test(name)) firstLayer += size;
  }
  return { total, firstLayer };
}

/**
 * Per-query inference time of each editor relative to the unedited model, on random-weight models
 * of a realistic shape (built in memory), with `storedEdits` edits applied. Batch size 1: the
 * latency a user of an edited model sees.
 */
export async function measureEfficiency(options: {
  settings: EfficiencyConfig;
  requests: readonly EditRequest[];
  /** The micro model's directory: RECIPE's text encoder and LTE's and RASE's retrievers are reused from its artefacts. */
  modelDirectory: string;
  backend: string;
  log: (line: string) => void;
}): Promise<EfficiencyReport> {
  const { settings } = options;
  // The unedited row first (once), then the listed editors in order.
  const entries: EfficiencyEditor[] = [{ name: 'none', options: {} }, ...expandEfficiencyEditors(settings.editors).filter((editor) => editor.name !== 'none')];
  const models: EfficiencyModelResult[] = [];
  for (const spec of settings.models) {
    const layersInConfig = configLayers(spec);
    const layers = Math.min(spec.layers ?? layersInConfig, layersInConfig);
    const started = performance.now();
    const model = await createRandomModel({ config: { ...spec.config, [layerKey(spec.architecture)]: layers }, tokenizer: spec.architecture === 'gptj' ? 'gpt2' : 'llama2', seed: settings.seed });
    try {
      const counts = parameterCount(model);
      if (tf.getBackend() === 'wasm' && counts.total * 4 > WASM_WEIGHT_BYTES_LIMIT) {
        throw new InvalidConfigError(
          `efficiency model ${spec.name}: ${layers} layers hold ${(counts.total / 1e6).toFixed(0)} M float32 parameters, more than the wasm32 heap (4 GiB, with XNNPACK's packed copies and room for the editors' backward passes) can hold: at most ${(WASM_WEIGHT_BYTES_LIMIT / 4 / 1e6).toFixed(0)} M.`,
          `Set "layers" lower for ${spec.name} (same width, fewer layers), or run on tfjs-node.`,
        );
      }
      const buildSeconds = (performance.now() - started) / 1000;
      options.log(`efficiency: ${spec.name} built (${layers}/${layersInConfig} layers, ${(counts.total / 1e6).toFixed(0)} M parameters, ${buildSeconds.toFixed(0)} s)`);
      const queries = efficiencyQueries(model, options.requests.slice(0, settings.storedEdits), settings.queries);
      const editors: EfficiencyEditorResult[] = [];
      for (const entry of entries) {
        const result = await measureEditor(entry, model, options.requests, queries, settings, options.modelDirectory);
        const shown = result.status === 'measured' ? `${result.msPerQuery?.toFixed(1)} ms per query, ×${result.ratio?.toFixed(2)} the unedited model` : `${result.status}: ${result.reason}`;
        options.log(`efficiency: ${spec.name} ${result.editor}: ${shown}`);
        editors.push(result);
      }
      models.push({
        name: spec.name,
        architecture: spec.architecture,
        hiddenSize: model.dimensions.hiddenSize,
        layers,
        layersInConfig,
        parameters: counts.total,
        parametersInConfig: counts.total + (layersInConfig - layers) * counts.firstLayer,
        buildSeconds,
        editors,
      });
    } finally {
      model.dispose();
    }
  }
  return {
    backend: options.backend,
    date: new Date().toISOString(),
    settings: { storedEdits: settings.storedEdits, queries: settings.queries, repeats: settings.repeats, seed: settings.seed, batchSize: 1 },
    models,
  };
}
