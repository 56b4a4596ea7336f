import { mkdir, readFile, rename, writeFile } from 'node:fs/promises';
import path from 'node:path';
import * as tf from '@tensorflow/tfjs';
import type { CausalLanguageModel, ContinuationScore } from '../contracts/causal-language-model.js';
import type { EditRequest } from '../contracts/edit-request.js';
import type { Editor, QueryContinuation } from '../contracts/editor.js';
import { DataNotFoundError, InvalidCheckpointError, InvalidConfigError, InvalidInputError, UnsupportedCapabilityError } from '../errors.js';
import { knowledgeText } from './knowledge-text.js';
import type { KnowledgeStoreSearchResult, RecipeKnowledgeStore, RecipeRetrieverModel } from './recipe-components.js';
import { modelFingerprint } from './model-fingerprint.js';

/**
 * The paper's ablations: `no-sentinel` ("w/o KS") gates retrieval by a fixed similarity threshold
 * instead of the sentinel; `no-continuous-prompt` ("w/o CPT") prefixes the retrieved fact's own
 * LLM word embeddings instead of its learned prompt.
 */
export type RecipeAblation = 'none' | 'no-sentinel' | 'no-continuous-prompt';
export const RECIPE_ABLATIONS: readonly RecipeAblation[] = ['none', 'no-sentinel', 'no-continuous-prompt'];

export interface RecipeEditorOptions {
  model: CausalLanguageModel;
  retriever: RecipeRetrieverModel;
  /** An empty knowledge store for keys of the retriever's width, tagged with `fingerprint`. */
  createStore: (fingerprint: string) => RecipeKnowledgeStore;
  /** Reads a store that `RecipeKnowledgeStore.save` wrote; must refuse another fingerprint. */
  loadStore: (directory: string, fingerprint: string) => Promise<RecipeKnowledgeStore>;
  /** retr_top_k (default 1). */
  topK?: number;
  /** retr_min_sim (default −999: the sentinel alone decides). */
  minSimilarity?: number;
  ablation?: RecipeAblation;
  /** The fixed scaled-similarity threshold of the `no-sentinel` ablation (required there). */
  threshold?: number;
  /**
   * Retrieve only if s_j > s_0 + sentinelMargin (default 0: RECIPE's rule). A margin calibrated on
   * training edits moves the sentinel's operating point between recall and locality.
   */
  sentinelMargin?: number;
  /** Rows per retriever call when editing or querying (default 64). */
  batchSize?: number;
}

/** Per-query retrieval outcome, for diagnostics. */
export interface RecipeRetrieval {
  queryText: string;
  retrievedIds: string[];
  similarity: number | null;
  sentinelSimilarity: number;
}

const STATE_FILE = 'recipe-editor.json';
const STORE_DIRECTORY = 'repository';
const STATE_FORMAT = 'recipe-kit/recipe-editor@1';

/**
 * RECIPE as an editor (spec §1.6, §2): `edit` encodes each fact `prompt + " " + target` into a key
 * r_k and a continuous prompt p_k and stores them — the LLM is never changed. A query retrieves the
 * best stored fact only if it beats the knowledge sentinel, and prefixes its prompt; with nothing
 * retrieved the query runs through the unedited model, so its output is bit-identical.
 */
export class RecipeEditor implements Editor {
  readonly name = 'recipe';
  readonly model: CausalLanguageModel;
  /** What the last `scoreContinuations` retrieved, per request (diagnostics). */
  lastRetrievals: RecipeRetrieval[] = [];
  private store: RecipeKnowledgeStore;
  private readonly topK: number;
  private readonly minSimilarity: number;
  private readonly ablation: RecipeAblation;
  private readonly batchSize: number;

  private constructor(
    private readonly options: RecipeEditorOptions,
    readonly fingerprint: string,
    private readonly sentinel: Float32Array,
  ) {
    this.model = options.model;
    this.ablation = options.ablation ?? 'none';
    this.topK = options.topK ?? 1;
    this.batchSize = options.batchSize ?? 64;
    if (this.ablation === 'no-sentinel') {
      if (typeof options.threshold !== 'number' || !Number.isFinite(options.threshold)) {
        throw new InvalidConfigError('The no-sentinel ablation needs a fixed similarity threshold.', 'Pass threshold (e.g. the calibrated value in the checkpoint\'s calibration.json).');
      }
      this.minSimilarity = options.threshold;
    } else {
      this.minSimilarity = options.minSimilarity ?? -999;
    }
    this.store = options.createStore(fingerprint);
    this.store.setSentinel(sentinel);
  }

  /** Checks the pairing of model and retriever, computes the sentinel r_Θ and an empty repository. */
  static async create(options: RecipeEditorOptions): Promise<RecipeEditor> {
    const { model, retriever } = options;
    if (!model.capabilities.inputEmbeddings) {
      throw new UnsupportedCapabilityError(`RECIPE prefixes continuous prompts, which the ${model.architecture} adapter cannot take.`, 'Use an adapter with the inputEmbeddings capability (LLaMA, GPT-J).');
    }
    if (retriever.config.llmWidth !== model.dimensions.hiddenSize) {
      throw new InvalidConfigError(
        `The RECIPE checkpoint writes prompts of width ${retriever.config.llmWidth}, but the model's hidden size is ${model.dimensions.hiddenSize}.`,
        'Use the RECIPE checkpoint trained for this model (models/<model>/recipe).',
      );
    }
    for (const [name, value, integer] of [['topK', options.topK, true], ['batchSize', options.batchSize, true]] as const) {
      if (value !== undefined && !(integer && Number.isInteger(value) && value >= 1)) {
        throw new InvalidConfigError(`RECIPE ${name} is ${String(value)}.`, `Use an integer ≥ 1.`);
      }
    }
    const fingerprint = `${await retriever.fingerprint()}+${modelFingerprint(model)}`;
    const sentinel = tf.tidy(() => retriever.sentinelRepresentation().dataSync() as Float32Array).slice();
    return new RecipeEditor(options, fingerprint, sentinel);
  }

  get editCount(): number {
    return this.store.size;
  }

  /** Stores each fact (no weight changes). Ids must be new; a failed request leaves earlier ones of the call stored. */
  async edit(requests: readonly EditRequest[]): Promise<void> {
    requests.forEach((request, index) => {
      if (typeof request.prompt !== 'string' || typeof request.targetNew !== 'string' || request.targetNew.trim().length === 0) {
        throw new InvalidInputError(`Edit request ${index} (id ${String(request.id)}) needs a prompt and a non-empty targetNew.`, 'Give every edit its prompt and new target text.');
      }
    });
    for (let start = 0; start < requests.length; start += this.batchSize) {
      const chunk = requests.slice(start, start + this.batchSize);
      const { keys, prompts } = tf.tidy(() => {
        const encoded = this.options.retriever.encodeKnowledge(
          chunk.map((request) => knowledgeText(request.prompt, request.targetNew)),
          chunk.map((request) => request.targetNew),
        );
        return { keys: encoded.representations.dataSync() as Float32Array, prompts: encoded.prompts.dataSync() as Float32Array };
      });
      const keyWidth = this.options.retriever.config.representationDim;
      const promptWidth = this.options.retriever.config.promptLength * this.options.retriever.config.llmWidth;
      for (let i = 0; i < chunk.length; i++) {
        const request = chunk[i] as EditRequest;
        await this.store.add(request.id, keys.subarray(i * keyWidth, (i + 1) * keyWidth), { prompt: prompts.subarray(i * promptWidth, (i + 1) * promptWidth), request });
      }
    }
  }

  /** Retracts one fact by id; returns whether it was stored. */
  async retract(id: string): Promise<boolean> {
    return this.store.remove(id);
  }

  async restore(): Promise<void> {
    await this.store.clear();
  }

  /** The retrieval outcome of each query text (no LLM call). */
  async retrieve(queryTexts: readonly string[]): Promise<KnowledgeStoreSearchResult[]> {
    const results: KnowledgeStoreSearchResult[] = [];
    // An empty repository retrieves nothing: skip the encoder (the unedited model's own speed).
    if (this.store.size === 0) return queryTexts.map(() => ({ hits: [], sentinelSimilarity: Number.NaN }));
    const width = this.options.retriever.config.representationDim;
    for (let start = 0; start < queryTexts.length; start += this.batchSize) {
      const chunk = queryTexts.slice(start, start + this.batchSize);
      const queries = tf.tidy(() => this.options.retriever.encodeQueries(chunk).dataSync() as Float32Array);
      for (let i = 0; i < chunk.length; i++) {
        results.push(
          await this.store.search(queries.subarray(i * width, (i + 1) * width), { topK: this.topK, minSimilarity: this.minSimilarity, useSentinel: this.ablation !== 'no-sentinel', sentinelMargin: this.options.sentinelMargin ?? 0 }),
        );
      }
    }
    return results;
  }

  /**
   * Scores each request with its retrieved prompt prefixed. Requests that retrieve nothing are
   * scored together by the unedited model (identical to calling it directly); the others in one
   * prefixed batch, each row with its own prompt (rows with shorter prompts are masked).
   */
  async scoreContinuations(requests: readonly QueryContinuation[]): Promise<ContinuationScore[]> {
    const retrievals = await this.retrieve(requests.map((request) => request.queryText));
    this.lastRetrievals = retrievals.map((result, i) => ({
      queryText: (requests[i] as QueryContinuation).queryText,
      retrievedIds: result.hits.map((hit) => hit.id),
      similarity: result.hits[0]?.similarity ?? null,
      sentinelSimilarity: result.sentinelSimilarity,
    }));
    const missRows: number[] = [];
    const hitRows: number[] = [];
    retrievals.forEach((result, row) => (result.hits.length === 0 ? missRows : hitRows).push(row));
    const scores = new Array<ContinuationScore>(requests.length);
    const place = (rows: readonly number[], rowScores: readonly ContinuationScore[]): void => rows.forEach((row, k) => (scores[row] = rowScores[k] as ContinuationScore));
    if (missRows.length > 0) place(missRows, this.model.scoreContinuations(missRows.map((row) => requests[row] as QueryContinuation)));
    if (hitRows.length > 0) {
      const prefixes = hitRows.map((row) => this.prefixOf(retrievals[row] as KnowledgeStoreSearchResult));
      const length = Math.max(...prefixes.map((prefix) => prefix.length));
      const width = this.model.dimensions.hiddenSize;
      const packed = new Float32Array(hitRows.length * length * width);
      prefixes.forEach((prefix, k) => packed.set(prefix.vectors, k * length * width));
      const prefix = tf.tensor3d(packed, [hitRows.length, length, width]);
      try {
        place(hitRows, this.model.scoreContinuations(hitRows.map((row) => requests[row] as QueryContinuation), { prefix, prefixLengths: prefixes.map((p) => p.length) }));
      } finally {
        prefix.dispose();
      }
    }
    return scores;
  }

  /** The adopted prompt of a retrieval: the hits' prompts in order (or, w/o CPT, their facts' word embeddings). */
  private prefixOf(result: KnowledgeStoreSearchResult): { vectors: Float32Array; length: number } {
    const width = this.model.dimensions.hiddenSize;
    if (this.ablation === 'no-continuous-prompt') {
      const ids = result.hits.flatMap((hit) => this.model.tokenizer.encode(knowledgeText(hit.payload.request.prompt, hit.payload.request.targetNew), { addBos: false }));
      const vectors = tf.tidy(() => this.model.embed(tf.tensor2d(ids, [1, ids.length], 'int32')).dataSync() as Float32Array);
      return { vectors, length: ids.length };
    }
    const l = this.options.retriever.config.promptLength;
    const vectors = new Float32Array(result.hits.length * l * width);
    result.hits.forEach((hit, k) => vectors.set(hit.payload.prompt, k * l * width));
    return { vectors, length: result.hits.length * l };
  }

  /** Writes the repository and the retrieval settings; the retriever checkpoint is referenced by fingerprint. */
  async save(directory: string): Promise<void> {
    await mkdir(directory, { recursive: true });
    await this.store.save(path.join(directory, STORE_DIRECTORY));
    const state = { format: STATE_FORMAT, editor: this.name, fingerprint: this.fingerprint, editCount: this.editCount, topK: this.topK, minSimilarity: this.minSimilarity, sentinelMargin: this.options.sentinelMargin ?? 0, ablation: this.ablation };
    const file = path.join(directory, STATE_FILE);
    await writeFile(`${file}.tmp`, `${JSON.stringify(state, null, 2)}\n`);
    await rename(`${file}.tmp`, file);
  }

  /** Replaces the repository by one `save` wrote with the same retriever and model. */
  async load(directory: string): Promise<void> {
    const file = path.join(directory, STATE_FILE);
    const text = await readFile(file, 'utf8').catch((cause: unknown) => {
      throw new DataNotFoundError(`${file} is missing.`, 'Load a directory written by RecipeEditor.save().', { cause });
    });
    const state = JSON.parse(text) as { format?: unknown; fingerprint?: unknown };
    if (state.format !== STATE_FORMAT) throw new InvalidCheckpointError(`${file} is not a ${STATE_FORMAT} file.`, 'Load a directory written by RecipeEditor.save().');
    if (state.fingerprint !== this.fingerprint) {
      throw new InvalidCheckpointError(
        `${directory} was saved with retriever+model ${String(state.fingerprint)}, but this editor runs ${this.fingerprint}.`,
        'Load it with the same RECIPE checkpoint and LLM it was written with, or re-apply the edits.',
      );
    }
    const store = await this.options.loadStore(path.join(directory, STORE_DIRECTORY), this.fingerprint);
    store.setSentinel(this.sentinel);
    this.store = store;
  }

  /** Frees the retriever (the model belongs to the caller). */
  dispose(): void {
    this.options.retriever.dispose();
  }
}
