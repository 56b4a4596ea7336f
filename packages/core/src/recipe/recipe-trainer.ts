import { mkdir, readFile, rename, writeFile } from 'node:fs/promises';
import path from 'node:path';
import * as tf from '@tensorflow/tfjs';
import { readSafetensors } from '../checkpoints/read-safetensors.js';
import { writeSafetensors } from '../checkpoints/write-safetensors.js';
import type { CausalLanguageModel } from '../contracts/causal-language-model.js';
import type { EditRequest, Probe } from '../contracts/edit-request.js';
import { DataNotFoundError, InvalidCheckpointError, InvalidInputError, UnsupportedCapabilityError } from '../errors.js';
import { createRandom } from '../random.js';
import { AdamOptimizer } from '../training/adam-optimizer.js';
import { epochOrder } from './epoch-order.js';
import { knowledgeText } from './knowledge-text.js';
import type { RecipeRetrieverModel } from './recipe-components.js';
import { RECIPE_TRAINING_DEFAULTS, resolveTrainingHyperparameters, type RecipeTrainingHyperparameters } from './recipe-hyperparameters.js';
import { contrastiveTerms, hingeTokenNll, localityKl } from './recipe-losses.js';
import { buildPairBatch, outputColumns, PairTokenizer, type TokenizedPair } from './training-batch.js';

/** Every term of one step, as plain numbers. */
export interface RecipeStepReport {
  step: number;
  loss: number;
  reliability: number;
  generality: number;
  locality: number;
  /** (a) + (b) + (c) */
  contrastive: number;
  queryToKnowledge: number;
  queryToSentinel: number;
  localityToSentinel: number;
  seconds: number;
}

export interface RecipeTrainerOptions {
  /** The frozen LLM (its weights are never trained). */
  model: CausalLanguageModel;
  /** The trainable retriever and prompt encoder. */
  retriever: RecipeRetrieverModel;
  /** Training edits; each needs at least one generality and one locality probe. */
  requests: readonly EditRequest[];
  hyperparameters?: Partial<RecipeTrainingHyperparameters>;
}

const STATE_FILE = 'trainer-state.json';
const OPTIMIZER_FILE = 'optimizer.safetensors';
const STATE_FORMAT = 'recipe-kit/recipe-trainer-state@1';

/** A seed for (seed, index) pairs: different streams for epochs and steps, stable across runs. */
function derivedSeed(seed: number, stream: number, index: number): number {
  return (Math.imul(seed ^ 0x9e3779b9, 0x85ebca6b) + Math.imul(stream, 0xc2b2ae35) + Math.imul(index, 0x27d4eb2f)) | 0;
}

/**
 * RECIPE's joint training (spec §3): the retriever (encoder, MLP_K, MLP_Q, sentinel) and prompt
 * encoder MLP_P learn from hinge NLLs through the frozen LLM (reliability, generality), a KL that
 * keeps unrelated prompts harmless (locality), and three sentinel-contrastive terms. Every random
 * choice is derived from (seed, step), so resuming from a checkpoint continues the same run.
 */
export class RecipeTrainer {
  readonly hyperparameters: RecipeTrainingHyperparameters;
  private readonly optimizer: AdamOptimizer;
  private readonly variables: Map<string, tf.Variable>;
  private readonly pairs: PairTokenizer;
  private readonly columns: Map<number, number> | null;
  private readonly requests: readonly EditRequest[];
  private permutation: { epoch: number; order: number[] } = { epoch: -1, order: [] };

  constructor(private readonly options: RecipeTrainerOptions) {
    const { model, retriever, requests } = options;
    this.hyperparameters = resolveTrainingHyperparameters(options.hyperparameters);
    if (!model.capabilities.inputEmbeddings || !model.capabilities.trainable) {
      throw new UnsupportedCapabilityError(
        `RECIPE training needs a model that takes a continuous prefix and passes gradients; ${model.architecture} does not.`,
        'Use a LLaMA or GPT-J adapter from @recipe-kit/llm-adapters.',
      );
    }
    if (retriever.config.llmWidth !== model.dimensions.hiddenSize) {
      throw new InvalidInputError(
        `The prompt head writes prompts of width ${retriever.config.llmWidth}, but the model's hidden size is ${model.dimensions.hiddenSize}.`,
        'Create the retriever with llmWidth equal to the model hidden size.',
      );
    }
    requests.forEach((request, index) => {
      if (request.generality.length === 0 || request.locality.length === 0) {
        throw new InvalidInputError(
          `Training request ${index} (id ${request.id}) has ${request.generality.length} generality and ${request.locality.length} locality probes.`,
          'RECIPE trains on records with at least one of each; filter the training split.',
        );
      }
    });
    if (requests.length < this.hyperparameters.batchSize) {
      throw new InvalidInputError(`${requests.length} training requests are fewer than one batch of ${this.hyperparameters.batchSize}.`, 'Give more training requests or a smaller batchSize.');
    }
    this.requests = requests;
    this.variables = retriever.trainableVariables();
    this.optimizer = new AdamOptimizer(this.variables);
    this.pairs = new PairTokenizer(model.tokenizer);
    this.columns = outputColumns(model);
  }

  get step(): number {
    return this.optimizer.step;
  }

  /** The requests of a step: consecutive slices of per-epoch orders (without replacement; see epochOrder for relationGroupSize). */
  batchRequests(step: number): EditRequest[] {
    const { batchSize, seed, relationGroupSize } = this.hyperparameters;
    const count = this.requests.length;
    return Array.from({ length: batchSize }, (_, i) => {
      const position = step * batchSize + i;
      const epoch = Math.floor(position / count);
      if (this.permutation.epoch !== epoch) {
        const order = epochOrder(this.requests, relationGroupSize, createRandom(derivedSeed(seed, 1, epoch)));
        this.permutation = { epoch, order };
      }
      return this.requests[this.permutation.order[position % count] as number] as EditRequest;
    });
  }

  /** One optimizer step on the next batch. */
  trainStep(): RecipeStepReport {
    const started = performance.now();
    const { loss, terms, gradients } = this.batchGradients(this.optimizer.step);
    try {
      const { learningRate, promptLearningRate } = this.hyperparameters;
      // Two parameter groups, as the reference: the prompt head MLP_P, and everything else.
      this.optimizer.apply(gradients, (name) => (promptLearningRate !== null && name.startsWith('prompt_head.') ? promptLearningRate : learningRate));
    } finally {
      tf.dispose([...gradients.values()]);
    }
    return {
      step: this.optimizer.step,
      loss,
      reliability: terms['reliability'] ?? 0,
      generality: terms['generality'] ?? 0,
      locality: terms['locality'] ?? 0,
      contrastive: terms['contrastive'] ?? 0,
      queryToKnowledge: terms['queryToKnowledge'] ?? 0,
      queryToSentinel: terms['queryToSentinel'] ?? 0,
      localityToSentinel: terms['localityToSentinel'] ?? 0,
      seconds: (performance.now() - started) / 1000,
    };
  }

  /**
   * The total loss of step `step`'s batch, each term, and the gradient of every trainable variable
   * (by our names), without applying them. The caller disposes the gradients.
   */
  batchGradients(step: number): { loss: number; terms: Record<string, number>; gradients: Map<string, tf.Tensor> } {
    const { model, retriever } = this.options;
    const h = this.hyperparameters;
    const batch = this.batchRequests(step);
    const random = createRandom(derivedSeed(h.seed, 2, step));
    const pick = (probes: readonly Probe[]): Probe => probes[Math.floor(random() * probes.length)] as Probe;
    const generality = batch.map((request) => pick(request.generality));
    const locality = batch.map((request) => pick(request.locality));
    // Role swap: q1 is the reliability or the generality query with probability 1/2 each.
    const swap = batch.map(() => random() < 0.5);
    const firstQueries = batch.map((request, i) => (swap[i] ? (generality[i] as Probe).prompt : request.prompt));
    const secondQueries = batch.map((request, i) => (swap[i] ? request.prompt : (generality[i] as Probe).prompt));
    const knowledge = batch.map((request) => knowledgeText(request.prompt, request.targetNew));

    const pairs: TokenizedPair[] = [
      ...batch.map((request) => this.pairs.pair(request.prompt, request.targetNew)),
      ...generality.map((probe, i) => this.pairs.pair(probe.prompt, (batch[i] as EditRequest).targetNew)),
      ...locality.map((probe) => this.pairs.pair(probe.prompt, probe.target)),
    ];
    const tokens = buildPairBatch(model, pairs, this.columns);
    const size = batch.length;
    const rows = (tensor: tf.Tensor2D, group: number): tf.Tensor2D => tensor.slice([group * size, 0], [size, tensor.shape[1]]);
    const terms: Record<string, number> = {};
    // With the three LLM terms weighted 0 (a retriever-only phase) the frozen LLM is not run at all:
    // the step costs only the text encoder, so batches of hundreds of contrastive negatives are cheap.
    const usesLlm = h.reliabilityWeight > 0 || h.generalityWeight > 0 || h.localityWeight > 0;
    try {
      // The unedited model's locality logits: no prompt, no gradient.
      const reference = usesLlm ? tf.tidy(() => model.forward({ ids: rows(tokens.ids, 2), compactLogits: true }).logits) : null;
      const { value, grads } = tf.variableGrads(() => {
        const queries = retriever.encodeQueries([...firstQueries, ...secondQueries, ...locality.map((probe) => probe.prompt)]); // [3B, d_r]
        const encoded = retriever.encodeKnowledge(knowledge, batch.map((request) => request.targetNew)); // r_k [B, d_r], p_k [B, l, d_llm]
        const contrastive = contrastiveTerms(
          {
            firstQueries: rows(queries, 0),
            secondQueries: rows(queries, 1),
            localityQueries: rows(queries, 2),
            knowledge: encoded.representations,
            sentinel: retriever.sentinelRepresentation(),
          },
          { queryKnowledgeTemperature: h.queryKnowledgeTemperature, queryPrototypeTemperature: h.queryPrototypeTemperature, hingeScale: h.contrastiveHingeScale, epsilon: h.epsilon },
        );
        const contrastiveSum = tf.addN([contrastive.queryToKnowledge, contrastive.queryToSentinel, contrastive.localityToSentinel]);
        const record = (values: Record<string, tf.Tensor>): void => {
          for (const [name, tensor] of Object.entries(values)) terms[name] = tensor.dataSync()[0] as number;
        };
        record({ contrastive: contrastiveSum, ...contrastive });
        if (reference === null) return tf.mul(contrastiveSum, h.contrastiveWeight) as tf.Scalar;
        // One LLM pass over [reliability; generality; locality] rows, each with its own example's prompt.
        const prefix = tf.concat([encoded.prompts, encoded.prompts, encoded.prompts], 0) as tf.Tensor3D;
        const logits = model.forward({ ids: tokens.ids, prefix, compactLogits: true }).logits; // [3B, L, V]
        const group = (k: number): tf.Tensor3D => logits.slice([k * size, 0, 0], [size, logits.shape[1], logits.shape[2]]);
        const reliability = hingeTokenNll(group(0), rows(tokens.labels, 0), rows(tokens.mask, 0), h.editHingeScale, h.epsilon);
        const generalityLoss = hingeTokenNll(group(1), rows(tokens.labels, 1), rows(tokens.mask, 1), h.editHingeScale, h.epsilon);
        const localityLoss = localityKl(group(2), reference, rows(tokens.mask, 2));
        record({ reliability, generality: generalityLoss, locality: localityLoss });
        return tf.addN([
          tf.mul(reliability, h.reliabilityWeight),
          tf.mul(generalityLoss, h.generalityWeight),
          tf.mul(localityLoss, h.localityWeight),
          tf.mul(contrastiveSum, h.contrastiveWeight),
        ]) as tf.Scalar;
      }, [...this.variables.values()]);
      reference?.dispose();
      const loss = value.dataSync()[0] as number;
      value.dispose();
      const byName = new Map<string, tf.Tensor>();
      for (const [name, variable] of this.variables) {
        const gradient = grads[variable.name];
        if (gradient) byName.set(name, gradient);
      }
      return { loss, terms, gradients: byName };
    } finally {
      tokens.dispose();
    }
  }

  /** Writes the retriever, the optimizer moments and the step to `directory` (atomic per file). */
  async saveCheckpoint(directory: string, extra: Record<string, unknown> = {}): Promise<void> {
    await mkdir(directory, { recursive: true });
    await this.options.retriever.save(directory);
    await writeSafetensors(path.join(directory, OPTIMIZER_FILE), this.optimizer.stateTensors());
    const state = { format: STATE_FORMAT, step: this.optimizer.step, hyperparameters: this.hyperparameters, requests: this.requests.length, fingerprint: await this.options.retriever.fingerprint(), ...extra };
    const file = path.join(directory, STATE_FILE);
    await writeFile(`${file}.tmp`, `${JSON.stringify(state, null, 2)}\n`);
    await rename(`${file}.tmp`, file);
  }

  /**
   * Restores the optimizer and step from a checkpoint whose retriever weights the caller has loaded
   * (the fingerprint must match). Returns the extra fields saved with it.
   */
  async resumeFrom(directory: string): Promise<Record<string, unknown>> {
    const file = path.join(directory, STATE_FILE);
    const text = await readFile(file, 'utf8').catch((cause: unknown) => {
      throw new DataNotFoundError(`${file} is missing, so ${directory} is not a RECIPE training checkpoint.`, 'Resume from a directory written during train-recipe (it has trainer-state.json).', { cause });
    });
    const state = JSON.parse(text) as Record<string, unknown>;
    if (state['format'] !== STATE_FORMAT || typeof state['step'] !== 'number') {
      throw new InvalidCheckpointError(`${file} is not a ${STATE_FORMAT} file.`, 'Resume from a directory written during train-recipe.');
    }
    const saved = state['hyperparameters'] as Partial<RecipeTrainingHyperparameters> | undefined;
    for (const key of ['batchSize', 'seed', 'relationGroupSize'] as const) {
      if (saved && (saved[key] ?? RECIPE_TRAINING_DEFAULTS[key]) !== this.hyperparameters[key]) {
        throw new InvalidCheckpointError(`${file}: ${key} was ${String(saved[key])}, now ${String(this.hyperparameters[key])}.`, `Resume with the same ${key}, or start a new run.`);
      }
    }
    const fingerprint = await this.options.retriever.fingerprint();
    if (state['fingerprint'] !== fingerprint) {
      throw new InvalidCheckpointError(`${directory}: the loaded retriever's fingerprint ${fingerprint} is not the one saved with the optimizer state (${String(state['fingerprint'])}).`, 'Load the retriever from the same checkpoint directory.');
    }
    this.optimizer.loadState(state['step'], await readSafetensors(path.join(directory, OPTIMIZER_FILE)));
    return state;
  }

  dispose(): void {
    this.optimizer.dispose();
  }
}
