import { existsSync } from 'node:fs';
import path from 'node:path';
import { InvalidInputError, MissingArtifactError, type CausalLanguageModel } from '@recipe-kit/core';
import { loadModel } from '@recipe-kit/llm-adapters';
import type { EditorSettings } from '../../editors/editor-registry.js';
import { BagOfWordsEncoder } from './bag-of-words-encoder.js';
import { LteEditor } from './lte-editor.js';
import { LTE_ENCODER_FILE } from './train-lte.js';

/** The LTE-aligned model trained for a model lives in `<model>/lte` (recipe-kit train-lte). */
export function defaultLteCheckpoint(modelDirectory: string): string {
  return path.join(modelDirectory, 'lte');
}

/** An LteEditor around the aligned model and fact encoder in `--checkpoint` (default `<model>/lte`). */
export async function createLteEditorFromCheckpoint(model: CausalLanguageModel, settings: EditorSettings): Promise<LteEditor> {
  const checkpoint = settings.checkpoint ?? (settings.modelDirectory ? defaultLteCheckpoint(settings.modelDirectory) : undefined);
  if (!checkpoint || !existsSync(path.join(checkpoint, 'config.json')) || !existsSync(path.join(checkpoint, LTE_ENCODER_FILE))) {
    throw new MissingArtifactError(
      `No LTE-aligned model${checkpoint ? ` at ${checkpoint}` : ''}.`,
      'Pass --checkpoint DIR (a directory written by recipe-kit train-lte), or train one into <model>/lte.',
    );
  }
  const topKOption = settings.options?.['top-k'];
  const topK = topKOption === undefined ? 1 : Number(topKOption);
  if (!Number.isInteger(topK) || topK < 1) throw new InvalidInputError(`LTE top-k "${topKOption}" is not a positive integer.`, 'Pass e.g. --editor-option top-k=1 (LTE\'s value).');
  const encoder = await BagOfWordsEncoder.load(path.join(checkpoint, LTE_ENCODER_FILE));
  const aligned = await loadModel(checkpoint);
  if (aligned.architecture !== model.architecture || aligned.tokenizer.name !== model.tokenizer.name) {
    aligned.dispose();
    throw new InvalidInputError(
      `${checkpoint} holds a ${aligned.architecture} model (${aligned.tokenizer.name}), but the model is ${model.architecture} (${model.tokenizer.name}).`,
      'Use the LTE checkpoint trained from this model (recipe-kit train-lte --model MODEL).',
    );
  }
  return new LteEditor({ model: aligned, encoder, topK, ownsModel: true });
}
