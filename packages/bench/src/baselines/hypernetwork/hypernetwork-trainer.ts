import { mkdir, readFile, rename, writeFile } from 'node:fs/promises';
import path from 'node:path';
import * as tf from '@tensorflow/tfjs';
import {
  AdamOptimizer,
  createRandom,
  DataNotFoundError,
  InvalidCheckpointError,
  InvalidInputError,
  PairTokenizer,
  readSafetensors,
  writeSafetensors,
  type CausalLanguageModel,
  type EditRequest,
} from '@recipe-kit/core';
import type { GradientDecompositionNetwork } from './gradient-decomposition-network.js';

export interface HypernetworkTrainingHyperparameters {
  /** Training edits per meta-step (MEND: accumulated one-edit steps; MALMEN: edits solved together). */
  editsPerStep: number;
  /** Adam learning rate of the hypernetwork's blocks. */
  learningRate: number;
  /** Adam learning rate of the per-layer scalars (MEND lr_lr; MALMEN uses the same as the blocks in the reference). */
  scalarLearningRate: number;
  /** Weight of the edit loss (MEND cedit). */
  editWeight: number;
  /** Weight of the locality KL (MEND cloc, MALMEN loc_coef). */
  localityWeight: number;
  /** Global gradient-norm clip (MEND 100, MALMEN 1). */
  clipNorm: number;
  seed: number;
}

/** One meta-step's numbers, for the progress line and training-log.jsonl. */
export interface HypernetworkStepReport {
  step: number;
  loss: number;
  /** Edit NLL of the new target after the edit (edit prompts and rephrases). */
  edit: number;
  /** KL(unedited ‖ edited) on locality prompts. */
  locality: number;
  /** Token accuracy of the new target after the edit (edit prompts and rephrases). */
  editAccuracy: number;
  /** Agreement with the unedited model's argmax on locality prompts. */
  localityAgreement: number;
  seconds: number;
}

export interface StepGradients {
  terms: Omit<HypernetworkStepReport, 'step' | 'seconds'>;
  /** Gradients by variable name of the network; the caller disposes them. */
  gradients: Map<string, tf.Tensor>;
}

const STATE_FILE = 'trainer-state.json';
const OPTIMIZER_FILE = 'optimizer.safetensors';
const STATE_FORMAT = 'recipe-kit/hypernetwork-trainer-state@1';

/** A seed for (seed, stream, index): different streams for epochs and steps, stable across runs and resumes. */
export function streamSeed(seed: number, stream: number, index: number): number {
  return (Math.imul(seed ^ 0x2545f491, 0x9e3779b1) + Math.imul(stream, 0x85ebca77) + Math.imul(index, 0xc2b2ae3d)) | 0;
}

/**
 * Meta-training shared by MEND and MALMEN: training edits drawn without replacement per epoch
 * (seeded), the LLM frozen, Adam on the hypernetwork (blocks and per-layer scalars as two groups),
 * checkpoints that resume the same run. Each method supplies one step's gradients.
 */
export abstract class HypernetworkTrainer {
  readonly hyperparameters: HypernetworkTrainingHyperparameters;
  protected readonly pairs: PairTokenizer;
  private readonly optimizer: AdamOptimizer;
  private order: { epoch: number; permutation: number[] } = { epoch: -1, permutation: [] };

  constructor(
    protected readonly model: CausalLanguageModel,
    readonly network: GradientDecompositionNetwork,
    protected readonly requests: readonly EditRequest[],
    hyperparameters: HypernetworkTrainingHyperparameters,
  ) {
    this.hyperparameters = hyperparameters;
    network.checkModel(model, 'The hypernetwork');
    requests.forEach((request, index) => {
      if (request.generality.length === 0 || request.locality.length === 0) {
        throw new InvalidInputError(
          `Training request ${index} (id ${request.id}) has ${request.generality.length} rephrase and ${request.locality.length} locality prompts.`,
          `${network.config.method.toUpperCase()} trains on edits with at least one of each; filter the training split.`,
        );
      }
    });
    if (requests.length < hyperparameters.editsPerStep) {
      throw new InvalidInputError(`${requests.length} training edits are fewer than one step of ${hyperparameters.editsPerStep}.`, 'Give more training edits or a smaller --edits-per-step.');
    }
    this.pairs = new PairTokenizer(model.tokenizer);
    this.optimizer = new AdamOptimizer(network.variables, { clipNorm: hyperparameters.clipNorm });
  }

  get step(): number {
    return this.optimizer.step;
  }

  /** The training edits of meta-step `step`: consecutive slices of seeded per-epoch permutations. */
  stepRequests(step: number): EditRequest[] {
    const { editsPerStep, seed } = this.hyperparameters;
    const count = this.requests.length;
    return Array.from({ length: editsPerStep }, (_, i) => {
      const position = step * editsPerStep + i;
      const epoch = Math.floor(position / count);
      if (this.order.epoch !== epoch) {
        const random = createRandom(streamSeed(seed, 1, epoch));
        const permutation = Array.from({ length: count }, (_, k) => k);
        for (let k = count - 1; k > 0; k--) {
          const j = Math.floor(random() * (k + 1));
          [permutation[k], permutation[j]] = [permutation[j] as number, permutation[k] as number];
        }
        this.order = { epoch, permutation };
      }
      return this.requests[this.order.permutation[position % count] as number] as EditRequest;
    });
  }

  /** The method's gradients for one step's edits; `random` picks rephrase and locality prompts. */
  protected abstract stepGradients(requests: readonly EditRequest[], random: () => number): StepGradients;

  trainStep(): HypernetworkStepReport {
    const started = performance.now();
    const step = this.optimizer.step;
    const { terms, gradients } = this.stepGradients(this.stepRequests(step), createRandom(streamSeed(this.hyperparameters.seed, 2, step)));
    try {
      const { learningRate, scalarLearningRate } = this.hyperparameters;
      this.optimizer.apply(gradients, (name) => (name.startsWith('scalar.') ? scalarLearningRate : learningRate));
    } finally {
      tf.dispose([...gradients.values()]);
    }
    return { step: this.optimizer.step, ...terms, seconds: (performance.now() - started) / 1000 };
  }

  /** Writes the network, the optimizer moments and the step to `directory`. */
  async saveCheckpoint(directory: string, extra: Record<string, unknown> = {}): Promise<void> {
    await mkdir(directory, { recursive: true });
    await this.network.save(directory);
    await writeSafetensors(path.join(directory, OPTIMIZER_FILE), this.optimizer.stateTensors());
    const file = path.join(directory, STATE_FILE);
    await writeFile(`${file}.tmp`, `${JSON.stringify({ format: STATE_FORMAT, step: this.optimizer.step, hyperparameters: this.hyperparameters, requests: this.requests.length, ...extra }, null, 2)}\n`);
    await rename(`${file}.tmp`, file);
  }

  /** Restores the optimizer and step from a checkpoint whose network the caller loaded; returns its extra fields. */
  async resumeFrom(directory: string): Promise<Record<string, unknown>> {
    const file = path.join(directory, STATE_FILE);
    const text = await readFile(file, 'utf8').catch((cause: unknown) => {
      throw new DataNotFoundError(`${file} is missing, so ${directory} is not a hypernetwork training checkpoint.`, 'Resume from a directory written during train-mend / train-malmen (it has trainer-state.json).', { cause });
    });
    const state = JSON.parse(text) as { format?: unknown; step?: unknown; hyperparameters?: Partial<HypernetworkTrainingHyperparameters> };
    if (state.format !== STATE_FORMAT || typeof state.step !== 'number') throw new InvalidCheckpointError(`${file} is not a ${STATE_FORMAT} file.`, 'Resume from a directory written during train-mend / train-malmen.');
    for (const key of ['editsPerStep', 'seed'] as const) {
      if (state.hyperparameters?.[key] !== this.hyperparameters[key]) {
        throw new InvalidCheckpointError(`${file}: ${key} was ${String(state.hyperparameters?.[key])}, now ${String(this.hyperparameters[key])}.`, `Resume with the same ${key}, or start a new run (--no-resume).`);
      }
    }
    this.optimizer.loadState(state.step, await readSafetensors(path.join(directory, OPTIMIZER_FILE)));
    return state as Record<string, unknown>;
  }

  dispose(): void {
    this.optimizer.dispose();
  }
}
