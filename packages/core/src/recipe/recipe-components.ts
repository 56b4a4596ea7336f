import type * as tf from '@tensorflow/tfjs';
import type { EditRequest } from '../contracts/edit-request.js';

/**
 * RECIPE's trainable part as the editor and its trainer see it: the text encoder f_rm with its
 * pooling, the knowledge head MLP_K, the query head MLP_Q, the prompt head MLP_P and the knowledge
 * sentinel Θ. `@recipe-kit/prompt-encoder`'s RecipeEncoder implements it. Every tensor method is
 * synchronous and differentiable (callable inside `tf.variableGrads`); returned tensors belong to
 * the caller.
 */
export interface RecipeRetrieverModel {
  readonly config: {
    /** d_r, width of knowledge and query representations. */
    readonly representationDim: number;
    /** l, continuous prompt vectors per fact. */
    readonly promptLength: number;
    /** d_llm, the hidden size of the LLM the prompts are written for. */
    readonly llmWidth: number;
  };
  /**
   * r_k [n, d_r] and p_k [n, l, d_llm] for knowledge texts. `targets` are the facts' new targets, one
   * per text: a prompt head may read them (callers always pass them when they have them).
   */
  encodeKnowledge(texts: readonly string[], targets?: readonly string[]): { representations: tf.Tensor2D; prompts: tf.Tensor3D };
  /** r_q [n, d_r] for query texts. */
  encodeQueries(texts: readonly string[]): tf.Tensor2D;
  /** r_Θ [1, d_r], the sentinel in knowledge space. */
  sentinelRepresentation(): tf.Tensor2D;
  /** Every trainable variable by name (the LLM's weights are never among them). */
  trainableVariables(): Map<string, tf.Variable>;
  /** Identifies these weights; stored repositories are valid only for the same fingerprint. */
  fingerprint(): Promise<string>;
  save(directory: string): Promise<void>;
  dispose(): void;
}

/** One stored fact as retrieval returns it. */
export interface StoredKnowledge {
  id: string;
  /** p_k, row-major [l × d_llm]. */
  prompt: Float32Array;
  request: EditRequest;
}

export interface KnowledgeStoreSearchOptions {
  /** retr_top_k (RECIPE: 1). */
  topK?: number;
  /** retr_min_sim, an absolute floor on the scaled similarity (RECIPE: −999). */
  minSimilarity?: number;
  /** Gate on the sentinel (s_j > s_0); false only for the "w/o KS" ablation (default true). */
  useSentinel?: boolean;
  /** Keep entry j only if s_j > s_0 + margin (default 0, RECIPE's rule); negative admits more. */
  sentinelMargin?: number;
}

export interface KnowledgeStoreSearchResult {
  /** Entries that passed the gates, best first. */
  hits: Array<{ id: string; similarity: number; payload: StoredKnowledge }>;
  /** s_0 = r_q · r_Θ / sqrt(d_r). */
  sentinelSimilarity: number;
}

/**
 * The knowledge repository as the editor sees it: keys r_k with payloads, the sentinel r_Θ, and the
 * sentinel-gated search of spec §1.6. `@recipe-kit/retriever`'s KnowledgeRepository implements it.
 */
export interface RecipeKnowledgeStore {
  readonly size: number;
  setSentinel(vector: Float32Array): void;
  add(id: string, key: Float32Array, payload: { prompt: Float32Array; request: EditRequest }): Promise<unknown>;
  remove(id: string): Promise<boolean>;
  clear(): Promise<void>;
  search(query: Float32Array, options?: KnowledgeStoreSearchOptions): Promise<KnowledgeStoreSearchResult>;
  save(directory: string): Promise<void>;
}
