import { InvalidInputError, type IndexEntry, type IndexHit, type KnowledgeIndex } from '@recipe-kit/core';
import { innerProduct } from './inner-product.js';
import { validateEntries, validateK } from './validate-entries.js';
import { validateVector } from './validate-vector.js';

/**
 * Base of the database backends (LanceDB, Chroma), where one write costs a round trip or a new data
 * file: adds wait in a small in-memory buffer (searched exactly) and are written `batchRows` at a
 * time. The knowledge repository's journal, not the database, is what makes an edit durable, so the
 * buffer loses nothing acknowledged; `flush()` writes it out on demand.
 */
export abstract class BatchedIndex implements KnowledgeIndex {
  readonly dimension: number;
  protected readonly batchRows: number;
  /** Every live id: pending or stored. */
  private readonly ids = new Set<string>();
  private pending = new Map<string, Float32Array>();
  private disposed = false;

  protected constructor(dimension: number, batchRows: number) {
    if (!Number.isInteger(dimension) || dimension < 1) {
      throw new InvalidInputError(`Index dimension must be a positive integer, got ${String(dimension)}.`, 'Pass d_r, the size of the retriever representations.');
    }
    if (!Number.isInteger(batchRows) || batchRows < 1) {
      throw new InvalidInputError(`batchRows must be a positive integer, got ${String(batchRows)}.`, 'Leave it out for the default, or pass the rows per database write.');
    }
    this.dimension = dimension;
    this.batchRows = batchRows;
  }

  get size(): number {
    return this.ids.size;
  }

  /** Rows waiting in memory for the next database write. */
  get pendingRows(): number {
    return this.pending.size;
  }

  async add(entries: readonly IndexEntry[]): Promise<void> {
    this.assertOpen();
    validateEntries(entries, this.dimension, (id) => this.ids.has(id));
    for (const entry of entries) {
      this.ids.add(entry.id);
      this.pending.set(entry.id, entry.vector.slice());
    }
    if (this.pending.size >= this.batchRows) await this.flush();
  }

  /** Writes buffered rows to the database. */
  async flush(): Promise<void> {
    this.assertOpen();
    while (this.pending.size > 0) {
      const batch: IndexEntry[] = [];
      for (const [id, vector] of this.pending) {
        batch.push({ id, vector });
        if (batch.length === this.batchRows) break;
      }
      await this.writeRows(batch);
      for (const entry of batch) this.pending.delete(entry.id);
    }
  }

  async remove(ids: readonly string[]): Promise<number> {
    this.assertOpen();
    const stored: string[] = [];
    let removed = 0;
    for (const id of ids) {
      if (!this.ids.has(id)) continue;
      this.ids.delete(id);
      removed++;
      if (!this.pending.delete(id)) stored.push(id);
    }
    if (stored.length > 0) await this.deleteRows(stored);
    return removed;
  }

  async search(query: Float32Array, k: number): Promise<IndexHit[]> {
    this.assertOpen();
    validateK(k);
    validateVector(query, this.dimension, 'query');
    if (this.ids.size === 0) return [];
    const storedCount = this.ids.size - this.pending.size;
    const stored = storedCount > 0 ? await this.searchRows(query, Math.min(k, storedCount)) : [];
    const hits = stored.filter((hit) => this.ids.has(hit.id) && !this.pending.has(hit.id));
    for (const [id, vector] of this.pending) hits.push({ id, score: innerProduct(vector, 0, query, this.dimension) });
    hits.sort((a, b) => b.score - a.score || (a.id < b.id ? -1 : a.id > b.id ? 1 : 0));
    return hits.slice(0, k);
  }

  async get(id: string): Promise<Float32Array | null> {
    this.assertOpen();
    if (!this.ids.has(id)) return null;
    const pending = this.pending.get(id);
    return pending !== undefined ? pending.slice() : this.getRow(id);
  }

  async dispose(): Promise<void> {
    if (this.disposed) return;
    this.disposed = true;
    this.ids.clear();
    this.pending = new Map();
    await this.close();
  }

  /** Registers ids that are already in the database (a reopened table or collection). */
  protected adoptStoredIds(ids: Iterable<string>): void {
    for (const id of ids) this.ids.add(id);
  }

  protected abstract writeRows(entries: readonly IndexEntry[]): Promise<void>;
  protected abstract deleteRows(ids: readonly string[]): Promise<void>;
  /** Top-k by inner product among stored rows (it may return removed ids; they are filtered). */
  protected abstract searchRows(query: Float32Array, k: number): Promise<IndexHit[]>;
  protected abstract getRow(id: string): Promise<Float32Array | null>;
  protected abstract close(): Promise<void>;

  private assertOpen(): void {
    if (this.disposed) throw new InvalidInputError('This index was disposed.', 'Create a new index; a disposed one cannot be used.');
  }
}
