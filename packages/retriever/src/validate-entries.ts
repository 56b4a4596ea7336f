import { InvalidInputError, type IndexEntry } from '@recipe-kit/core';
import { validateVector } from './validate-vector.js';

/**
 * Checks a whole batch before an index touches its storage, so a bad entry leaves the index
 * unchanged: non-empty string ids, unique within the batch and not already stored (`has`), and
 * finite vectors of `dimension`.
 */
export function validateEntries(entries: readonly IndexEntry[], dimension: number, has: (id: string) => boolean): void {
  const batchIds = new Set<string>();
  for (const [position, entry] of entries.entries()) {
    const id: unknown = entry.id;
    if (typeof id !== 'string' || id.length === 0) {
      throw new InvalidInputError(
        `Entry ${position} of the batch has id ${JSON.stringify(id)}; ids must be non-empty strings.`,
        'Give every entry a stable, non-empty string id (e.g. the edit request id).',
      );
    }
    if (has(id) || batchIds.has(id)) {
      throw new InvalidInputError(
        `Duplicate id "${id}": it is ${has(id) ? 'already in the index' : 'twice in this batch'}.`,
        `Use a unique id per entry, or remove("${id}") first to replace it.`,
      );
    }
    batchIds.add(id);
    validateVector(entry.vector, dimension, `vector of id "${id}"`);
  }
}

/** Search's k must be a positive integer. */
export function validateK(k: number): void {
  if (!Number.isInteger(k) || k < 1) {
    throw new InvalidInputError(
      `Search k must be an integer ≥ 1, got ${String(k)}.`,
      'Pass the number of nearest entries you want (RECIPE uses k = 1).',
    );
  }
}
