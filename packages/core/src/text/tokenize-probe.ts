import { InvalidInputError } from '../errors.js';
import type { QueryContinuation } from '../contracts/editor.js';
import type { Tokenizer } from '../contracts/tokenizer.js';

/** Length of the common prefix of two id sequences. */
function commonPrefixLength(a: readonly number[], b: readonly number[]): number {
  let length = 0;
  while (length < a.length && length < b.length && a[length] === b[length]) length++;
  return length;
}

/**
 * The teacher-forced request for `prompt + " " + target`, as the field scores it: the joint text is
 * tokenized once (so the target's ids are those it has in context, not standalone), and the scored
 * positions are the joint ids after the prompt's own ids. Where the joint tokenization merges across
 * the boundary, the context is the longest common prefix, so no target position is lost.
 */
export function tokenizeProbe(tokenizer: Tokenizer, prompt: string, target: string, separator = ' '): QueryContinuation {
  if (target.trim().length === 0) {
    throw new InvalidInputError(`The target for prompt ${JSON.stringify(prompt)} is empty.`, 'Give every probe a non-empty target.');
  }
  const promptIds = tokenizer.encode(prompt, { addBos: true });
  const jointIds = tokenizer.encode(`${prompt}${separator}${target}`, { addBos: true });
  // GPT-2 has no BOS: an empty prompt still needs one context token.
  const contextLength = Math.max(1, commonPrefixLength(promptIds, jointIds));
  if (contextLength >= jointIds.length) {
    throw new InvalidInputError(`Target ${JSON.stringify(target)} adds no tokens after ${JSON.stringify(prompt)}.`, 'Check the probe\'s target text.');
  }
  return { queryText: prompt, context: jointIds.slice(0, contextLength), continuation: jointIds.slice(contextLength) };
}

/**
 * A multiple-choice request: the context is the prompt, the candidates are the first token each
 * option has right after it (tokenized jointly, as the option would be written).
 */
export function tokenizeChoices(tokenizer: Tokenizer, prompt: string, options: readonly string[]): QueryContinuation & { candidateIds: number[] } {
  const promptIds = tokenizer.encode(prompt, { addBos: true });
  const joints = options.map((option) => tokenizer.encode(`${prompt}${option}`, { addBos: true }));
  const contextLength = Math.max(1, Math.min(...joints.map((joint) => commonPrefixLength(promptIds, joint))));
  const candidateIds = joints.map((joint, i) => {
    const id = joint[contextLength];
    if (id === undefined) throw new InvalidInputError(`Option ${JSON.stringify(options[i])} adds no token to the prompt.`, 'Check the option labels.');
    return id;
  });
  return { queryText: prompt, context: (joints[0] ?? promptIds).slice(0, contextLength), continuation: [], candidateIds };
}
