import type { CausalLanguageModel, ContinuationScore, EditedModel, QueryContinuation, Tokenizer } from '@recipe-kit/core';

/**
 * An EditedModel whose answers are scripted per query text, so metric values can be computed by
 * hand. The tokenizer maps each whitespace-separated word to one id (ids from a growing table).
 */
export class ScriptedModel implements EditedModel {
  readonly vocabulary = new Map<string, number>([['<bos>', 1]]);
  readonly tokenizer: Tokenizer;
  readonly model: CausalLanguageModel;
  /** queryText → the argmax ids to return for its continuation (default: the continuation itself, i.e. all correct). */
  answers = new Map<string, number[]>();
  candidateAnswers = new Map<string, number[]>();
  logProbs = new Map<string, number[]>();
  readonly calls: QueryContinuation[] = [];

  constructor() {
    const words = this.vocabulary;
    const idOf = (word: string): number => {
      if (!words.has(word)) words.set(word, words.size + 1);
      return words.get(word) as number;
    };
    this.tokenizer = {
      name: 'scripted-words',
      vocabSize: 1000,
      bosId: 1,
      eosId: null,
      encode: (text, options) => [...(options?.addBos === false ? [] : [1]), ...text.split(/\s+/).filter(Boolean).map(idOf)],
      decode: (ids) => ids.map((id) => [...words].find(([, v]) => v === id)?.[0] ?? '?').join(' '),
    };
    this.model = { tokenizer: this.tokenizer } as unknown as CausalLanguageModel;
  }

  id(word: string): number {
    return this.tokenizer.encode(word, { addBos: false })[0] as number;
  }

  scoreContinuations(requests: readonly QueryContinuation[]): ContinuationScore[] {
    this.calls.push(...requests);
    return requests.map((request) => {
      const score: ContinuationScore = {
        argmaxIds: this.answers.get(request.queryText) ?? [...request.continuation],
        logProbs: this.logProbs.get(request.queryText) ?? request.continuation.map(() => -1),
      };
      if (request.candidateIds) score.candidateLogProbs = this.candidateAnswers.get(request.queryText) ?? request.candidateIds.map(() => -1);
      return score;
    });
  }
}
