import { existsSync } from 'node:fs';
import path from 'node:path';
import type { CausalLanguageModel, Editor } from '@recipe-kit/core';
import { MissingArtifactError } from '@recipe-kit/core';
import { createEditor } from '../editors/editor-registry.js';
import { defaultRecipeCheckpoint } from '../editors/recipe-editor-factory.js';
import { BagOfWordsEncoder } from '../baselines/lte/bag-of-words-encoder.js';
import { LteEditor } from '../baselines/lte/lte-editor.js';
import { defaultLteCheckpoint } from '../baselines/lte/lte-editor-factory.js';
import { LTE_ENCODER_FILE } from '../baselines/lte/train-lte.js';
import { createRaseEditorFromArtefacts } from '../baselines/rase/rase-editor-factory.js';
import type { EfficiencyEditor } from './compare-config.js';
import { createResizedRecipeEditor } from './resized-recipe-editor.js';

async function microEncoder(file: string, what: string): Promise<BagOfWordsEncoder> {
  if (!existsSync(file)) {
    throw new MissingArtifactError(`No ${what} fact encoder at ${file} to time retrieval with.`, `Train the micro model's ${what} artefacts first (see its README), or leave ${what} out of efficiency.editors.`);
  }
  return BagOfWordsEncoder.load(file);
}

/**
 * An editor around a random-weight model of a realistic shape, for timing queries. Editors whose
 * artefacts were trained for the micro model (`modelDirectory`) reuse the parts that do not depend
 * on the LLM's width and get the rest fresh:
 * - recipe: the micro checkpoint's text encoder, heads resized to the model's width;
 * - lte: the micro model's fact retriever, the random model standing in for the LTE-aligned one
 *   (same shape, so the same time per token);
 * - rase: the micro model's retriever and calibrated rule; its ROME patches are computed on the
 *   random model (without the covariance, which the timing does not need).
 * The others are built by the registry with the entry's options.
 */
export async function createEfficiencyEditor(editor: EfficiencyEditor, model: CausalLanguageModel, modelDirectory: string, seed: number): Promise<Editor> {
  if (editor.name === 'recipe') {
    const checkpoint = defaultRecipeCheckpoint(modelDirectory);
    return createResizedRecipeEditor(model, existsSync(checkpoint) ? checkpoint : null, seed);
  }
  if (editor.name === 'lte') {
    const encoder = await microEncoder(path.join(defaultLteCheckpoint(modelDirectory), LTE_ENCODER_FILE), 'LTE');
    return new LteEditor({ model, encoder, topK: 1 });
  }
  if (editor.name === 'rase') return createRaseEditorFromArtefacts(model, { checkpoint: path.join(modelDirectory, 'rase'), options: { mom2: 'false', ...editor.options } });
  return createEditor(editor.name, model, { options: editor.options });
}
