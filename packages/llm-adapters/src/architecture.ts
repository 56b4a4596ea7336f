import type { Tokenizer } from '@recipe-kit/core';
import type { DecoderModel } from './transformer/decoder-model.js';
import type { WeightStore } from './transformer/weight-store.js';

/** One tensor a checkpoint of this architecture must hold, in PyTorch layout. */
export interface WeightSpec {
  name: string;
  /** Shape as stored in Hugging Face checkpoints ([out, in] for linear weights). */
  shape: number[];
  /** Linear weights are transposed to [in, out] on load (and back on save). */
  linear: boolean;
}

/** Tokenizers the adapters know by name (a Hugging Face directory may name one in config.json). */
export type TokenizerName = 'llama2' | 'gpt2';

/**
 * Everything the loader needs to know about an architecture, declared once in its folder:
 * the config parser, the weights (names and shapes), and the model class.
 */
export interface ArchitectureDefinition<Config> {
  /** `model_type` in config.json. */
  modelType: string;
  parseConfig(json: Record<string, unknown>, source: string): Config;
  toHuggingFaceConfig(config: Config): Record<string, unknown>;
  weightSpecs(config: Config): WeightSpec[];
  /** Buffers some checkpoints carry that are not weights (e.g. rotary inv_freq); ignored on load. */
  isIgnoredTensor(name: string, config: Config): boolean;
  /** The tokenizer a checkpoint of this architecture uses when nothing else is said. */
  defaultTokenizer(config: Config): TokenizerName | null;
  create(config: Config, weights: WeightStore, tokenizer: Tokenizer): DecoderModel;
}
