import { execFileSync } from 'node:child_process';
import os from 'node:os';
import type { BackendName } from '@recipe-kit/core';

/** Where a benchmarked model comes from; written into every row so the numbers can be reproduced. */
export type ForwardModelSource =
  | {
      kind: 'random';
      /** Hugging Face config.json fields actually built (num_hidden_layers already truncated if so). */
      config: Record<string, unknown>;
      tokenizer: string;
      seed: number;
      initStd: number;
    }
  | {
      kind: 'file';
      path: string;
      tokenizerPath: string;
      /** sha256 of the checkpoint file. */
      sha256: string;
    };

/** What one worker process runs: one model on one backend, with its token counts. */
export interface ForwardRowPlan {
  model: string;
  backend: BackendName;
  /** Present when the row cannot run (e.g. shared data absent); the reason is recorded. */
  skipReason?: string;
  source?: ForwardModelSource;
  layersTotal: number | null;
  layersRun: number | null;
  /** Parameters of the full-depth model (before any truncation). */
  parametersFull: number | null;
  /** Prompt length of the timed `forward` (prefill) runs. */
  promptTokens: number;
  /** Tokens of the warm-up forward run before the timed ones (kernels, XNNPACK weight packing). */
  prefillWarmupTokens: number;
  prefillRuns: number;
  /** Prompt length given to `generate` for the decode runs (its own prefill is not timed). */
  decodePromptTokens: number;
  /** Timed decode steps per run (generate produces one more token: the first comes from the prefill). */
  decodeTokens: number;
  decodeRuns: number;
  /** One untimed short `generate` before the timed ones. */
  decodeWarmup: boolean;
  /** Why the row runs as planned (e.g. truncated depth), shown in the table. */
  note: string;
}

export type ForwardRowStatus = 'measured' | 'skipped' | 'failed';

/** One line of the result: one model on one backend, in a fresh process. */
export interface ForwardRow {
  model: string;
  backend: BackendName;
  status: ForwardRowStatus;
  /** tfjs backend line as `selectBackend` reported it (SIMD/threads for wasm). */
  backendDescription: string | null;
  layersRun: number | null;
  layersTotal: number | null;
  /** true when fewer layers ran than the model has: the numbers are NOT the full model's. */
  truncatedDepth: boolean;
  /** Parameters loaded and run (counted from the built model). */
  parameters: number | null;
  /** Parameters of the full-depth model. */
  parametersFull: number | null;
  promptTokens: number;
  decodePromptTokens: number;
  decodeTokens: number;
  prefillRuns: number;
  decodeRuns: number;
  /** promptTokens / median seconds of the timed `forward` runs. */
  prefillTokensPerSecond: number | null;
  /** decodeTokens / median seconds of the timed decode steps (prefill of `generate` excluded). */
  decodeTokensPerSecond: number | null;
  /** Per-layer-normalised throughput: tokens/s × layers run (comparable across depths, ignores embedding/head). */
  prefillLayerTokensPerSecond: number | null;
  decodeLayerTokensPerSecond: number | null;
  /** Estimated matmul work rate: tokens/s × 2 × matmul parameters per token (attention scores ignored). */
  prefillGflopsPerSecond: number | null;
  decodeGflopsPerSecond: number | null;
  /** Every timed run, for the spread. */
  prefillSeconds: number[];
  decodeSeconds: number[];
  /** Time from `generate` call to its first token (its own prefill of decodePromptTokens), per timed run. */
  generateFirstTokenSeconds: number[];
  loadSeconds: number | null;
  /** process.resourceUsage().maxRSS of the worker process at its end. */
  peakRssMiB: number | null;
  /** tf.memory().numBytes right after loading. */
  tfjsMiB: number | null;
  /** Size of the wasm heap (wasm32 memory, at most 4 GiB) at the end; null on other backends. */
  wasmHeapMiB: number | null;
  /** Tensors alive after the measurement that were not alive before it (should be 0). */
  leakedTensors: number | null;
  /** Wall time of the row, process start to result. */
  elapsedSeconds: number;
  note: string;
  source: ForwardModelSource | null;
}

export interface MachineInfo {
  cpuModel: string;
  cores: number;
  totalMemoryGiB: number;
  platform: string;
  arch: string;
  nodeVersion: string;
  tfjsVersion: string;
}

export interface ForwardReport {
  benchmark: 'forward';
  /** ISO 8601 time the run started. */
  date: string;
  gitCommit: string | null;
  /** Whether the working tree had uncommitted changes (null when git is unavailable). */
  gitDirty: boolean | null;
  machine: MachineInfo;
  totalSeconds: number;
  /** os.loadavg() (1, 5, 15 min) when the run started and ended: other work on the machine skews timings. */
  loadAverageStart: number[];
  loadAverageEnd: number[];
  rows: ForwardRow[];
}

export function describeMachine(tfjsVersion: string): MachineInfo {
  const cpus = os.cpus();
  return {
    cpuModel: cpus[0]?.model.trim() ?? 'unknown',
    cores: cpus.length,
    totalMemoryGiB: Math.round((os.totalmem() / 2 ** 30) * 10) / 10,
    platform: os.platform(),
    arch: os.arch(),
    nodeVersion: process.version,
    tfjsVersion,
  };
}

/** `git rev-parse HEAD` and whether the tree is dirty; nulls when git or the repository is unavailable. */
export function describeGitState(repositoryRoot: string): { gitCommit: string | null; gitDirty: boolean | null } {
  try {
    const gitCommit = execFileSync('git', ['rev-parse', 'HEAD'], { cwd: repositoryRoot, encoding: 'utf8', stdio: ['ignore', 'pipe', 'ignore'] }).trim();
    let gitDirty: boolean | null = null;
    try {
      gitDirty = execFileSync('git', ['status', '--porcelain'], { cwd: repositoryRoot, encoding: 'utf8', stdio: ['ignore', 'pipe', 'ignore'] }).trim().length > 0;
    } catch {
      gitDirty = null;
    }
    return { gitCommit, gitDirty };
  } catch {
    return { gitCommit: null, gitDirty: null };
  }
}

/** A row that did not run (skipped or failed), with the plan's counts and the reason as its note. */
export function emptyForwardRow(plan: ForwardRowPlan, status: 'skipped' | 'failed', reason: string, elapsedSeconds: number): ForwardRow {
  return {
    model: plan.model,
    backend: plan.backend,
    status,
    backendDescription: null,
    layersRun: plan.layersRun,
    layersTotal: plan.layersTotal,
    truncatedDepth: plan.layersRun !== null && plan.layersTotal !== null && plan.layersRun < plan.layersTotal,
    parameters: null,
    parametersFull: plan.parametersFull,
    promptTokens: plan.promptTokens,
    decodePromptTokens: plan.decodePromptTokens,
    decodeTokens: plan.decodeTokens,
    prefillRuns: 0,
    decodeRuns: 0,
    prefillTokensPerSecond: null,
    decodeTokensPerSecond: null,
    prefillLayerTokensPerSecond: null,
    decodeLayerTokensPerSecond: null,
    prefillGflopsPerSecond: null,
    decodeGflopsPerSecond: null,
    prefillSeconds: [],
    decodeSeconds: [],
    generateFirstTokenSeconds: [],
    loadSeconds: null,
    peakRssMiB: null,
    tfjsMiB: null,
    wasmHeapMiB: null,
    leakedTensors: null,
    elapsedSeconds,
    note: plan.note ? `${status}: ${reason} (${plan.note})` : `${status}: ${reason}`,
    source: plan.source ?? null,
  };
}
