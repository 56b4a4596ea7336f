import { InvalidCheckpointError, InvalidInputError, type IndexEntry, type IndexHit, type KnowledgeIndex } from '@recipe-kit/core';
import { ExactIndex } from './exact-index.js';
import { loadFaiss, readSavedIndex, tombstonesWarrantRebuild, type FaissModule, type FaissNativeIndex } from './faiss-native.js';
import { keysForEuclideanIndex, learnEuclideanRows, queryForEuclideanIndex, type PrincipalSubspace } from './principal-subspace.js';
import { validateK } from './validate-entries.js';
import { validateVector } from './validate-vector.js';

/** What a saved faiss-ivf-pca file needs beside it: its options, the id of every label (null: removed), the subspace. */
export interface ProjectedNativeState {
  description: string;
  labels: Array<string | null>;
  subspace: PrincipalSubspace;
}

/** k-means of a PQ sub-quantiser learns 256 centroids (8-bit codes), so it needs at least that many vectors. */
const PQ_CENTROIDS = 256;

export interface FaissProjectedIndexOptions {
  /** Dimensions kept: the rank of the principal subspace the lists are built in (default 63, so rows are 64 wide; < the key width). */
  rank?: number;
  /**
   * Product-quantisation bytes per list entry (default 16: 4 of the 64 projected dimensions per byte); 0 keeps
   * float32 rows (IVF-Flat). Rows are zero-padded to a multiple of it.
   */
  pqM?: number;
  /** Inverted lists (default 1024). */
  nlist?: number;
  /** Lists probed per query (default 192: recall@1 0.992 at 1M RECIPE keys with 1024 lists, ≈ 4.0 ms CPU per query). */
  nprobe?: number;
  /** Candidates per wanted result rescored exactly from the float32 keys (default 16). */
  rescore?: number;
  /** Keys stored before the subspace and k-means are learnt (default max(39·nlist, 20000)); below it searches scan exactly. */
  trainAt?: number;
  /** OpenMP threads for faiss (process-wide); default: leave faiss's choice. */
  threads?: number;
}

/**
 * A `KnowledgeIndex` for keys that crowd into a low-dimensional subspace, as a trained RECIPE encoder
 * writes them: faiss inverted lists (IVF, Euclidean k-means, PQ or float32 codes) over each key's projection on
 * the keys' top principal subspace, turned into a nearest-neighbour problem (`principal-subspace.ts`),
 * and the best `rescore × k` candidates rescored exactly against float32 keys kept here. Scores are
 * exact inner products; recall is lost only when the best key lies outside the probed lists.
 *
 * Before `trainAt` keys, searches scan every key exactly. The subspace, bound and lists are learnt once,
 * from the keys stored then; later keys are projected with them. Removal tombstones a list entry and
 * deletes the key; past 10% tombstones (and 1024) the lists are rebuilt — and relearnt — from the live keys.
 * `saveNative` writes the faiss lists and returns the subspace and labels; `loadNative` restores them and
 * takes the float32 keys from the caller (the repository's own), so a reopen skips k-means and encoding.
 */
export class FaissProjectedIndex implements KnowledgeIndex {
  readonly dimension: number;
  readonly options: Readonly<Required<Omit<FaissProjectedIndexOptions, 'threads'>>>;
  /** Row width in faiss: rank + 1, zero-padded to a multiple of pqM. */
  private readonly width: number;
  private readonly faiss: FaissModule;
  /** The float32 keys by id: exact scores, `get`, and the scan before training. */
  private readonly keys: ExactIndex;
  /** The faiss lists and the subspace their rows were projected with: learnt together, null before training. */
  private lists: { native: FaissNativeIndex; subspace: PrincipalSubspace } | null = null;
  /** Insertion order of ids (null: removed), the labels faiss knows them by once trained. */
  private idOfLabel: Array<string | null> = [];
  private labelOf = new Map<string, number>();
  private tombstones = 0;
  private disposed = false;

  constructor(dimension: number, options: FaissProjectedIndexOptions = {}) {
    if (!Number.isInteger(dimension) || dimension < 2) {
      throw new InvalidInputError(`FaissProjectedIndex dimension must be an integer ≥ 2, got ${String(dimension)}.`, 'Pass d_r, e.g. `new FaissProjectedIndex(256)`.');
    }
    const nlist = options.nlist ?? 1024;
    this.options = {
      rank: options.rank ?? Math.min(63, dimension - 1),
      pqM: options.pqM ?? 16,
      nlist,
      nprobe: options.nprobe ?? 192,
      rescore: options.rescore ?? 16,
      trainAt: options.trainAt ?? Math.max(39 * nlist, 20_000),
    };
    for (const [name, value] of Object.entries(this.options)) {
      if (!Number.isInteger(value) || value < (name === 'pqM' ? 0 : 1)) {
        throw new InvalidInputError(`FaissProjectedIndex option ${name} must be a ${name === 'pqM' ? 'whole number (0: float32 rows)' : 'positive integer'}, got ${String(value)}.`, 'Leave it out for the default, or pass a positive integer.');
      }
    }
    if (this.options.rank >= dimension) {
      throw new InvalidInputError(
        `FaissProjectedIndex rank (${this.options.rank}) must be below the key width (${dimension}).`,
        `Keep fewer dimensions (e.g. ${Math.max(1, Math.floor(dimension / 4))}), or use faiss-ivf for lists over whole keys.`,
      );
    }
    if (this.options.pqM > 0 && this.options.trainAt < PQ_CENTROIDS) {
      throw new InvalidInputError(`FaissProjectedIndex trainAt (${this.options.trainAt}) must be ≥ ${PQ_CENTROIDS} with pqM > 0: each sub-quantiser learns ${PQ_CENTROIDS} centroids.`, 'Raise trainAt (≥ 10000 is best), or pass pqM 0 for float32 rows.');
    }
    if (this.options.trainAt < this.options.nlist) {
      throw new InvalidInputError(`FaissProjectedIndex trainAt (${this.options.trainAt}) must be ≥ nlist (${this.options.nlist}): k-means needs a point per list.`, 'Raise trainAt (≥ 39·nlist is best) or lower nlist.');
    }
    this.dimension = dimension;
    const { rank, pqM } = this.options;
    this.width = pqM > 0 ? Math.ceil((rank + 1) / pqM) * pqM : rank + 1;
    this.faiss = loadFaiss();
    if (options.threads !== undefined) this.faiss.Index.setThreads(options.threads);
    this.keys = new ExactIndex(dimension);
  }

  get size(): number {
    return this.keys.size;
  }

  /** Whether the subspace and lists have been learnt. */
  get trained(): boolean {
    return this.lists !== null;
  }

  /** Share of the training keys' centred variance the kept subspace holds (null before training). */
  get explainedVariance(): number | null {
    return this.lists?.subspace.explained ?? null;
  }

  async add(entries: readonly IndexEntry[]): Promise<void> {
    this.assertOpen();
    // ExactIndex validates width, finiteness and duplicate ids, and adds nothing when any entry is bad.
    await this.keys.add(entries);
    if (entries.length === 0) return;
    for (const entry of entries) {
      this.labelOf.set(entry.id, this.idOfLabel.length);
      this.idOfLabel.push(entry.id);
    }
    if (this.lists !== null) {
      const batch = new Float32Array(entries.length * this.dimension);
      entries.forEach((entry, i) => batch.set(entry.vector, i * this.dimension));
      this.lists.native.addFloat32(keysForEuclideanIndex(this.lists.subspace, batch, this.width));
    } else if (this.keys.size >= this.options.trainAt) {
      this.train();
    }
  }

  async remove(ids: readonly string[]): Promise<number> {
    this.assertOpen();
    const removed = await this.keys.remove(ids);
    for (const id of ids) {
      const label = this.labelOf.get(id);
      if (label === undefined) continue;
      this.labelOf.delete(id);
      this.idOfLabel[label] = null;
      this.tombstones++;
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

  /** `search` without validation or a promise (the benchmark's hot path). */
  searchSync(query: Float32Array, k: number): IndexHit[] {
    if (this.lists === null) return this.keys.searchSync(query, k);
    const fetch = Math.min(this.idOfLabel.length, this.options.rescore * k + this.tombstones);
    const { labels } = this.lists.native.searchFloat32(queryForEuclideanIndex(this.lists.subspace, query, this.width), fetch);
    const hits: IndexHit[] = [];
    for (let i = 0; i < fetch; i++) {
      const label = labels[i]!;
      if (label < 0) break;
      const id = this.idOfLabel[label];
      if (id === null || id === undefined) continue;
      hits.push({ id, score: this.keys.scoreOf(id, query)! });
    }
    hits.sort((a, b) => b.score - a.score || (a.id < b.id ? -1 : a.id > b.id ? 1 : 0));
    return hits.slice(0, k);
  }

  async get(id: string): Promise<Float32Array | null> {
    this.assertOpen();
    return this.keys.getSync(id);
  }

  /** Sets nprobe for later searches (the benchmark's sweep). */
  setSearchParameter(value: number): void {
    if (!Number.isInteger(value) || value < 1) {
      throw new InvalidInputError(`nprobe must be a positive integer, got ${String(value)}.`, 'Pass the number of lists to probe, e.g. 128.');
    }
    (this.options as { nprobe: number }).nprobe = value;
    this.lists?.native.setParameter('nprobe', Math.min(value, this.options.nlist));
  }

  /** The stored ids, in insertion order. */
  ids(): IterableIterator<string> {
    return this.labelOf.keys();
  }

  /** The faiss label of a stored id, or undefined. */
  labelOfId(id: string): number | undefined {
    return this.labelOf.get(id);
  }

  /**
   * Writes the faiss lists to `path` and returns what restoring them needs besides that file and the
   * keys; null before training (nothing is written: rebuilding from the keys is cheap then).
   */
  saveNative(path: string): ProjectedNativeState | null {
    this.assertOpen();
    if (this.lists === null) return null;
    this.lists.native.write(path);
    const { mean, basis, rank, boundSquared, explained } = this.lists.subspace;
    return { description: this.savedDescription(), labels: [...this.idOfLabel], subspace: { mean: mean.slice(), basis: basis.slice(), rank, boundSquared, explained } };
  }

  /**
   * Loads a file written by `saveNative` into this empty index (keeping `state.subspace`'s arrays); `keyOf` gives the float32 key of a label's id
   * (null for one removed since the file was written: it stays a label until the caller removes it). Returns
   * false, changing nothing, when the file was made with other options: the caller rebuilds from keys.
   */
  async loadNative(path: string, state: ProjectedNativeState, keyOf: (id: string) => Float32Array | null): Promise<boolean> {
    this.assertOpen();
    if (this.idOfLabel.length !== 0) {
      throw new InvalidInputError('loadNative needs an empty FaissProjectedIndex.', 'Create a new index and load the saved one into it before adding vectors.');
    }
    if (state.description !== this.savedDescription()) return false;
    const { mean, basis, rank, boundSquared } = state.subspace;
    if (mean.length !== this.dimension || rank !== this.options.rank || basis.length !== rank * this.dimension || !(boundSquared > 0) || !Number.isFinite(boundSquared)) {
      throw new InvalidCheckpointError(
        `The faiss-ivf-pca index saved as "${state.description}" came with a subspace of mean ${mean.length}, rank ${rank}, basis ${basis.length} and bound ${boundSquared}; this index needs mean ${this.dimension}, rank ${this.options.rank}, basis ${this.options.rank * this.dimension} and a positive bound.`,
        'Delete the index-*.faiss/.json files named by the manifest (the index is then rebuilt from the keys), or restore a backup.',
      );
    }
    const native = readSavedIndex(this.faiss, path, state.labels.length);
    const batch: IndexEntry[] = [];
    for (const id of state.labels) {
      const key = id === null ? null : keyOf(id);
      if (id !== null && key !== null) batch.push({ id, vector: key });
      if (batch.length === 10_000) await this.keys.add(batch.splice(0));
    }
    await this.keys.add(batch);
    // The subspace's arrays are taken over, not copied: `readNativeIndex` and `saveNative` both hand over fresh ones.
    this.lists = { native, subspace: state.subspace };
    state.labels.forEach((id, label) => {
      this.idOfLabel.push(id);
      if (id === null) this.tombstones++;
      else this.labelOf.set(id, label);
    });
    // The search knob is this index's option, not the saved file's.
    native.setParameter('nprobe', Math.min(this.options.nprobe, this.options.nlist));
    return true;
  }

  async dispose(): Promise<void> {
    this.disposed = true;
    this.labelOf.clear();
    this.idOfLabel = [];
    // Dropping the reference lets the addon's finaliser free the native memory.
    this.lists = null;
    await this.keys.dispose();
  }

  /** Learns the subspace, bound and lists from every live key, and fills the lists (labels in insertion order). */
  private train(): void {
    const liveIds = this.idOfLabel.filter((id): id is string => id !== null);
    const vectors = new Float32Array(liveIds.length * this.dimension);
    liveIds.forEach((id, row) => vectors.set(this.keys.getSync(id)!, row * this.dimension));
    const width = this.width;
    const { subspace, rows: stored } = learnEuclideanRows(vectors, this.dimension, this.options.rank, width);
    const native = this.faiss.Index.fromFactory(width, this.factoryDescription(), this.faiss.MetricType.METRIC_L2);
    // k-means on the first trainAt keys, spread evenly (faiss samples 256 × nlist at most anyway).
    const trainRows = Math.min(liveIds.length, this.options.trainAt);
    native.trainFloat32(stored.subarray(0, trainRows * width));
    native.addFloat32(stored);
    native.setParameter('nprobe', Math.min(this.options.nprobe, this.options.nlist));
    this.lists = { native, subspace };
    this.idOfLabel = liveIds;
    this.labelOf = new Map(liveIds.map((id, label) => [id, label]));
    this.tombstones = 0;
  }

  /** Drops tombstones: relearns everything from the live keys, or returns to the exact scan below trainAt. */
  private rebuild(): void {
    this.lists = null;
    if (this.keys.size >= this.options.trainAt) {
      this.train();
      return;
    }
    this.idOfLabel = this.idOfLabel.filter((id): id is string => id !== null);
    this.labelOf = new Map(this.idOfLabel.map((id, label) => [id as string, label]));
    this.tombstones = 0;
  }

  /** The faiss index_factory string of the lists ("np": no polysemous training, which we never use and which takes minutes). */
  private factoryDescription(): string {
    return `IVF${this.options.nlist},${this.options.pqM > 0 ? `PQ${this.options.pqM}np` : 'Flat'}`;
  }

  /** The options a saved file must match: the factory string behind the projection. */
  private savedDescription(): string {
    return `projected${this.options.rank},${this.factoryDescription()}`;
  }

  private assertOpen(): void {
    if (this.disposed) throw new InvalidInputError('This FaissProjectedIndex was disposed.', 'Create a new index; a disposed one holds no vectors.');
  }
}
