import type { CausalLanguageModel } from '@recipe-kit/core';
import { scoreInBatches } from '../metrics/batched-scoring.js';
import { tokenizeProbe } from '@recipe-kit/core';
import type { KnowledgeCheck } from './pretraining-corpus.js';

export interface KnowledgeAccuracy {
  name: string;
  items: number;
  /** Share of items whose every answer token is the model's top-1 (teacher-forced). */
  exact: number;
  /** Teacher-forced top-1 accuracy over answer tokens, averaged per item (the editing metric). */
  token: number;
}

/** What the model knows before any edit: top-1 accuracy on the true answers. */
export async function knowledgeAccuracy(model: CausalLanguageModel, check: KnowledgeCheck): Promise<KnowledgeAccuracy> {
  const editedView = { model, scoreContinuations: model.scoreContinuations.bind(model) };
  const queries = check.items.map((item) => tokenizeProbe(model.tokenizer, item.prompt, item.target));
  const { scores } = await scoreInBatches(editedView, queries, 32);
  let exact = 0;
  let token = 0;
  queries.forEach((query, i) => {
    const predicted = scores[i]?.argmaxIds ?? [];
    const hits = query.continuation.filter((id, t) => predicted[t] === id).length;
    if (hits === query.continuation.length) exact++;
    token += hits / query.continuation.length;
  });
  const count = Math.max(1, queries.length);
  return { name: check.name, items: queries.length, exact: exact / count, token: token / count };
}
