import * as tf from '@tensorflow/tfjs';
import { tokenizeProbe, type CausalLanguageModel, type EditRequest } from '@recipe-kit/core';
import { useTestBackend } from '@recipe-kit/core/testing';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { GraceCodebook } from '../../../src/baselines/grace/grace-codebook.js';
import { GRACE_FACTORY } from '../../../src/baselines/grace/grace-editor-factory.js';
import { GraceEditor } from '../../../src/baselines/grace/grace-editor.js';
import { describeEditorConformance, loadMicroModel, MICRO_MODELS, microEdits } from '../weight-edits/editor-conformance.js';

beforeAll(useTestBackend);

describeEditorConformance('grace', (model) => GRACE_FACTORY.create(model, {}));

describe('GraceCodebook', () => {
  const vector = (...values: number[]): Float32Array => Float32Array.from(values);
  const value = vector(0);

  it('adds a key, answers queries within its radius only', () => {
    const codebook = new GraceCodebook(2, 1);
    expect(codebook.lookup(vector(0, 0))).toBe(-1);
    expect(codebook.update(vector(0, 0), 'a', 'e0', 1, value)).toEqual({ index: 0, added: true });
    expect(codebook.lookup(vector(0, 1))).toBe(0); // distance 1 = ε: inside
    expect(codebook.lookup(vector(0.6, 0.81))).toBe(-1);
  });

  it('adds a separate key beyond ε_init + ε of the nearest key', () => {
    const codebook = new GraceCodebook(2, 1);
    codebook.update(vector(0, 0), 'a', 'e0', 1, value);
    expect(codebook.update(vector(3, 0), 'b', 'e1', 1, value)).toEqual({ index: 1, added: true });
    expect(codebook.entries.map((e) => e.radius)).toEqual([1, 1]);
  });

  it('widens the radius of a key with the same label (coverage) instead of adding one', () => {
    const codebook = new GraceCodebook(2, 1);
    codebook.update(vector(0, 0), 'a', 'e0', 1, value);
    expect(codebook.update(vector(1.5, 0), 'a', 'e1', 1, value)).toEqual({ index: 0, added: false });
    expect(codebook.size).toBe(1);
    expect(codebook.entries[0]?.radius).toBeCloseTo(1.5, 6);
  });

  it('splits the radii of a conflicting key at the midpoint, so each query keeps its own answer', () => {
    const codebook = new GraceCodebook(2, 1);
    codebook.update(vector(0, 0), 'a', 'e0', 1, value);
    expect(codebook.update(vector(1.5, 0), 'b', 'e1', 1, value)).toEqual({ index: 1, added: true });
    expect(codebook.entries[0]?.radius).toBeCloseTo(0.75 - 1e-5, 6);
    expect(codebook.entries[1]?.radius).toBeCloseTo(0.75, 6);
    expect(codebook.lookup(vector(0, 0))).toBe(0);
    expect(codebook.lookup(vector(1.5, 0))).toBe(1);
    expect(codebook.lookup(vector(0.2, 0))).toBe(0);
  });
});

describe('GRACE on a micro model', () => {
  let model: CausalLanguageModel;
  let requests: EditRequest[];
  beforeAll(async () => {
    const micro = MICRO_MODELS[0];
    model = await loadMicroModel(micro);
    requests = microEdits(micro, model, 3);
  });
  afterAll(() => model.dispose());

  it('leaves queries outside every radius bit-identical to the unedited model; the edit prompt hits its own entry', async () => {
    const editor = new GraceEditor(model, { layer: 3, radius: 1, steps: 10, learningRate: 1 });
    const others = requests.slice(1).flatMap((r) => r.locality).map((p) => tokenizeProbe(model.tokenizer, p.prompt, p.target));
    const before = model.scoreContinuations(others);
    await editor.edit([requests[0] as EditRequest]);
    expect(editor.codebook.size).toBe(1);
    expect(editor.scoreContinuations(others)).toEqual(before);
    // The same prompt again: same label, same key (distance 0), no new entry.
    await editor.edit([requests[0] as EditRequest]);
    expect(editor.codebook.size).toBe(1);
    await editor.restore();
    expect(editor.codebook.size).toBe(0);
    editor.dispose();
  });

  it('trains the value until the target wins at the query position (the loss falls)', async () => {
    const editor = new GraceEditor(model, { layer: 3, radius: 1, steps: 50, learningRate: 1 });
    const request = requests[1] as EditRequest;
    const query = tokenizeProbe(model.tokenizer, request.prompt, request.targetNew);
    const [before] = model.scoreContinuations([query]);
    await editor.edit([request]);
    const [after] = editor.scoreContinuations([query]);
    expect(after?.logProbs[0]).toBeGreaterThan((before?.logProbs[0] as number) + 1);
    expect(after?.argmaxIds).toEqual(query.continuation);
    await editor.restore();
    editor.dispose();
  });
});
