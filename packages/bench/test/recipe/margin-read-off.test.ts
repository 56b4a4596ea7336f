import type { CausalLanguageModel, ContinuationScore, QueryContinuation, RecipeEditor } from '@recipe-kit/core';
import { describe, expect, it } from 'vitest';
import { MarginReadOff } from '../../src/recipe/margin-read-off.js';

/** A score whose argmax ids say where it came from (1 = with the prompt, 0 = unedited) and for which query. */
const scoreOf = (source: number, query: QueryContinuation): ContinuationScore => ({ argmaxIds: [source, query.context[0] as number] }) as unknown as ContinuationScore;
const query = (text: string, id: number): QueryContinuation => ({ queryText: text, context: [id], continuation: [7] });

describe('MarginReadOff (every sentinel margin from one scoring pass)', () => {
  // s_top − s_0 per query: a 2.5, b −0.5, c has no hit at all (below the similarity floor).
  const retrievals: Record<string, { hits: Array<{ similarity: number }>; sentinelSimilarity: number }> = {
    a: { hits: [{ similarity: 3.5 }], sentinelSimilarity: 1 },
    b: { hits: [{ similarity: 0.5 }], sentinelSimilarity: 1 },
    c: { hits: [], sentinelSimilarity: 1 },
  };
  const calls = { retrieve: 0, withPrompt: 0, unedited: 0 };
  // As RecipeEditor: scoring retrieves first and leaves each query's similarities in lastRetrievals.
  const last = { retrievals: [] as Array<{ similarity: number | null; sentinelSimilarity: number }> };
  const permissive = {
    get lastRetrievals() {
      return last.retrievals;
    },
    scoreContinuations: async (requests: readonly QueryContinuation[]) => {
      calls.retrieve += requests.length;
      last.retrievals = requests.map((request) => {
        const retrieval = retrievals[request.queryText] as (typeof retrievals)[string];
        return { similarity: retrieval.hits[0]?.similarity ?? null, sentinelSimilarity: retrieval.sentinelSimilarity };
      });
      calls.withPrompt += requests.length;
      return requests.map((request) => scoreOf(1, request));
    },
  } as unknown as Pick<RecipeEditor, 'scoreContinuations' | 'lastRetrievals'>;
  const model = {
    scoreContinuations: (requests: readonly QueryContinuation[]) => {
      calls.unedited += requests.length;
      return requests.map((request) => scoreOf(0, request));
    },
  } as unknown as CausalLanguageModel;

  it('returns the prompted score exactly when s_top > s_0 + m, and scores each query once however many margins', async () => {
    const readOff = new MarginReadOff(permissive, model);
    const queries = [query('a', 10), query('b', 11), query('c', 12), query('a', 10)];
    const sources = async (margin: number): Promise<number[]> => {
      readOff.margin = margin;
      return (await readOff.scoreContinuations(queries)).map((score) => score.argmaxIds[0] as number);
    };
    expect(await sources(-1)).toEqual([1, 1, 0, 1]);
    expect(await sources(-0.5)).toEqual([1, 0, 0, 1]); // b: 0.5 > 1 − 0.5 is false (strict, as the repository)
    expect(await sources(2.4)).toEqual([1, 0, 0, 1]);
    expect(await sources(2.5)).toEqual([0, 0, 0, 0]);
    expect(await sources(-1e30)).toEqual([1, 1, 0, 1]);
    // Three distinct queries (the repeated one is shared), each retrieved and scored both ways once.
    expect(calls).toEqual({ retrieve: 3, withPrompt: 3, unedited: 3 });
    const scores = await readOff.scoreContinuations([query('c', 12)]);
    expect(scores[0]?.argmaxIds).toEqual([0, 12]);
    readOff.clear();
    await readOff.scoreContinuations([query('a', 10)]);
    expect(calls.retrieve).toBe(4);
  });
});
