import type * as tf from '@tensorflow/tfjs';
import type { Tokenizer } from './tokenizer.js';

/** What an adapter can do, so an editor can refuse an unsuitable model with a clear error. */
export interface ModelCapabilities {
  /** `forward` accepts `inputEmbeddings` and a continuous `prefix`. */
  inputEmbeddings: boolean;
  /** `forward` can return the residual stream of every layer. */
  hiddenStates: boolean;
  /** `forward` calls per-layer MLP hooks (keys = input of the output projection, values = its output). */
  mlpHooks: boolean;
  /** Weights can be read and replaced by name (locate-then-edit methods). */
  editableWeights: boolean;
  /** Gradients flow through the model (with respect to inputs, prefix, or weights). */
  trainable: boolean;
}

export interface ModelDimensions {
  vocabSize: number;
  hiddenSize: number;
  numLayers: number;
  /** Width of the MLP's hidden layer (input of its output projection). */
  intermediateSize: number;
  /** Maximum positions (prefix + tokens). */
  contextLength: number;
}

/**
 * Per-layer hooks. Each receives a tensor and may return a replacement of the same shape (editors
 * use this to read keys/values or add a delta); returning nothing keeps the tensor. Shapes cover the
 * whole sequence the layer sees, prefix positions included.
 */
export interface ForwardHooks {
  /** The normalised hidden state the MLP reads (T-Patcher keys new neurons on it): [batch, seq, hidden]. */
  mlpInput?: (layer: number, input: tf.Tensor3D) => tf.Tensor3D | void;
  /** Input of the MLP's output projection (`down_proj` / `fc_out`): [batch, seq, intermediate]. */
  mlpKeys?: (layer: number, keys: tf.Tensor3D) => tf.Tensor3D | void;
  /** Output of the MLP's output projection, before the residual add: [batch, seq, hidden]. */
  mlpOutput?: (layer: number, output: tf.Tensor3D) => tf.Tensor3D | void;
  /** The residual stream after the layer: [batch, seq, hidden]. */
  residual?: (layer: number, hidden: tf.Tensor3D) => tf.Tensor3D | void;
}

export interface ForwardRequest {
  /** [batch, seq] int32 token ids, right-padded when rows differ in length. Give this or `inputEmbeddings`. */
  ids?: tf.Tensor2D;
  /** [batch, seq, hidden] token embeddings (e.g. from `embed`), instead of `ids`. */
  inputEmbeddings?: tf.Tensor3D;
  /** [batch, seq] 1 for a token, 0 for right padding. Default: all tokens real. */
  attentionMask?: tf.Tensor2D;
  /**
   * [batch, l, hidden] continuous vectors placed before the tokens (RECIPE's prompt injection).
   * Their logits are dropped: the result has one row per token position only.
   */
  prefix?: tf.Tensor3D;
  /** Per row, how many of the `l` prefix vectors are real (the first ones); default all `l`. */
  prefixLengths?: readonly number[];
  /** Return the residual stream: the embeddings, then each layer's output (token positions only). */
  outputHiddenStates?: boolean;
  hooks?: ForwardHooks;
  /**
   * Return logits only over `outputIds` (in that order) when the model has a restricted output
   * vocabulary. Every other id has probability exactly 0, so softmax-based losses are unchanged;
   * training code uses it to skip expanding logits to the tokenizer's full vocabulary.
   */
  compactLogits?: boolean;
  /**
   * Flat indices into the `batch · seq` token positions (row-major: row · seq + position). When
   * given, logits are computed at these positions only and returned as [1, P, vocab], in this order:
   * losses that read a few positions skip the output projection everywhere else (it dominates small
   * models). Plain numbers: callers know them, and the model checks them without a device readback.
   */
  logitPositions?: readonly number[];
}

export interface ForwardResult {
  /**
   * [batch, seq, vocab] next-token logits at each token position (prefix positions dropped);
   * [1, P, vocab] when `logitPositions` was given.
   */
  logits: tf.Tensor3D;
  /** numLayers + 1 tensors of [batch, seq, hidden] when `outputHiddenStates` was set. */
  hiddenStates?: tf.Tensor3D[];
}

export interface GenerateOptions {
  maxTokens: number;
  /** Greedy (argmax) decoding; otherwise sample with `temperature` / `topP` and `seed`. */
  greedy?: boolean;
  temperature?: number;
  topP?: number;
  seed?: number;
  /** Stop when one of these ids is produced (it is not included). Default: the tokenizer's BOS and EOS. */
  stopIds?: readonly number[];
  /** [1, l, hidden] continuous prefix before the prompt. */
  prefix?: tf.Tensor3D;
  /** Called after each generated token (progress). */
  onToken?: (id: number, index: number) => void;
}

export interface GenerateResult {
  promptIds: number[];
  generatedIds: number[];
  text: string;
  /** Why generation ended. */
  stopReason: 'maxTokens' | 'stopId' | 'contextFull';
}

export interface ContinuationRequest {
  /** Ids the model reads first (include BOS where the model expects it). */
  context: readonly number[];
  /** Ids whose log-probabilities are scored, teacher-forced (may be empty when only candidates are asked). */
  continuation: readonly number[];
  /**
   * Next-token candidates scored at the position right after the context (multiple-choice option
   * tokens): their log-probabilities come back in `candidateLogProbs`, in this order.
   */
  candidateIds?: readonly number[];
}

export interface ContinuationScore {
  /** log p(continuation[i] | context, continuation[:i]) for each i. */
  logProbs: number[];
  /** The model's argmax at each of those positions (top-1 accuracy = share equal to the continuation). */
  argmaxIds: number[];
  /** log p(candidateIds[i] | context), when candidates were asked. */
  candidateLogProbs?: number[];
}

/** A decoder-only language model. Adapters implement it; editors and metrics use only this. */
export interface CausalLanguageModel {
  readonly architecture: string;
  readonly dimensions: ModelDimensions;
  readonly capabilities: ModelCapabilities;
  readonly tokenizer: Tokenizer;
  /**
   * The ids the model can output, when its output layer covers only part of the tokenizer's
   * vocabulary (micro models); null when it covers all of it. `forward({ compactLogits: true })`
   * returns logits over these ids, in this order.
   */
  readonly outputIds: Int32Array | null;

  /** [batch, seq] ids → [batch, seq, hidden] input embeddings. */
  embed(ids: tf.Tensor2D): tf.Tensor3D;
  /** One pass over a batch; differentiable with respect to `inputEmbeddings` and `prefix`. */
  forward(request: ForwardRequest): ForwardResult;
  /** Autoregressive generation with a KV cache (batch of one). */
  generate(promptIds: readonly number[], options: GenerateOptions): Promise<GenerateResult>;
  /**
   * Teacher-forced scoring of continuations, batched internally; optional shared-per-row prefix, and
   * hooks (editors that act inside the forward pass, GRACE and T-Patcher, score through them).
   */
  scoreContinuations(
    requests: readonly ContinuationRequest[],
    options?: { prefix?: tf.Tensor3D; prefixLengths?: readonly number[]; hooks?: ForwardHooks },
  ): ContinuationScore[];

  /** Names of the weights, in the Hugging Face naming of this architecture. */
  weightNames(): string[];
  /**
   * The current value of a weight (not a copy: do not dispose it). Linear weights are in matmul
   * layout [in, out] (y = x · W), transposed from PyTorch's [out, in]; checkpoints keep PyTorch's.
   */
  getWeight(name: string): tf.Tensor;
  /** Replaces a weight (same shape); the previous tensor is disposed unless `keepPrevious`. */
  setWeight(name: string, value: tf.Tensor, options?: { keepPrevious?: boolean }): void;
  /** Frees every tensor the model holds. */
  dispose(): void;
}
