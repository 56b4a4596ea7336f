import type { EditRequest } from '../contracts/edit-request.js';

/** The relation of an edit as its prompt with the subject cut out ("By trade, {} is a"); the prompt itself when the subject is absent. */
export function relationKey(request: EditRequest): string {
  return request.subject && request.prompt.includes(request.subject) ? request.prompt.replace(request.subject, '{}') : request.prompt;
}

/**
 * One epoch's order of request indices. groupSize 1: a uniform shuffle (the reference's sampler).
 * groupSize k > 1: the shuffled requests of each relation are cut into runs of k, and the runs are
 * shuffled, so consecutive slices (batches) hold same-relation edits whose subjects the contrastive
 * terms must then tell apart: hard negatives, as in lifelong editing where most keys compete with
 * edits of the same relation. Every request still appears exactly once per epoch.
 */
export function epochOrder(requests: readonly EditRequest[], groupSize: number, random: () => number): number[] {
  const order = shuffled(Array.from({ length: requests.length }, (_, k) => k), random);
  if (groupSize <= 1) return order;
  const byRelation = new Map<string, number[]>();
  for (const index of order) {
    const key = relationKey(requests[index] as EditRequest);
    const members = byRelation.get(key) ?? [];
    members.push(index);
    byRelation.set(key, members);
  }
  const runs: number[][] = [];
  for (const members of byRelation.values()) {
    for (let start = 0; start < members.length; start += groupSize) runs.push(members.slice(start, start + groupSize));
  }
  return shuffled(runs, random).flat();
}

/** Fisher–Yates, in place, from the last element down (the order the trainer has always drawn). */
function shuffled<T>(items: T[], random: () => number): T[] {
  for (let k = items.length - 1; k > 0; k--) {
    const j = Math.floor(random() * (k + 1));
    [items[k], items[j]] = [items[j] as T, items[k] as T];
  }
  return items;
}
