import {
  ContextOverflowError,
  InvalidInputError,
  buildPairBatch,
  outputColumns,
  tokenizeProbe,
  type CausalLanguageModel,
  type EditRequest,
  type PairBatch,
  type TokenizedPair,
} from '@recipe-kit/core';
import { findSubjectInPrompt } from '../../datasets/find-subject-in-prompt.js';

/**
 * Checks edit requests and tokenizes each `prompt + " " + targetNew` as the metrics do (jointly).
 * Refuses, naming the request and the fix: an empty target, a subject that is not in the prompt,
 * and a prompt plus target that does not fit the model's context window.
 */
export function editPairs(model: CausalLanguageModel, requests: readonly EditRequest[]): TokenizedPair[] {
  return requests.map((request) => {
    const name = `Edit request "${request.id}"`;
    if (request.targetNew.trim().length === 0) {
      throw new InvalidInputError(`${name} has an empty target.`, 'Give targetNew the new object as text, e.g. "Paris".');
    }
    if (request.subject.trim().length === 0 || findSubjectInPrompt(request.prompt, request.subject) === null) {
      throw new InvalidInputError(
        `${name}: subject ${JSON.stringify(request.subject)} does not occur in prompt ${JSON.stringify(request.prompt)}.`,
        'Give the subject exactly as the prompt spells it (the dataset loaders resolve it with findSubjectInPrompt).',
      );
    }
    const { context, continuation } = tokenizeProbe(model.tokenizer, request.prompt, request.targetNew);
    const length = context.length + continuation.length;
    if (length > model.dimensions.contextLength) {
      throw new ContextOverflowError(
        `${name}: prompt plus target is ${length} tokens, longer than the model's context window of ${model.dimensions.contextLength}.`,
        'Shorten the prompt or target, or leave the request out (recipe-kit eval --skip-overlong).',
      );
    }
    const ids = [...context, ...continuation];
    return { input: ids.slice(0, -1), labels: ids.slice(1), firstScored: context.length - 1 };
  });
}

/**
 * The padded teacher-forcing batch of pairs (labels in the columns of `forward({ compactLogits })`),
 * refusing targets the model cannot output at all (outside a micro model's compact vocabulary).
 */
export function editBatch(model: CausalLanguageModel, pairs: readonly TokenizedPair[]): PairBatch {
  const batch = buildPairBatch(model, pairs, outputColumns(model));
  if (batch.unreachable > 0) {
    batch.dispose();
    throw new InvalidInputError(
      `${batch.unreachable} target token(s) are outside the model's output vocabulary, so no edit can make them likely.`,
      'Edit towards targets made of tokens the model was trained to output (its recipe_kit_vocabulary_ids).',
    );
  }
  return batch;
}
