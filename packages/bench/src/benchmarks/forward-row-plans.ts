import { createHash } from 'node:crypto';
import { existsSync, readFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { resolveDataDirectory, type BackendName } from '@recipe-kit/core';
import type { ForwardRowPlan } from './forward-report.js';

/** A wasm32 memory (the tfjs wasm heap) cannot exceed 4 GiB. */
export const WASM_HEAP_LIMIT_BYTES = 4 * 2 ** 30;
/** Heap kept free for activations, the KV cache, load-time transposes and allocator fragmentation. */
export const WASM_HEAP_RESERVE_BYTES = 512 * 2 ** 20;
const FLOAT32_BYTES = 4;

/** The 1B-shaped LLaMA (TinyLlama-1.1B's shape) with random weights. */
export const LLAMA_1B_CONFIG: Readonly<Record<string, unknown>> = {
  model_type: 'llama',
  hidden_size: 2048,
  intermediate_size: 5632,
  num_hidden_layers: 22,
  num_attention_heads: 32,
  num_key_value_heads: 4,
  vocab_size: 32000,
  max_position_embeddings: 2048,
  rms_norm_eps: 1e-5,
  tie_word_embeddings: false,
};

/** A small GPT-J (partial rotary, GPT-2 vocabulary); its cost is dominated by the 50k vocabulary. */
export const GPTJ_SMALL_CONFIG: Readonly<Record<string, unknown>> = {
  model_type: 'gptj',
  n_embd: 256,
  n_inner: 1024,
  n_layer: 4,
  n_head: 8,
  rotary_dim: 16,
  vocab_size: 50257,
  n_positions: 2048,
  layer_norm_epsilon: 1e-5,
};

export const FORWARD_MODEL_NAMES = ['stories260K', 'llama-1b-shape', 'gptj-small'] as const;
export type ForwardModelName = (typeof FORWARD_MODEL_NAMES)[number];

/** Parameter counts of a LLaMA config.json, split so that a truncated depth can be priced before building. */
export interface LlamaParameterCounts {
  perLayer: number;
  /** Of perLayer, the matmul (linear) weights. */
  linearPerLayer: number;
  /** Embedding, final norm and (untied) lm_head. */
  outsideLayers: number;
  /** Of outsideLayers, the weights used as a matmul per token: lm_head, or the tied embedding. */
  linearOutsideLayers: number;
  layers: number;
}

function positiveInteger(config: Readonly<Record<string, unknown>>, key: string, fallback?: number): number {
  const value = config[key] ?? fallback;
  if (typeof value !== 'number' || !Number.isInteger(value) || value <= 0) throw new Error(`config "${key}" must be a positive integer, got ${String(value)}`);
  return value;
}

/** Counts as `llama-architecture.ts` declares its weights (q/k/v/o, gate/up/down, two norms per layer). */
export function llamaParameterCounts(config: Readonly<Record<string, unknown>>): LlamaParameterCounts {
  const hidden = positiveInteger(config, 'hidden_size');
  const intermediate = positiveInteger(config, 'intermediate_size');
  const heads = positiveInteger(config, 'num_attention_heads');
  const keyValueHeads = positiveInteger(config, 'num_key_value_heads', heads);
  const vocab = positiveInteger(config, 'vocab_size');
  const layers = positiveInteger(config, 'num_hidden_layers');
  const headDim = hidden / heads;
  const tied = config['tie_word_embeddings'] === true;
  const linearPerLayer = 2 * hidden * heads * headDim + 2 * hidden * keyValueHeads * headDim + 3 * hidden * intermediate;
  return {
    perLayer: linearPerLayer + 2 * hidden,
    linearPerLayer,
    outsideLayers: vocab * hidden + hidden + (tied ? 0 : vocab * hidden),
    linearOutsideLayers: vocab * hidden,
    layers,
  };
}

export function parametersAtDepth(counts: LlamaParameterCounts, layers: number): number {
  return counts.outsideLayers + layers * counts.perLayer;
}

/**
 * Estimated peak wasm heap for `layers` layers: every float32 weight, plus the packed copy XNNPACK
 * keeps of every matmul weight after its first use (measured: the heap grows by about the linear
 * weights on the first forward), plus a fixed reserve.
 */
export function estimateWasmHeapBytes(counts: LlamaParameterCounts, layers: number): number {
  const linear = counts.linearOutsideLayers + layers * counts.linearPerLayer;
  return FLOAT32_BYTES * (parametersAtDepth(counts, layers) + linear) + WASM_HEAP_RESERVE_BYTES;
}

export interface DepthPlan {
  layersRun: number;
  /** The full model's float32 weights alone, in bytes. */
  fullParameterBytes: number;
  /** One line explaining the choice (empty when the full depth runs). */
  note: string;
}

/** The deepest truncation of a LLaMA that fits the wasm32 heap (all layers when they fit). */
export function planWasmDepth(counts: LlamaParameterCounts): DepthPlan {
  const fullParameterBytes = FLOAT32_BYTES * parametersAtDepth(counts, counts.layers);
  let layersRun = counts.layers;
  while (layersRun > 0 && estimateWasmHeapBytes(counts, layersRun) > WASM_HEAP_LIMIT_BYTES) layersRun--;
  if (layersRun === counts.layers) return { layersRun, fullParameterBytes, note: '' };
  if (layersRun === 0) {
    return { layersRun, fullParameterBytes, note: 'not even one layer fits the 4 GiB wasm32 heap' };
  }
  const gib = (bytes: number): string => (bytes / 2 ** 30).toFixed(2);
  return {
    layersRun,
    fullParameterBytes,
    note:
      `TRUNCATED DEPTH: ${layersRun} of ${counts.layers} layers (same width). The full model's float32 weights are ` +
      `${(fullParameterBytes / 1e9).toFixed(2)} GB (${gib(fullParameterBytes)} GiB) before XNNPACK's packed copies, over the 4 GiB wasm32 heap; ${layersRun} layers need ~${gib(estimateWasmHeapBytes(counts, layersRun))} GiB ` +
      `(weights + XNNPACK packed copies + ${WASM_HEAP_RESERVE_BYTES / 2 ** 20} MiB reserve). Compare per-layer-normalised numbers only.`,
  };
}

/** The deepest truncation whose weights (plus load-time copies) fit in half the machine's memory. */
export function planCpuDepth(counts: LlamaParameterCounts, totalMemoryBytes = os.totalmem()): DepthPlan {
  const fullParameterBytes = FLOAT32_BYTES * parametersAtDepth(counts, counts.layers);
  const budget = totalMemoryBytes / 2;
  let layersRun = counts.layers;
  while (layersRun > 0 && FLOAT32_BYTES * parametersAtDepth(counts, layersRun) > budget) layersRun--;
  const note =
    layersRun === counts.layers
      ? ''
      : `TRUNCATED DEPTH: ${layersRun} of ${counts.layers} layers: the full weights (${(fullParameterBytes / 2 ** 30).toFixed(2)} GiB) exceed half of this machine's memory.`;
  return { layersRun, fullParameterBytes, note };
}

export interface ForwardRowPlanOptions {
  repositoryRoot: string;
  models?: readonly ForwardModelName[];
  backends?: readonly BackendName[];
}

function sha256Of(file: string): string {
  return createHash('sha256').update(readFileSync(file)).digest('hex');
}

function storiesPlans(repositoryRoot: string, backend: BackendName): ForwardRowPlan {
  const common = {
    model: 'stories260K',
    backend,
    layersTotal: 5,
    layersRun: 5,
    parametersFull: null,
    promptTokens: 32,
    prefillWarmupTokens: 32,
    prefillRuns: 7,
    decodePromptTokens: 32,
    decodeTokens: 64,
    decodeRuns: 3,
    decodeWarmup: true,
    note: 'trained llama2.c checkpoint',
  };
  const dataDirectory = resolveDataDirectory(repositoryRoot);
  if (!dataDirectory) {
    return { ...common, skipReason: 'shared data not found: set RECIPE_KIT_DATA to the data directory (default ../shared/data beside the repository)' };
  }
  const checkpoint = path.join(dataDirectory, 'models', 'stories260K', 'stories260K.bin');
  const tokenizerPath = path.join(dataDirectory, 'models', 'stories260K', 'tok512.bin');
  const missing = [checkpoint, tokenizerPath].filter((file) => !existsSync(file));
  if (missing.length > 0) return { ...common, skipReason: `missing ${missing.join(', ')}` };
  return { ...common, source: { kind: 'file', path: checkpoint, tokenizerPath, sha256: sha256Of(checkpoint) } };
}

function llama1bPlan(backend: BackendName): ForwardRowPlan {
  const counts = llamaParameterCounts(LLAMA_1B_CONFIG);
  const depth = backend === 'wasm' ? planWasmDepth(counts) : planCpuDepth(counts);
  const common = {
    model: 'llama-1b-shape',
    backend,
    layersTotal: counts.layers,
    layersRun: depth.layersRun,
    parametersFull: parametersAtDepth(counts, counts.layers),
    promptTokens: 16,
    decodePromptTokens: 4,
  };
  const randomNote = 'random weights, TinyLlama-1.1B shape';
  if (depth.layersRun === 0) return { ...common, prefillWarmupTokens: 0, prefillRuns: 0, decodeTokens: 0, decodeRuns: 0, decodeWarmup: false, note: randomNote, skipReason: depth.note };
  const source = {
    kind: 'random' as const,
    config: { ...LLAMA_1B_CONFIG, num_hidden_layers: depth.layersRun },
    tokenizer: 'llama2',
    seed: 0,
    initStd: 0.02,
  };
  const note = depth.note ? `${randomNote}; ${depth.note}` : randomNote;
  // The cpu backend runs at well under 1 GFLOP/s here: one prefill of 16 tokens through 22 layers takes
  // about a minute and a half, each decoded token several seconds, so it gets one run and few tokens.
  const slow = backend === 'cpu';
  return {
    ...common,
    source,
    prefillWarmupTokens: slow ? 1 : 16,
    prefillRuns: slow ? 1 : 3,
    decodeTokens: slow ? 3 : 16,
    decodeRuns: slow ? 1 : 2,
    decodeWarmup: !slow,
    note,
  };
}

function gptjPlan(backend: BackendName): ForwardRowPlan {
  return {
    model: 'gptj-small',
    backend,
    source: { kind: 'random', config: { ...GPTJ_SMALL_CONFIG }, tokenizer: 'gpt2', seed: 0, initStd: 0.02 },
    layersTotal: GPTJ_SMALL_CONFIG['n_layer'] as number,
    layersRun: GPTJ_SMALL_CONFIG['n_layer'] as number,
    parametersFull: null,
    promptTokens: 32,
    prefillWarmupTokens: 32,
    prefillRuns: 5,
    decodePromptTokens: 32,
    decodeTokens: 32,
    decodeRuns: 3,
    decodeWarmup: true,
    note: 'random weights, small GPT-J (hidden 256, 4 layers, 50k vocabulary)',
  };
}

/** Every (model × backend) row to run, in order, each with its token counts and any truncation decided up front. */
export function forwardRowPlans(options: ForwardRowPlanOptions): ForwardRowPlan[] {
  const models = options.models ?? FORWARD_MODEL_NAMES;
  const backends = options.backends ?? (['wasm', 'cpu'] as const);
  const plans: ForwardRowPlan[] = [];
  for (const model of models) {
    for (const backend of backends) {
      if (model === 'stories260K') plans.push(storiesPlans(options.repositoryRoot, backend));
      else if (model === 'llama-1b-shape') plans.push(llama1bPlan(backend));
      else plans.push(gptjPlan(backend));
    }
  }
  return plans;
}
