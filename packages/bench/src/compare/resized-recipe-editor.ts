import { existsSync } from 'node:fs';
import path from 'node:path';
import type { CausalLanguageModel, RecipeEditor } from '@recipe-kit/core';
import { DefaultEncoder, RecipeEncoder } from '@recipe-kit/prompt-encoder';
import { createRecipeEditorAround } from '../editors/recipe-editor-factory.js';

/** RECIPE's heads as the micro checkpoints use them (d_r = 256, l = 3 prompt vectors, 10 sentinel tokens). */
const HEADS = { representationDim: 256, promptLength: 3, sentinelLength: 10 };

/**
 * A RECIPE editor for a model of any width, for timing: the micro checkpoint's trained text encoder
 * (or a fresh default encoder when there is none) with new, randomly initialised heads whose prompt
 * head writes vectors of the model's width. Retrieval and prefix cost are those of a trained RECIPE;
 * what it retrieves is meaningless, which timing does not need.
 */
export async function createResizedRecipeEditor(model: CausalLanguageModel, checkpoint: string | null, seed: number): Promise<RecipeEditor> {
  const encoderDirectory = checkpoint === null ? null : path.join(checkpoint, 'encoder');
  const encoder = encoderDirectory !== null && existsSync(encoderDirectory) ? await DefaultEncoder.load(encoderDirectory) : await DefaultEncoder.create({ seed });
  const retriever = await RecipeEncoder.create(encoder, { ...HEADS, llmWidth: model.dimensions.hiddenSize, seed });
  return createRecipeEditorAround(model, retriever);
}
