import type { EditedModel, EditRequest, Probe, QueryContinuation, Tokenizer } from '@recipe-kit/core';
import { mean, scoreInBatches, tokenAccuracy } from './batched-scoring.js';
import { tokenizeProbe } from '@recipe-kit/core';

/** The scores of one edit case (fractions in [0, 1]; NaN where the case has no such probe). */
export interface CaseScores {
  reliability: number;
  generality: number;
  locality: number;
  generalityByType: Record<string, number>;
  localityByType: Record<string, number>;
}

/** The unedited model's argmax ids at each locality probe's answer positions, per request id. */
export type LocalityReference = Map<string, number[][]>;

function localityRequests(tokenizer: Tokenizer, request: EditRequest): QueryContinuation[] {
  return request.locality.map((probe) => tokenizeProbe(tokenizer, probe.prompt, probe.target));
}

/**
 * Records what the model predicts at every locality position. Must run before the chunk's first
 * edit: locality is agreement with these predictions, not with the dataset's answers.
 */
export async function computeLocalityReference(edited: EditedModel, requests: readonly EditRequest[], batchSize?: number): Promise<LocalityReference> {
  const tokenizer = edited.model.tokenizer;
  const perRequest = requests.map((request) => localityRequests(tokenizer, request));
  const { scores } = await scoreInBatches(edited, perRequest.flat(), batchSize);
  const reference: LocalityReference = new Map();
  let next = 0;
  requests.forEach((request, i) => {
    reference.set(request.id, (perRequest[i] ?? []).map(() => (scores[next++]?.argmaxIds ?? [])));
  });
  return reference;
}

interface PendingProbe {
  caseIndex: number;
  kind: 'reliability' | 'generality' | 'locality';
  type: string;
  labels: number[] | undefined;
}

export interface ScoredCases {
  cases: CaseScores[];
  /** Number of probes scored and the seconds it took (query time per probe = seconds / probes). */
  probes: number;
  seconds: number;
}

/** Reliability, generality and locality of each request, on the model as it is now. */
export async function scoreEditCases(
  edited: EditedModel,
  requests: readonly EditRequest[],
  reference: LocalityReference,
  batchSize?: number,
): Promise<ScoredCases> {
  const tokenizer = edited.model.tokenizer;
  const queries: QueryContinuation[] = [];
  const pending: PendingProbe[] = [];
  const add = (caseIndex: number, kind: PendingProbe['kind'], probe: Probe, labels?: number[]): void => {
    const query = tokenizeProbe(tokenizer, probe.prompt, probe.target);
    queries.push(query);
    pending.push({ caseIndex, kind, type: probe.type, labels: labels ?? query.continuation.slice() });
  };
  requests.forEach((request, caseIndex) => {
    add(caseIndex, 'reliability', { prompt: request.prompt, target: request.targetNew, type: 'reliability' });
    for (const probe of request.generality) add(caseIndex, 'generality', probe);
    const expected = reference.get(request.id);
    request.locality.forEach((probe, i) => add(caseIndex, 'locality', probe, expected?.[i]));
    if (request.locality.length > 0 && !expected) {
      throw new Error(`No pre-edit locality reference for case ${request.id}: compute it before the first edit.`);
    }
  });
  const { scores, seconds } = await scoreInBatches(edited, queries, batchSize);
  const collected = requests.map(() => ({ reliability: [] as number[], generality: [] as number[], locality: [] as number[], byType: new Map<string, number[]>() }));
  pending.forEach((probe, i) => {
    const accuracy = tokenAccuracy(scores[i]?.argmaxIds ?? [], probe.labels ?? []);
    const bucket = collected[probe.caseIndex];
    if (!bucket) return;
    bucket[probe.kind].push(accuracy);
    if (probe.kind !== 'reliability') {
      const key = `${probe.kind}:${probe.type}`;
      bucket.byType.set(key, [...(bucket.byType.get(key) ?? []), accuracy]);
    }
  });
  const cases = collected.map((bucket) => {
    const generalityByType: Record<string, number> = {};
    const localityByType: Record<string, number> = {};
    for (const [key, values] of bucket.byType) {
      const [kind, type] = key.split(/:(.*)/s) as [string, string];
      (kind === 'generality' ? generalityByType : localityByType)[type] = mean(values);
    }
    return {
      reliability: mean(bucket.reliability),
      generality: mean(bucket.generality),
      locality: mean(bucket.locality),
      generalityByType,
      localityByType,
    };
  });
  return { cases, probes: queries.length, seconds };
}
