import { mkdir, open as openFile } from 'node:fs/promises';
import path from 'node:path';
import {
  DataNotFoundError,
  InvalidCheckpointError,
  InvalidConfigError,
  InvalidInputError,
  type EditRequest,
  type KnowledgeIndex,
} from '@recipe-kit/core';
import { ExactIndex } from './exact-index.js';
import type { FaissIndex } from './faiss-index.js';
import type { FaissProjectedIndex } from './faiss-projected-index.js';
import { readNativeIndex } from './native-index-files.js';
import { innerProduct } from './inner-product.js';
import { decodeJournalRecord, encodeJournalRecord, type JournalRecord } from './journal-record.js';
import { KnowledgeJournal, readJournal, type JournalReadResult } from './knowledge-journal.js';
import { hasKnowledgeSnapshot, newGeneration, readKnowledgeSnapshot, writeKnowledgeSnapshot } from './knowledge-snapshot.js';
import { validateVector } from './validate-vector.js';
import { syncDirectory } from './write-durable-file.js';

/** What is stored for one edit besides its key r_k. */
export interface KnowledgePayload {
  id: string;
  /** p_k, row-major [l × d_llm] (`promptShape`). */
  prompt: Float32Array;
  promptShape: readonly [number, number];
  /** The fact that produced this entry, kept so a repository can be audited, retracted or rebuilt. */
  request: EditRequest;
  /** ISO 8601 time the entry was added. */
  createdAt: string;
}

/** The caller's part of a payload; id and shape come from `add` and the repository. */
export interface KnowledgePayloadInput {
  prompt: Float32Array;
  request: EditRequest;
  /** Defaults to now. */
  createdAt?: string;
}

export interface KnowledgeRepositoryOptions {
  /** d_r, the length of knowledge keys, queries and the sentinel. */
  dimension: number;
  /** [l, d_llm] of every prompt (RECIPE: l = 3). */
  promptShape: readonly [number, number];
  /**
   * Identifies the retriever (f_rm + heads + MLP_P weights) and LLM whose outputs are stored, e.g. a
   * hash of the checkpoint. Keys and prompts mean nothing to any other pair, so `load` refuses a
   * mismatch instead of returning silently wrong retrievals.
   */
  encoderFingerprint: string;
  /** An empty index backend of `dimension`; defaults to a new ExactIndex. */
  index?: KnowledgeIndex;
  /**
   * Candidates fetched from the backend per result wanted, then rescored exactly (default 1 for an
   * ExactIndex, 4 otherwise): approximate and quantised backends may misorder near-ties, which the
   * exact rescoring of a few extra candidates repairs.
   */
  refine?: number;
}

export interface KnowledgeSearchOptions {
  /** `retr_top_k`: how many best entries to consider (default 1). */
  topK?: number;
  /** `retr_min_sim`: an absolute floor on the scaled similarity (default −999, i.e. none). */
  minSimilarity?: number;
  /** Gate on the sentinel (s_j > s_0). false only for the "w/o KS" ablation, where minSimilarity alone decides (default true). */
  useSentinel?: boolean;
  /** Keep entry j only if s_j > s_0 + sentinelMargin (default 0: RECIPE's rule). A calibrated negative margin trades locality for recall. */
  sentinelMargin?: number;
}

export interface RetrievedKnowledge {
  id: string;
  /** s_j = r_q · r_{k_j} / sqrt(d_r). */
  similarity: number;
  payload: KnowledgePayload;
}

export interface KnowledgeSearchResult {
  /** Entries that passed both gates (s_j > s_0 and s_j > minSimilarity), best first; often empty. */
  hits: RetrievedKnowledge[];
  /** s_0 = r_q · r_Θ / sqrt(d_r), the dynamic threshold. */
  sentinelSimilarity: number;
  /**
   * The top-k entries before gating, best first, so callers can log margins (s_j − s_0) for
   * rejected queries too.
   */
  candidates: Array<{ id: string; similarity: number }>;
}

export interface LoadKnowledgeRepositoryOptions {
  /** Must equal the fingerprint the repository was saved with. */
  encoderFingerprint: string;
  /** Builds the (empty) index backend to fill; defaults to ExactIndex. */
  createIndex?: (dimension: number) => KnowledgeIndex | Promise<KnowledgeIndex>;
}

export interface OpenKnowledgeRepositoryOptions extends LoadKnowledgeRepositoryOptions {
  /** d_r; must match an existing repository's. */
  dimension: number;
  /** [l, d_llm]; must match an existing repository's. */
  promptShape: readonly [number, number];
  /** Compact (new snapshot, fresh journal) once the journal passes this many bytes (default 256 MiB). */
  compactJournalBytes?: number;
}

/** The directory and journal of a repository opened with `open`. */
interface DurableState {
  directory: string;
  journal: KnowledgeJournal;
  compactJournalBytes: number;
}

/** Rows per `index.add` call while loading: big enough to amortise the call, small enough for little extra memory. */
const LOAD_BATCH_ROWS = 4096;

/**
 * RECIPE's knowledge repository (spec §1.5–1.6): knowledge keys r_k in a swappable `KnowledgeIndex`,
 * their continuous prompts p_k and edit requests alongside, and the knowledge sentinel r_Θ that
 * gates retrieval.
 *
 * Two modes. In memory (`new`, `load`), `save` writes an atomic snapshot. Durable (`open`), every
 * add/remove/clear is appended to a checksummed journal and fsynced before it resolves, so an
 * acknowledged edit survives a crash (`kill -9`, power loss of a synced disk) at any later moment;
 * reopening replays the journal over the last snapshot and drops a torn tail record. `compact`
 * (automatic past `compactJournalBytes`) folds the journal into a new snapshot.
 *
 * The repository keeps every key in its own exact store (an ExactIndex, shared when the backend is
 * exact): the backend only proposes the top-k ids, which are rescored here with `innerProduct`, so
 * the sentinel rule, scores and tie order are the same on every backend.
 */
export class KnowledgeRepository {
  readonly dimension: number;
  readonly promptShape: readonly [number, number];
  readonly encoderFingerprint: string;
  private index: KnowledgeIndex;
  /** Exact keys by id (the index itself when it is an ExactIndex). */
  private readonly keys: ExactIndex;
  /** Insertion order is kept (a Map iterates in insertion order); saves and `entries()` follow it. */
  private readonly payloads = new Map<string, KnowledgePayload>();
  private sentinel: Float32Array | null = null;
  private readonly scale: number;
  private readonly refine: number;
  private durable: DurableState | null = null;
  /** Adds whose journal record is being written, by id: duplicates are refused, removals wait. */
  private readonly inFlight = new Map<string, Promise<unknown>>();
  private activeMutations = 0;
  private idleWaiters: Array<() => void> = [];
  private exclusive: Promise<void> | null = null;
  private compactionError: unknown = null;
  private closed = false;

  constructor(options: KnowledgeRepositoryOptions) {
    const { dimension, promptShape, encoderFingerprint } = options;
    if (!Number.isInteger(dimension) || dimension < 1) {
      throw new InvalidConfigError(
        `KnowledgeRepository dimension must be a positive integer, got ${String(dimension)}.`,
        'Pass d_r, the output size of the knowledge/query heads.',
      );
    }
    if (
      !Array.isArray(promptShape) ||
      promptShape.length !== 2 ||
      !promptShape.every((value) => Number.isInteger(value) && value >= 1)
    ) {
      throw new InvalidConfigError(
        `KnowledgeRepository promptShape must be [l, d_llm] with positive integers, got ${JSON.stringify(promptShape)}.`,
        'Pass the prompt encoder output shape, e.g. [3, 4096] for LLaMA-2-7B.',
      );
    }
    if (typeof encoderFingerprint !== 'string') {
      throw new InvalidConfigError(
        'KnowledgeRepository needs an encoderFingerprint string.',
        'Pass something that identifies the retriever checkpoint and LLM (e.g. a hash of their weights) so a saved repository cannot be loaded with the wrong ones.',
      );
    }
    const index = options.index ?? new ExactIndex(dimension);
    if (index.dimension !== dimension) {
      throw new InvalidConfigError(
        `The index holds vectors of dimension ${index.dimension}, but the repository dimension is ${dimension}.`,
        'Create the index with the same d_r as the repository.',
      );
    }
    if (index.size !== 0) {
      throw new InvalidConfigError(
        `The index passed to KnowledgeRepository already holds ${index.size} vectors without payloads.`,
        'Pass an empty index; use KnowledgeRepository.load() to restore a saved repository.',
      );
    }
    this.dimension = dimension;
    this.promptShape = [promptShape[0], promptShape[1]];
    this.encoderFingerprint = encoderFingerprint;
    this.index = index;
    this.keys = index instanceof ExactIndex ? index : new ExactIndex(dimension);
    this.refine = options.refine ?? (index === this.keys ? 1 : 4);
    if (!Number.isInteger(this.refine) || this.refine < 1) {
      throw new InvalidConfigError(`KnowledgeRepository refine must be a positive integer, got ${String(options.refine)}.`, 'Leave it out, or pass how many candidates to rescore per result (e.g. 4).');
    }
    this.scale = 1 / Math.sqrt(dimension);
  }

  /** The search backend (it proposes top-k ids; scores come from the exact keys). */
  get indexBackend(): KnowledgeIndex {
    return this.index;
  }

  get size(): number {
    return this.payloads.size;
  }

  /** Whether r_Θ has been set. */
  get hasSentinel(): boolean {
    return this.sentinel !== null;
  }

  /** Sets or replaces r_Θ = MLP_K(pool(Enc(Θ))) (recomputed by callers whenever the retriever changes). */
  setSentinel(vector: Float32Array): void {
    validateVector(vector, this.dimension, 'sentinel vector');
    const unchanged = this.sentinel !== null && this.sentinel.every((value, i) => Object.is(value, vector[i]));
    this.sentinel = vector.slice();
    if (this.durable !== null && !unchanged) {
      // Synchronous by contract; the record is ordered before any later edit, whose fsync covers it.
      // A failed write poisons the journal, so the next edit reports it.
      this.durable.journal.append(encodeJournalRecord({ type: 'sentinel', vector: this.sentinel })).catch(() => {});
    }
  }

  /** A copy of r_Θ, or null. */
  getSentinel(): Float32Array | null {
    return this.sentinel === null ? null : this.sentinel.slice();
  }

  /**
   * Stores one edit: key r_k (copied) and payload (prompt copied, so later changes to the caller's
   * buffers do not alter the repository). On any error nothing is stored. In a durable repository the
   * promise resolves only after the edit's journal record is on disk.
   */
  async add(id: string, key: Float32Array, payload: KnowledgePayloadInput): Promise<KnowledgePayload> {
    this.assertOpen();
    if (typeof id !== 'string' || id.length === 0) {
      throw new InvalidInputError(`Knowledge ids must be non-empty strings, got ${JSON.stringify(id)}.`, 'Use the edit request id.');
    }
    if (this.payloads.has(id) || this.inFlight.has(id)) {
      throw new InvalidInputError(
        `Duplicate id "${id}": the repository already holds an entry with it.`,
        `Use a unique id per edit, or remove("${id}") first to replace the fact.`,
      );
    }
    validateVector(key, this.dimension, `vector of id "${id}"`);
    const [l, dLlm] = this.promptShape;
    validateVector(payload.prompt, l * dLlm, `prompt of id "${id}" (shape [${l}, ${dLlm}] flattened)`);
    if (typeof payload.request !== 'object' || payload.request === null) {
      throw new InvalidInputError(
        `The payload of id "${id}" has no edit request.`,
        'Pass the EditRequest that produced this key and prompt; it is saved with the repository.',
      );
    }
    const stored: KnowledgePayload = {
      id,
      prompt: payload.prompt.slice(),
      promptShape: this.promptShape,
      request: payload.request,
      createdAt: payload.createdAt ?? new Date().toISOString(),
    };
    const storedKey = key.slice();
    if (this.durable === null) {
      await this.applyAdd(stored, storedKey);
      return stored;
    }
    const operation = this.mutate(async (durable) => {
      await durable.journal.append(encodeJournalRecord({ type: 'add', id, createdAt: stored.createdAt, request: stored.request, key: storedKey, prompt: stored.prompt }));
      await this.applyAdd(stored, storedKey);
      return stored;
    });
    this.inFlight.set(id, operation);
    try {
      return await operation;
    } finally {
      this.inFlight.delete(id);
      this.compactIfDue();
    }
  }

  /**
   * Stores many edits, as `add` would one by one (same checks, same durability: it resolves after all
   * their journal records are synced), but hands the index one batch: bulk imports and rebuilds.
   * On a bad entry nothing of the batch is stored.
   */
  async addMany(entries: ReadonlyArray<{ id: string; key: Float32Array; payload: KnowledgePayloadInput }>): Promise<void> {
    this.assertOpen();
    const ids = new Set<string>();
    const [l, dLlm] = this.promptShape;
    const prepared = entries.map(({ id, key, payload }) => {
      if (typeof id !== 'string' || id.length === 0 || this.payloads.has(id) || this.inFlight.has(id) || ids.has(id)) {
        throw new InvalidInputError(`Id ${JSON.stringify(id)} is empty or already used (in the repository or this batch).`, 'Give every edit a unique, non-empty id.');
      }
      ids.add(id);
      validateVector(key, this.dimension, `vector of id "${id}"`);
      validateVector(payload.prompt, l * dLlm, `prompt of id "${id}" (shape [${l}, ${dLlm}] flattened)`);
      const stored: KnowledgePayload = { id, prompt: payload.prompt.slice(), promptShape: this.promptShape, request: payload.request, createdAt: payload.createdAt ?? new Date().toISOString() };
      return { stored, key: key.slice() };
    });
    const apply = async (): Promise<void> => {
      await this.keys.add(prepared.map(({ stored, key }) => ({ id: stored.id, vector: key })));
      for (const { stored } of prepared) this.payloads.set(stored.id, stored);
      if (this.index !== this.keys) await this.index.add(prepared.map(({ stored, key }) => ({ id: stored.id, vector: key })));
    };
    if (this.durable === null) return apply();
    await this.mutate(async (durable) => {
      await Promise.all(prepared.map(({ stored, key }) => durable.journal.append(encodeJournalRecord({ type: 'add', id: stored.id, createdAt: stored.createdAt, request: stored.request, key, prompt: stored.prompt }))));
      await apply();
    });
    this.compactIfDue();
  }

  /** Retracts one fact; returns whether it was present. */
  async remove(id: string): Promise<boolean> {
    this.assertOpen();
    await this.inFlight.get(id)?.catch(() => {});
    if (!this.payloads.has(id)) return false;
    if (this.durable === null) {
      await this.applyRemove([id]);
      return true;
    }
    return this.mutate(async (durable) => {
      await durable.journal.append(encodeJournalRecord({ type: 'remove', id }));
      // A concurrent remove of the same id may have applied first; the journal holds both, harmlessly.
      if (!this.payloads.has(id)) return false;
      await this.applyRemove([id]);
      return true;
    });
  }

  /** Restores the unedited model: drops every entry, keeps the sentinel (it does not depend on edits). */
  async clear(): Promise<void> {
    this.assertOpen();
    await Promise.all([...this.inFlight.values()].map((operation) => operation.catch(() => {})));
    if (this.durable === null) {
      await this.applyRemove([...this.payloads.keys()]);
      return;
    }
    await this.mutate(async (durable) => {
      await durable.journal.append(encodeJournalRecord({ type: 'clear' }));
      await this.applyRemove([...this.payloads.keys()]);
    });
  }

  /** The payload of an id, or undefined. */
  get(id: string): KnowledgePayload | undefined {
    return this.payloads.get(id);
  }

  /** Payloads in insertion order. */
  entries(): IterableIterator<KnowledgePayload> {
    return this.payloads.values();
  }

  /** The stored key r_k of an id, or null. */
  async getKey(id: string): Promise<Float32Array | null> {
    return this.keys.get(id);
  }

  /**
   * RECIPE retrieval (spec §1.6): s_j = rq·K_j / sqrt(d_r) for the sentinel (j = 0) and the top-k
   * entries; entry j is kept only if s_j > s_0 and s_j > minSimilarity, best first. Taking the top-k
   * of the entries and gating by s_0 equals the reference's top-k over [sentinel; entries]: every
   * entry ranked above the sentinel there is also in the entries' top-k.
   */
  async search(rq: Float32Array, options: KnowledgeSearchOptions = {}): Promise<KnowledgeSearchResult> {
    const topK = options.topK ?? 1;
    const minSimilarity = options.minSimilarity ?? -999;
    const useSentinel = options.useSentinel ?? true;
    const sentinelMargin = options.sentinelMargin ?? 0;
    if (typeof sentinelMargin !== 'number' || !Number.isFinite(sentinelMargin)) {
      throw new InvalidInputError(`sentinelMargin must be a finite number, got ${String(sentinelMargin)}.`, 'Leave it out (0, RECIPE\'s rule) or pass a calibrated margin.');
    }
    if (!Number.isInteger(topK) || topK < 1) {
      throw new InvalidInputError(
        `topK must be an integer ≥ 1, got ${String(topK)}.`,
        'Pass the number of entries to consider (RECIPE retr_top_k, default 1).',
      );
    }
    if (typeof minSimilarity !== 'number' || Number.isNaN(minSimilarity)) {
      throw new InvalidInputError(
        `minSimilarity must be a number, got ${String(minSimilarity)}.`,
        'Pass an absolute floor on the scaled similarity, or leave it out (−999, no floor).',
      );
    }
    const sentinel = this.sentinel;
    if (sentinel === null) {
      throw new InvalidConfigError(
        'The knowledge repository has no sentinel, so retrieval has no threshold.',
        'Call setSentinel(r_Θ) with the knowledge-head representation of the sentinel tokens before searching.',
      );
    }
    validateVector(rq, this.dimension, 'query vector');
    // Scaled by the same factor as the entries' scores, after the same innerProduct, so an entry equal
    // to the sentinel has bit-identical similarity and is rejected by the strict comparison.
    const sentinelSimilarity = innerProduct(sentinel, 0, rq, this.dimension) * this.scale;
    if (this.payloads.size === 0) return { hits: [], sentinelSimilarity, candidates: [] };
    // RECIPE's rule is s_j > s_0 (+ margin); with the sentinel off only minSimilarity gates. s_0 + 0 is s_0 exactly.
    const gate = useSentinel ? sentinelSimilarity + sentinelMargin : Number.NEGATIVE_INFINITY;
    const raw = await this.index.search(rq, topK * this.refine);
    // Rescore from the exact keys, so every backend (float32 faiss, quantised codes, 1 − distance from a
    // database) yields the same similarities and the same strict sentinel comparison as the exact scan.
    // An id without a payload was removed while the search ran (or is not applied yet): not visible.
    const candidates: Array<{ id: string; similarity: number }> = [];
    for (const hit of raw) {
      if (!this.payloads.has(hit.id)) continue;
      const score = this.index === this.keys ? hit.score : this.keys.scoreOf(hit.id, rq);
      if (score !== null) candidates.push({ id: hit.id, similarity: score * this.scale });
    }
    if (this.index !== this.keys) {
      candidates.sort((a, b) => b.similarity - a.similarity || (a.id < b.id ? -1 : a.id > b.id ? 1 : 0));
      candidates.length = Math.min(candidates.length, topK);
    }
    const hits: RetrievedKnowledge[] = [];
    for (const candidate of candidates) {
      if (!(candidate.similarity > gate && candidate.similarity > minSimilarity)) continue;
      hits.push({ id: candidate.id, similarity: candidate.similarity, payload: this.payloads.get(candidate.id)! });
    }
    return { hits, sentinelSimilarity, candidates };
  }

  /**
   * The adopted prompt (spec §1.6 step 5): the hits' prompts concatenated along the token axis, best
   * first, shape [hits × l, d_llm]; [0, d_llm] when nothing was retrieved.
   */
  adoptedPrompt(result: KnowledgeSearchResult): { prompt: Float32Array; shape: [number, number] } {
    const [l, dLlm] = this.promptShape;
    const prompt = new Float32Array(result.hits.length * l * dLlm);
    result.hits.forEach((hit, i) => prompt.set(hit.payload.prompt, i * l * dLlm));
    return { prompt, shape: [result.hits.length * l, dLlm] };
  }

  /**
   * Saves a snapshot to `directory` (created if needed), atomically: a crash at any point leaves the
   * previous snapshot intact. One save per directory at a time. A durable repository compacts into its
   * own directory instead (`compact`).
   */
  async save(directory: string): Promise<void> {
    if (this.durable !== null && path.resolve(directory) === path.resolve(this.durable.directory)) {
      throw new InvalidInputError(
        `${directory} is this durable repository's own directory; a plain save there would detach its journal.`,
        'Call compact() to fold the journal into a new snapshot, or save to another directory.',
      );
    }
    await writeKnowledgeSnapshot(directory, { ...this.snapshotState(), journal: null, index: this.index });
  }

  /**
   * Durable repositories: writes a snapshot of the current state with a fresh, empty journal and
   * switches to it; edits wait meanwhile. The old snapshot and journal stay valid until the new
   * manifest is in place.
   */
  async compact(): Promise<void> {
    this.assertOpen();
    const durable = this.durable;
    if (durable === null) {
      throw new InvalidInputError('compact() needs a durable repository.', 'Open one with KnowledgeRepository.open(directory, …); use save(directory) for an in-memory one.');
    }
    await this.exclusively(async () => {
      await durable.journal.idle();
      const journalName = `journal-${newGeneration()}.log`;
      const journalPath = path.join(durable.directory, journalName);
      const handle = await openFile(journalPath, 'wx');
      await handle.sync();
      await handle.close();
      await syncDirectory(durable.directory);
      await writeKnowledgeSnapshot(durable.directory, { ...this.snapshotState(), journal: journalName, index: this.index });
      const previous = durable.journal;
      durable.journal = await KnowledgeJournal.open(journalPath, 0);
      await previous.close();
    });
  }

  /** Durable repositories: waits for pending writes and closes the journal; every repository: disposes the index. */
  async close(): Promise<void> {
    if (this.closed) return;
    await this.exclusively(async () => {
      await this.durable?.journal.close();
      this.closed = true;
    });
    await this.index.dispose();
    if (this.keys !== this.index) await this.keys.dispose();
  }

  /** Loads a snapshot written by `save` (or a durable repository, journal replayed read-only), checking the fingerprint and every file. */
  static async load(directory: string, options: LoadKnowledgeRepositoryOptions): Promise<KnowledgeRepository> {
    const { repository } = await KnowledgeRepository.restore(directory, options);
    return repository;
  }

  /**
   * Opens (creating if absent) a durable repository in `directory`. A repository written by another
   * encoder/LLM (fingerprint), or with another d_r or prompt shape, is refused; a torn journal tail is
   * dropped; a corrupted snapshot or journal record followed by more data is an error.
   */
  static async open(directory: string, options: OpenKnowledgeRepositoryOptions): Promise<KnowledgeRepository> {
    const compactJournalBytes = options.compactJournalBytes ?? 256 * 2 ** 20;
    if (!Number.isFinite(compactJournalBytes) || compactJournalBytes <= 0) {
      throw new InvalidInputError(`compactJournalBytes must be a positive number, got ${String(compactJournalBytes)}.`, 'Leave it out (256 MiB) or pass a byte count.');
    }
    await mkdir(directory, { recursive: true });
    let repository: KnowledgeRepository;
    let journalName: string | null;
    let journal: JournalReadResult | null;
    if (await hasKnowledgeSnapshot(directory)) {
      ({ repository, journalName, journal } = await KnowledgeRepository.restore(directory, options));
      const [l, dLlm] = options.promptShape;
      if (repository.dimension !== options.dimension || repository.promptShape[0] !== l || repository.promptShape[1] !== dLlm) {
        throw new InvalidCheckpointError(
          `The knowledge repository at ${directory} holds keys of width ${repository.dimension} and prompts of shape [${repository.promptShape.join(', ')}], but this retriever makes ${options.dimension} and [${l}, ${dLlm}].`,
          'Open it with the retriever that wrote it, or use a new directory for this one.',
        );
      }
    } else {
      const index = await options.createIndex?.(options.dimension);
      repository = new KnowledgeRepository({ ...options, ...(index === undefined ? {} : { index }) });
      journalName = null;
      journal = null;
    }
    repository.durable = { directory, journal: undefined as unknown as KnowledgeJournal, compactJournalBytes };
    if (journalName === null) {
      // A new directory or a plain snapshot: start a journal with a snapshot that names it.
      const name = `journal-${newGeneration()}.log`;
      const handle = await openFile(path.join(directory, name), 'wx');
      await handle.sync();
      await handle.close();
      await writeKnowledgeSnapshot(directory, { ...repository.snapshotState(), journal: name });
      repository.durable.journal = await KnowledgeJournal.open(path.join(directory, name), 0);
    } else {
      repository.durable.journal = await KnowledgeJournal.open(path.join(directory, journalName), journal!.validBytes);
    }
    return repository;
  }

  /** Snapshot + journal replay into a new in-memory repository; the index is filled last, in batches. */
  private static async restore(
    directory: string,
    options: LoadKnowledgeRepositoryOptions,
  ): Promise<{ repository: KnowledgeRepository; journalName: string | null; journal: JournalReadResult | null }> {
    const snapshot = await readKnowledgeSnapshot(directory, options.encoderFingerprint);
    const { dimension, promptShape, encoderFingerprint, journal: journalName } = snapshot.manifest;
    const repository = new KnowledgeRepository({ dimension, promptShape, encoderFingerprint, index: new ExactIndex(dimension, { initialCapacity: Math.max(64, snapshot.entries.length) }) });
    if (snapshot.sentinel !== null) repository.sentinel = snapshot.sentinel;
    for (let start = 0; start < snapshot.entries.length; start += LOAD_BATCH_ROWS) {
      const batch = snapshot.entries.slice(start, start + LOAD_BATCH_ROWS);
      // The index re-validates (dimension, finiteness, duplicates), so a checksum-valid but
      // hand-crafted file still cannot smuggle NaN keys in.
      await repository.keys.add(batch.map((entry, i) => ({ id: entry.id, vector: snapshot.keys.subarray((start + i) * dimension, (start + i + 1) * dimension) })));
      for (const entry of batch) repository.payloads.set(entry.id, { ...entry, promptShape: repository.promptShape });
    }
    let journal: JournalReadResult | null = null;
    if (journalName !== null) {
      const journalPath = path.join(directory, journalName);
      journal = await readJournal(journalPath);
      const promptLength = promptShape[0] * promptShape[1];
      journal.records.forEach((body, i) => repository.replay(decodeJournalRecord(body, dimension, promptLength, `Record ${i + 1} of ${journalPath}`), `record ${i + 1} of ${journalPath}`));
    }
    const index = await options.createIndex?.(dimension);
    if (index !== undefined) {
      // A faiss backend made with the snapshot's options reloads its saved index and catches up with the
      // journal tail; anything else (or a missing file) is rebuilt from the keys.
      const reloaded = index.dimension === dimension ? await readNativeIndex(directory, snapshot.manifest.files.index, index, (id) => repository.keys.getSync(id)) : null;
      if (reloaded !== null) await repository.catchUpIndex(reloaded);
      else await repository.attachIndex(index);
    }
    return { repository, journalName, journal };
  }

  /** Applies one journal record while restoring (keys and payloads only; the index comes after). */
  private replay(record: JournalRecord, where: string): void {
    if (record.type === 'sentinel') {
      validateVector(record.vector, this.dimension, `sentinel in ${where}`);
      this.sentinel = record.vector;
    } else if (record.type === 'clear') {
      void this.keys.remove([...this.payloads.keys()]);
      this.payloads.clear();
    } else if (record.type === 'remove') {
      void this.keys.remove([record.id]);
      this.payloads.delete(record.id);
    } else {
      if (this.payloads.has(record.id)) {
        throw new InvalidCheckpointError(`The journal adds id "${record.id}" twice (${where}).`, 'The journal was edited or corrupted; restore the directory from a backup.');
      }
      // ExactIndex.add has no await inside, so it has taken effect when the call returns.
      void this.keys.add([{ id: record.id, vector: record.key }]);
      this.payloads.set(record.id, { id: record.id, prompt: record.prompt, promptShape: this.promptShape, request: record.request, createdAt: record.createdAt });
    }
  }

  /** Fills a new, empty index backend from the exact keys (insertion order) and makes it the search backend. */
  private async attachIndex(index: KnowledgeIndex): Promise<void> {
    if (index.dimension !== this.dimension || index.size !== 0) {
      throw new InvalidConfigError(
        `createIndex returned an index of dimension ${index.dimension} holding ${index.size} vectors; the repository needs an empty one of dimension ${this.dimension}.`,
        'Return a new, empty index of the dimension passed to createIndex.',
      );
    }
    const ids = [...this.payloads.keys()];
    for (let start = 0; start < ids.length; start += LOAD_BATCH_ROWS) {
      const batch = [];
      for (const id of ids.slice(start, start + LOAD_BATCH_ROWS)) batch.push({ id, vector: (await this.keys.get(id))! });
      await index.add(batch);
    }
    this.index = index;
  }

  /**
   * Makes a reloaded index hold exactly the repository's ids: drops ids removed after its snapshot and
   * adds those added after it (insertion order), then makes it the search backend.
   */
  private async catchUpIndex(index: FaissIndex | FaissProjectedIndex): Promise<void> {
    const stale = [...index.ids()].filter((id) => !this.payloads.has(id));
    if (stale.length > 0) await index.remove(stale);
    const missing = [...this.payloads.keys()].filter((id) => index.labelOfId(id) === undefined);
    for (let start = 0; start < missing.length; start += LOAD_BATCH_ROWS) {
      const batch = [];
      for (const id of missing.slice(start, start + LOAD_BATCH_ROWS)) batch.push({ id, vector: this.keys.getSync(id)! });
      await index.add(batch);
    }
    this.index = index;
  }

  private async applyAdd(stored: KnowledgePayload, key: Float32Array): Promise<void> {
    // Keys first, then the payload: a search sees the entry only once both exist.
    await this.keys.add([{ id: stored.id, vector: key }]);
    this.payloads.set(stored.id, stored);
    if (this.index !== this.keys) await this.index.add([{ id: stored.id, vector: key }]);
  }

  private async applyRemove(ids: readonly string[]): Promise<void> {
    // Payload first: from here on searches filter the id out, whatever the backend still returns.
    for (const id of ids) this.payloads.delete(id);
    await this.keys.remove(ids);
    if (this.index !== this.keys) await this.index.remove(ids);
  }

  private snapshotState(): { dimension: number; promptShape: readonly [number, number]; encoderFingerprint: string; entries: Array<{ id: string; createdAt: string; request: EditRequest; key: Float32Array; prompt: Float32Array }>; sentinel: Float32Array | null } {
    const entries = [...this.payloads.values()].map((payload) => {
      const key = this.keys.getSync(payload.id);
      if (key === null) {
        throw new InvalidConfigError(`The repository has no key for id "${payload.id}" while saving.`, 'Only modify the repository through its methods.');
      }
      return { id: payload.id, createdAt: payload.createdAt, request: payload.request, key, prompt: payload.prompt };
    });
    return { dimension: this.dimension, promptShape: this.promptShape, encoderFingerprint: this.encoderFingerprint, entries, sentinel: this.sentinel };
  }

  /** Runs a durable mutation unless a compaction holds the repository; compaction waits for running ones. */
  private async mutate<T>(operation: (durable: DurableState) => Promise<T>): Promise<T> {
    while (this.exclusive !== null) await this.exclusive;
    if (this.compactionError !== null) {
      const error = this.compactionError;
      this.compactionError = null;
      throw new InvalidConfigError('The last automatic compaction of the repository failed.', 'Check disk space and permissions of the repository directory, then call compact() or reopen it.', { cause: error });
    }
    this.assertOpen();
    this.activeMutations++;
    try {
      return await operation(this.durable!);
    } finally {
      this.activeMutations--;
      if (this.activeMutations === 0) {
        const waiters = this.idleWaiters;
        this.idleWaiters = [];
        for (const resolve of waiters) resolve();
      }
    }
  }

  private async exclusively(operation: () => Promise<void>): Promise<void> {
    while (this.exclusive !== null) await this.exclusive;
    const run = (async () => {
      if (this.activeMutations > 0) await new Promise<void>((resolve) => this.idleWaiters.push(resolve));
      await operation();
    })();
    this.exclusive = run.then(
      () => {},
      () => {},
    );
    try {
      await run;
    } finally {
      this.exclusive = null;
    }
  }

  private compactIfDue(): void {
    const durable = this.durable;
    if (durable === null || this.closed || this.exclusive !== null || durable.journal.bytes < durable.compactJournalBytes) return;
    this.compact().catch((error: unknown) => {
      this.compactionError = error;
    });
  }

  private assertOpen(): void {
    if (this.closed) throw new InvalidInputError('This knowledge repository was closed.', 'Open it again with KnowledgeRepository.open(directory, …).');
  }
}
