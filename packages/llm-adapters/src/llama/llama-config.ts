import { InvalidConfigError } from '@recipe-kit/core';
import { ConfigReader } from '../config-reader.js';
import { COMPACT_VOCABULARY_FIELD, CompactVocabulary } from '../transformer/compact-vocabulary.js';

/** LLaMA-2 hyperparameters, named as in Hugging Face's LlamaConfig. */
export interface LlamaConfig {
  hiddenSize: number;
  intermediateSize: number;
  numLayers: number;
  numHeads: number;
  /** Grouped-query attention: heads share key/value heads in groups of numHeads / numKeyValueHeads. */
  numKeyValueHeads: number;
  headDim: number;
  vocabSize: number;
  maxPositions: number;
  rmsNormEpsilon: number;
  ropeTheta: number;
  tieWordEmbeddings: boolean;
  /** Ids whose embedding/output rows are stored (micro models); null = all vocabSize rows. */
  vocabulary: CompactVocabulary | null;
}

export function parseLlamaConfig(json: Record<string, unknown>, source: string): LlamaConfig {
  const read = new ConfigReader(json, source);
  read.oneOf('hidden_act', ['silu'], 'silu');
  if (json['rope_scaling'] !== undefined && json['rope_scaling'] !== null) {
    throw new InvalidConfigError(
      `${source}: "rope_scaling" is set (${JSON.stringify(json['rope_scaling'])}), which this adapter does not implement.`,
      'Use a checkpoint without RoPE scaling (LLaMA-2 has none), or remove the field if it is a no-op.',
    );
  }
  const hiddenSize = read.positiveInteger('hidden_size');
  const numHeads = read.positiveInteger('num_attention_heads');
  const numKeyValueHeads = read.positiveInteger('num_key_value_heads', numHeads);
  read.divisible('hidden_size', hiddenSize, 'num_attention_heads', numHeads);
  read.divisible('num_attention_heads', numHeads, 'num_key_value_heads', numKeyValueHeads);
  const headDim = read.positiveInteger('head_dim', hiddenSize / numHeads);
  if (headDim % 2 !== 0) read.divisible('head_dim', headDim, 'two (rotary pairs)', 2);
  const vocabSize = read.positiveInteger('vocab_size');
  return {
    hiddenSize,
    intermediateSize: read.positiveInteger('intermediate_size'),
    numLayers: read.positiveInteger('num_hidden_layers'),
    numHeads,
    numKeyValueHeads,
    headDim,
    vocabSize,
    maxPositions: read.positiveInteger('max_position_embeddings'),
    rmsNormEpsilon: read.positiveNumber('rms_norm_eps', 1e-6),
    ropeTheta: read.positiveNumber('rope_theta', 10000),
    tieWordEmbeddings: read.boolean('tie_word_embeddings', false),
    vocabulary: CompactVocabulary.fromConfig(json, source, vocabSize),
  };
}

export function llamaConfigToJson(config: LlamaConfig): Record<string, unknown> {
  return {
    architectures: ['LlamaForCausalLM'],
    model_type: 'llama',
    hidden_act: 'silu',
    hidden_size: config.hiddenSize,
    intermediate_size: config.intermediateSize,
    num_hidden_layers: config.numLayers,
    num_attention_heads: config.numHeads,
    num_key_value_heads: config.numKeyValueHeads,
    head_dim: config.headDim,
    vocab_size: config.vocabSize,
    max_position_embeddings: config.maxPositions,
    rms_norm_eps: config.rmsNormEpsilon,
    rope_theta: config.ropeTheta,
    tie_word_embeddings: config.tieWordEmbeddings,
    torch_dtype: 'float32',
    ...(config.vocabulary ? { [COMPACT_VOCABULARY_FIELD]: Array.from(config.vocabulary.ids) } : {}),
  };
}
