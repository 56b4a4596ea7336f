/** One stored vector and its id. */
export interface IndexEntry {
  id: string;
  vector: Float32Array;
}

export interface IndexHit {
  id: string;
  /** Inner product of the query with the stored vector. */
  score: number;
}

/**
 * Vectors by id with top-k inner-product search. Backends (exact, faiss, LanceDB, Chroma) implement
 * it; the sentinel rule lives above it, in the knowledge repository.
 */
export interface KnowledgeIndex {
  readonly dimension: number;
  readonly size: number;
  /** Adds entries; a duplicate id or a vector of the wrong dimension / non-finite is an error. */
  add(entries: readonly IndexEntry[]): Promise<void>;
  /** Removes ids; returns how many were present. */
  remove(ids: readonly string[]): Promise<number>;
  /** The k entries with the largest inner product, best first (fewer when the index is smaller). */
  search(query: Float32Array, k: number): Promise<IndexHit[]>;
  /** The stored vector of an id, or null. */
  get(id: string): Promise<Float32Array | null>;
  dispose(): Promise<void>;
}
