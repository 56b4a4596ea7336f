import { existsSync } from 'node:fs';
import path from 'node:path';
import { InvalidInputError, MissingArtifactError, RECIPE_ABLATIONS, RecipeEditor, type CausalLanguageModel, type RecipeAblation, type RecipeEditorOptions } from '@recipe-kit/core';
import { RecipeEncoder } from '@recipe-kit/prompt-encoder';
import { KnowledgeRepository, createKnowledgeIndex, knowledgeIndexBackend } from '@recipe-kit/retriever';
import type { EditorSettings } from './editor-registry.js';
import { calibrationNumber } from '../recipe/calibration-file.js';

/** The RECIPE checkpoint trained for a model lives in `<model>/recipe` (see models/README). */
export function defaultRecipeCheckpoint(modelDirectory: string): string {
  return path.join(modelDirectory, 'recipe');
}

/** A RecipeEditor around a trained checkpoint, with an in-memory exact repository. */
export async function createRecipeEditorFromCheckpoint(model: CausalLanguageModel, settings: EditorSettings): Promise<RecipeEditor> {
  const checkpoint = settings.checkpoint ?? (settings.modelDirectory ? defaultRecipeCheckpoint(settings.modelDirectory) : undefined);
  if (!checkpoint || !existsSync(path.join(checkpoint, 'recipe-encoder.json'))) {
    throw new MissingArtifactError(
      `No trained RECIPE checkpoint${checkpoint ? ` at ${checkpoint}` : ''}.`,
      'Pass --checkpoint DIR (a directory written by recipe-kit train-recipe), or train one into <model>/recipe.',
    );
  }
  const options = settings.options ?? {};
  const ablation = (options['ablation'] ?? 'none') as RecipeAblation;
  if (!RECIPE_ABLATIONS.includes(ablation)) {
    throw new InvalidInputError(`RECIPE ablation "${ablation}" is unknown.`, `Use one of: ${RECIPE_ABLATIONS.join(', ')}.`);
  }
  let threshold: number | undefined;
  if (options['threshold'] !== undefined) {
    threshold = Number(options['threshold']);
    if (!Number.isFinite(threshold)) throw new InvalidInputError(`RECIPE threshold "${options['threshold']}" is not a number.`, 'Pass e.g. --editor-option threshold=0.5.');
  } else if (ablation === 'no-sentinel') {
    threshold = await calibrationNumber(checkpoint, (c) => c.threshold, 'numeric "threshold" for the no-sentinel ablation', 'Pass --editor-option threshold=VALUE, or retrain with recipe-kit train-recipe (it writes calibration.json).');
  }
  let sentinelMargin: number | undefined;
  const margin = options['sentinel-margin'];
  if (margin === 'calibrated') {
    sentinelMargin = await calibrationNumber(checkpoint, (c) => c.sentinelMargin?.value, 'calibrated sentinel margin', 'Run recipe-kit calibrate-recipe on the checkpoint, or pass --editor-option sentinel-margin=VALUE.');
  } else if (margin === 'validated') {
    sentinelMargin = await calibrationNumber(checkpoint, (c) => c.localityMargin?.value, 'sentinel margin validated for a locality target', 'Run recipe-kit calibrate-recipe --checkpoint DIR --model DIR --dataset NAME --data VALIDATION --target-locality 0.98 first.');
  } else if (margin !== undefined) {
    sentinelMargin = Number(margin);
    if (!Number.isFinite(sentinelMargin)) throw new InvalidInputError(`RECIPE sentinel-margin "${margin}" is not a number.`, 'Pass e.g. --editor-option sentinel-margin=-0.5, sentinel-margin=calibrated or sentinel-margin=validated.');
  }
  const topK = options['top-k'] === undefined ? undefined : Number(options['top-k']);
  // --editor-option index=NAME picks the repository's index backend (exact, faiss-hnsw, lancedb, …); unknown names fail here.
  const indexBackend = options['index'] === undefined ? 'exact' : knowledgeIndexBackend(options['index']).name;
  const indexParameters = options['index-parameters'] === undefined ? undefined : parseIndexParameters(options['index-parameters']);
  return createRecipeEditorAround(model, await RecipeEncoder.load(checkpoint), {
    ablation,
    ...(threshold !== undefined ? { threshold } : {}),
    ...(topK !== undefined ? { topK } : {}),
    ...(sentinelMargin !== undefined ? { sentinelMargin } : {}),
  }, indexBackend, indexParameters);
}

/** `nprobe:96,rescore:32` → { nprobe: 96, rescore: 32 } (names are checked against the backend when the index is made). */
export function parseIndexParameters(text: string): Record<string, number> {
  const parameters: Record<string, number> = {};
  for (const pair of text.split(',')) {
    const [name, value, extra] = pair.split(':');
    const number = Number(value);
    if (!name || value === undefined || extra !== undefined || value.trim() === '' || !Number.isFinite(number)) {
      throw new InvalidInputError(`RECIPE index-parameters "${text}" has "${pair}", which is not NAME:NUMBER.`, 'Pass e.g. --editor-option index-parameters=nprobe:96,rescore:32.');
    }
    parameters[name.trim()] = number;
  }
  return parameters;
}

/** A RecipeEditor around a retriever, with an in-memory repository of the retriever's shapes over the named index backend (default exact). */
export async function createRecipeEditorAround(
  model: CausalLanguageModel,
  retriever: RecipeEncoder,
  options: Omit<RecipeEditorOptions, 'model' | 'retriever' | 'createStore' | 'loadStore'> = {},
  indexBackend = 'exact',
  indexParameters?: Readonly<Record<string, number>>,
): Promise<RecipeEditor> {
  const [l, width] = [retriever.config.promptLength, retriever.config.llmWidth];
  const createIndex = (dimension: number) => createKnowledgeIndex(indexBackend, { dimension, ...(indexParameters ? { parameters: indexParameters } : {}) });
  const index = await createIndex(retriever.config.representationDim);
  return RecipeEditor.create({
    model,
    retriever,
    createStore: (fingerprint) => new KnowledgeRepository({ dimension: retriever.config.representationDim, promptShape: [l, width], encoderFingerprint: fingerprint, index }),
    loadStore: (directory, fingerprint) => KnowledgeRepository.load(directory, { encoderFingerprint: fingerprint, createIndex }),
    ...options,
  });
}
