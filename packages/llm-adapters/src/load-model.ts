import { existsSync, statSync } from 'node:fs';
import { mkdir, writeFile } from 'node:fs/promises';
import path from 'node:path';
import * as tf from '@tensorflow/tfjs';
import { DataNotFoundError, InvalidCheckpointError, InvalidConfigError, InvalidInputError, type Tokenizer } from '@recipe-kit/core';
import type { ArchitectureDefinition, WeightSpec } from './architecture.js';
import {
  iterateHuggingFaceWeights,
  readHuggingFaceConfig,
  readLlama2cCheckpoint,
  writeSafetensors,
  writeShardedSafetensors,
  type DeferredTensor,
  type NamedTensor,
  type SafetensorsDtype,
} from './checkpoints/index.js';
import { gptjArchitecture } from './gptj/gptj-architecture.js';
import { llamaArchitecture } from './llama/llama-architecture.js';
import { findLlama2cTokenizerBeside, isTokenizerName, resolveTokenizer, tokenizerNameOf } from './resolve-tokenizer.js';
import type { DecoderModel } from './transformer/decoder-model.js';
import { createRandom } from './transformer/sampling.js';
import { WeightStore } from './transformer/weight-store.js';

/** Architectures by config.json `model_type`. Adding one = one folder + one line here. */
const ARCHITECTURES = {
  llama: llamaArchitecture,
  gptj: gptjArchitecture,
} as const;

export type ArchitectureName = keyof typeof ARCHITECTURES;
export const ARCHITECTURE_NAMES = Object.keys(ARCHITECTURES) as ArchitectureName[];

export interface LoadModelOptions {
  /** A tokenizer, a known name (`llama2`, `gpt2`), or the path of a llama2.c tokenizer.bin. */
  tokenizer?: string | Tokenizer;
}

/** config.json field in which we record which packaged tokenizer a saved model uses. */
const TOKENIZER_FIELD = 'recipe_kit_tokenizer';

function architectureFor(modelType: unknown, source: string): ArchitectureDefinition<unknown> {
  if (typeof modelType === 'string' && Object.hasOwn(ARCHITECTURES, modelType)) {
    return ARCHITECTURES[modelType as ArchitectureName] as ArchitectureDefinition<unknown>;
  }
  throw new InvalidConfigError(
    `${source}: "model_type" is ${JSON.stringify(modelType)}, which has no adapter.`,
    `Supported model types: ${ARCHITECTURE_NAMES.join(', ')}.`,
  );
}

/**
 * Loads a model from a Hugging Face directory (config.json + model.safetensors or a sharded index)
 * or a llama2.c `.bin` checkpoint. Tensors are converted one at a time, so the weights are never
 * held twice.
 */
export async function loadModel(source: string, options: LoadModelOptions = {}): Promise<DecoderModel> {
  if (!existsSync(source)) {
    throw new DataNotFoundError(`Model path ${source} does not exist.`, 'Pass a Hugging Face model directory or a llama2.c .bin file.');
  }
  if (statSync(source).isDirectory()) return loadHuggingFaceDirectory(source, options);
  if (source.endsWith('.bin')) return loadLlama2cFile(source, options);
  throw new InvalidInputError(
    `Model path ${source} is a file but not a llama2.c .bin checkpoint.`,
    'Pass the directory that holds config.json and the safetensors files, or a llama2.c .bin file.',
  );
}

async function loadHuggingFaceDirectory(directory: string, options: LoadModelOptions): Promise<DecoderModel> {
  const json = await readHuggingFaceConfig(directory);
  const configSource = path.join(directory, 'config.json');
  const architecture = architectureFor(json['model_type'], configSource);
  const config = architecture.parseConfig(json, configSource);
  const tokenizer = await tokenizerForDirectory(directory, json, architecture, config, options);
  const weights = await buildWeights(architecture, config, iterateHuggingFaceWeights(directory), directory);
  return architecture.create(config, weights, tokenizer);
}

async function tokenizerForDirectory(
  directory: string,
  json: Record<string, unknown>,
  architecture: ArchitectureDefinition<unknown>,
  config: unknown,
  options: LoadModelOptions,
): Promise<Tokenizer> {
  if (options.tokenizer !== undefined) return resolveTokenizer(options.tokenizer);
  const recorded = json[TOKENIZER_FIELD];
  if (typeof recorded === 'string' && isTokenizerName(recorded)) return resolveTokenizer(recorded);
  const besideFile = path.join(directory, 'tokenizer.bin');
  if (existsSync(besideFile)) return resolveTokenizer(besideFile);
  const fallback = architecture.defaultTokenizer(config);
  if (fallback) return resolveTokenizer(fallback);
  throw new InvalidInputError(
    `No tokenizer found for ${directory}: config.json has no "${TOKENIZER_FIELD}", there is no tokenizer.bin, and the vocabulary size is not a known tokenizer's.`,
    'Pass --tokenizer (llama2, gpt2, or a llama2.c tokenizer.bin path).',
  );
}

async function loadLlama2cFile(file: string, options: LoadModelOptions): Promise<DecoderModel> {
  const { config: json, tensors } = await readLlama2cCheckpoint(file);
  const config = llamaArchitecture.parseConfig(json, file);
  const tokenizerSpec = options.tokenizer ?? findLlama2cTokenizerBeside(file, config.vocabSize);
  if (tokenizerSpec === null) {
    throw new InvalidInputError(
      `No tokenizer for the llama2.c checkpoint ${file}.`,
      'Pass --tokenizer with the llama2.c tokenizer.bin it was trained with (e.g. tok512.bin for stories260K).',
    );
  }
  const tokenizer = await resolveTokenizer(tokenizerSpec);
  const weights = await buildWeights(llamaArchitecture as ArchitectureDefinition<unknown>, config, tensors.entries(), file);
  tensors.clear();
  return llamaArchitecture.create(config, weights, tokenizer);
}

/** Checks every tensor against the architecture's declared shapes and converts it to tfjs. */
async function buildWeights(
  architecture: ArchitectureDefinition<unknown>,
  config: unknown,
  tensors: AsyncIterable<[string, NamedTensor]> | Iterable<[string, NamedTensor]>,
  source: string,
): Promise<WeightStore> {
  const specs = new Map(architecture.weightSpecs(config).map((spec) => [spec.name, spec]));
  const store = new WeightStore();
  try {
    for await (const [name, tensor] of tensors) {
      const spec = specs.get(name);
      if (!spec) {
        if (architecture.isIgnoredTensor(name, config)) continue;
        throw new InvalidCheckpointError(
          `${source}: tensor "${name}" is not a weight of a ${architecture.modelType} model with this config.json.`,
          'Check that config.json belongs to these weights (model_type, number of layers, tie_word_embeddings).',
        );
      }
      if (store.has(name)) {
        throw new InvalidCheckpointError(`${source}: tensor "${name}" appears twice.`, 'Re-export the checkpoint; each tensor must be stored once.');
      }
      if (tensor.shape.join() !== spec.shape.join()) {
        throw new InvalidCheckpointError(
          `${source}: tensor "${name}" has shape [${tensor.shape}], but config.json implies [${spec.shape}].`,
          'The weights and config.json disagree: use the config.json saved with these weights.',
        );
      }
      store.add(name, toTfjs(tensor, spec));
    }
    const missing = [...specs.keys()].filter((name) => !store.has(name));
    if (missing.length > 0) {
      throw new InvalidCheckpointError(
        `${source}: ${missing.length} weight(s) missing, e.g. ${missing.slice(0, 3).join(', ')}.`,
        'The checkpoint is incomplete or belongs to another config.json (check num_hidden_layers / n_layer).',
      );
    }
    return store;
  } catch (error) {
    store.dispose();
    throw error;
  }
}

function toTfjs(tensor: NamedTensor, spec: WeightSpec): tf.Tensor {
  if (!spec.linear) return tf.tensor(tensor.data, tensor.shape);
  return tf.tidy(() => tf.transpose(tf.tensor2d(tensor.data, tensor.shape as [number, number])));
}

/** PyTorch-layout copy of a weight, for saving. */
function toNamedTensor(weight: tf.Tensor, spec: WeightSpec): NamedTensor {
  const data = tf.tidy(() => (spec.linear ? tf.transpose(weight) : weight).dataSync()) as Float32Array;
  return { shape: spec.shape, data: data instanceof Float32Array ? data : Float32Array.from(data) };
}

function definitionOf(model: DecoderModel): { architecture: ArchitectureDefinition<unknown>; config: unknown } {
  const architecture = architectureFor(model.architecture, `model "${model.architecture}"`);
  return { architecture, config: (model as unknown as { config: unknown }).config };
}

export interface SaveModelOptions {
  /** Split into shards of at most this many bytes with model.safetensors.index.json; default one file. */
  maxShardBytes?: number;
  dtype?: SafetensorsDtype;
}

/** Writes config.json and safetensors in Hugging Face layout (linear weights back to [out, in]). */
export async function saveModel(model: DecoderModel, directory: string, options: SaveModelOptions = {}): Promise<void> {
  const { architecture, config } = definitionOf(model);
  await mkdir(directory, { recursive: true });
  const json: Record<string, unknown> = { ...architecture.toHuggingFaceConfig(config) };
  const tokenizerName = tokenizerNameOf(model.tokenizer);
  if (tokenizerName) json[TOKENIZER_FIELD] = tokenizerName;
  await writeFile(path.join(directory, 'config.json'), `${JSON.stringify(json, null, 2)}\n`);
  const specs = architecture.weightSpecs(config);
  // Deferred: the writer needs every shape first, then loads one tensor at a time (no second copy).
  function* tensors(): Generator<[string, DeferredTensor]> {
    for (const spec of specs) yield [spec.name, { shape: spec.shape, load: () => toNamedTensor(model.getWeight(spec.name), spec).data }];
  }
  const metadata = { format: 'pt', producer: '@recipe-kit/llm-adapters' };
  const dtype = options.dtype ?? 'F32';
  if (options.maxShardBytes !== undefined) {
    await writeShardedSafetensors(directory, tensors(), { maxShardBytes: options.maxShardBytes, dtype, metadata });
  } else {
    await writeSafetensors(path.join(directory, 'model.safetensors'), tensors(), { dtype, metadata });
  }
}

export interface RandomModelOptions {
  /** Hugging Face config.json fields (model_type selects the architecture). */
  config: Record<string, unknown>;
  tokenizer: string | Tokenizer;
  seed?: number;
  /** Standard deviation of matrix entries (default 0.02, as Hugging Face initialises). */
  initStd?: number;
}

/**
 * A model with seeded random weights, identical on every backend (drawn in JavaScript, not by tfjs).
 * Norm scales are 1 ± noise and biases small noise, so every weight matters in golden tests.
 */
export async function createRandomModel(options: RandomModelOptions): Promise<DecoderModel> {
  const source = 'random model config';
  const architecture = architectureFor(options.config['model_type'], source);
  const config = architecture.parseConfig(options.config, source);
  const tokenizer = await resolveTokenizer(options.tokenizer);
  const random = createRandom(options.seed ?? 0);
  const std = options.initStd ?? 0.02;
  const gaussian = (): number => {
    const u = Math.max(random(), 1e-12);
    return Math.sqrt(-2 * Math.log(u)) * Math.cos(2 * Math.PI * random());
  };
  function* tensors(): Generator<[string, NamedTensor]> {
    for (const spec of architecture.weightSpecs(config)) {
      const size = spec.shape.reduce((a, b) => a * b, 1);
      const data = new Float32Array(size);
      const isScale = spec.shape.length === 1 && spec.name.endsWith('.weight');
      const isBias = spec.shape.length === 1 && spec.name.endsWith('.bias');
      for (let i = 0; i < size; i++) data[i] = isScale ? 1 + 0.1 * gaussian() : isBias ? 0.02 * gaussian() : std * gaussian();
      yield [spec.name, { shape: spec.shape, data }];
    }
  }
  const weights = await buildWeights(architecture, config, tensors(), source);
  return architecture.create(config, weights, tokenizer);
}
