import { InvalidInputError, type IndexEntry, type IndexHit, type KnowledgeIndex } from '@recipe-kit/core';
import { innerProduct } from './inner-product.js';
import { scoreRows } from './score-rows.js';
import { validateEntries, validateK } from './validate-entries.js';
import { validateVector } from './validate-vector.js';

export interface ExactIndexOptions {
  /** Rows to reserve up front (default 64); storage doubles whenever it runs out. */
  initialCapacity?: number;
}

/**
 * Exact (brute-force) inner-product index: every search scores every row.
 *
 * At RECIPE's scale (thousands to ~10^5 edits, d_r of a few hundred to 4096) a linear scan over one
 * contiguous Float32Array is fast enough and has no recall loss, so it is the reference backend the
 * approximate ones are compared against.
 *
 * Layout: row r of the matrix holds `ids[r]`; `rowOf` maps back. Rows 0..size-1 are live, with no
 * holes, because removal moves the last row into the freed slot. Row order is therefore not
 * insertion order; results never depend on it (ties are broken by id).
 */
export class ExactIndex implements KnowledgeIndex {
  readonly dimension: number;
  /** Row-major [capacity × dimension]; only the first `ids.length` rows are meaningful. */
  private data: Float32Array;
  private readonly ids: string[] = [];
  private readonly rowOf = new Map<string, number>();
  /** Scratch for one search's scores, reused so a query allocates nothing proportional to N. */
  private scores = new Float64Array(0);
  private disposed = false;

  constructor(dimension: number, options: ExactIndexOptions = {}) {
    if (!Number.isInteger(dimension) || dimension < 1) {
      throw new InvalidInputError(
        `ExactIndex dimension must be a positive integer, got ${String(dimension)}.`,
        'Pass the size of the retriever representations (d_r), e.g. `new ExactIndex(768)`.',
      );
    }
    const initialCapacity = options.initialCapacity ?? 64;
    if (!Number.isInteger(initialCapacity) || initialCapacity < 1) {
      throw new InvalidInputError(
        `ExactIndex initialCapacity must be a positive integer, got ${String(initialCapacity)}.`,
        'Leave it out (default 64) or pass the number of rows you expect.',
      );
    }
    this.dimension = dimension;
    this.data = new Float32Array(initialCapacity * dimension);
  }

  get size(): number {
    return this.ids.length;
  }

  /** Rows the storage can hold before it grows again. */
  get capacity(): number {
    return this.data.length / this.dimension;
  }

  async add(entries: readonly IndexEntry[]): Promise<void> {
    this.assertOpen();
    validateEntries(entries, this.dimension, (id) => this.rowOf.has(id));
    this.reserve(this.ids.length + entries.length);
    for (const entry of entries) {
      const row = this.ids.length;
      this.data.set(entry.vector, row * this.dimension);
      this.ids.push(entry.id);
      this.rowOf.set(entry.id, row);
    }
  }

  async remove(ids: readonly string[]): Promise<number> {
    this.assertOpen();
    let removed = 0;
    for (const id of ids) {
      const row = this.rowOf.get(id);
      if (row === undefined) continue;
      // Swap-with-last: O(d) per removal and the live rows stay contiguous for the scan.
      const last = this.ids.length - 1;
      if (row !== last) {
        const lastId = this.ids[last]!;
        this.data.copyWithin(row * this.dimension, last * this.dimension, (last + 1) * this.dimension);
        this.ids[row] = lastId;
        this.rowOf.set(lastId, row);
      }
      this.ids.pop();
      this.rowOf.delete(id);
      removed++;
    }
    return removed;
  }

  async search(query: Float32Array, k: number): Promise<IndexHit[]> {
    this.assertOpen();
    validateK(k);
    validateVector(query, this.dimension, 'query');
    return this.searchSync(query, k);
  }

  /**
   * Same as `search` without validation or a promise, for callers that already validated (the
   * repository's hot path and benchmarks).
   */
  searchSync(query: Float32Array, k: number): IndexHit[] {
    const n = this.ids.length;
    const ids = this.ids;
    if (n === 0) return [];
    if (this.scores.length < n) this.scores = new Float64Array(this.capacity);
    const scores = this.scores;
    // Score everything first (the hot loop, kept free of selection branches), then select.
    scoreRows(this.data, n, query, this.dimension, scores);
    if (k === 1) {
      // Top-1 (RECIPE's default) needs no heap: one running maximum.
      let bestRow = 0;
      let bestScore = scores[0]!;
      for (let row = 1; row < n; row++) {
        const score = scores[row]!;
        if (score > bestScore || (score === bestScore && ids[row]! < ids[bestRow]!)) {
          bestScore = score;
          bestRow = row;
        }
      }
      return [{ id: ids[bestRow]!, score: bestScore }];
    }
    // Partial selection: a min-heap of the best `size` rows seen so far, worst at the root. O(N log k)
    // instead of sorting all N scores; only the k survivors are sorted at the end.
    const size = Math.min(k, n);
    const heap = new Int32Array(size);
    // "row a ranks below row b": lower score, or equal score and larger id (ties broken by id, deterministic).
    const worse = (a: number, b: number): boolean =>
      scores[a]! < scores[b]! || (scores[a] === scores[b] && ids[a]! > ids[b]!);
    const siftDown = (start: number): void => {
      let i = start;
      for (;;) {
        const left = 2 * i + 1;
        if (left >= size) return;
        const right = left + 1;
        const child = right < size && worse(heap[right]!, heap[left]!) ? right : left;
        if (!worse(heap[child]!, heap[i]!)) return;
        const row = heap[i]!;
        heap[i] = heap[child]!;
        heap[child] = row;
        i = child;
      }
    };
    for (let row = 0; row < size; row++) heap[row] = row;
    for (let i = (size >> 1) - 1; i >= 0; i--) siftDown(i);
    for (let row = size; row < n; row++) {
      // Fast reject first: most rows score below the current k-th best.
      if (scores[row]! < scores[heap[0]!]! || !worse(heap[0]!, row)) continue;
      heap[0] = row;
      siftDown(0);
    }
    const hits: IndexHit[] = [];
    for (const row of heap) hits.push({ id: ids[row]!, score: scores[row]! });
    hits.sort((a, b) => b.score - a.score || (a.id < b.id ? -1 : a.id > b.id ? 1 : 0));
    return hits;
  }

  async get(id: string): Promise<Float32Array | null> {
    this.assertOpen();
    // A copy: a view would change under the caller when a later removal moves rows.
    return this.getSync(id);
  }

  /** A copy of the stored vector of `id`, or null (the synchronous `get`). */
  getSync(id: string): Float32Array | null {
    const row = this.rowOf.get(id);
    return row === undefined ? null : this.data.slice(row * this.dimension, (row + 1) * this.dimension);
  }

  /** r_id · query summed like `innerProduct` (bit-identical to a scan's score), or null when absent. No validation. */
  scoreOf(id: string, query: Float32Array): number | null {
    const row = this.rowOf.get(id);
    return row === undefined ? null : innerProduct(this.data, row * this.dimension, query, this.dimension);
  }

  /** Whether `id` is stored. */
  has(id: string): boolean {
    return this.rowOf.has(id);
  }

  /** Stored ids, in row order (not insertion order). */
  keys(): IterableIterator<string> {
    return this.ids.values();
  }

  async dispose(): Promise<void> {
    this.disposed = true;
    this.ids.length = 0;
    this.rowOf.clear();
    this.data = new Float32Array(0);
    this.scores = new Float64Array(0);
  }

  /** Grows the storage geometrically so n adds cost O(n·d) amortised, never O(n²·d). */
  private reserve(rows: number): void {
    const capacity = this.capacity;
    if (rows <= capacity) return;
    const next = Math.max(rows, capacity * 2);
    const grown = new Float32Array(next * this.dimension);
    grown.set(this.data.subarray(0, this.ids.length * this.dimension));
    this.data = grown;
  }

  private assertOpen(): void {
    if (this.disposed) {
      throw new InvalidInputError('This ExactIndex was disposed.', 'Create a new index; a disposed one holds no vectors.');
    }
  }
}
