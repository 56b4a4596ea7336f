import { mkdtempSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import * as tf from '@tensorflow/tfjs';
import { InvalidInputError, MissingArtifactError, tokenizeProbe, type EditRequest } from '@recipe-kit/core';
import { repositoryRoot, useTestBackend } from '@recipe-kit/core/testing';
import { loadModel, type DecoderModel } from '@recipe-kit/llm-adapters';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { BagOfWordsEncoder } from '../../../src/baselines/lte/bag-of-words-encoder.js';
import { createRaseEditorFromArtefacts } from '../../../src/baselines/rase/rase-editor-factory.js';
import { RaseEditor } from '../../../src/baselines/rase/rase-editor.js';
import { defaultRomeSettings } from '../../../src/baselines/rome/rome-settings.js';
import { loadSyntheticEdits } from '../../../src/synthetic-world/index.js';

const LAYER = 1; // round(0.17 · 4), as ROME
let model: DecoderModel;
let requests: EditRequest[];
let encoder: BagOfWordsEncoder;
beforeAll(async () => {
  await useTestBackend();
  const directory = path.join(repositoryRoot, 'models', 'synthetic-llama');
  model = await loadModel(directory);
  requests = await loadSyntheticEdits(path.join(directory, 'held-out-eval-edits.json'), { limit: 6 });
  encoder = BagOfWordsEncoder.fit((await loadSyntheticEdits(path.join(directory, 'held-out-train-edits.json'), { limit: 200 })).flatMap((r) => [r.prompt, ...r.locality.map((p) => p.prompt)]));
});
afterAll(() => model.dispose());

/** ROME without mom2 adjustment (EasyEdit's default, C = I) and only the plain template: fast, no statistics. */
const create = (): RaseEditor =>
  new RaseEditor({ model, encoder, thresholds: { max: 0.5, diff: Number.POSITIVE_INFINITY, std: 1 }, rome: { ...defaultRomeSettings(model, LAYER), mom2Adjustment: false }, templates: ['{}'], inverseSecondMoment: null });

const probe = (prompt: string, target: string) => tokenizeProbe(model.tokenizer, prompt, target);
const weights = (): Float32Array[] => model.weightNames().map((name) => Float32Array.from(model.getWeight(name).dataSync() as Float32Array));

describe('RASE (R-ROME) on the synthetic micro LLaMA', () => {
  it('patches a query whose fact is retrieved (target becomes the argmax), leaves others and the weights bit-identical; restore is exact', async () => {
    const editor = create();
    const request = requests[0] as EditRequest;
    const locality = request.locality[0]!;
    const queries = [probe(request.prompt, request.targetNew), probe(locality.prompt, locality.target)];
    const unedited = model.scoreContinuations(queries);
    expect(unedited[0]?.argmaxIds).not.toEqual(queries[0]?.continuation);
    const original = weights();
    const before = tf.memory().numTensors;
    await editor.edit([request, requests[1] as EditRequest]);
    expect(editor.route(request.prompt)).toMatchObject({ fired: true, fact: { id: request.id } });
    expect(editor.route(locality.prompt).fired).toBe(false);
    const edited = await editor.scoreContinuations(queries);
    expect(edited[0]?.argmaxIds).toEqual(queries[0]?.continuation);
    expect(edited[1]).toEqual(unedited[1]);
    expect(weights()).toEqual(original);
    await editor.restore();
    expect(editor.editCount).toBe(0);
    expect(await editor.scoreContinuations(queries)).toEqual(unedited);
    expect(tf.memory().numTensors).toBe(before);
    editor.dispose();
  });

  it('round-trips its facts and patches through save/load', async () => {
    const editor = create();
    await editor.edit(requests.slice(0, 3));
    const directory = mkdtempSync(path.join(os.tmpdir(), 'rase-'));
    await editor.save(directory);
    const copy = create();
    await copy.load(directory);
    const queries = requests.slice(0, 3).flatMap((r) => [probe(r.prompt, r.targetNew), probe(r.generality[0]!.prompt, r.targetNew)]);
    expect(copy.editCount).toBe(3);
    expect(await copy.scoreContinuations(queries)).toEqual(await editor.scoreContinuations(queries));
    editor.dispose();
    copy.dispose();
  });

  it('refuses a bad request before storing anything, and says how to get a missing calibration', async () => {
    const editor = create();
    const bad = { ...(requests[2] as EditRequest), subject: 'Nobody Here' };
    await expect(editor.edit([requests[3] as EditRequest, bad])).rejects.toThrow(InvalidInputError);
    expect(editor.editCount).toBe(0);
    expect(editor.route((requests[3] as EditRequest).prompt).fired).toBe(false);
    const missing = createRaseEditorFromArtefacts(model, { modelDirectory: mkdtempSync(path.join(os.tmpdir(), 'no-rase-')) });
    await expect(missing).rejects.toThrow(MissingArtifactError);
    await expect(createRaseEditorFromArtefacts(model, { checkpoint: '/nonexistent' })).rejects.toThrow(/calibrate-rase/);
    editor.dispose();
  });
});
