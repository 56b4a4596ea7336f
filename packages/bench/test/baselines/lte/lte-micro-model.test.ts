import { existsSync } from 'node:fs';
import path from 'node:path';
import { tokenizeProbe, type ContinuationScore, type EditRequest } from '@recipe-kit/core';
import { repositoryRoot, useTestBackend } from '@recipe-kit/core/testing';
import { loadModel } from '@recipe-kit/llm-adapters';
import { beforeAll, describe, expect, it } from 'vitest';
import { createLteEditorFromCheckpoint } from '../../../src/baselines/lte/lte-editor-factory.js';
import { loadSyntheticEdits } from '../../../src/synthetic-world/index.js';

const modelDirectory = path.join(repositoryRoot, 'models', 'synthetic-llama');
const trained = existsSync(path.join(modelDirectory, 'lte', 'fact-encoder.json'));
if (!trained) console.warn('[skip] models/synthetic-llama/lte is absent: train it with recipe-kit train-lte (see its README)');

beforeAll(useTestBackend);

describe.skipIf(!trained)('LTE with the committed aligned synthetic LLaMA', () => {
  it('an edit makes its target the argmax on the edit prompt for most held-out edits (the aligned model copies the retrieved fact)', async () => {
    const model = await loadModel(modelDirectory);
    const editor = await createLteEditorFromCheckpoint(model, { modelDirectory });
    const requests: EditRequest[] = await loadSyntheticEdits(path.join(modelDirectory, 'held-out-eval-edits.json'), { limit: 20 });
    const probes = requests.map((r) => tokenizeProbe(editor.model.tokenizer, r.prompt, r.targetNew));
    const before = await editor.scoreContinuations(probes);
    await editor.edit(requests);
    const after = await editor.scoreContinuations(probes);
    const logProbability = (score: ContinuationScore): number => score.logProbs.reduce((a, b) => a + b, 0);
    const isArgmax = (score: ContinuationScore, i: number): boolean => score.argmaxIds.every((id, t) => id === probes[i]?.continuation[t]);
    const raised = after.filter((score, i) => logProbability(score) > logProbability(before[i] as ContinuationScore)).length;
    expect(raised).toBeGreaterThanOrEqual(MIN_RAISED);
    expect(after.filter(isArgmax).length).toBeGreaterThanOrEqual(MIN_ARGMAX);
    expect(after.filter(isArgmax).length).toBeGreaterThan(before.filter(isArgmax).length);
    editor.dispose();
    model.dispose();
  });
});

/**
 * Measured with the committed checkpoint (3,000 edits × 2,000 steps): 18 of 20 raised, exact argmax
 * 1 → 17 (the model copies the value from the fact block). The 300-step artefact before it raised 18
 * but made 1 argmax: it leaned on the fact without copying it, which these bounds now fail.
 */
const MIN_RAISED = 15;
const MIN_ARGMAX = 14;
