import type { CausalLanguageModel, ContinuationScore, EditedModel, QueryContinuation, RecipeEditor } from '@recipe-kit/core';

/** What one query needs for every margin: its top-1 and sentinel similarities, and its scores with and without that fact's prompt. */
interface QueryOutcomes {
  topSimilarity: number;
  sentinelSimilarity: number;
  withPrompt: ContinuationScore;
  unedited: ContinuationScore;
}

/**
 * RECIPE (top-1 retrieval) at any sentinel margin m, from one scoring pass per query. With k = 1 a
 * query retrieves its top-1 stored fact when s_top > s_0 + m and nothing otherwise, and with nothing
 * retrieved RECIPE's output is the unedited model's (bit-identical: the sentinel rule's contract). So
 * each query is scored twice, once with its top-1 prompt (through an editor whose margin lets every
 * top-1 through) and once by the unedited model, and setting `margin` picks between them with the
 * repository's own comparison. Results are cached by query, so a sweep over many margins costs
 * those two scorings once.
 */
export class MarginReadOff implements EditedModel {
  /** The sentinel margin m whose outcome `scoreContinuations` returns. */
  margin = 0;
  private readonly outcomes = new Map<string, QueryOutcomes>();

  /**
   * `permissive` must retrieve top-1 only (k = 1) and with a margin below every s_top − s_0 (e.g. −1e30);
   * its `lastRetrievals` after a scoring call give each query's similarities (no second encoder pass).
   */
  constructor(
    private readonly permissive: Pick<RecipeEditor, 'scoreContinuations' | 'lastRetrievals'>,
    readonly model: CausalLanguageModel,
  ) {}

  async scoreContinuations(requests: readonly QueryContinuation[]): Promise<ContinuationScore[]> {
    const missing = new Map<string, QueryContinuation>();
    for (const request of requests) {
      const key = queryKey(request);
      if (!this.outcomes.has(key)) missing.set(key, request);
    }
    if (missing.size > 0) {
      const queries = [...missing.values()];
      const withPrompt = await this.permissive.scoreContinuations(queries);
      const retrievals = this.permissive.lastRetrievals;
      const unedited = this.model.scoreContinuations(queries);
      [...missing.keys()].forEach((key, i) => {
        const retrieval = retrievals[i];
        this.outcomes.set(key, {
          // No hit even so (an empty repository, or below the similarity floor): no margin retrieves.
          topSimilarity: retrieval?.similarity ?? Number.NEGATIVE_INFINITY,
          sentinelSimilarity: retrieval?.sentinelSimilarity ?? Number.NaN,
          withPrompt: withPrompt[i] as ContinuationScore,
          unedited: unedited[i] as ContinuationScore,
        });
      });
    }
    return requests.map((request) => {
      const outcome = this.outcomes.get(queryKey(request)) as QueryOutcomes;
      // The repository's gate, computed the same way: s_j > s_0 + m.
      return outcome.topSimilarity > outcome.sentinelSimilarity + this.margin ? outcome.withPrompt : outcome.unedited;
    });
  }

  /** Forgets every cached outcome (after the repository changes). */
  clear(): void {
    this.outcomes.clear();
  }
}

function queryKey(request: QueryContinuation): string {
  return `${request.queryText}\u0000${request.context.join(',')}\u0000${request.continuation.join(',')}`;
}
