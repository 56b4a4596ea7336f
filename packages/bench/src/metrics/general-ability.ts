import type { EditedModel, GeneralAbilityTask, QueryContinuation } from '@recipe-kit/core';
import { argmaxIndex } from './argmax-index.js';
import { mean, scoreInBatches } from './batched-scoring.js';
import { tokenizeChoices, tokenizeProbe } from '@recipe-kit/core';

export interface GeneralAbilityScore {
  task: string;
  /** Option-token accuracy (multiple choice) or mean 1/perplexity of the answer (generative). */
  score: number;
  metric: 'option-token accuracy' | 'inverse perplexity';
  items: number;
}

/**
 * Multiple choice: a hit when the gold option's first token has the highest probability among the
 * options' first tokens at the last prompt position. Generative (SQuAD 2.0): exp(mean log p) of the
 * teacher-forced answer tokens, i.e. 1/perplexity, in [0, 1].
 */
export async function scoreGeneralAbility(edited: EditedModel, task: GeneralAbilityTask, batchSize?: number): Promise<GeneralAbilityScore> {
  const tokenizer = edited.model.tokenizer;
  if (task.kind === 'multiple-choice') {
    const queries: QueryContinuation[] = task.items.map((item) => tokenizeChoices(tokenizer, item.prompt, item.options));
    const { scores } = await scoreInBatches(edited, queries, batchSize);
    const hits = task.items.map((item, i) => (argmaxIndex(scores[i]?.candidateLogProbs ?? []) === item.answerIndex ? 1 : 0));
    return { task: task.name, score: mean(hits), metric: 'option-token accuracy', items: task.items.length };
  }
  const queries = task.items.map((item) => tokenizeProbe(tokenizer, item.prompt, item.answer));
  const { scores } = await scoreInBatches(edited, queries, batchSize);
  const inversePerplexities = scores.map((score) => Math.exp(mean(score.logProbs)));
  return { task: task.name, score: mean(inversePerplexities), metric: 'inverse perplexity', items: task.items.length };
}
