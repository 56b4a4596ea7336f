import { InvalidInputError } from '@recipe-kit/core';

/** One codebook entry: a key (MLP activation), the value that replaces the layer output, its deferral radius. */
export interface GraceEntry {
  key: Float32Array;
  value: Float32Array;
  radius: number;
  /** The target's token ids, joined: entries of the same target may share a key (spec §10.2). */
  label: string;
  /** Id of the edit request that created the entry. */
  id: string;
}

/** What `update` did with a new query: which entry to train, and whether it is new. */
export interface GraceUpdate {
  index: number;
  added: boolean;
}

/**
 * GRACE's codebook (spec §10.1–10.2): Euclidean nearest key; a query within the key's radius is
 * answered by its value. New edits add a key, widen the radius of a key with the same label
 * ("coverage"), or split the radii of a conflicting key so that neither answers the other's query.
 */
export class GraceCodebook {
  readonly entries: GraceEntry[] = [];

  constructor(readonly keySize: number, readonly valueSize: number) {}

  get size(): number {
    return this.entries.length;
  }

  /** The nearest entry and its distance, or null when the codebook is empty. */
  nearest(query: Float32Array): { index: number; distance: number } | null {
    let best: { index: number; distance: number } | null = null;
    this.entries.forEach((entry, index) => {
      const distance = euclidean(entry.key, query);
      if (!best || distance < best.distance) best = { index, distance };
    });
    return best;
  }

  /** Index of the entry answering `query` (nearest key within its radius), or -1. */
  lookup(query: Float32Array): number {
    const nearest = this.nearest(query);
    return nearest && nearest.distance <= (this.entries[nearest.index] as GraceEntry).radius ? nearest.index : -1;
  }

  /**
   * Adds the query of an edit, or reuses a key (spec §10.2 step 3). `initialValue` is the value a
   * new entry starts from (GRACE's "cold" init); `radius` is ε_init.
   */
  update(query: Float32Array, label: string, id: string, radius: number, initialValue: Float32Array): GraceUpdate {
    if (query.length !== this.keySize || initialValue.length !== this.valueSize) {
      throw new InvalidInputError(`A GRACE key must have ${this.keySize} values and a value ${this.valueSize}.`, 'Use activations and outputs of the wrapped layer.');
    }
    const add = (entryRadius: number): GraceUpdate => {
      this.entries.push({ key: query.slice(), value: initialValue.slice(), radius: entryRadius, label, id });
      return { index: this.entries.length - 1, added: true };
    };
    const nearest = this.nearest(query);
    if (!nearest) return add(radius);
    const entry = this.entries[nearest.index] as GraceEntry;
    if (nearest.distance > radius + entry.radius) return add(radius);
    if (entry.label !== label) {
      // Conflict: the two balls touch at the midpoint, each keeps its own query.
      entry.radius = nearest.distance / 2 - 1e-5;
      return add(nearest.distance / 2);
    }
    if (nearest.distance > entry.radius) entry.radius = nearest.distance;
    return { index: nearest.index, added: false };
  }

  clear(): void {
    this.entries.length = 0;
  }
}

function euclidean(a: Float32Array, b: Float32Array): number {
  let sum = 0;
  for (let i = 0; i < a.length; i++) {
    const difference = (a[i] as number) - (b[i] as number);
    sum += difference * difference;
  }
  return Math.sqrt(sum);
}
