export { readSafetensors, writeSafetensors, type NamedTensor, type WritableTensor } from '@recipe-kit/core';
export { BertEncoder, bertWeightShapes, type BertEncoderOptions } from './bert/bert-encoder.js';
export { parseBertConfig, bertConfigToJson, type BertConfig } from './bert/bert-config.js';
export { ByteLevelBpeTokenizer, type ByteLevelBpeFiles } from './tokenizers/byte-level-bpe-tokenizer.js';
export { padTokenSequences, type EncoderTokenizer, type TokenizedBatch } from './tokenizers/encoder-tokenizer.js';
export type { HiddenActivation } from './transformer/layer-operations.js';
export { DefaultEncoder, DEFAULT_ENCODER_SPECIAL_TOKENS } from './default-encoder/default-encoder.js';
export { DEFAULT_ENCODER_CONFIG, resolveDefaultEncoderConfig, type DefaultEncoderConfig } from './default-encoder/default-encoder-config.js';
export {
  loadWinkWordVectors,
  winkEmbeddingsFile,
  WINK_EMBEDDINGS_PACKAGE,
  WINK_EMBEDDINGS_VERSION,
  type WordVectors,
} from './default-encoder/load-wink-word-vectors.js';
export { tokenizeWords, splitCompound } from './default-encoder/tokenize-words.js';
export { poolEncodedText, MASKED_POOLING_OFFSET } from './recipe-heads/pool-encoded-text.js';
export { RepresentationHead } from './recipe-heads/representation-head.js';
export { PromptHead } from './recipe-heads/prompt-head.js';
export { KnowledgeSentinel, SENTINEL_INIT_RANGE } from './recipe-heads/knowledge-sentinel.js';
export {
  RecipeEncoder,
  headWeightShapes,
  type EncodedKnowledge,
  type SavableTextEncoder,
} from './recipe-heads/recipe-encoder.js';
export {
  DEFAULT_REPRESENTATION_DIM,
  PROMPT_SOURCES,
  RECIPE_SPEC_REPRESENTATION_DIM,
  resolveRecipeEncoderConfig,
  type PromptSource,
  type RecipeEncoderConfig,
} from './recipe-heads/recipe-encoder-config.js';
