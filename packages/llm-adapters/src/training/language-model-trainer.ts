import { existsSync } from 'node:fs';
import { mkdir, readFile, rename, rm, writeFile } from 'node:fs/promises';
import path from 'node:path';
import * as tf from '@tensorflow/tfjs';
import { InvalidInputError } from '@recipe-kit/core';
import { iterateSafetensors, writeSafetensors, type NamedTensor } from '../checkpoints/index.js';
import { loadModel, saveModel } from '../load-model.js';
import type { DecoderModel } from '../transformer/decoder-model.js';
import { AdamOptimizer } from '@recipe-kit/core';
import { cosineLearningRate } from './learning-rate-schedule.js';
import { createRandom } from '../transformer/sampling.js';

export interface TrainerOptions {
  steps: number;
  batchSize: number;
  learningRate: number;
  minLearningRate?: number;
  warmupSteps?: number;
  weightDecay?: number;
  clipNorm?: number;
  /** Orders the examples (a fresh seeded permutation per epoch). */
  seed: number;
}

export interface StepReport {
  step: number;
  loss: number;
  learningRate: number;
  gradientNorm: number;
  /** Target tokens in this step's batch. */
  tokens: number;
  seconds: number;
}

interface TrainerState {
  step: number;
  options: TrainerOptions;
  losses: number[];
}

const STATE_FILE = 'trainer-state.json';
const OPTIMIZER_FILE = 'optimizer.safetensors';

/**
 * Next-token training of a decoder on short examples (one example per row, padded): each row
 * starts at position 0 exactly as prompts do at inference. Deterministic for a seed, and resumable
 * bit-for-bit from a checkpoint (weights, AdamW moments and step).
 */
export class LanguageModelTrainer {
  readonly losses: number[] = [];
  private readonly optimizer: AdamOptimizer;
  private readonly variables: Map<string, tf.Variable>;

  constructor(
    readonly model: DecoderModel,
    private readonly examples: readonly (readonly number[])[],
    readonly options: TrainerOptions,
    /**
     * Per example, the index of the first token the loss scores (default 1: every next token).
     * Instruction tuning (LTE) scores only the answer, not the prompt it is conditioned on.
     */
    private readonly lossStarts?: readonly number[],
  ) {
    if (lossStarts && lossStarts.length !== examples.length) {
      throw new InvalidInputError(`${lossStarts.length} loss starts for ${examples.length} examples.`, 'Give one loss start per example.');
    }
    const badStart = lossStarts?.findIndex((start, i) => !Number.isInteger(start) || start < 1 || start >= (examples[i]?.length ?? 0)) ?? -1;
    if (badStart >= 0) throw new InvalidInputError(`Example ${badStart}'s loss start ${lossStarts?.[badStart]} leaves no token to score.`, 'Use 1 ≤ loss start < example length.');
    if (examples.length === 0) throw new InvalidInputError('The training corpus is empty.', 'Give at least one example.');
    const tooShort = examples.findIndex((example) => example.length < 2);
    if (tooShort >= 0) throw new InvalidInputError(`Training example ${tooShort} has fewer than 2 tokens.`, 'Drop empty lines from the corpus.');
    this.variables = model.trainableVariables();
    this.optimizer = new AdamOptimizer(this.variables, {
      beta2: 0.95,
      clipNorm: options.clipNorm ?? 1,
      ...(options.weightDecay !== undefined ? { weightDecay: options.weightDecay } : {}),
    });
  }

  get step(): number {
    return this.optimizer.step;
  }

  /** The example indices of a step: global position p = step·B + i walks seeded per-epoch permutations. */
  batchIndices(step: number): number[] {
    const count = this.examples.length;
    const indices: number[] = [];
    let cachedEpoch = -1;
    let permutation: number[] = [];
    for (let i = 0; i < this.options.batchSize; i++) {
      const position = step * this.options.batchSize + i;
      const epoch = Math.floor(position / count);
      if (epoch !== cachedEpoch) {
        permutation = seededPermutation(count, this.options.seed * 1_000_003 + epoch);
        cachedEpoch = epoch;
      }
      indices.push(permutation[position % count] as number);
    }
    return indices;
  }

  /** Runs one optimisation step on the next batch. */
  trainStep(): StepReport {
    const started = performance.now();
    const rows = this.batchIndices(this.step).map((i) => this.examples[i] as readonly number[]);
    const width = Math.max(...rows.map((row) => row.length)) - 1;
    const inputs = new Int32Array(rows.length * width);
    const targets = new Int32Array(rows.length * width);
    const mask = new Float32Array(rows.length * width);
    const lossMask = new Float32Array(rows.length * width);
    const vocabulary = this.model.vocabulary;
    const lossStarts = this.batchIndices(this.step).map((i) => this.lossStarts?.[i] ?? 1);
    rows.forEach((row, r) => {
      const stored = vocabulary ? vocabulary.storedIds(row) : [...row];
      for (let t = 0; t < row.length - 1; t++) {
        inputs[r * width + t] = row[t] as number;
        targets[r * width + t] = stored[t + 1] as number;
        mask[r * width + t] = 1;
        lossMask[r * width + t] = t + 1 >= (lossStarts[r] as number) ? 1 : 0;
      }
    });
    const tokens = lossMask.reduce((a, b) => a + b, 0);
    const storedSize = vocabulary ? vocabulary.size : this.model.dimensions.vocabSize;
    const variableList = [...this.variables.values()];
    const { value, grads } = tf.tidy(() => {
      const ids = tf.tensor2d(inputs, [rows.length, width], 'int32');
      const attentionMask = tf.tensor2d(mask, [rows.length, width]);
      const maskFlat = tf.tensor1d(lossMask);
      const targetRows = tf.oneHot(tf.tensor1d(targets, 'int32'), storedSize);
      return tf.variableGrads(() => {
        const logits = this.model.forward({ ids, attentionMask, compactLogits: true }).logits.reshape([rows.length * width, storedSize]);
        const nll = tf.neg(tf.sum(tf.mul(tf.logSoftmax(logits), targetRows), 1));
        return tf.div(tf.sum(tf.mul(nll, maskFlat)), tokens) as tf.Scalar;
      }, variableList);
    });
    const gradients = new Map<string, tf.Tensor>();
    for (const [name, variable] of this.variables) {
      const gradient = grads[variable.name];
      if (gradient) gradients.set(name, gradient);
    }
    const learningRate = cosineLearningRate(
      this.step + 1,
      this.options.steps,
      this.options.learningRate,
      this.options.minLearningRate ?? this.options.learningRate / 10,
      this.options.warmupSteps ?? 0,
    );
    const gradientNorm = this.optimizer.apply(gradients, learningRate);
    const loss = value.dataSync()[0] as number;
    tf.dispose([value, ...Object.values(grads)]);
    this.losses.push(loss);
    return { step: this.step, loss, learningRate, gradientNorm, tokens, seconds: (performance.now() - started) / 1000 };
  }

  /** Writes weights, optimizer moments and step; atomic (written beside, then renamed). */
  async saveCheckpoint(directory: string): Promise<void> {
    const temporary = `${directory}.partial`;
    await rm(temporary, { recursive: true, force: true });
    await mkdir(temporary, { recursive: true });
    await saveModel(this.model, path.join(temporary, 'model'));
    await writeSafetensors(path.join(temporary, OPTIMIZER_FILE), this.optimizer.stateTensors());
    const state: TrainerState = { step: this.step, options: this.options, losses: this.losses };
    await writeFile(path.join(temporary, STATE_FILE), JSON.stringify(state));
    await rm(directory, { recursive: true, force: true });
    await rename(temporary, directory);
  }

  /** Continues from a checkpoint written by `saveCheckpoint` with the same options. */
  static async resume(directory: string, examples: readonly (readonly number[])[], options: TrainerOptions, lossStarts?: readonly number[]): Promise<LanguageModelTrainer> {
    const state = JSON.parse(await readFile(path.join(directory, STATE_FILE), 'utf8')) as TrainerState;
    const { steps: _savedSteps, ...savedRest } = state.options;
    const { steps: _steps, ...rest } = options;
    if (JSON.stringify(savedRest) !== JSON.stringify(rest)) {
      throw new InvalidInputError(
        `The checkpoint in ${directory} was written with other training options (${JSON.stringify(savedRest)}).`,
        'Resume with the same options, or delete the checkpoint to start over.',
      );
    }
    const model = await loadModel(path.join(directory, 'model'));
    const trainer = new LanguageModelTrainer(model, examples, options, lossStarts);
    const tensors = new Map<string, NamedTensor>();
    for await (const [name, tensor] of iterateSafetensors(path.join(directory, OPTIMIZER_FILE))) tensors.set(name, tensor);
    trainer.optimizer.loadState(state.step, tensors);
    trainer.losses.push(...state.losses);
    return trainer;
  }

  static hasCheckpoint(directory: string): boolean {
    return existsSync(path.join(directory, STATE_FILE));
  }

  dispose(): void {
    this.optimizer.dispose();
  }
}

function seededPermutation(count: number, seed: number): number[] {
  const random = createRandom(seed);
  const order = Array.from({ length: count }, (_, i) => i);
  for (let i = count - 1; i > 0; i--) {
    const j = Math.floor(random() * (i + 1));
    [order[i], order[j]] = [order[j] as number, order[i] as number];
  }
  return order;
}
