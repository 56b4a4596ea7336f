import { createHash, randomBytes } from 'node:crypto';
import { mkdir, readdir, readFile, rm, stat } from 'node:fs/promises';
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
import { float32Chunks } from './float32-chunks.js';
import { innerProduct } from './inner-product.js';
import {
  KNOWLEDGE_REPOSITORY_FORMAT,
  KNOWLEDGE_REPOSITORY_MANIFEST_FILE,
  KNOWLEDGE_REPOSITORY_VERSION,
  parseKnowledgeRepositoryManifest,
  type KnowledgeRepositoryManifest,
} from './knowledge-repository-manifest.js';
import { readFloat32File } from './read-float32-file.js';
import { validateVector } from './validate-vector.js';
import { syncDirectory, writeDurableFile } from './write-durable-file.js';

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
  createIndex?: (dimension: number) => KnowledgeIndex;
}

/** Data files of one save share a random generation tag, so a new save never overwrites the files the current manifest names. */
const DATA_FILE_PATTERN = /^(keys|prompts|sentinel|requests)-[0-9a-f]{16}\.(f32|jsonl)(\.tmp)?$/;
const MANIFEST_TEMPORARY_FILE = `${KNOWLEDGE_REPOSITORY_MANIFEST_FILE}.tmp`;
/** Rows per `index.add` call while loading: big enough to amortise the call, small enough for little extra memory. */
const LOAD_BATCH_ROWS = 4096;

/**
 * RECIPE's knowledge repository (spec §1.5–1.6): knowledge keys r_k in a swappable `KnowledgeIndex`,
 * their continuous prompts p_k and edit requests alongside, and the knowledge sentinel r_Θ that
 * gates retrieval.
 *
 * Not safe for concurrent mutation during `save`: take the snapshot from a quiescent repository.
 */
export class KnowledgeRepository {
  readonly dimension: number;
  readonly promptShape: readonly [number, number];
  readonly encoderFingerprint: string;
  private readonly index: KnowledgeIndex;
  /** Insertion order is kept (a Map iterates in insertion order); saves and `entries()` follow it. */
  private readonly payloads = new Map<string, KnowledgePayload>();
  private sentinel: Float32Array | null = null;
  private readonly scale: number;

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
    this.scale = 1 / Math.sqrt(dimension);
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
    this.sentinel = vector.slice();
  }

  /** A copy of r_Θ, or null. */
  getSentinel(): Float32Array | null {
    return this.sentinel === null ? null : this.sentinel.slice();
  }

  /**
   * Stores one edit: key r_k (copied into the index) and payload (prompt copied, so later changes to
   * the caller's buffer do not alter the repository). On any error nothing is stored.
   */
  async add(id: string, key: Float32Array, payload: KnowledgePayloadInput): Promise<KnowledgePayload> {
    if (this.payloads.has(id)) {
      throw new InvalidInputError(
        `Duplicate id "${id}": the repository already holds an entry with it.`,
        `Use a unique id per edit, or remove("${id}") first to replace the fact.`,
      );
    }
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
    // The index validates the id and key; the payload is recorded only after it accepted them.
    await this.index.add([{ id, vector: key }]);
    this.payloads.set(id, stored);
    return stored;
  }

  /** Retracts one fact; returns whether it was present. */
  async remove(id: string): Promise<boolean> {
    if (!this.payloads.has(id)) return false;
    await this.index.remove([id]);
    this.payloads.delete(id);
    return true;
  }

  /** Restores the unedited model: drops every entry, keeps the sentinel (it does not depend on edits). */
  async clear(): Promise<void> {
    await this.index.remove([...this.payloads.keys()]);
    this.payloads.clear();
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
    return this.index.get(id);
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
    const raw = await this.index.search(rq, topK);
    const candidates = raw.map((hit) => ({ id: hit.id, similarity: hit.score * this.scale }));
    const hits: RetrievedKnowledge[] = [];
    for (const candidate of candidates) {
      if (!(candidate.similarity > gate && candidate.similarity > minSimilarity)) continue;
      const payload = this.payloads.get(candidate.id);
      if (payload === undefined) {
        throw new InvalidConfigError(
          `The index returned id "${candidate.id}", which has no payload in the repository.`,
          'The index was modified outside the repository; only add and remove entries through KnowledgeRepository.',
        );
      }
      hits.push({ id: candidate.id, similarity: candidate.similarity, payload });
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
   * Saves to `directory` (created if needed). Atomic: data files get fresh names, are written to
   * temporary names, fsynced and renamed; then `manifest.json` is replaced the same way. A crash at
   * any point leaves the previous manifest and the files it names intact. Data files of older saves
   * are deleted only after the new manifest is in place. One save per directory at a time: two
   * concurrent saves to the same directory would race on the manifest and on the cleanup.
   */
  async save(directory: string): Promise<void> {
    await mkdir(directory, { recursive: true });
    // Snapshot now: the awaits below must not see a half-applied add/remove.
    const payloads = [...this.payloads.values()];
    const sentinel = this.sentinel;
    const keys: Float32Array[] = [];
    for (const payload of payloads) {
      const key = await this.index.get(payload.id);
      if (key === null) {
        throw new InvalidConfigError(
          `The index has no key for id "${payload.id}" while saving.`,
          'Do not add or remove entries while save() runs, and only modify the index through the repository.',
        );
      }
      keys.push(key);
    }
    const generation = randomBytes(8).toString('hex');
    const fileName = (kind: string, extension: string): string => `${kind}-${generation}.${extension}`;
    const write = async (name: string, chunks: Iterable<Uint8Array>) => ({
      name,
      ...(await writeDurableFile(path.join(directory, name), chunks)),
    });
    const keysFile = await write(fileName('keys', 'f32'), float32Chunks(keys));
    const promptsFile = await write(
      fileName('prompts', 'f32'),
      float32Chunks(payloads.map((payload) => payload.prompt)),
    );
    const sentinelFile = sentinel === null ? null : await write(fileName('sentinel', 'f32'), float32Chunks([sentinel]));
    const encoder = new TextEncoder();
    const requestsFile = await write(
      fileName('requests', 'jsonl'),
      (function* () {
        // Lines are joined into ~1 MiB chunks: one write per line would be one syscall per edit.
        let pending: string[] = [];
        let pendingLength = 0;
        for (const payload of payloads) {
          const line = `${JSON.stringify({ id: payload.id, createdAt: payload.createdAt, request: payload.request })}\n`;
          pending.push(line);
          pendingLength += line.length;
          if (pendingLength >= 1 << 20) {
            yield encoder.encode(pending.join(''));
            pending = [];
            pendingLength = 0;
          }
        }
        if (pending.length > 0) yield encoder.encode(pending.join(''));
      })(),
    );
    const manifest: KnowledgeRepositoryManifest = {
      format: KNOWLEDGE_REPOSITORY_FORMAT,
      version: KNOWLEDGE_REPOSITORY_VERSION,
      dimension: this.dimension,
      promptShape: [this.promptShape[0], this.promptShape[1]],
      count: payloads.length,
      encoderFingerprint: this.encoderFingerprint,
      byteOrder: 'little-endian',
      dtype: 'float32',
      createdAt: new Date().toISOString(),
      files: { keys: keysFile, prompts: promptsFile, requests: requestsFile, sentinel: sentinelFile },
    };
    // The data files must be durable before the manifest that names them can be.
    await syncDirectory(directory);
    await writeDurableFile(path.join(directory, KNOWLEDGE_REPOSITORY_MANIFEST_FILE), [
      encoder.encode(`${JSON.stringify(manifest, null, 2)}\n`),
    ]);
    await syncDirectory(directory);
    // Garbage-collect files of earlier (or interrupted) saves; only names this class writes are touched.
    const current = new Set([keysFile.name, promptsFile.name, requestsFile.name, sentinelFile?.name]);
    for (const name of await readdir(directory)) {
      if ((DATA_FILE_PATTERN.test(name) && !current.has(name)) || name === MANIFEST_TEMPORARY_FILE) {
        await rm(path.join(directory, name), { force: true });
      }
    }
  }

  /** Loads a repository written by `save`, checking the fingerprint, every file's size and SHA-256. */
  static async load(directory: string, options: LoadKnowledgeRepositoryOptions): Promise<KnowledgeRepository> {
    const manifestPath = path.join(directory, KNOWLEDGE_REPOSITORY_MANIFEST_FILE);
    let manifestText: string;
    try {
      manifestText = await readFile(manifestPath, 'utf8');
    } catch (error) {
      throw new DataNotFoundError(
        `No knowledge repository at ${directory}: cannot read ${manifestPath}.`,
        'Check the path; a repository directory is created by KnowledgeRepository.save() and holds manifest.json.',
        { cause: error },
      );
    }
    let parsed: unknown;
    try {
      parsed = JSON.parse(manifestText);
    } catch (error) {
      throw new InvalidCheckpointError(
        `${manifestPath} is not valid JSON (truncated or corrupted).`,
        'Restore the directory from a backup or re-save the repository from a live process.',
        { cause: error },
      );
    }
    const manifest = parseKnowledgeRepositoryManifest(parsed, manifestPath);
    if (manifest.encoderFingerprint !== options.encoderFingerprint) {
      throw new InvalidCheckpointError(
        `The knowledge repository at ${directory} was written by another encoder/LLM: its fingerprint is ` +
          `"${manifest.encoderFingerprint}", this retriever's is "${options.encoderFingerprint}".`,
        'Its keys and prompts are only meaningful to the retriever checkpoint and LLM that produced them: load it ' +
          'with those, or rebuild it by re-applying the edit requests (saved in its requests-*.jsonl) with this one.',
      );
    }
    const { dimension, promptShape, count } = manifest;
    const [l, dLlm] = promptShape;
    const dataPath = (name: string): string => path.join(directory, name);
    const expectBytes = (what: string, actual: number, expected: number): void => {
      if (actual !== expected) {
        throw new InvalidCheckpointError(
          `${manifestPath} disagrees with itself: the ${what} file is recorded as ${actual} bytes, but ${count} entries need ${expected}.`,
          'The manifest was edited or corrupted; restore a backup or re-save the repository.',
        );
      }
    };
    expectBytes('keys', manifest.files.keys.bytes, count * dimension * 4);
    expectBytes('prompts', manifest.files.prompts.bytes, count * l * dLlm * 4);
    if (manifest.files.sentinel !== null) expectBytes('sentinel', manifest.files.sentinel.bytes, dimension * 4);
    await assertFilesExist(directory, manifest);

    const records = await readRequests(dataPath(manifest.files.requests.name), manifest);
    const keys = new Float32Array(count * dimension);
    await readFloat32File(dataPath(manifest.files.keys.name), manifest.files.keys, [keys], 'keys');
    const prompts = records.map(() => new Float32Array(l * dLlm));
    await readFloat32File(dataPath(manifest.files.prompts.name), manifest.files.prompts, prompts, 'prompts');
    let sentinel: Float32Array | null = null;
    if (manifest.files.sentinel !== null) {
      sentinel = new Float32Array(dimension);
      await readFloat32File(dataPath(manifest.files.sentinel.name), manifest.files.sentinel, [sentinel], 'sentinel');
    }

    const index = options.createIndex?.(dimension);
    const repository = new KnowledgeRepository({
      dimension,
      promptShape,
      encoderFingerprint: manifest.encoderFingerprint,
      ...(index === undefined ? {} : { index }),
    });
    if (sentinel !== null) repository.setSentinel(sentinel);
    for (let start = 0; start < count; start += LOAD_BATCH_ROWS) {
      const end = Math.min(count, start + LOAD_BATCH_ROWS);
      const batch = [];
      for (let row = start; row < end; row++) {
        batch.push({ id: records[row]!.id, vector: keys.subarray(row * dimension, (row + 1) * dimension) });
      }
      // The index re-validates (dimension, finiteness, duplicates), so a checksum-valid but
      // hand-crafted file still cannot smuggle NaN keys in.
      await repository.index.add(batch);
      for (let row = start; row < end; row++) {
        const record = records[row]!;
        repository.payloads.set(record.id, {
          id: record.id,
          prompt: prompts[row]!,
          promptShape: repository.promptShape,
          request: record.request,
          createdAt: record.createdAt,
        });
      }
    }
    return repository;
  }
}

interface RequestRecord {
  id: string;
  createdAt: string;
  request: EditRequest;
}

async function assertFilesExist(directory: string, manifest: KnowledgeRepositoryManifest): Promise<void> {
  const { keys, prompts, requests, sentinel } = manifest.files;
  for (const reference of [keys, prompts, requests, ...(sentinel === null ? [] : [sentinel])]) {
    const filePath = path.join(directory, reference.name);
    try {
      await stat(filePath);
    } catch (error) {
      throw new InvalidCheckpointError(
        `The knowledge repository at ${directory} is incomplete: ${reference.name}, named by its manifest, is missing.`,
        'Copy the whole directory (manifest.json and every file it names), or restore it from a backup.',
        { cause: error },
      );
    }
  }
}

async function readRequests(filePath: string, manifest: KnowledgeRepositoryManifest): Promise<RequestRecord[]> {
  const reference = manifest.files.requests;
  const bytes = await readFile(filePath);
  if (bytes.length !== reference.bytes) {
    throw new InvalidCheckpointError(
      `The requests file ${filePath} is ${bytes.length} bytes, but the manifest expects ${reference.bytes}: it is ${bytes.length < reference.bytes ? 'truncated' : 'longer than written'}.`,
      'The save was interrupted or the file was damaged after it; restore the directory from a backup or re-save the repository.',
    );
  }
  const digest = createHash('sha256').update(bytes).digest('hex');
  if (digest !== reference.sha256) {
    throw new InvalidCheckpointError(
      `The requests file ${filePath} is corrupted: its SHA-256 is ${digest}, the manifest recorded ${reference.sha256}.`,
      'The file changed after it was saved; restore the directory from a backup or re-save the repository.',
    );
  }
  const lines = bytes.toString('utf8').split('\n');
  if (lines.at(-1) === '') lines.pop();
  if (lines.length !== manifest.count) {
    throw new InvalidCheckpointError(
      `The requests file ${filePath} has ${lines.length} lines, but the manifest counts ${manifest.count} entries.`,
      'The manifest disagrees with its data; restore a backup or re-save the repository.',
    );
  }
  const seen = new Set<string>();
  return lines.map((line, i) => {
    const fail = (problem: string): never => {
      throw new InvalidCheckpointError(
        `Line ${i + 1} of ${filePath}: ${problem}.`,
        'Each line must be {"id": string, "createdAt": string, "request": EditRequest}; restore a backup or re-save the repository.',
      );
    };
    let value: unknown;
    try {
      value = JSON.parse(line);
    } catch {
      return fail('not valid JSON');
    }
    if (typeof value !== 'object' || value === null) return fail('not a JSON object');
    const record = value as Record<string, unknown>;
    const id = record['id'];
    if (typeof id !== 'string' || id.length === 0) return fail('"id" must be a non-empty string');
    if (seen.has(id)) return fail(`duplicate id "${id}"`);
    seen.add(id);
    const createdAt = record['createdAt'];
    if (typeof createdAt !== 'string') return fail('"createdAt" must be a string');
    const request = record['request'];
    if (typeof request !== 'object' || request === null || typeof (request as { id?: unknown }).id !== 'string') {
      return fail('"request" must be an EditRequest object');
    }
    return { id, createdAt, request: request as EditRequest };
  });
}
