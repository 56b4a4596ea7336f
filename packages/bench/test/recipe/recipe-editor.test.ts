import { mkdtemp, rm } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import * as tf from '@tensorflow/tfjs';
import { InvalidCheckpointError, InvalidInputError, RecipeEditor, tokenizeProbe, type CausalLanguageModel, type QueryContinuation, type RecipeEditorOptions } from '@recipe-kit/core';
import { useTestBackend } from '@recipe-kit/core/testing';
import { KnowledgeRepository } from '@recipe-kit/retriever';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ScriptedRetriever, tinyLlama, tinyRequests } from './tiny-recipe-fixtures.js';

let dir: string;
let model: CausalLanguageModel;
let queries: QueryContinuation[];
beforeAll(async () => {
  await useTestBackend();
  dir = await mkdtemp(path.join(os.tmpdir(), 'recipe-editor-'));
  model = await tinyLlama(1);
  // Edited people (0, 1) and unrelated queries, interleaved so hit and miss rows share a call.
  queries = [
    ['Anna Berg lives in', 'Rome'],
    ['The weather today is', 'fine'],
    ['The home of Boris Cole is', 'Paris'],
    ['Jonas Kerr works in', 'Berlin'],
    ['Clara Dunn lives in', 'Berlin'],
  ].map(([prompt, target]) => tokenizeProbe(model.tokenizer, prompt as string, target as string));
});
afterAll(async () => {
  model.dispose();
  await rm(dir, { recursive: true, force: true });
});

function editorOptions(llm: CausalLanguageModel, extra: Partial<RecipeEditorOptions> = {}): RecipeEditorOptions {
  const retriever = new ScriptedRetriever(llm.dimensions.hiddenSize);
  const shape: [number, number] = [retriever.config.promptLength, retriever.config.llmWidth];
  return {
    model: llm,
    retriever,
    createStore: (fingerprint) => new KnowledgeRepository({ dimension: retriever.config.representationDim, promptShape: shape, encoderFingerprint: fingerprint }),
    loadStore: (directory, fingerprint) => KnowledgeRepository.load(directory, { encoderFingerprint: fingerprint }),
    ...extra,
  };
}

const requests = tinyRequests(4);

describe('RecipeEditor', () => {
  it('leaves every query that retrieves nothing bit-identical to the unedited model, in mixed batches too', async () => {
    const editor = await RecipeEditor.create(editorOptions(model));
    const unedited = model.scoreContinuations(queries);
    expect(await editor.scoreContinuations(queries)).toEqual(unedited); // empty repository
    await editor.edit(requests.slice(0, 2));
    expect(editor.editCount).toBe(2);
    const scores = await editor.scoreContinuations(queries);
    expect(editor.lastRetrievals.map((r) => r.retrievedIds)).toEqual([['edit-0'], [], ['edit-1'], [], []]);
    for (const row of [1, 3, 4]) expect(scores[row]).toEqual(unedited[row]);
    // Misses scored together equal the unedited model scoring the same rows together, exactly.
    const missRows = [1, 3, 4].map((row) => queries[row] as QueryContinuation);
    expect([1, 3, 4].map((row) => scores[row])).toEqual(model.scoreContinuations(missRows));
    editor.dispose();
  });

  it('prefixes the retrieved fact\'s stored prompt p_k (and nothing else) on a hit', async () => {
    const options = editorOptions(model);
    const editor = await RecipeEditor.create(options);
    await editor.edit(requests.slice(0, 2));
    const scores = await editor.scoreContinuations(queries);
    const prompt = tf.tidy(() => options.retriever.encodeKnowledge([`${requests[0]?.prompt} ${requests[0]?.targetNew}`]).prompts);
    const direct = model.scoreContinuations([queries[0] as QueryContinuation], { prefix: prompt });
    expect(scores[0]?.logProbs).toEqual(direct[0]?.logProbs);
    expect(scores[0]?.logProbs).not.toEqual(model.scoreContinuations([queries[0] as QueryContinuation])[0]?.logProbs);
    prompt.dispose();
    editor.dispose();
  });

  it('restore empties the repository; retract removes one fact', async () => {
    const editor = await RecipeEditor.create(editorOptions(model));
    await editor.edit(requests);
    expect(await editor.retract('edit-0')).toBe(true);
    expect(await editor.retract('edit-0')).toBe(false);
    await editor.scoreContinuations(queries);
    expect(editor.lastRetrievals.map((r) => r.retrievedIds)).toEqual([[], [], ['edit-1'], [], ['edit-2']]);
    await editor.restore();
    expect(editor.editCount).toBe(0);
    expect(await editor.scoreContinuations(queries)).toEqual(model.scoreContinuations(queries));
    editor.dispose();
  });

  it('save → load reproduces the edited scores; a repository from another model is refused', async () => {
    const editor = await RecipeEditor.create(editorOptions(model));
    await editor.edit(requests);
    const before = await editor.scoreContinuations(queries);
    await editor.save(path.join(dir, 'saved'));
    const fresh = await RecipeEditor.create(editorOptions(model));
    await fresh.load(path.join(dir, 'saved'));
    expect(fresh.editCount).toBe(requests.length);
    expect(await fresh.scoreContinuations(queries)).toEqual(before);
    const other = await tinyLlama(2);
    const foreign = await RecipeEditor.create(editorOptions(other));
    await expect(foreign.load(path.join(dir, 'saved'))).rejects.toThrow(InvalidCheckpointError);
    other.dispose();
    for (const e of [editor, fresh, foreign]) e.dispose();
  });

  it('ablations: w/o KS gates by a fixed threshold; w/o CPT prefixes the fact\'s word embeddings', async () => {
    // Threshold −1: unrelated queries (score 0) now retrieve too — the failure the sentinel prevents.
    const noSentinel = await RecipeEditor.create(editorOptions(model, { ablation: 'no-sentinel', threshold: -1 }));
    await noSentinel.edit(requests.slice(0, 2));
    await noSentinel.scoreContinuations(queries);
    expect(noSentinel.lastRetrievals.every((r) => r.retrievedIds.length === 1)).toBe(true);
    await expect(RecipeEditor.create(editorOptions(model, { ablation: 'no-sentinel' }))).rejects.toThrow(/threshold/);

    const noPrompt = await RecipeEditor.create(editorOptions(model, { ablation: 'no-continuous-prompt' }));
    await noPrompt.edit(requests.slice(0, 2));
    const scores = await noPrompt.scoreContinuations([queries[0] as QueryContinuation]);
    const ids = model.tokenizer.encode('Anna Berg lives in Rome', { addBos: false });
    const embedded = tf.tidy(() => model.embed(tf.tensor2d(ids, [1, ids.length], 'int32')));
    expect(scores[0]).toEqual(model.scoreContinuations([queries[0] as QueryContinuation], { prefix: embedded })[0]);
    embedded.dispose();
    noSentinel.dispose();
    noPrompt.dispose();
  });

  it('refuses bad requests and a checkpoint for another hidden size, with the fix in the message', async () => {
    const editor = await RecipeEditor.create(editorOptions(model));
    await expect(editor.edit([{ ...(requests[0] as (typeof requests)[number]), targetNew: ' ' }])).rejects.toThrow(InvalidInputError);
    await editor.edit([requests[0] as (typeof requests)[number]]);
    await expect(editor.edit([requests[0] as (typeof requests)[number]])).rejects.toThrow(/Duplicate id/);
    const wrongWidth = { ...editorOptions(model), retriever: new ScriptedRetriever(model.dimensions.hiddenSize + 1) };
    await expect(RecipeEditor.create(wrongWidth)).rejects.toThrow(/hidden size/);
    editor.dispose();
  });

  it('leaks no tensors over many edits and queries', async () => {
    const editor = await RecipeEditor.create(editorOptions(model));
    await editor.edit(requests.slice(0, 1));
    await editor.scoreContinuations(queries);
    const baseline = tf.memory().numTensors;
    for (let i = 0; i < 20; i++) {
      await editor.restore();
      await editor.edit(requests);
      await editor.scoreContinuations(queries);
    }
    expect(tf.memory().numTensors).toBe(baseline);
    editor.dispose();
  });
});
