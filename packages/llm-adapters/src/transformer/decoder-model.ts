import * as tf from '@tensorflow/tfjs';
import {
  ContextOverflowError,
  InvalidInputError,
  UnsupportedCapabilityError,
  type CausalLanguageModel,
  type ContinuationRequest,
  type ContinuationScore,
  type ForwardHooks,
  type ForwardRequest,
  type ForwardResult,
  type GenerateOptions,
  type GenerateResult,
  type ModelCapabilities,
  type ModelDimensions,
  type Tokenizer,
} from '@recipe-kit/core';
import { attentionBias } from './attention.js';
import type { CompactVocabulary } from './compact-vocabulary.js';
import { disposeCache, type KeyValueCache, type LayerKeyValues } from './kv-cache.js';
import { inverseFrequencies, rotaryTables, type RotaryLayout, type RotaryTables } from './rotary.js';
import { argmax, createRandom, sampleToken } from './sampling.js';
import { WeightStore } from './weight-store.js';

/** log p of a token a compact-vocabulary model cannot emit (its logit is -1e9). */
const ABSENT_LOG_PROBABILITY = -1e9;

/** What the shared decoder needs to know of an architecture's shape and weight names. */
export interface DecoderLayout {
  dimensions: ModelDimensions;
  /** Rotary embeddings cover the first rotaryDim dims of each head. */
  rotaryDim: number;
  rotaryLayout: RotaryLayout;
  ropeTheta: number;
  tieWordEmbeddings: boolean;
  embeddingWeightName: string;
  lmHeadWeightName: string;
  vocabulary: CompactVocabulary | null;
}

/** What one decoder layer needs besides its input. */
export interface LayerContext {
  layer: number;
  /** [batch, 1, queries, keys] additive attention bias (causal + padding). */
  bias: tf.Tensor4D;
  rotary: RotaryTables;
  /** Keys/values of earlier positions (generation with a KV cache), else undefined. */
  past: LayerKeyValues | undefined;
  hooks: ForwardHooks | undefined;
}

export interface LayerOutput {
  hidden: tf.Tensor3D;
  /** Keys/values of all positions so far (past + current), to cache. */
  present: LayerKeyValues;
}

interface StackResult {
  hidden: tf.Tensor3D;
  presents: KeyValueCache;
  hiddenStates: tf.Tensor3D[] | undefined;
}

/** Applies a hook if present; a hook may return a replacement tensor of the same shape. */
export function applyHook(
  hook: ((layer: number, x: tf.Tensor3D) => tf.Tensor3D | void) | undefined,
  layer: number,
  x: tf.Tensor3D,
): tf.Tensor3D {
  if (!hook) return x;
  const replaced = hook(layer, x);
  if (!replaced) return x;
  if (replaced.shape.join() !== x.shape.join()) {
    throw new InvalidInputError(
      `A forward hook at layer ${layer} returned shape [${replaced.shape}] for a tensor of shape [${x.shape}].`,
      'Return a tensor of the same shape (or nothing to keep the original).',
    );
  }
  return replaced;
}

/**
 * Everything LLaMA and GPT-J share: input assembly (prefix + tokens, masks, positions), the layer
 * loop with optional KV cache and hooks, generation, teacher-forced scoring and weight access.
 * An architecture supplies its layer, its final norm + head, and its rotary settings.
 */
export abstract class DecoderModel implements CausalLanguageModel {
  abstract readonly architecture: string;
  readonly capabilities: ModelCapabilities = {
    inputEmbeddings: true,
    hiddenStates: true,
    mlpHooks: true,
    editableWeights: true,
    trainable: true,
  };

  readonly dimensions: ModelDimensions;
  readonly tokenizer: Tokenizer;
  protected readonly weights: WeightStore;
  private readonly inverseFrequency: Float32Array;
  private readonly layout: DecoderLayout;
  /** [hidden, vocab] output projection; with tied embeddings a transposed copy kept in sync. */
  private outputProjectionWeight: tf.Tensor2D;

  protected constructor(layout: DecoderLayout, weights: WeightStore, tokenizer: Tokenizer) {
    this.dimensions = layout.dimensions;
    this.tokenizer = tokenizer;
    this.weights = weights;
    this.layout = layout;
    this.inverseFrequency = inverseFrequencies(layout.rotaryDim, layout.ropeTheta);
    this.outputProjectionWeight = this.deriveOutputProjection();
    weights.onReplace = (name) => {
      if (layout.tieWordEmbeddings && name === layout.embeddingWeightName) {
        this.outputProjectionWeight.dispose();
        this.outputProjectionWeight = this.deriveOutputProjection();
      }
    };
  }

  /** [hidden, vocab], for `storedHead` (read each time: setWeight may have replaced lm_head). */
  protected get outputProjection(): tf.Tensor2D {
    return this.layout.tieWordEmbeddings ? this.outputProjectionWeight : (this.weights.get(this.layout.lmHeadWeightName) as tf.Tensor2D);
  }

  private deriveOutputProjection(): tf.Tensor2D {
    if (this.layout.tieWordEmbeddings) return tf.transpose(this.weights.get(this.layout.embeddingWeightName)) as tf.Tensor2D;
    return this.weights.get(this.layout.lmHeadWeightName) as tf.Tensor2D;
  }
  protected abstract layerForward(x: tf.Tensor3D, context: LayerContext): LayerOutput;
  /** Final normalisation and output projection: [batch, seq, hidden] → [batch, seq, stored vocab]. */
  protected abstract storedHead(hidden: tf.Tensor3D): tf.Tensor3D;

  /** [batch, seq, hidden] → [batch, seq, vocab] logits over the full tokenizer vocabulary. */
  protected head(hidden: tf.Tensor3D): tf.Tensor3D {
    const stored = this.storedHead(hidden);
    return this.layout.vocabulary ? this.layout.vocabulary.expandLogits(stored) : stored;
  }

  /** The compact vocabulary of a micro model (null when every id has its own row). */
  get vocabulary(): CompactVocabulary | null {
    return this.layout.vocabulary;
  }

  embed(ids: tf.Tensor2D): tf.Tensor3D {
    const rows = this.layout.vocabulary ? this.layout.vocabulary.toStored(ids) : ids.toInt();
    return tf.gather(this.weights.get(this.layout.embeddingWeightName), rows) as tf.Tensor3D;
  }

  get outputIds(): Int32Array | null {
    return this.layout.vocabulary?.ids ?? null;
  }

  forward(request: ForwardRequest): ForwardResult {
    return this.forwardWith(request, request.compactLogits !== true);
  }

  /**
   * Turns every weight into a trainable tf.Variable (once) and returns them, named by weight.
   * Tied embeddings are refused: the output projection is a derived copy that gradients skip.
   */
  trainableVariables(): Map<string, tf.Variable> {
    if (this.layout.tieWordEmbeddings) {
      throw new UnsupportedCapabilityError(
        'Training a model with tied input/output embeddings is not supported.',
        'Use tie_word_embeddings: false for models you train (micro models are untied).',
      );
    }
    const variables = new Map<string, tf.Variable>();
    for (const name of this.weights.names()) {
      const weight = this.weights.get(name);
      if (weight instanceof tf.Variable) {
        variables.set(name, weight);
        continue;
      }
      const variable = tf.variable(weight, true);
      this.weights.set(name, variable);
      variables.set(name, variable);
    }
    return variables;
  }

  private forwardWith(request: ForwardRequest, expandVocabulary: boolean): ForwardResult {
    return tf.tidy(() => {
      const tokens = this.tokenEmbeddings(request);
      const [batch, seq] = tokens.shape;
      const tokenMask = request.attentionMask ?? tf.ones([batch, seq]);
      if (tokenMask.shape[0] !== batch || tokenMask.shape[1] !== seq) {
        throw new InvalidInputError(
          `attentionMask has shape [${tokenMask.shape}] but the tokens are [${batch}, ${seq}].`,
          'Give one mask value per token: shape [batch, seq].',
        );
      }
      const prefixLength = request.prefix?.shape[1] ?? 0;
      let inputs = tokens;
      let mask: tf.Tensor2D = tokenMask.toFloat();
      if (request.prefix && prefixLength > 0) {
        const placed = this.placePrefix(request.prefix, batch, request.prefixLengths);
        inputs = tf.concat([placed.vectors, tokens], 1);
        mask = tf.concat([placed.mask, mask], 1);
      }
      this.checkContext(prefixLength + seq, `prefix (${prefixLength}) + tokens (${seq})`);
      const positions = tf.relu(tf.sub(tf.cumsum(mask, 1), 1)).toInt() as tf.Tensor2D;
      const stack = this.runStack(inputs, mask, positions, undefined, request.hooks, request.outputHiddenStates === true);
      const dropPrefix = (x: tf.Tensor3D): tf.Tensor3D =>
        prefixLength > 0 ? x.slice([0, prefixLength, 0], [batch, seq, x.shape[2]]) : x;
      const tokenHidden = this.selectLogitPositions(dropPrefix(stack.hidden), request.logitPositions);
      const logits = expandVocabulary ? this.head(tokenHidden) : this.storedHead(tokenHidden);
      const result: ForwardResult = { logits };
      if (stack.hiddenStates) result.hiddenStates = stack.hiddenStates.map(dropPrefix);
      return result as unknown as tf.TensorContainerObject;
    }) as unknown as ForwardResult;
  }

  /** [batch, seq, hidden] → [1, P, hidden] at the requested flat positions (or unchanged when none). */
  private selectLogitPositions(hidden: tf.Tensor3D, positions: readonly number[] | undefined): tf.Tensor3D {
    if (!positions) return hidden;
    const [batch, seq, width] = hidden.shape;
    const notInteger = positions.find((index) => !Number.isInteger(index));
    if (notInteger !== undefined) {
      throw new InvalidInputError(`logitPositions holds ${notInteger}, which is not an int32 flat index.`, 'Pass integer flat indices row · seq + position.');
    }
    const outside = positions.find((index) => index < 0 || index >= batch * seq);
    if (outside !== undefined) {
      throw new InvalidInputError(
        `logitPositions holds ${outside}, outside the ${batch} × ${seq} token positions.`,
        'Use flat indices row · seq + position with 0 ≤ index < batch · seq (prefix positions are not counted).',
      );
    }
    return tf.gather(hidden.reshape([batch * seq, width]), tf.tensor1d(positions as number[], 'int32')).expandDims(0) as tf.Tensor3D;
  }

  async generate(promptIds: readonly number[], options: GenerateOptions): Promise<GenerateResult> {
    if (promptIds.length === 0) {
      throw new InvalidInputError(
        'generate() needs at least one prompt token.',
        'Start the prompt with the BOS token (or, for GPT-2 tokenizers, <|endoftext|>).',
      );
    }
    if (!Number.isInteger(options.maxTokens) || options.maxTokens < 0) {
      throw new InvalidInputError(`maxTokens must be a non-negative integer, got ${options.maxTokens}.`, 'Pass e.g. maxTokens: 64.');
    }
    this.checkTokenIds(promptIds);
    const prefix = options.prefix;
    if (prefix && (prefix.shape[0] !== 1 || prefix.shape[2] !== this.dimensions.hiddenSize)) {
      throw new InvalidInputError(
        `generate() prefix has shape [${prefix.shape}], expected [1, l, ${this.dimensions.hiddenSize}].`,
        'Generation runs one sequence: give a prefix of batch 1 and the model hidden size.',
      );
    }
    const prefixLength = prefix?.shape[1] ?? 0;
    this.checkContext(prefixLength + promptIds.length, `prefix (${prefixLength}) + prompt (${promptIds.length} tokens)`);
    const stopIds = new Set(options.stopIds ?? [this.tokenizer.bosId, this.tokenizer.eosId].filter((id): id is number => id !== null));
    const random = createRandom(options.seed ?? 0);
    const temperature = options.temperature ?? 1;
    const greedy = options.greedy === true || temperature === 0;

    const generatedIds: number[] = [];
    let stopReason: GenerateResult['stopReason'] = 'maxTokens';
    let cache: KeyValueCache = [];
    let pending: tf.Tensor | undefined;
    const keepCache = (presents: KeyValueCache): void => {
      for (const entry of presents) {
        tf.keep(entry.key);
        tf.keep(entry.value);
      }
      cache = presents;
    };
    try {
      // Prefill: prefix + prompt in one pass; the cache then holds every position.
      pending = tf.tidy(() => {
        let inputs = this.embed(tf.tensor2d([promptIds as number[]], [1, promptIds.length], 'int32'));
        if (prefix && prefixLength > 0) inputs = tf.concat([prefix, inputs], 1);
        const length = inputs.shape[1];
        const positions = tf.range(0, length, 1, 'int32').reshape([1, length]) as tf.Tensor2D;
        const stack = this.runStack(inputs, tf.ones([1, length]), positions, undefined, undefined, false);
        keepCache(stack.presents);
        return this.head(stack.hidden.slice([0, length - 1, 0], [1, 1, this.dimensions.hiddenSize]));
      });
      let seen = prefixLength + promptIds.length;
      // GPT-J's 50,400 rows pad the GPT-2 tokenizer's 50,257 ids: no text holds the extra ones, and a
      // random or lightly trained model may still rank them high. Decode only over the tokenizer's ids.
      const decodable = Math.min(this.dimensions.vocabSize, this.tokenizer.vocabSize);
      for (let index = 0; index < options.maxTokens; index++) {
        const logits = (await pending.data()).subarray(0, decodable);
        pending.dispose();
        pending = undefined;
        const next = greedy ? argmax(logits) : sampleToken(logits, temperature, options.topP ?? 1, random);
        if (stopIds.has(next)) {
          stopReason = 'stopId';
          break;
        }
        generatedIds.push(next);
        options.onToken?.(next, index);
        if (index === options.maxTokens - 1) break;
        if (seen >= this.dimensions.contextLength) {
          stopReason = 'contextFull';
          break;
        }
        const past = cache;
        const position = seen;
        pending = tf.tidy(() => {
          const inputs = this.embed(tf.tensor2d([[next]], [1, 1], 'int32'));
          const stack = this.runStack(inputs, tf.ones([1, position + 1]), tf.tensor2d([[position]], [1, 1], 'int32'), past, undefined, false);
          keepCache(stack.presents);
          return this.head(stack.hidden);
        });
        disposeCache(past);
        seen += 1;
      }
    } finally {
      pending?.dispose();
      disposeCache(cache);
    }
    return {
      promptIds: [...promptIds],
      generatedIds,
      text: this.continuationText(promptIds, generatedIds),
      stopReason,
    };
  }

  scoreContinuations(
    requests: readonly ContinuationRequest[],
    options: { prefix?: tf.Tensor3D; prefixLengths?: readonly number[]; hooks?: ForwardHooks } = {},
  ): ContinuationScore[] {
    if (requests.length === 0) return [];
    requests.forEach((request, row) => {
      if (request.context.length === 0) {
        throw new InvalidInputError(
          `Continuation request ${row} has an empty context, so its first token has nothing to be predicted from.`,
          'Start the context with the BOS token (or <|endoftext|> for GPT-2 tokenizers).',
        );
      }
      this.checkTokenIds(request.context);
      this.checkTokenIds(request.continuation);
      if (request.candidateIds) this.checkTokenIds(request.candidateIds);
    });
    const lengths = requests.map((r) => r.context.length + r.continuation.length);
    const width = Math.max(...lengths);
    const ids = new Int32Array(requests.length * width);
    const mask = new Float32Array(requests.length * width);
    requests.forEach((request, row) => {
      [...request.context, ...request.continuation].forEach((id, column) => {
        ids[row * width + column] = id;
        mask[row * width + column] = 1;
      });
    });
    const scores: ContinuationScore[] = [];
    tf.tidy(() => {
      const forwardRequest: ForwardRequest = {
        ids: tf.tensor2d(ids, [requests.length, width], 'int32'),
        attentionMask: tf.tensor2d(mask, [requests.length, width]),
      };
      if (options.prefix) forwardRequest.prefix = options.prefix;
      if (options.prefixLengths) forwardRequest.prefixLengths = options.prefixLengths;
      if (options.hooks) forwardRequest.hooks = options.hooks;
      // Positions context-1 … context+count-2 predict the continuation; context-1 also the candidates.
      // Only these get logits (row r's block starts at offsets[r]), the output projection being
      // ~40% of a micro model's forward pass.
      const offsets: number[] = [];
      const flatPositions: number[] = [];
      requests.forEach((request, row) => {
        offsets.push(flatPositions.length);
        const first = row * width + request.context.length - 1;
        for (let t = 0; t < Math.max(request.continuation.length, 1); t++) flatPositions.push(first + t);
      });
      forwardRequest.logitPositions = flatPositions;
      // Scored over the stored vocabulary: for a compact-vocabulary model the absent ids have
      // probability exactly 0, so log-probabilities and argmaxes equal the full-vocabulary ones
      // without building [batch, seq, 32000] logits.
      const logits = this.forwardWith(forwardRequest, false).logits.squeeze([0]) as tf.Tensor2D; // [P, stored]
      const vocabulary = this.layout.vocabulary;
      const stored = logits.shape[1];
      const storedIndex = (id: number): number | null => (vocabulary ? vocabulary.storedIndex(id) : id);
      const fullId = (index: number): number => (vocabulary ? (vocabulary.ids[index] as number) : index);
      requests.forEach((request, row) => {
        const count = request.continuation.length;
        const positions = Math.max(count, 1);
        const rows = logits.slice([offsets[row] as number, 0], [positions, stored]);
        const logProbabilities = tf.logSoftmax(rows);
        const flat = logProbabilities.dataSync();
        const logProbabilityOf = (position: number, id: number): number => {
          const index = storedIndex(id);
          return index === null ? ABSENT_LOG_PROBABILITY : (flat[position * stored + index] as number);
        };
        const score: ContinuationScore = { logProbs: [], argmaxIds: [] };
        if (count > 0) {
          score.logProbs = request.continuation.map((id, t) => logProbabilityOf(t, id));
          score.argmaxIds = Array.from(tf.argMax(rows, 1).dataSync(), fullId);
        }
        if (request.candidateIds) score.candidateLogProbs = request.candidateIds.map((id) => logProbabilityOf(0, id));
        scores.push(score);
      });
    });
    return scores;
  }

  /**
   * The text the generated ids add to the prompt. Decoding them alone would differ from decoding the
   * whole sequence (SentencePiece and llama2.c drop the leading space only right after BOS).
   */
  private continuationText(promptIds: readonly number[], generatedIds: readonly number[]): string {
    const prompt = this.tokenizer.decode(promptIds);
    const whole = this.tokenizer.decode([...promptIds, ...generatedIds]);
    return whole.startsWith(prompt) ? whole.slice(prompt.length) : this.tokenizer.decode(generatedIds);
  }

  weightNames(): string[] {
    return this.weights.names();
  }

  getWeight(name: string): tf.Tensor {
    return this.weights.get(name);
  }

  setWeight(name: string, value: tf.Tensor, options: { keepPrevious?: boolean } = {}): void {
    this.weights.set(name, value, options);
  }

  dispose(): void {
    if (this.layout.tieWordEmbeddings) this.outputProjectionWeight.dispose();
    this.weights.dispose();
  }

  /** Runs every layer. `keyMask` covers past + current positions; `positions` the current ones. */
  private runStack(
    inputs: tf.Tensor3D,
    keyMask: tf.Tensor2D,
    positions: tf.Tensor2D,
    past: KeyValueCache | undefined,
    hooks: ForwardHooks | undefined,
    outputHiddenStates: boolean,
  ): StackResult {
    const pastLength = past?.[0]?.key.shape[2] ?? 0;
    const bias = attentionBias(keyMask, inputs.shape[1], pastLength);
    const rotary = rotaryTables(positions, this.inverseFrequency, this.layout.rotaryLayout);
    const hiddenStates = outputHiddenStates ? [inputs] : undefined;
    const presents: KeyValueCache = [];
    let hidden = inputs;
    for (let layer = 0; layer < this.dimensions.numLayers; layer++) {
      const output = this.layerForward(hidden, { layer, bias, rotary, past: past?.[layer], hooks });
      hidden = applyHook(hooks?.residual, layer, output.hidden);
      presents.push(output.present);
      hiddenStates?.push(hidden);
    }
    return { hidden, presents, hiddenStates };
  }

  private tokenEmbeddings(request: ForwardRequest): tf.Tensor3D {
    if ((request.ids === undefined) === (request.inputEmbeddings === undefined)) {
      throw new InvalidInputError('forward() needs exactly one of `ids` or `inputEmbeddings`.', 'Pass token ids, or embeddings from embed().');
    }
    if (request.ids) {
      if (request.ids.rank !== 2) {
        throw new InvalidInputError(`ids must be [batch, seq], got shape [${request.ids.shape}].`, 'Reshape the ids to two dimensions.');
      }
      return this.embed(request.ids);
    }
    const embeddings = request.inputEmbeddings as tf.Tensor3D;
    if (embeddings.rank !== 3 || embeddings.shape[2] !== this.dimensions.hiddenSize) {
      throw new InvalidInputError(
        `inputEmbeddings must be [batch, seq, ${this.dimensions.hiddenSize}], got [${embeddings.shape}].`,
        'Use embed(ids) or vectors of the model hidden size.',
      );
    }
    return embeddings;
  }

  /**
   * Places each row's real prefix vectors (its first `prefixLengths[b]`) right before its tokens,
   * padding on the left, so that every row's tokens start at the same index.
   * → vectors [batch, l, hidden], mask [batch, l]
   */
  private placePrefix(
    prefix: tf.Tensor3D,
    batch: number,
    prefixLengths: readonly number[] | undefined,
  ): { vectors: tf.Tensor3D; mask: tf.Tensor2D } {
    const [prefixBatch, length, hidden] = prefix.shape;
    if (prefixBatch !== batch || hidden !== this.dimensions.hiddenSize) {
      throw new InvalidInputError(
        `prefix has shape [${prefix.shape}], expected [${batch}, l, ${this.dimensions.hiddenSize}].`,
        'Give one prefix row per batch row, with vectors of the model hidden size.',
      );
    }
    if (!prefixLengths || prefixLengths.every((n) => n === length)) {
      if (prefixLengths && prefixLengths.length !== batch) this.badPrefixLengths(prefixLengths, batch, length);
      return { vectors: prefix, mask: tf.ones([batch, length]) };
    }
    if (prefixLengths.length !== batch || prefixLengths.some((n) => !Number.isInteger(n) || n < 0 || n > length)) {
      this.badPrefixLengths(prefixLengths, batch, length);
    }
    const rows = prefixLengths.map((count, row) => {
      const real = prefix.slice([row, 0, 0], [1, count, hidden]);
      return count === length ? real : tf.concat([tf.zeros([1, length - count, hidden]), real], 1);
    });
    const maskValues = prefixLengths.flatMap((count) => Array.from({ length }, (_, i) => (i >= length - count ? 1 : 0)));
    return { vectors: tf.concat(rows, 0) as tf.Tensor3D, mask: tf.tensor2d(maskValues, [batch, length]) };
  }

  private badPrefixLengths(prefixLengths: readonly number[], batch: number, length: number): never {
    throw new InvalidInputError(
      `prefixLengths [${prefixLengths}] must have ${batch} integers in [0, ${length}].`,
      'Give, per batch row, how many of its prefix vectors are real.',
    );
  }

  private checkContext(length: number, what: string): void {
    if (length > this.dimensions.contextLength) {
      throw new ContextOverflowError(
        `The input is ${length} positions long (${what}), longer than the model's context window of ${this.dimensions.contextLength}.`,
        'Shorten the prompt or the prefix, or use a model with a longer context (max_position_embeddings / n_positions).',
      );
    }
  }

  private checkTokenIds(ids: readonly number[]): void {
    for (const id of ids) {
      if (!Number.isInteger(id) || id < 0 || id >= this.dimensions.vocabSize) {
        throw new InvalidInputError(
          `Token id ${id} is outside the vocabulary [0, ${this.dimensions.vocabSize}).`,
          'Encode text with this model\'s tokenizer (model.tokenizer.encode).',
        );
      }
    }
  }
}
