import { InvalidConfigError } from '@recipe-kit/core';
import { ConfigReader } from '../config-reader.js';
import { COMPACT_VOCABULARY_FIELD, CompactVocabulary } from '../transformer/compact-vocabulary.js';

/** GPT-J hyperparameters, named as in Hugging Face's GPTJConfig. */
export interface GptjConfig {
  hiddenSize: number;
  /** MLP width; n_inner, or 4 × hidden when null. */
  intermediateSize: number;
  numLayers: number;
  numHeads: number;
  headDim: number;
  /** Rotary embeddings cover the first rotaryDim dims of each head (interleaved pairs). */
  rotaryDim: number;
  vocabSize: number;
  maxPositions: number;
  layerNormEpsilon: number;
  tieWordEmbeddings: boolean;
  /** Ids whose embedding/output rows are stored (micro models); null = all vocabSize rows. */
  vocabulary: CompactVocabulary | null;
}

export function parseGptjConfig(json: Record<string, unknown>, source: string): GptjConfig {
  const read = new ConfigReader(json, source);
  read.oneOf('activation_function', ['gelu_new'], 'gelu_new');
  const hiddenSize = read.positiveInteger('n_embd');
  const numHeads = read.positiveInteger('n_head');
  read.divisible('n_embd', hiddenSize, 'n_head', numHeads);
  const headDim = hiddenSize / numHeads;
  // Hugging Face's GPTJConfig defaults rotary_dim to 64 (GPT-J-6B's value).
  const rotaryDim = read.positiveInteger('rotary_dim', 64);
  read.divisible('rotary_dim', rotaryDim, 'two (rotary pairs)', 2);
  if (rotaryDim > headDim) {
    throw new InvalidConfigError(
      `${source}: "rotary_dim" (${rotaryDim}) is larger than the head dimension n_embd / n_head (${headDim}).`,
      'Set rotary_dim to at most the head dimension in config.json.',
    );
  }
  const vocabSize = read.positiveInteger('vocab_size');
  return {
    hiddenSize,
    intermediateSize: read.positiveInteger('n_inner', 4 * hiddenSize),
    numLayers: read.positiveInteger('n_layer'),
    numHeads,
    headDim,
    rotaryDim,
    vocabSize,
    maxPositions: read.positiveInteger('n_positions'),
    layerNormEpsilon: read.positiveNumber('layer_norm_epsilon', 1e-5),
    tieWordEmbeddings: read.boolean('tie_word_embeddings', false),
    vocabulary: CompactVocabulary.fromConfig(json, source, vocabSize),
  };
}

export function gptjConfigToJson(config: GptjConfig): Record<string, unknown> {
  return {
    architectures: ['GPTJForCausalLM'],
    model_type: 'gptj',
    activation_function: 'gelu_new',
    n_embd: config.hiddenSize,
    n_inner: config.intermediateSize,
    n_layer: config.numLayers,
    n_head: config.numHeads,
    rotary_dim: config.rotaryDim,
    vocab_size: config.vocabSize,
    n_positions: config.maxPositions,
    layer_norm_epsilon: config.layerNormEpsilon,
    tie_word_embeddings: config.tieWordEmbeddings,
    torch_dtype: 'float32',
    ...(config.vocabulary ? { [COMPACT_VOCABULARY_FIELD]: Array.from(config.vocabulary.ids) } : {}),
  };
}
