import path from 'node:path';
import * as tf from '@tensorflow/tfjs';
import { tokenizeProbe, type CausalLanguageModel, type EditRequest } from '@recipe-kit/core';
import { repositoryRoot } from '@recipe-kit/core/testing';
import { loadModel, type DecoderModel } from '@recipe-kit/llm-adapters';
import { collectSecondMoments, type SecondMoment } from '../../../src/baselines/shared/collect-second-moments.js';
import { loadSyntheticEdits, loadSyntheticWorld } from '../../../src/synthetic-world/index.js';

export type MicroModelName = 'synthetic-llama' | 'synthetic-gptj';

/** A committed micro model, its synthetic edits and C at `layers` over 600 of its world's statements. */
export async function microFixture(name: MicroModelName, layers: readonly number[]): Promise<{ model: DecoderModel; requests: EditRequest[]; secondMoments: SecondMoment[] }> {
  const directory = path.join(repositoryRoot, 'models', name);
  const model = await loadModel(directory);
  const edits = name === 'synthetic-llama' ? 'held-out-eval-edits.json' : 'synthetic-edits.json';
  const requests = await loadSyntheticEdits(path.join(directory, edits), { limit: 40 });
  const world = await loadSyntheticWorld(path.join(directory, 'synthetic-world.json'));
  const secondMoments = collectSecondMoments(model, layers, world.pretrainingCorpus().slice(0, 600));
  return { model, requests, secondMoments };
}

/** Whether the model's teacher-forced argmax is the target at every target position after the prompt. */
export function targetIsArgmax(model: CausalLanguageModel, prompt: string, target: string): boolean {
  const probe = tokenizeProbe(model.tokenizer, prompt, target);
  const [score] = model.scoreContinuations([probe]);
  return score !== undefined && score.argmaxIds.every((id, i) => id === probe.continuation[i]);
}

/** Copies of the named weights' values. */
export function weightValues(model: CausalLanguageModel, names: readonly string[]): Float32Array[] {
  return names.map((name) => Float32Array.from(model.getWeight(name).dataSync() as Float32Array));
}

/** Teacher-forced log-probabilities of each request's prompt + target (a fingerprint of the model's behaviour). */
export function requestLogProbs(model: CausalLanguageModel, requests: readonly EditRequest[]): number[][] {
  return model.scoreContinuations(requests.map((r) => tokenizeProbe(model.tokenizer, r.prompt, r.targetNew))).map((s) => s.logProbs);
}

export { tf };

/** Micro-model tests take seconds of CPU; on a loaded shared machine the wall time stretches 10×. */
export const MICRO_TIMEOUT = 600_000;
