import { InvalidInputError } from '@recipe-kit/core';

/**
 * Throws unless every id is an integer in `[0, vocabSize)`.
 *
 * The wrapped libraries index arrays with the id and fail with an unrelated TypeError (or silently
 * produce "undefined" text) on a bad one, so we check up front and name the offending position.
 */
export function assertTokenIds(ids: readonly number[], vocabSize: number, tokenizerName: string): void {
  for (let index = 0; index < ids.length; index++) {
    const id = ids[index];
    if (id === undefined || !Number.isInteger(id) || id < 0 || id >= vocabSize) {
      throw new InvalidInputError(
        `${tokenizerName}: token id ${String(id)} at position ${index} is not in the vocabulary (0 … ${vocabSize - 1}).`,
        'Pass ids produced by this same tokenizer (or by a model with the same vocabulary).',
      );
    }
  }
}
