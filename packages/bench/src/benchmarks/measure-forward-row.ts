import * as tf from '@tensorflow/tfjs';
import type { CausalLanguageModel, Tokenizer } from '@recipe-kit/core';

/** Token counts and repetitions of one measurement. */
export interface ForwardMeasurementOptions {
  /** Prompt length of the timed `forward` runs. */
  promptTokens: number;
  /** Prompt length of the untimed warm-up forward (default promptTokens; 0 = none). */
  prefillWarmupTokens?: number;
  prefillRuns: number;
  /** Prompt length given to `generate` (default promptTokens). */
  decodePromptTokens?: number;
  /** Timed decode steps per run. */
  decodeTokens: number;
  decodeRuns: number;
  /** One untimed short `generate` first (default true). */
  decodeWarmup?: boolean;
  /** Progress lines (one per run). */
  log?: (line: string) => void;
}

export interface ForwardMeasurement {
  promptTokens: number;
  decodePromptTokens: number;
  decodeTokens: number;
  /** Seconds of each timed forward over promptTokens (logits read back). */
  prefillSeconds: number[];
  /** Seconds of the decodeTokens timed decode steps, per run. */
  decodeSeconds: number[];
  /** Seconds from each `generate` call to its first token (its prefill), per run. */
  generateFirstTokenSeconds: number[];
  prefillTokensPerSecond: number;
  decodeTokensPerSecond: number;
  /** Tensors alive after the measurement that were not before it. */
  leakedTensors: number;
}

const PROMPT_TEXT =
  'Once upon a time, there was a little girl named Lily. She loved to play outside in the park with her friends. ' +
  'One day, she saw a big red ball under a tall tree, and she ran to get it. ';

/** A deterministic prompt of exactly `length` ids: BOS (when the tokenizer has one) then a story, repeated. */
export function benchmarkPromptIds(tokenizer: Tokenizer, length: number): number[] {
  if (!Number.isInteger(length) || length < 1) throw new Error(`prompt length must be a positive integer, got ${length}`);
  const body = tokenizer.encode(PROMPT_TEXT, { addBos: false });
  if (body.length === 0) throw new Error('the tokenizer encoded the benchmark prompt to no tokens');
  const ids: number[] = tokenizer.bosId === null ? [] : [tokenizer.bosId];
  while (ids.length < length) ids.push(...body);
  return ids.slice(0, length);
}

export function median(values: readonly number[]): number {
  if (values.length === 0) throw new Error('median of no values');
  const sorted = [...values].sort((a, b) => a - b);
  const middle = Math.floor(sorted.length / 2);
  return sorted.length % 2 === 1 ? (sorted[middle] as number) : ((sorted[middle - 1] as number) + (sorted[middle] as number)) / 2;
}

/** One forward over `ids`, logits read back, in seconds. */
async function timeForward(model: CausalLanguageModel, ids: readonly number[]): Promise<number> {
  const input = tf.tensor2d([ids as number[]], [1, ids.length], 'int32');
  try {
    const start = performance.now();
    const { logits, hiddenStates } = model.forward({ ids: input });
    await logits.data();
    const seconds = (performance.now() - start) / 1000;
    logits.dispose();
    if (hiddenStates) tf.dispose(hiddenStates);
    return seconds;
  } finally {
    input.dispose();
  }
}

/**
 * Greedy generation of decodeTokens + 1 tokens; times the decode steps only: from the first token
 * (which the prefill produces) to the last, read through `onToken`.
 */
async function timeDecode(model: CausalLanguageModel, promptIds: readonly number[], decodeTokens: number): Promise<{ decode: number; firstToken: number }> {
  const stamps: number[] = [];
  const start = performance.now();
  const result = await model.generate(promptIds, {
    maxTokens: decodeTokens + 1,
    greedy: true,
    stopIds: [],
    onToken: () => stamps.push(performance.now()),
  });
  if (result.generatedIds.length !== decodeTokens + 1 || stamps.length !== decodeTokens + 1) {
    throw new Error(`generate stopped after ${result.generatedIds.length} of ${decodeTokens + 1} tokens (${result.stopReason})`);
  }
  const first = stamps[0] as number;
  return { decode: ((stamps[decodeTokens] as number) - first) / 1000, firstToken: (first - start) / 1000 };
}

/**
 * Measures prefill and decode throughput of an already loaded model on the active backend: a warm-up
 * forward, `prefillRuns` timed forwards of `promptTokens` (median), then `decodeRuns` greedy generations
 * whose decode steps are timed (median). No timing is asserted; the caller decides what is slow.
 */
export async function measureForwardRow(model: CausalLanguageModel, options: ForwardMeasurementOptions): Promise<ForwardMeasurement> {
  const { promptTokens, prefillRuns, decodeTokens, decodeRuns } = options;
  const decodePromptTokens = options.decodePromptTokens ?? promptTokens;
  const warmupTokens = options.prefillWarmupTokens ?? promptTokens;
  if (prefillRuns < 1 || decodeRuns < 1 || decodeTokens < 1) throw new Error('prefillRuns, decodeRuns and decodeTokens must be at least 1');
  const contextLength = model.dimensions.contextLength;
  if (Math.max(promptTokens, decodePromptTokens + decodeTokens + 1) > contextLength) {
    throw new Error(`prompt and decode tokens exceed the model's context of ${contextLength}`);
  }
  const log = options.log ?? (() => {});
  const tensorsBefore = tf.memory().numTensors;
  const prompt = benchmarkPromptIds(model.tokenizer, Math.max(promptTokens, decodePromptTokens, warmupTokens));

  if (warmupTokens > 0) {
    const seconds = await timeForward(model, prompt.slice(0, warmupTokens));
    log(`warm-up forward (${warmupTokens} tokens): ${seconds.toFixed(2)} s`);
  }
  const prefillSeconds: number[] = [];
  for (let run = 0; run < prefillRuns; run++) {
    prefillSeconds.push(await timeForward(model, prompt.slice(0, promptTokens)));
    log(`prefill ${run + 1}/${prefillRuns} (${promptTokens} tokens): ${(prefillSeconds[run] as number).toFixed(2)} s`);
  }

  const decodePrompt = prompt.slice(0, decodePromptTokens);
  if (options.decodeWarmup ?? true) {
    const warm = await timeDecode(model, decodePrompt, Math.min(2, decodeTokens));
    log(`warm-up generate: ${warm.firstToken.toFixed(2)} s to first token`);
  }
  const decodeSeconds: number[] = [];
  const generateFirstTokenSeconds: number[] = [];
  for (let run = 0; run < decodeRuns; run++) {
    const timed = await timeDecode(model, decodePrompt, decodeTokens);
    decodeSeconds.push(timed.decode);
    generateFirstTokenSeconds.push(timed.firstToken);
    log(`decode ${run + 1}/${decodeRuns} (${decodeTokens} steps): ${timed.decode.toFixed(2)} s (${(timed.decode / decodeTokens).toFixed(3)} s/token)`);
  }

  return {
    promptTokens,
    decodePromptTokens,
    decodeTokens,
    prefillSeconds,
    decodeSeconds,
    generateFirstTokenSeconds,
    prefillTokensPerSecond: promptTokens / median(prefillSeconds),
    decodeTokensPerSecond: decodeTokens / median(decodeSeconds),
    leakedTensors: tf.memory().numTensors - tensorsBefore,
  };
}
