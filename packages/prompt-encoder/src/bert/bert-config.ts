import { InvalidConfigError } from '@recipe-kit/core';
import type { HiddenActivation } from '../transformer/layer-operations.js';

/** BERT/RoBERTa hyperparameters from a Hugging Face config.json (BertConfig / RobertaConfig names). */
export interface BertConfig {
  modelType: 'bert' | 'roberta';
  vocabSize: number;
  hiddenSize: number;
  numLayers: number;
  numHeads: number;
  intermediateSize: number;
  hiddenActivation: HiddenActivation;
  /** Rows of the position table (RoBERTa: 514 = 512 + padding_idx + 1). */
  maxPositions: number;
  typeVocabSize: number;
  layerNormEpsilon: number;
  /** Padding id; RoBERTa's positions start at padTokenId + 1 and padding tokens sit at padTokenId. */
  padTokenId: number;
  /** Std of the normal init of new weights (the pooler when a checkpoint has none). */
  initializerRange: number;
}

function read(json: Record<string, unknown>, source: string, field: string, fallback?: number, integer = true): number {
  const value = json[field] ?? fallback;
  if (typeof value !== 'number' || !Number.isFinite(value) || (integer && !Number.isInteger(value)) || value < 0) {
    throw new InvalidConfigError(
      `${source}: "${field}" is ${JSON.stringify(value)}, expected a ${integer ? 'non-negative integer' : 'non-negative number'}.`,
      `Correct "${field}" in config.json.`,
    );
  }
  return value;
}

export function parseBertConfig(json: Record<string, unknown>, source: string): BertConfig {
  const modelType = json['model_type'];
  if (modelType !== 'bert' && modelType !== 'roberta') {
    throw new InvalidConfigError(
      `${source}: "model_type" is ${JSON.stringify(modelType)}; this encoder reads "bert" and "roberta" checkpoints.`,
      'Use a BERT or RoBERTa checkpoint (e.g. roberta-base), or another TextEncoder.',
    );
  }
  const activation = json['hidden_act'] ?? 'gelu';
  if (activation !== 'gelu' && activation !== 'gelu_new' && activation !== 'relu') {
    throw new InvalidConfigError(`${source}: "hidden_act" ${JSON.stringify(activation)} is not supported.`, 'Use gelu, gelu_new or relu.');
  }
  const hiddenSize = read(json, source, 'hidden_size');
  const numHeads = read(json, source, 'num_attention_heads');
  if (numHeads === 0 || hiddenSize % numHeads !== 0) {
    throw new InvalidConfigError(`${source}: hidden_size ${hiddenSize} is not a multiple of num_attention_heads ${numHeads}.`, 'Fix config.json.');
  }
  const positionType = json['position_embedding_type'] ?? 'absolute';
  if (positionType !== 'absolute') {
    throw new InvalidConfigError(`${source}: position_embedding_type ${JSON.stringify(positionType)} is not supported.`, 'Use absolute positions.');
  }
  return {
    modelType,
    vocabSize: read(json, source, 'vocab_size'),
    hiddenSize,
    numLayers: read(json, source, 'num_hidden_layers'),
    numHeads,
    intermediateSize: read(json, source, 'intermediate_size'),
    hiddenActivation: activation,
    maxPositions: read(json, source, 'max_position_embeddings'),
    typeVocabSize: read(json, source, 'type_vocab_size', 2),
    layerNormEpsilon: read(json, source, 'layer_norm_eps', 1e-12, false),
    padTokenId: read(json, source, 'pad_token_id', modelType === 'roberta' ? 1 : 0),
    initializerRange: read(json, source, 'initializer_range', 0.02, false),
  };
}

export function bertConfigToJson(config: BertConfig): Record<string, unknown> {
  return {
    architectures: [config.modelType === 'roberta' ? 'RobertaModel' : 'BertModel'],
    model_type: config.modelType,
    vocab_size: config.vocabSize,
    hidden_size: config.hiddenSize,
    num_hidden_layers: config.numLayers,
    num_attention_heads: config.numHeads,
    intermediate_size: config.intermediateSize,
    hidden_act: config.hiddenActivation,
    max_position_embeddings: config.maxPositions,
    type_vocab_size: config.typeVocabSize,
    layer_norm_eps: config.layerNormEpsilon,
    pad_token_id: config.padTokenId,
    initializer_range: config.initializerRange,
    position_embedding_type: 'absolute',
    torch_dtype: 'float32',
  };
}

/** First position id of real tokens: RoBERTa padding_idx + 1, BERT 0. */
export function firstPositionId(config: BertConfig): number {
  return config.modelType === 'roberta' ? config.padTokenId + 1 : 0;
}

/** Most tokens per text the position table allows (RoBERTa-base: 514 − 2 = 512). */
export function maxTokens(config: BertConfig): number {
  return config.maxPositions - firstPositionId(config);
}
