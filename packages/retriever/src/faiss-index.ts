import { InvalidCheckpointError, InvalidInputError, type IndexEntry, type IndexHit, type KnowledgeIndex } from '@recipe-kit/core';
import { loadFaiss, readSavedIndex, tombstonesWarrantRebuild, type FaissModule, type FaissNativeIndex } from './faiss-native.js';
import { innerProduct } from './inner-product.js';
import { centre, centringOf, uncentre, type Centring } from './vector-centring.js';
import { validateEntries, validateK } from './validate-entries.js';
import { validateVector } from './validate-vector.js';

export type FaissIndexKind = 'flat' | 'hnsw' | 'ivf';
export type FaissStorage = 'Flat' | 'SQ8' | 'PQ';

/**
 * What a saved faiss index file needs beside it: the options that made it, the id of every label
 * (null: removed) and, for a centred index, the centring applied to every vector in the file.
 */
export interface FaissNativeState {
  description: string;
  labels: Array<string | null>;
  centring: Centring | null;
}

/** Marks a centred index in its saved description, so a file of the other kind is never loaded as this one. */
const CENTRED_SUFFIX = ';centred';
/** The largest divisor of `dimension` that is ≤ dimension / 8 (one byte of code per ~8 dimensions), at least 1. */
export function defaultPqM(dimension: number): number {
  for (let m = Math.floor(dimension / 8); m > 1; m--) if (dimension % m === 0) return m;
  return 1;
}

/** k-means of a PQ sub-quantiser learns 256 centroids (8-bit codes), so it needs at least that many vectors. */
const PQ_CENTROIDS = 256;

export interface FaissIndexOptions {
  /** flat: exact scan; hnsw: graph (HNSW{M},{storage}); ivf: inverted lists (IVF{nlist},{storage}). */
  kind: FaissIndexKind;
  /**
   * Vector codes: Flat (float32, default), SQ8 (8-bit scalar quantisation, 4× less memory; hnsw/ivf) or
   * PQ (ivf only: product-quantised codes of `pqM` bytes are scanned, and the best `rescore` × k are
   * rescored exactly from float32 copies kept beside them — faiss `IVF{nlist},PQ{pqM}np,RFlat`).
   */
  storage?: FaissStorage;
  /** PQ: sub-quantisers (bytes per code); must divide the dimension (default: the largest divisor ≤ dimension / 8). */
  pqM?: number;
  /** PQ: candidates per wanted result rescored exactly (faiss k_factor_rf, default 16). */
  rescore?: number;
  /** HNSW neighbours per node (default 32). */
  hnswM?: number;
  /** HNSW search beam (default 128); higher = better recall, slower. */
  efSearch?: number;
  /** IVF lists (default 1024). */
  nlist?: number;
  /** IVF lists probed per query (default 32). */
  nprobe?: number;
  /**
   * IVF (k-means) and SQ8 (value ranges) are trained once this many vectors are stored (default
   * max(39·nlist, 20000) for ivf, 20000 otherwise); below that the vectors sit in an exact flat
   * index, which is fast at that size.
   */
  trainAt?: number;
  /** OpenMP threads for faiss (process-wide); default: leave faiss's choice. */
  threads?: number;
  /**
   * IVF-PQ: store every key as (k − μ)·s, μ the mean of the training keys and s scaling them to RMS
   * norm 1 (see `Centring`; PQ storage only; default false). Queries stay as they are: q·(k − μ)·s =
   * s·(q·k − q·μ) ranks keys exactly as q·k, and the score is mapped back. Keys that share a direction
   * (RECIPE's: mean pairwise cos ≈ 0.4) pull the inner-product k-means towards it and its lists grow
   * uneven when it trains on few keys per list (trainAt 39 × nlist): at 100k keys a query at nprobe
   * 128 of 512 scanned 2.0× the uniform share of codes, 1.0× centred (CPU per query −33%). But
   * recall@1 per probe fell (0.97 against 0.995 there), and at 1M structured keys the CPU per query
   * for a given recall was no lower than uncentred (bench notes of issue 6), hence off. Training
   * k-means on more keys (trainAt 262144) balances the lists too, with the same loss per probe. `get`
   * returns the stored vector up to float32 rounding of the centring (a few ulp).
   */
  center?: boolean;
}

/**
 * A `KnowledgeIndex` on faiss (CPU, Debian's libfaiss through the patched faiss-node), inner product.
 *
 * Ids map to faiss labels 0, 1, 2, … in insertion order. Removal is a tombstone (HNSW cannot remove,
 * and flat removal renumbers labels): searches over-fetch by the number of tombstones and filter them,
 * and once tombstones pass 10% of the index (and 1024), the index is rebuilt from its live vectors.
 */
export class FaissIndex implements KnowledgeIndex {
  readonly dimension: number;
  readonly options: Readonly<Required<Omit<FaissIndexOptions, 'threads'>>>;
  private readonly faiss: FaissModule;
  private native: FaissNativeIndex;
  /** IVF before training: vectors wait here (an exact index), [pending × dimension]. */
  private staging: FaissNativeIndex | null = null;
  /** The centring of every vector in `native` (centred IVF-PQ, once trained); null otherwise. */
  private centring: Centring | null = null;
  private idOfLabel: Array<string | null> = [];
  private labelOf = new Map<string, number>();
  private tombstones = 0;
  private disposed = false;

  constructor(dimension: number, options: FaissIndexOptions) {
    if (!Number.isInteger(dimension) || dimension < 1) {
      throw new InvalidInputError(`FaissIndex dimension must be a positive integer, got ${String(dimension)}.`, 'Pass d_r, e.g. `new FaissIndex(256, { kind: "hnsw" })`.');
    }
    const kinds: readonly FaissIndexKind[] = ['flat', 'hnsw', 'ivf'];
    if (!kinds.includes(options.kind)) {
      throw new InvalidInputError(`Unknown faiss index kind "${String(options.kind)}".`, `Use one of: ${kinds.join(', ')}.`);
    }
    const nlist = options.nlist ?? 1024;
    this.options = {
      kind: options.kind,
      storage: options.storage ?? 'Flat',
      hnswM: options.hnswM ?? 32,
      efSearch: options.efSearch ?? 128,
      nlist,
      nprobe: options.nprobe ?? 32,
      trainAt: options.trainAt ?? (options.kind === 'ivf' ? Math.max(39 * nlist, 20_000) : 20_000),
      pqM: options.pqM ?? defaultPqM(dimension),
      rescore: options.rescore ?? 16,
      center: options.center ?? false,
    };
    for (const [name, value] of Object.entries(this.options)) {
      if (typeof value === 'number' && (!Number.isInteger(value) || value < 1)) {
        throw new InvalidInputError(`FaissIndex option ${name} must be a positive integer, got ${String(value)}.`, 'Leave it out for the default, or pass a positive integer.');
      }
    }
    if (!['Flat', 'SQ8', 'PQ'].includes(this.options.storage)) {
      throw new InvalidInputError(`FaissIndex storage must be "Flat", "SQ8" or "PQ", got "${String(this.options.storage)}".`, 'Use Flat (exact float32 codes), SQ8 (8-bit, 4× smaller) or PQ (ivf only: compact codes, exact rescoring).');
    }
    if (this.options.storage === 'PQ') this.validatePq(dimension);
    if (this.options.center && this.options.storage !== 'PQ') {
      throw new InvalidInputError(
        `FaissIndex option center needs storage "PQ" (kind "ivf"), got ${this.options.kind} with ${this.options.storage}.`,
        'Leave center out for the others: centring exists to balance the PQ index\'s inverted lists on structured keys, and its exact scores come from the PQ index\'s float32 copies.',
      );
    }
    if (this.options.kind === 'ivf' && this.options.trainAt < this.options.nlist) {
      throw new InvalidInputError(`FaissIndex trainAt (${this.options.trainAt}) must be ≥ nlist (${this.options.nlist}): k-means needs a point per list.`, 'Raise trainAt (≥ 39·nlist is best) or lower nlist.');
    }
    this.dimension = dimension;
    this.faiss = loadFaiss();
    if (options.threads !== undefined) this.faiss.Index.setThreads(options.threads);
    this.native = this.createNative();
  }

  get size(): number {
    return this.labelOf.size;
  }

  /** Whether the IVF quantiser has been trained (always true for flat and hnsw). */
  get trained(): boolean {
    return this.staging === null;
  }

  async add(entries: readonly IndexEntry[]): Promise<void> {
    this.assertOpen();
    validateEntries(entries, this.dimension, (id) => this.labelOf.has(id));
    if (entries.length === 0) return;
    const batch = new Float32Array(entries.length * this.dimension);
    entries.forEach((entry, i) => batch.set(entry.vector, i * this.dimension));
    if (this.staging !== null) this.staging.addFloat32(batch);
    else this.native.addFloat32(this.centring === null ? batch : centre(batch, this.centring));
    for (const entry of entries) {
      this.labelOf.set(entry.id, this.idOfLabel.length);
      this.idOfLabel.push(entry.id);
    }
    if (this.staging !== null && this.staging.ntotal() >= this.options.trainAt) this.train();
  }

  async remove(ids: readonly string[]): Promise<number> {
    this.assertOpen();
    let removed = 0;
    for (const id of ids) {
      const label = this.labelOf.get(id);
      if (label === undefined) continue;
      this.labelOf.delete(id);
      this.idOfLabel[label] = null;
      this.tombstones++;
      removed++;
    }
    if (tombstonesWarrantRebuild(this.tombstones, this.idOfLabel.length)) this.rebuild();
    return removed;
  }

  async search(query: Float32Array, k: number): Promise<IndexHit[]> {
    this.assertOpen();
    validateK(k);
    validateVector(query, this.dimension, 'query');
    return this.searchSync(query, k);
  }

  /** `search` without validation or a promise (the benchmark's and repository's hot path). */
  searchSync(query: Float32Array, k: number): IndexHit[] {
    const live = this.labelOf.size;
    if (live === 0) return [];
    const index = this.staging ?? this.native;
    // Over-fetch past tombstones so k live results survive the filter (exact for flat; for graphs and
    // lists a tombstone can also hide a live neighbour from the beam, which the rebuild bounds).
    const fetch = Math.min(this.idOfLabel.length, k + this.tombstones);
    const { distances, labels } = index.searchFloat32(query, fetch);
    // Centred keys: faiss scored q·(k − μ)·s; q·k = that / s + q·μ.
    const centring = this.staging === null ? this.centring : null;
    const offset = centring === null ? 0 : innerProduct(centring.mean, 0, query, this.dimension);
    const hits: IndexHit[] = [];
    for (let i = 0; i < fetch && hits.length < k; i++) {
      const label = labels[i]!;
      if (label < 0) break;
      const id = this.idOfLabel[label];
      if (id === null || id === undefined) continue;
      hits.push({ id, score: centring === null ? distances[i]! : distances[i]! / centring.scale + offset });
    }
    return hits;
  }

  async get(id: string): Promise<Float32Array | null> {
    this.assertOpen();
    const label = this.labelOf.get(id);
    if (label === undefined) return null;
    return this.storedVector(label);
  }

  /** Sets efSearch (hnsw) or nprobe (ivf) for later searches. */
  setSearchParameter(value: number): void {
    if (!Number.isInteger(value) || value < 1) {
      throw new InvalidInputError(`A faiss search parameter must be a positive integer, got ${String(value)}.`, 'Pass efSearch (hnsw) or nprobe (ivf), e.g. 64.');
    }
    if (this.options.kind === 'hnsw') {
      (this.options as { efSearch: number }).efSearch = value;
      this.native.setParameter('efSearch', value);
    } else if (this.options.kind === 'ivf') {
      (this.options as { nprobe: number }).nprobe = value;
      if (this.staging === null) this.native.setParameter('nprobe', Math.min(value, this.options.nlist));
    }
  }

  /**
   * Writes the faiss index itself (graph, lists, codes) to `path` and returns what restoring it needs
   * besides that file; null while vectors still wait for training (nothing is written: rebuilding
   * from the keys is cheap then). Reopening a million-edit repository from this file skips k-means,
   * encoding and graph construction.
   */
  saveNative(path: string): FaissNativeState | null {
    this.assertOpen();
    if (this.staging !== null) return null;
    this.native.write(path);
    const centring = this.centring === null ? null : { mean: this.centring.mean.slice(), scale: this.centring.scale };
    return { description: this.savedDescription(), labels: [...this.idOfLabel], centring };
  }

  /**
   * Loads a file written by `saveNative` into this empty index. Returns false, changing nothing, when
   * the file was made with other options (another nlist, M or code, centred or not): the caller rebuilds from keys.
   */
  loadNative(path: string, state: FaissNativeState): boolean {
    this.assertOpen();
    if (this.idOfLabel.length !== 0) {
      throw new InvalidInputError('loadNative needs an empty FaissIndex.', 'Create a new index and load the saved one into it before adding vectors.');
    }
    if (state.description !== this.savedDescription()) return false;
    const { centring } = state;
    const valid = centring === null ? !this.options.center : this.options.center && centring.mean.length === this.dimension && Number.isFinite(centring.scale) && centring.scale > 0;
    if (!valid) {
      throw new InvalidCheckpointError(
        `The faiss index saved as "${state.description}" came with ${centring === null ? 'no centring' : `a mean of ${centring.mean.length} values and scale ${centring.scale}`}, but a${this.options.center ? ' centred' : 'n uncentred'} index of dimension ${this.dimension} needs ${this.options.center ? `a mean of ${this.dimension} values and a positive scale` : 'none'}.`,
        'Delete the index-*.faiss/.json files named by the manifest (the index is then rebuilt from the keys), or restore a backup.',
      );
    }
    const native = readSavedIndex(this.faiss, path, state.labels.length);
    this.native = native;
    this.staging = null;
    this.centring = centring === null ? null : { mean: Float32Array.from(centring.mean), scale: centring.scale };
    state.labels.forEach((id, label) => {
      this.idOfLabel.push(id);
      if (id === null) this.tombstones++;
      else this.labelOf.set(id, label);
    });
    // Search knobs are this index's options, not the saved file's.
    if (this.options.kind === 'hnsw') native.setParameter('efSearch', this.options.efSearch);
    if (this.options.kind === 'ivf') native.setParameter('nprobe', Math.min(this.options.nprobe, this.options.nlist));
    if (this.options.storage === 'PQ') native.setParameter('k_factor_rf', this.options.rescore);
    return true;
  }

  /**
   * IVF-PQ diagnostics: the length of every inverted list (longest first; removed vectors count, their
   * codes are still scanned), or [] before training. Each stored vector not yet seen is searched with
   * one list probed and k = everything, which returns exactly the list it was assigned to (k-means
   * assigns and probes by the same inner product); so at most nlist searches, each O(size).
   */
  ivfListSizes(): number[] {
    this.assertOpen();
    if (this.options.storage !== 'PQ' || this.staging !== null) return [];
    const total = this.idOfLabel.length;
    const seen = new Uint8Array(total);
    const sizes: number[] = [];
    this.native.setParameter('nprobe', 1);
    this.native.setParameter('k_factor_rf', 1);
    try {
      for (let label = 0; label < total; label++) {
        if (seen[label] === 1) continue;
        // reconstruct gives the vector as faiss stores it (centred, if centred): the one k-means assigned.
        const { labels } = this.native.searchFloat32(this.native.reconstruct(label), total);
        let size = 0;
        for (; size < total && labels[size]! >= 0; size++) seen[labels[size]!] = 1;
        seen[label] = 1;
        sizes.push(size);
      }
    } finally {
      this.native.setParameter('nprobe', Math.min(this.options.nprobe, this.options.nlist));
      this.native.setParameter('k_factor_rf', this.options.rescore);
    }
    return sizes.sort((a, b) => b - a);
  }

  /**
   * IVF-PQ diagnostics: how many codes a search for `query` scans at the current nprobe (the lengths of
   * the lists it probes, removed vectors included); the whole staging scan before training.
   */
  ivfCodesScanned(query: Float32Array): number {
    this.assertOpen();
    validateVector(query, this.dimension, 'query');
    const total = this.idOfLabel.length;
    if (this.options.storage !== 'PQ' || this.staging !== null) return total;
    this.native.setParameter('k_factor_rf', 1);
    try {
      const { labels } = this.native.searchFloat32(query, total);
      let scanned = 0;
      while (scanned < total && labels[scanned]! >= 0) scanned++;
      return scanned;
    } finally {
      this.native.setParameter('k_factor_rf', this.options.rescore);
    }
  }

  /** The stored ids, in label order. */
  ids(): IterableIterator<string> {
    return this.labelOf.keys();
  }

  /** The faiss label of a stored id, or undefined. */
  labelOfId(id: string): number | undefined {
    return this.labelOf.get(id);
  }

  async dispose(): Promise<void> {
    this.disposed = true;
    this.labelOf.clear();
    this.idOfLabel = [];
    // Dropping the references lets the addon's finaliser free the native memory.
    this.native = this.faiss.Index.fromFactory(1, 'Flat', this.faiss.MetricType.METRIC_INNER_PRODUCT);
    this.staging = null;
    this.centring = null;
  }

  /** The vector stored under `label` as it was added (a centred index adds the mean back). */
  private storedVector(label: number): Float32Array {
    if (this.staging !== null) return this.staging.reconstruct(label);
    const stored = this.native.reconstruct(label);
    return this.centring === null ? stored : uncentre(stored, this.centring);
  }

  private validatePq(dimension: number): void {
    const { kind, pqM, trainAt } = this.options;
    if (kind !== 'ivf') {
      throw new InvalidInputError(`FaissIndex storage "PQ" needs kind "ivf", got "${kind}".`, 'Use { kind: "ivf", storage: "PQ" } (the faiss-ivf-pq backend), or SQ8 for hnsw.');
    }
    if (dimension % pqM !== 0) {
      throw new InvalidInputError(`FaissIndex pqM (${pqM}) must divide the dimension (${dimension}).`, `Pick a divisor of ${dimension}, e.g. ${defaultPqM(dimension)} (about 8 dimensions per byte of code).`);
    }
    if (trainAt < PQ_CENTROIDS) {
      throw new InvalidInputError(`FaissIndex trainAt (${trainAt}) must be ≥ ${PQ_CENTROIDS} for PQ: each sub-quantiser learns ${PQ_CENTROIDS} centroids.`, 'Raise trainAt (≥ 10000 is best) or use storage Flat.');
    }
  }

  /** The faiss index_factory description of these options. */
  private description(): string {
    const { kind, storage, hnswM, nlist, pqM } = this.options;
    if (kind === 'flat') return 'Flat';
    if (kind === 'hnsw') return `HNSW${hnswM},${storage}`;
    // RFlat keeps float32 copies: search scans the PQ codes, then rescores rescore × k candidates exactly.
    // "np": no polysemous training, which the factory otherwise runs for PQ (simulated annealing for
    // Hamming filtering we never use; minutes even for 1000 vectors).
    return storage === 'PQ' ? `IVF${nlist},PQ${pqM}np,RFlat` : `IVF${nlist},${storage}`;
  }

  /** The description a saved file carries: the factory string, marked when the file holds centred vectors. */
  private savedDescription(): string {
    return this.options.center ? `${this.description()}${CENTRED_SUFFIX}` : this.description();
  }

  private createNative(): FaissNativeIndex {
    const { kind, efSearch } = this.options;
    const ip = this.faiss.MetricType.METRIC_INNER_PRODUCT;
    const index = this.faiss.Index.fromFactory(this.dimension, this.description(), ip);
    if (kind === 'flat') return index;
    if (kind === 'hnsw') index.setParameter('efSearch', efSearch);
    if (this.options.storage === 'PQ') index.setParameter('k_factor_rf', this.options.rescore);
    // IVF lists and SQ8 ranges are learnt from data: stage vectors in an exact index until trainAt.
    if (!index.isTrained()) this.staging = this.faiss.Index.fromFactory(this.dimension, 'Flat', ip);
    return index;
  }

  /** IVF / SQ8: k-means (or code ranges) on the staged vectors, then they move into the lists (labels keep their order). */
  private train(): void {
    const staging = this.staging!;
    const count = staging.ntotal();
    const vectors = new Float32Array(count * this.dimension);
    for (let label = 0; label < count; label++) vectors.set(staging.reconstruct(label), label * this.dimension);
    this.centring = this.options.center ? centringOf(vectors, this.dimension) : null;
    const stored = this.centring === null ? vectors : centre(vectors, this.centring);
    this.native.trainFloat32(stored);
    this.native.addFloat32(stored);
    if (this.options.kind === 'ivf') this.native.setParameter('nprobe', Math.min(this.options.nprobe, this.options.nlist));
    this.staging = null;
  }

  /** Drops tombstones: a fresh index with the live vectors, relabelled 0..live−1 in label order. */
  private rebuild(): void {
    const liveIds: string[] = [];
    const vectors = new Float32Array(this.labelOf.size * this.dimension);
    this.idOfLabel.forEach((id, label) => {
      if (id === null) return;
      vectors.set(this.storedVector(label), liveIds.length * this.dimension);
      liveIds.push(id);
    });
    // The rebuilt index is trained afresh (below, or once trainAt vectors are stored): a new mean then.
    this.staging = null;
    this.centring = null;
    this.native = this.createNative();
    this.idOfLabel = [];
    this.labelOf = new Map();
    this.tombstones = 0;
    (this.staging ?? this.native).addFloat32(vectors);
    liveIds.forEach((id, label) => {
      this.labelOf.set(id, label);
      this.idOfLabel.push(id);
    });
    // createNative may have set staging again (IVF / SQ8 start untrained).
    const staged = this.staging as FaissNativeIndex | null;
    if (staged !== null && staged.ntotal() >= this.options.trainAt) this.train();
  }

  private assertOpen(): void {
    if (this.disposed) throw new InvalidInputError('This FaissIndex was disposed.', 'Create a new index; a disposed one holds no vectors.');
  }
}
