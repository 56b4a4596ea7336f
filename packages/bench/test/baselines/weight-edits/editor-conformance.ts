import { readFileSync } from 'node:fs';
import { mkdtemp, rm } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import * as tf from '@tensorflow/tfjs';
import { ContextOverflowError, InvalidInputError, tokenizeProbe, type CausalLanguageModel, type EditRequest, type Editor, type QueryContinuation } from '@recipe-kit/core';
import { repositoryRoot, useTestBackend } from '@recipe-kit/core/testing';
import { loadModel } from '@recipe-kit/llm-adapters';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';

/** A few edits of 25–75 optimiser steps each: slow on a shared 2-core machine, so more room than vitest's default. */
const EDIT_TEST_TIMEOUT_MS = 300_000;

/** The committed micro models the editors are checked on (both architectures, synthetic world). */
export const MICRO_MODELS = [
  { name: 'synthetic-llama', edits: 'held-out-eval-edits.json' },
  { name: 'synthetic-gptj', edits: 'synthetic-edits.json' },
] as const;

export type MicroModel = (typeof MICRO_MODELS)[number];

export function loadMicroModel(micro: MicroModel): Promise<CausalLanguageModel> {
  return loadModel(path.join(repositoryRoot, 'models', micro.name));
}

/** Edits of the micro model's world whose target is a single token (so every editor can reach it in one edit). */
export function microEdits(micro: MicroModel, model: CausalLanguageModel, count: number): EditRequest[] {
  const file = path.join(repositoryRoot, 'models', micro.name, micro.edits);
  const requests = (JSON.parse(readFileSync(file, 'utf8')) as { requests: EditRequest[] }).requests;
  return requests.filter((r) => tokenizeProbe(model.tokenizer, r.prompt, r.targetNew).continuation.length === 1).slice(0, count);
}

/** Top-1 accuracy of `request`'s target after its prompt on the editor's model. */
export async function reliability(editor: Editor, request: EditRequest): Promise<number> {
  const query = tokenizeProbe(editor.model.tokenizer, request.prompt, request.targetNew);
  const [score] = await editor.scoreContinuations([query]);
  return (score?.argmaxIds ?? []).filter((id, i) => id === query.continuation[i]).length / query.continuation.length;
}

function allWeights(model: CausalLanguageModel): Map<string, Float32Array> {
  return new Map(model.weightNames().map((name) => [name, (model.getWeight(name).dataSync() as Float32Array).slice()]));
}

async function logProbabilities(editor: Editor, queries: readonly QueryContinuation[]): Promise<number[][]> {
  return (await editor.scoreContinuations(queries)).map((score) => score.logProbs);
}

/**
 * The contract every baseline editor meets on both micro models (written once, run by each editor):
 * an edit makes its target the argmax, restore gives back bit-identical weights and scores,
 * save/load reproduces the edited model's scores, bad requests get clear errors, no tensor leaks.
 */
export function describeEditorConformance(label: string, create: (model: CausalLanguageModel) => Promise<Editor>): void {
  describe.each(MICRO_MODELS)(`${label} on $name`, (micro) => {
    let model: CausalLanguageModel;
    let editor: Editor;
    let requests: EditRequest[];
    let queries: QueryContinuation[];
    let dir: string;
    beforeAll(async () => {
      await useTestBackend();
      dir = await mkdtemp(path.join(os.tmpdir(), `${label}-`));
      model = await loadMicroModel(micro);
      editor = await create(model);
      requests = microEdits(micro, model, 2);
      // The edited prompts, a rephrase and an unrelated fact.
      queries = [
        ...requests.map((r) => tokenizeProbe(model.tokenizer, r.prompt, r.targetNew)),
        ...requests.flatMap((r) => [...r.generality, ...r.locality].slice(0, 2)).map((p) => tokenizeProbe(model.tokenizer, p.prompt, p.target)),
      ];
    });
    afterAll(async () => {
      editor.dispose();
      model.dispose();
      await rm(dir, { recursive: true, force: true });
    });

    it('one edit makes the target the argmax on the edited prompt; restore gives back bit-identical weights and scores', async () => {
      const request = requests[0] as EditRequest;
      const weights = allWeights(model);
      const before = await logProbabilities(editor, queries);
      expect(await reliability(editor, request)).toBe(0);
      await editor.edit([request]);
      expect(editor.editCount).toBe(1);
      expect(await reliability(editor, request)).toBe(1);
      await editor.restore();
      expect(editor.editCount).toBe(0);
      for (const [name, values] of allWeights(model)) expect(values, name).toEqual(weights.get(name));
      expect(await logProbabilities(editor, queries)).toEqual(before);
    }, EDIT_TEST_TIMEOUT_MS);

    it('save/load reproduces the edited model\'s scores (into a fresh editor, after a restore)', async () => {
      await editor.edit(requests);
      const edited = await logProbabilities(editor, queries);
      await editor.save(path.join(dir, 'state'));
      await editor.restore();
      const fresh = await create(model);
      await fresh.load(path.join(dir, 'state'));
      expect(fresh.editCount).toBe(requests.length);
      expect(await logProbabilities(fresh, queries)).toEqual(edited);
      await fresh.restore();
      fresh.dispose();
    }, EDIT_TEST_TIMEOUT_MS);

    it('refuses bad requests with an error that names the problem', async () => {
      const request = requests[0] as EditRequest;
      await expect(editor.edit([{ ...request, subject: 'Nobody Atall' }])).rejects.toThrow(InvalidInputError);
      await expect(editor.edit([{ ...request, subject: 'Nobody Atall' }])).rejects.toThrow(/subject "Nobody Atall" does not occur/);
      await expect(editor.edit([{ ...request, targetNew: ' ' }])).rejects.toThrow(/empty target/);
      const long = Array.from({ length: model.dimensions.contextLength }, () => request.targetNew).join(' ');
      await expect(editor.edit([{ ...request, targetNew: long }])).rejects.toThrow(ContextOverflowError);
      expect(editor.editCount).toBe(0);
    });

    it('leaves no tensor behind over edit, score and restore cycles', async () => {
      await editor.edit([requests[0] as EditRequest]);
      await editor.scoreContinuations(queries);
      await editor.restore();
      const before = tf.memory().numTensors;
      for (let i = 0; i < 1; i++) {
        await editor.edit(requests);
        await editor.scoreContinuations(queries);
        await editor.restore();
      }
      expect(tf.memory().numTensors).toBe(before);
    }, EDIT_TEST_TIMEOUT_MS);
  });
}
