import type { EditRequest } from '@recipe-kit/core';
import type { FactMemory } from './fact-memory.js';

export interface RetrievalAccuracy {
  edits: number;
  /** Share of edit prompts whose top-1 fact is their own. */
  prompts: number;
  /** Share of rephrases whose top-1 fact is their edit's. */
  rephrases: number;
}

/** Top-1 retrieval accuracy of edit prompts and rephrases against a memory holding (at least) their edits. */
export function retrievalAccuracy(memory: FactMemory, requests: readonly EditRequest[]): RetrievalAccuracy {
  let prompts = 0;
  let rephrases = 0;
  let rephraseCount = 0;
  for (const request of requests) {
    if (memory.search(request.prompt, 1)[0]?.id === request.id) prompts++;
    for (const probe of request.generality) {
      rephraseCount++;
      if (memory.search(probe.prompt, 1)[0]?.id === request.id) rephrases++;
    }
  }
  return { edits: requests.length, prompts: prompts / Math.max(1, requests.length), rephrases: rephrases / Math.max(1, rephraseCount) };
}
