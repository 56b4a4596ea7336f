import { mkdir, readFile, writeFile } from 'node:fs/promises';
import { existsSync } from 'node:fs';
import path from 'node:path';
import * as tf from '@tensorflow/tfjs';
import {
  DataNotFoundError,
  InvalidCheckpointError,
  InvalidInputError,
  type EncodedText,
  type TextEncoder,
} from '@recipe-kit/core';
import type { NamedTensor } from '@recipe-kit/core';
import { readSafetensors } from '@recipe-kit/core';
import { writeSafetensors } from '@recipe-kit/core';
import { ByteLevelBpeTokenizer } from '../tokenizers/byte-level-bpe-tokenizer.js';
import type { EncoderTokenizer } from '../tokenizers/encoder-tokenizer.js';
import { keyPaddingBias, layerNorm, linear } from '../transformer/layer-operations.js';
import { encoderLayerWeightShapes, postNormEncoderLayer } from '../transformer/post-norm-encoder-layer.js';
import { seededNormal } from '../transformer/seeded-initializers.js';
import { VariableStore } from '../transformer/variable-store.js';
import { bertConfigToJson, firstPositionId, maxTokens, parseBertConfig, type BertConfig } from './bert-config.js';

const POOLER_WEIGHT = 'pooler.dense.weight';
const POOLER_BIAS = 'pooler.dense.bias';
/** Prefixes under which task models (RobertaForMaskedLM, BertForPreTraining, …) store the base model. */
const BASE_MODEL_PREFIXES = ['', 'roberta.', 'bert.'] as const;

/**
 * Every weight of the base model with its shape in our layout: Hugging Face names without the
 * `roberta.`/`bert.` prefix, linear weights [in, out] (PyTorch stores [out, in]).
 */
export function bertWeightShapes(config: BertConfig): [string, number[]][] {
  const { hiddenSize: width } = config;
  const shapes: [string, number[]][] = [
    ['embeddings.word_embeddings.weight', [config.vocabSize, width]],
    ['embeddings.position_embeddings.weight', [config.maxPositions, width]],
    ['embeddings.token_type_embeddings.weight', [config.typeVocabSize, width]],
    ['embeddings.LayerNorm.weight', [width]],
    ['embeddings.LayerNorm.bias', [width]],
  ];
  for (let layer = 0; layer < config.numLayers; layer++) {
    for (const [name, shape] of encoderLayerWeightShapes(width, config.intermediateSize)) shapes.push([`encoder.layer.${layer}.${name}`, shape]);
  }
  shapes.push([POOLER_WEIGHT, [width, width]], [POOLER_BIAS, [width]]);
  return shapes;
}

/** Linear weights are transposed between PyTorch's [out, in] and our [in, out]; embeddings are not. */
function isLinearWeight(name: string, shape: readonly number[]): boolean {
  return shape.length === 2 && !name.startsWith('embeddings.');
}

export interface BertEncoderOptions {
  /** Tokenizer to use; default: RoBERTa byte-level BPE from vocab.json + merges.txt in the directory. */
  tokenizer?: EncoderTokenizer;
  /** Seed of the pooler's random init when the checkpoint has no pooler (roberta-base). Default 0. */
  seed?: number;
}

/**
 * BERT/RoBERTa encoder (post-LN transformer, erf GELU, key-padding mask, tanh pooler on the first
 * token), trainable end to end: every weight is a tf.Variable. Implements RECIPE's f_rm backbone.
 */
export class BertEncoder implements TextEncoder {
  readonly kind = 'bert';
  readonly name: string;
  readonly width: number;
  readonly maxLength: number;

  constructor(
    readonly config: BertConfig,
    private readonly weights: VariableStore,
    readonly tokenizer: EncoderTokenizer,
    /** True when the checkpoint had no pooler and it was initialised N(0, initializer_range²), as HF does. */
    readonly poolerInitialisedRandomly = false,
  ) {
    this.name = `${config.modelType}-${config.numLayers}x${config.hiddenSize}`;
    this.width = config.hiddenSize;
    this.maxLength = maxTokens(config);
  }

  /** A randomly initialised encoder as Hugging Face initialises one (normal std initializer_range, LN 1/0, biases 0). */
  static random(config: BertConfig, tokenizer: EncoderTokenizer, seed = 0): BertEncoder {
    const weights = new VariableStore();
    for (const [name, shape] of bertWeightShapes(config)) weights.add(name, initialValue(name, shape, config, seed));
    return new BertEncoder(config, weights, tokenizer);
  }

  /**
   * Loads a Hugging Face directory: config.json + model.safetensors (F32/F16/BF16), base-model weight
   * names with or without the `roberta.`/`bert.` prefix. Extra tensors (MLM heads, buffers) are ignored;
   * a missing or mis-shaped weight is an InvalidCheckpointError. A missing pooler is initialised randomly.
   */
  static async load(dir: string, options: BertEncoderOptions = {}): Promise<BertEncoder> {
    const configFile = path.join(dir, 'config.json');
    const configText = await readFile(configFile, 'utf8').catch((cause: unknown) => {
      throw new DataNotFoundError(`${configFile} is missing.`, 'Point to a Hugging Face model directory (config.json + model.safetensors).', { cause });
    });
    let json: unknown;
    try {
      json = JSON.parse(configText);
    } catch (cause) {
      throw new InvalidCheckpointError(`${configFile} is not valid JSON.`, 'Restore config.json from the checkpoint.', { cause });
    }
    const config = parseBertConfig(json as Record<string, unknown>, configFile);
    const weightFile = path.join(dir, 'model.safetensors');
    if (!existsSync(weightFile)) {
      throw new DataNotFoundError(
        `${weightFile} is missing.`,
        'Only model.safetensors is read; convert pytorch_model.bin with safetensors (save_file) first.',
      );
    }
    const stored = await readSafetensors(weightFile);
    const prefix = BASE_MODEL_PREFIXES.find((candidate) => stored.has(`${candidate}embeddings.word_embeddings.weight`));
    if (prefix === undefined) {
      throw new InvalidCheckpointError(
        `${weightFile} has no "embeddings.word_embeddings.weight" (with or without a roberta./bert. prefix).`,
        'Is this a BERT/RoBERTa checkpoint? Its tensor names must follow Hugging Face BertModel/RobertaModel.',
      );
    }
    const tokenizer = options.tokenizer ?? (await ByteLevelBpeTokenizer.fromDirectory(dir));
    const weights = new VariableStore();
    let poolerRandom = false;
    try {
      for (const [name, shape] of bertWeightShapes(config)) {
        const tensor = findStored(stored, prefix, name);
        if (!tensor) {
          if (name === POOLER_WEIGHT || name === POOLER_BIAS) {
            poolerRandom = true;
            weights.add(name, initialValue(name, shape, config, options.seed ?? 0));
            continue;
          }
          throw new InvalidCheckpointError(`${weightFile} has no tensor "${prefix}${name}".`, 'The checkpoint is incomplete or not a BERT/RoBERTa base model.');
        }
        const linearWeight = isLinearWeight(name, shape);
        const expected = linearWeight ? [shape[1] as number, shape[0] as number] : shape;
        if (tensor.shape.join() !== expected.join()) {
          throw new InvalidCheckpointError(
            `${weightFile}: "${prefix}${name}" has shape [${tensor.shape.join(', ')}], but config.json implies [${expected.join(', ')}].`,
            'config.json and model.safetensors belong to different models: use the pair from one checkpoint.',
          );
        }
        weights.add(name, tf.tidy(() => (linearWeight ? tf.tensor2d(tensor.data, expected as [number, number]).transpose() : tf.tensor(tensor.data, shape))));
      }
    } catch (error) {
      weights.dispose();
      throw error;
    }
    return new BertEncoder(config, weights, tokenizer, poolerRandom);
  }

  /** Writes config.json + model.safetensors (HF layout, no prefix) and the tokenizer's files where it has them. */
  async save(dir: string): Promise<void> {
    await mkdir(dir, { recursive: true });
    await writeFile(path.join(dir, 'config.json'), `${JSON.stringify(bertConfigToJson(this.config), null, 2)}\n`);
    const tensors: [string, NamedTensor][] = [];
    for (const [name, tensor] of await this.weights.toNamedTensors()) {
      if (!isLinearWeight(name, tensor.shape)) {
        tensors.push([name, tensor]);
        continue;
      }
      const [rows, columns] = tensor.shape as [number, number];
      const transposed = new Float32Array(tensor.data.length);
      for (let r = 0; r < rows; r++) for (let c = 0; c < columns; c++) transposed[c * rows + r] = tensor.data[r * columns + c] as number;
      tensors.push([name, { shape: [columns, rows], data: transposed }]);
    }
    await writeSafetensors(path.join(dir, 'model.safetensors'), tensors);
    await this.tokenizer.save?.(dir);
  }

  /** Plain JSON of the config, for RecipeEncoder's config file. */
  configJson(): Record<string, unknown> {
    return bertConfigToJson(this.config);
  }

  encode(texts: readonly string[]): EncodedText {
    if (texts.length === 0) throw new InvalidInputError('encode() got no texts.', 'Pass at least one text.');
    const { inputIds, attentionMask } = this.tokenizer.tokenize(texts, this.maxLength);
    for (const row of inputIds) {
      for (const id of row) {
        if (!Number.isInteger(id) || id < 0 || id >= this.config.vocabSize) {
          throw new InvalidInputError(`Token id ${id} is outside the vocabulary [0, ${this.config.vocabSize}).`, 'The tokenizer does not match the checkpoint.');
        }
      }
    }
    const embedded = this.embed(inputIds);
    const mask = tf.tensor2d(attentionMask, undefined, 'float32');
    try {
      return this.encodeEmbeddings(embedded, mask);
    } finally {
      embedded.dispose();
      mask.dispose();
    }
  }

  /**
   * Embedding module: word + position + token-type (all type 0) embeddings, then LayerNorm.
   * RoBERTa positions: padding_idx + 1 + t for real tokens, padding_idx for padding (HF
   * create_position_ids_from_input_ids, which looks at ids != pad). → [batch, seq, width]
   */
  embed(inputIds: readonly number[][]): tf.Tensor3D {
    const first = firstPositionId(this.config);
    const positionIds = inputIds.map((row) => {
      if (this.config.modelType !== 'roberta') return row.map((_, t) => t);
      let count = 0;
      return row.map((id) => (id === this.config.padTokenId ? this.config.padTokenId : first + count++));
    });
    const length = inputIds[0]?.length ?? 0;
    if (length > this.maxLength) {
      throw new InvalidInputError(`${length} tokens exceed the ${this.maxLength} positions of ${this.name}.`, 'Truncate the input.');
    }
    return tf.tidy(() => {
      const w = (name: string): tf.Tensor => this.weights.get(name);
      const ids = tf.tensor2d(inputIds.map((row) => [...row]), undefined, 'int32');
      const positions = tf.tensor2d(positionIds, undefined, 'int32');
      const words = tf.gather(w('embeddings.word_embeddings.weight'), ids); // [b, s, width]
      const positional = tf.gather(w('embeddings.position_embeddings.weight'), positions);
      const tokenType = tf.slice(w('embeddings.token_type_embeddings.weight'), [0, 0], [1, this.width]); // type 0 for all
      const sum = tf.add(tf.add(words, positional), tokenType) as tf.Tensor3D;
      return layerNorm(sum, w('embeddings.LayerNorm.weight'), w('embeddings.LayerNorm.bias'), this.config.layerNormEpsilon);
    });
  }

  encodeEmbeddings(embeddings: tf.Tensor3D, mask?: tf.Tensor2D): EncodedText {
    const [batch, seq, width] = embeddings.shape;
    if (width !== this.width) throw new InvalidInputError(`Embeddings have width ${width}; ${this.name} expects ${this.width}.`, 'Pass [batch, seq, width] embeddings.');
    if (mask && (mask.shape[0] !== batch || mask.shape[1] !== seq)) {
      throw new InvalidInputError(`Mask shape [${mask.shape.join(', ')}] does not match embeddings [${batch}, ${seq}].`, 'Pass a [batch, seq] mask.');
    }
    return tf.tidy(() => {
      const keyMask = mask ? tf.clone(mask).toFloat() : tf.ones([batch, seq]);
      const bias = keyPaddingBias(keyMask as tf.Tensor2D);
      let hidden = embeddings;
      const settings = { numHeads: this.config.numHeads, layerNormEpsilon: this.config.layerNormEpsilon, activation: this.config.hiddenActivation };
      for (let layer = 0; layer < this.config.numLayers; layer++) {
        hidden = postNormEncoderLayer(hidden, bias, (name) => this.weights.get(name), `encoder.layer.${layer}.`, settings);
      }
      const firstToken = tf.squeeze(tf.slice(hidden, [0, 0, 0], [batch, 1, width]), [1]) as tf.Tensor2D; // [b, width]
      const pooled = tf.tanh(linear(firstToken, this.weights.get(POOLER_WEIGHT), this.weights.get(POOLER_BIAS)));
      return { states: hidden === embeddings ? hidden.clone() : hidden, mask: keyMask as tf.Tensor2D, pooled };
    });
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

function findStored(stored: Map<string, NamedTensor>, prefix: string, name: string): NamedTensor | undefined {
  const direct = stored.get(prefix + name);
  if (direct) return direct;
  // Checkpoints converted from TensorFlow name LayerNorm parameters gamma/beta.
  if (name.endsWith('LayerNorm.weight')) return stored.get(prefix + name.replace(/weight$/, 'gamma'));
  if (name.endsWith('LayerNorm.bias')) return stored.get(prefix + name.replace(/bias$/, 'beta'));
  return undefined;
}

function initialValue(name: string, shape: number[], config: BertConfig, seed: number): tf.Tensor {
  if (name.includes('LayerNorm.weight')) return tf.ones(shape);
  if (shape.length === 1) return tf.zeros(shape);
  return seededNormal(shape, config.initializerRange, seed, name);
}
