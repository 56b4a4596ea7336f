import { createHash } from 'node:crypto';
import { mkdir, readFile, writeFile } from 'node:fs/promises';
import path from 'node:path';
import * as tf from '@tensorflow/tfjs';
import { DataNotFoundError, InvalidCheckpointError, InvalidConfigError, InvalidInputError, type TextEncoder } from '@recipe-kit/core';
import { BertEncoder } from '../bert/bert-encoder.js';
import { readSafetensors } from '@recipe-kit/core';
import { writeSafetensors } from '@recipe-kit/core';
import { DefaultEncoder } from '../default-encoder/default-encoder.js';
import type { EncoderTokenizer } from '../tokenizers/encoder-tokenizer.js';
import { VariableStore } from '../transformer/variable-store.js';
import { KnowledgeSentinel } from './knowledge-sentinel.js';
import { poolEncodedText } from './pool-encoded-text.js';
import { PromptHead } from './prompt-head.js';
import { RECIPE_SPEC_REPRESENTATION_DIM, resolveRecipeEncoderConfig, type RecipeEncoderConfig } from './recipe-encoder-config.js';
import { RepresentationHead } from './representation-head.js';

/** A text encoder RecipeEncoder can save and load with itself. */
export interface SavableTextEncoder extends TextEncoder {
  readonly kind: 'bert' | 'default';
  save(dir: string): Promise<void>;
  configJson(): Record<string, unknown>;
}

/** Knowledge representations and their continuous prompts. */
export interface EncodedKnowledge {
  /** r_k [n, d_r] */
  representations: tf.Tensor2D;
  /** p_k [n, l, d_llm] */
  prompts: tf.Tensor3D;
}

const CONFIG_FILE = 'recipe-encoder.json';
const HEADS_FILE = 'recipe-heads.safetensors';
const ENCODER_DIR = 'encoder';
const FORMAT = 'recipe-kit/recipe-encoder@1';

/**
 * RECIPE's trainable retriever and prompt encoder: a text encoder f_rm with pooling, the knowledge
 * head MLP_K, the query head MLP_Q, the prompt head MLP_P and the knowledge sentinel Θ. Every method
 * is synchronous and differentiable, so a training step can call them inside `tf.variableGrads`.
 * Returned tensors belong to the caller.
 */
export class RecipeEncoder {
  readonly knowledgeHead: RepresentationHead;
  readonly queryHead: RepresentationHead;
  readonly promptHead: PromptHead;
  readonly sentinel: KnowledgeSentinel;

  private constructor(
    readonly encoder: SavableTextEncoder,
    readonly config: RecipeEncoderConfig,
    private readonly heads: VariableStore,
  ) {
    const features = 4 * encoder.width;
    this.knowledgeHead = new RepresentationHead(heads, 'knowledge_head', features, config.representationDim);
    this.queryHead = new RepresentationHead(heads, 'query_head', features, config.representationDim);
    this.promptHead = new PromptHead(heads, 'prompt_head', promptInputWidth(config, encoder.width), config.promptLength, config.llmWidth, config.promptNorm);
    this.sentinel = new KnowledgeSentinel(heads, 'sentinel', config.sentinelLength, encoder.width);
  }

  /** New heads and sentinel (seeded) around `encoder`, which the RecipeEncoder now owns. */
  static create(encoder: SavableTextEncoder, partial: Partial<RecipeEncoderConfig> & { llmWidth: number }): RecipeEncoder {
    const config = resolveRecipeEncoderConfig(partial);
    const heads = new VariableStore();
    const features = 4 * encoder.width;
    RepresentationHead.create(heads, 'knowledge_head', features, config.representationDim, config.seed);
    RepresentationHead.create(heads, 'query_head', features, config.representationDim, config.seed);
    PromptHead.create(heads, 'prompt_head', promptInputWidth(config, encoder.width), config.promptLength, config.llmWidth, config.seed, config.promptNorm);
    KnowledgeSentinel.create(heads, 'sentinel', config.sentinelLength, encoder.width, config.seed);
    return new RecipeEncoder(encoder, config, heads);
  }

  /** f_rm: pool(Enc(texts)) [n, 4·width] */
  encodeFeatures(texts: readonly string[]): tf.Tensor2D {
    return tf.tidy(() => poolEncodedText(this.encoder.encode(texts)));
  }

  /** r_k = MLP_K(f_rm(k)) [n, d_r] */
  knowledgeRepresentations(texts: readonly string[]): tf.Tensor2D {
    return tf.tidy(() => this.knowledgeHead.apply(this.encodeFeatures(texts)));
  }

  /**
   * r_k [n, d_r] and p_k = MLP_P(r_k) [n, l, d_llm]; with promptSource `target`, p_k = MLP_P(f_rm(target_k)),
   * which needs each fact's new target in `targets`.
   */
  encodeKnowledge(texts: readonly string[], targets?: readonly string[]): EncodedKnowledge {
    if (this.config.promptSource === 'target' && targets?.length !== texts.length) {
      throw new InvalidInputError(
        `This RECIPE encoder writes prompts from each fact's new target (promptSource "target"), but got ${targets ? targets.length : 'no'} targets for ${texts.length} knowledge texts.`,
        'Pass encodeKnowledge(texts, targets) with one target per text.',
      );
    }
    return tf.tidy(() => {
      const representations = this.knowledgeRepresentations(texts);
      const prompts = this.promptHead.apply(this.config.promptSource === 'target' ? this.encodeFeatures(targets ?? []) : representations);
      return { representations, prompts };
    });
  }

  /** r_q = MLP_Q(f_rm(q)) [n, d_r] */
  encodeQueries(texts: readonly string[]): tf.Tensor2D {
    return tf.tidy(() => this.queryHead.apply(this.encodeFeatures(texts)));
  }

  /** r_Θ = MLP_K(pool(Enc(Θ))) [1, d_r] */
  sentinelRepresentation(): tf.Tensor2D {
    return this.sentinel.representation(this.encoder, this.knowledgeHead);
  }

  /** Every trainable variable: `encoder.*`, `knowledge_head.*`, `query_head.*`, `prompt_head.*`, `sentinel`. */
  trainableVariables(): Map<string, tf.Variable> {
    const result = new Map<string, tf.Variable>();
    for (const [name, variable] of this.encoder.trainableVariables()) result.set(`encoder.${name}`, variable);
    for (const [name, variable] of this.heads.trainable()) result.set(name, variable);
    return result;
  }

  /**
   * A sha256 over the config and every trainable weight (names, shapes, float32 bytes, sorted by
   * name), as `sha256:<hex>`. Frozen weights (word vectors with trainWordVectors false) are covered
   * only through the config (they come from the pinned wink package). Representations stored in a knowledge repository are only valid for the
   * encoder with the same fingerprint.
   */
  async fingerprint(): Promise<string> {
    const hash = createHash('sha256');
    hash.update(JSON.stringify(this.describe()));
    const variables = [...this.trainableVariables()].sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0));
    for (const [name, variable] of variables) {
      hash.update(`${name}[${variable.shape.join(',')}]`);
      const data = (await variable.data()) as Float32Array;
      hash.update(new Uint8Array(data.buffer, data.byteOffset, data.byteLength));
    }
    return `sha256:${hash.digest('hex')}`;
  }

  /** Writes recipe-encoder.json (config, encoder kind + config, fingerprint), recipe-heads.safetensors and encoder/. */
  async save(dir: string): Promise<void> {
    await mkdir(dir, { recursive: true });
    await this.encoder.save(path.join(dir, ENCODER_DIR));
    await writeSafetensors(path.join(dir, HEADS_FILE), await this.heads.toNamedTensors());
    const content = { format: FORMAT, ...this.describe(), fingerprint: await this.fingerprint() };
    await writeFile(path.join(dir, CONFIG_FILE), `${JSON.stringify(content, null, 2)}\n`);
  }

  /**
   * Loads what `save` wrote and checks the fingerprint. A BERT/RoBERTa encoder without tokenizer
   * files in encoder/ needs `tokenizer`.
   */
  static async load(dir: string, options: { tokenizer?: EncoderTokenizer } = {}): Promise<RecipeEncoder> {
    const configFile = path.join(dir, CONFIG_FILE);
    const text = await readFile(configFile, 'utf8').catch((cause: unknown) => {
      throw new DataNotFoundError(`${configFile} is missing.`, 'Point to a directory written by RecipeEncoder.save().', { cause });
    });
    const saved = JSON.parse(text) as { format?: unknown; heads?: Partial<RecipeEncoderConfig> & { llmWidth: number }; encoder?: { kind?: unknown }; fingerprint?: unknown };
    if (saved.format !== FORMAT || !saved.heads || !saved.encoder) {
      throw new InvalidCheckpointError(`${configFile} is not a ${FORMAT} file.`, 'Point to a directory written by RecipeEncoder.save().');
    }
    const config = resolveRecipeEncoderConfig(saved.heads, configFile);
    const encoderDir = path.join(dir, ENCODER_DIR);
    let encoder: SavableTextEncoder;
    if (saved.encoder.kind === 'default') encoder = await DefaultEncoder.load(encoderDir);
    else if (saved.encoder.kind === 'bert') encoder = await BertEncoder.load(encoderDir, options.tokenizer ? { tokenizer: options.tokenizer } : {});
    else throw new InvalidConfigError(`${configFile}: encoder kind ${JSON.stringify(saved.encoder.kind)} is unknown.`, 'Use "default" or "bert".');

    const heads = new VariableStore();
    try {
      const stored = await readSafetensors(path.join(dir, HEADS_FILE));
      for (const [name, shape] of headWeightShapes(config, encoder.width)) {
        const tensor = stored.get(name);
        if (!tensor || tensor.shape.join() !== shape.join()) {
          throw new InvalidCheckpointError(
            `${path.join(dir, HEADS_FILE)} ${tensor ? `has "${name}" of shape [${tensor.shape.join(', ')}], expected [${shape.join(', ')}]` : `has no tensor "${name}"`}.`,
            'The heads file and recipe-encoder.json come from different saves.',
          );
        }
        heads.add(name, tf.tensor(tensor.data, shape));
      }
    } catch (error) {
      heads.dispose();
      encoder.dispose();
      throw error;
    }
    const result = new RecipeEncoder(encoder, config, heads);
    const fingerprint = await result.fingerprint();
    if (saved.fingerprint !== fingerprint) {
      result.dispose();
      throw new InvalidCheckpointError(
        `${dir}: weights do not match the fingerprint in ${CONFIG_FILE} (${String(saved.fingerprint)} saved, ${fingerprint} loaded).`,
        'A file was changed or replaced after saving: save the encoder again.',
      );
    }
    return result;
  }

  /**
   * Warm start: every trainable weight of `source` whose name and shape match one of ours overwrites
   * ours (e.g. a trained checkpoint's encoder layers and heads into an encoder that adds char n-grams),
   * except MLP_P when the two read different prompt sources. A source with another prompt length l gives
   * its MLP_P output layer too: new vector i starts as source vector i mod l (a longer prompt starts as the
   * trained one repeated, a shorter one as its first vectors), so training continues from prompts that work.
   * Returns which weights were copied and which keep their fresh initial values.
   */
  copyWeightsFrom(source: RecipeEncoder): { copied: string[]; fresh: string[] } {
    // Frozen word rows are not variables to copy: they are rebuilt from the encoder's seed, so both
    // encoders must have drawn them from the same one.
    const [mine, theirSettings] = [this.encoder.configJson(), source.encoder.configJson()];
    if (mine['trainWordVectors'] === false && mine['seed'] !== theirSettings['seed']) {
      throw new InvalidInputError(
        `A warm start into an encoder with frozen word vectors drawn from seed ${String(mine['seed'])} from one drawn from seed ${String(theirSettings['seed'])}: their special and hashed rows differ and are not copied.`,
        'Create the new encoder with the source encoder\'s seed.',
      );
    }
    const theirs = source.trainableVariables();
    const copied: string[] = [];
    const fresh: string[] = [];
    // MLP_P of another prompt source maps other inputs: even its same-shaped output bias would
    // carry the old prompts over, so the whole head starts fresh.
    const promptHeadKept = source.config.promptSource === this.config.promptSource;
    const lengths = { mine: this.config.promptLength, theirs: source.config.promptLength };
    const promptLengthChanged = lengths.mine !== lengths.theirs && this.config.llmWidth === source.config.llmWidth;
    for (const [name, variable] of this.trainableVariables()) {
      const other = promptHeadKept || !name.startsWith('prompt_head.') ? theirs.get(name) : undefined;
      if (other && other.shape.join() === variable.shape.join()) {
        variable.assign(other);
        copied.push(name);
      } else if (other && promptLengthChanged && name.startsWith('prompt_head.output.') && other.shape.slice(0, -1).join() === variable.shape.slice(0, -1).join()) {
        variable.assign(tf.tidy(() => cyclePromptVectors(other, lengths.theirs, lengths.mine, this.config.llmWidth)));
        copied.push(`${name} (${lengths.theirs} → ${lengths.mine} prompt vectors, repeated in turn)`);
      } else {
        fresh.push(name);
      }
    }
    return { copied, fresh };
  }

  /** Trainable parameters of the encoder, heads and sentinel. */
  parameterCount(): number {
    let total = 0;
    for (const [, variable] of this.trainableVariables()) total += variable.size;
    return total;
  }

  dispose(): void {
    this.heads.dispose();
    this.encoder.dispose();
  }

  private describe(): Record<string, unknown> {
    // Options at the spec's setting are left out, so checkpoints saved before them keep their fingerprints.
    const { promptSource, promptNorm, ...rest } = this.config;
    return {
      heads: { ...rest, ...(promptSource === 'representation' ? {} : { promptSource }), ...(promptNorm === 0 ? {} : { promptNorm }) },
      specRepresentationDim: RECIPE_SPEC_REPRESENTATION_DIM,
      encoder: { kind: this.encoder.kind, name: this.encoder.name, width: this.encoder.width, maxLength: this.encoder.maxLength, config: this.encoder.configJson() },
    };
  }

}

/** Names and shapes of the heads' and sentinel's weights (must agree with the classes' create()). */
export function headWeightShapes(config: RecipeEncoderConfig, encoderWidth: number): [string, number[]][] {
  const features = 4 * encoderWidth;
  const d = config.representationDim;
  const linear = (name: string, input: number, output: number): [string, number[]][] => [
    [`${name}.weight`, [input, output]],
    [`${name}.bias`, [output]],
  ];
  return [
    ...linear('knowledge_head.input', features, d),
    ...linear('knowledge_head.residual', d, d),
    ...linear('query_head.input', features, d),
    ...linear('query_head.residual', d, d),
    ...linear('prompt_head.residual', promptInputWidth(config, encoderWidth), promptInputWidth(config, encoderWidth)),
    ...linear('prompt_head.output', promptInputWidth(config, encoderWidth), config.promptLength * config.llmWidth),
    ['sentinel', [1, config.sentinelLength, encoderWidth]],
  ];
}

/** Width of MLP_P's input: d_r, or the pooled features 4·width with promptSource `target`. */
function promptInputWidth(config: RecipeEncoderConfig, encoderWidth: number): number {
  return config.promptSource === 'target' ? 4 * encoderWidth : config.representationDim;
}

/**
 * MLP_P's output weight [dim, l·d] or bias [l·d] of prompt length `from` as one of length `to`: output
 * vector i is the source's vector i mod `from`.
 */
function cyclePromptVectors(weight: tf.Tensor, from: number, to: number, llmWidth: number): tf.Tensor {
  const leading = weight.shape.slice(0, -1);
  const vectors = weight.reshape([...leading, from, llmWidth]);
  const order = tf.tensor1d(Array.from({ length: to }, (_, i) => i % from), 'int32');
  return tf.gather(vectors, order, leading.length).reshape([...leading, to * llmWidth]);
}
