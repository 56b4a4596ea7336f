import * as tf from '@tensorflow/tfjs';
import {
  AdamOptimizer,
  InvalidInputError,
  type CausalLanguageModel,
  type ContinuationScore,
  type EditRequest,
  type Editor,
  type ForwardHooks,
  type QueryContinuation,
} from '@recipe-kit/core';
import { editBatch, editPairs } from '../weight-edits/edit-pairs.js';
import { loadHookedEditState, saveHookedEditState } from '../weight-edits/hooked-edit-files.js';
import { mlpProjections } from '../weight-edits/mlp-projections.js';
import { maskedTargetNll } from '../weight-edits/target-losses.js';
import { concatNeurons, neuronTensors, neuronsFromNamed, neuronsToNamed, patchOutput, preActivations, zeroNeurons, type NeuronWeights } from './patch-neurons.js';

export interface TPatcherOptions {
  /** The layer that receives the neurons (spec: the last, L − 1). */
  layer: number;
  /** Adam steps per edit (UniEdit port: 75); training stops once the target loss is below 1e-2. */
  steps: number;
  learningRate: number;
  /** Weights of the activation loss L_a and the memory loss L_m (port: 0.1 each). */
  activationWeight: number;
  memoryWeight: number;
  /** Texts whose MLP inputs the new neurons must not fire on; default: sampled from the unedited model. */
  memoryTexts?: readonly string[];
  /**
   * Where L_a makes the new neuron fire: every position of the edit input (the decoder port), or
   * only the positions that predict target tokens (the original's act_loc), so that it does not
   * learn to fire on the prompt's template words shared with neighbouring facts. Default `all`.
   */
  activationPositions?: 'all' | 'target';
  seed?: number;
}

/** Openings from which memory texts are sampled (the seeds ROME's context templates use, spec §0.5). */
const MEMORY_OPENINGS = ['The', 'Therefore', 'Because', 'I', 'You'];

/**
 * T-Patcher (spec §8, decoder port): one zero-initialised neuron per edit appended to the MLP of
 * one layer, trained (the model frozen) with L = L_e + λ_a·L_a + λ_m·L_m: the target loss, exp(−z)
 * over the edit's positions so the neuron fires there, and exp(relu(z)) over a memory of MLP inputs
 * of unrelated texts and earlier edits so it stays silent elsewhere. The neurons act through hooks.
 */
export class TPatcherEditor implements Editor {
  readonly name = 't-patcher';
  private neurons: NeuronWeights;
  private memory: tf.Tensor2D | null = null;
  /** MLP inputs of the memory texts: they depend only on the unedited model, so restore keeps them. */
  private textMemory: tf.Tensor2D | null = null;
  private readonly gated: boolean;
  private edits = 0;

  constructor(readonly model: CausalLanguageModel, readonly options: TPatcherOptions) {
    mlpProjections(model, options.layer);
    this.gated = model.architecture === 'llama';
    this.neurons = zeroNeurons(model.dimensions.hiddenSize, 0, this.gated);
  }

  get editCount(): number {
    return this.edits;
  }

  /** Number of neurons added so far. */
  get neuronCount(): number {
    return this.neurons.upBias.shape[0];
  }

  async edit(requests: readonly EditRequest[]): Promise<void> {
    const pairs = editPairs(this.model, requests);
    this.textMemory ??= await this.initialMemory();
    this.memory ??= tf.clone(this.textMemory);
    for (const pair of pairs) {
      const inputs = this.mlpInputs(pair.input); // [S, hidden]
      const fresh = this.trainNeuron(pair, inputs);
      const joined = concatNeurons(this.neurons, fresh);
      tf.dispose([...neuronTensors(this.neurons), ...neuronTensors(fresh)]);
      this.neurons = joined;
      // Later neurons must not fire on this edit either (the original's memory update).
      const memory = tf.concat([this.memory, inputs]) as tf.Tensor2D;
      tf.dispose([this.memory, inputs]);
      this.memory = memory;
      this.edits += 1;
    }
  }

  async restore(): Promise<void> {
    tf.dispose(neuronTensors(this.neurons));
    this.neurons = zeroNeurons(this.model.dimensions.hiddenSize, 0, this.gated);
    this.memory?.dispose();
    this.memory = null;
    this.edits = 0;
  }

  scoreContinuations(requests: readonly QueryContinuation[]): ContinuationScore[] {
    if (this.neuronCount === 0) return this.model.scoreContinuations(requests);
    return this.model.scoreContinuations(requests, { hooks: this.patchHooks(this.neurons) });
  }

  async save(directory: string): Promise<void> {
    const details = { layer: this.options.layer, gated: this.gated };
    await saveHookedEditState(directory, this.name, this.model, { editCount: this.edits, tensors: neuronsToNamed(this.neurons), details });
  }

  async load(directory: string): Promise<void> {
    const state = await loadHookedEditState(directory, this.name, this.model);
    const details = state.details as { layer?: unknown };
    const neurons = details.layer === this.options.layer ? neuronsFromNamed(state.tensors, this.gated) : null;
    if (!neurons) {
      throw new InvalidInputError(
        `${directory} holds T-Patcher neurons for layer ${String(details.layer)}, or damaged ones; this editor patches layer ${this.options.layer}.`,
        `Load it with --editor-option layer=${String(details.layer)}, or save it again.`,
      );
    }
    await this.restore();
    tf.dispose(neuronTensors(this.neurons));
    this.neurons = neurons;
    this.edits = state.editCount;
  }

  dispose(): void {
    tf.dispose(neuronTensors(this.neurons));
    tf.dispose([this.memory, this.textMemory].filter((m): m is tf.Tensor2D => m !== null));
    this.memory = null;
    this.textMemory = null;
  }

  /** Hooks that add the neurons' output to the patched layer's MLP output. */
  private patchHooks(neurons: NeuronWeights, extra?: (input: tf.Tensor3D) => tf.Tensor3D): ForwardHooks {
    let input: tf.Tensor3D | null = null;
    return {
      mlpInput: (layer, x) => void (layer === this.options.layer && (input = x)),
      mlpOutput: (layer, output) => {
        if (layer !== this.options.layer || !input) return;
        // No neurons yet: skip the empty matMul (XNNPACK refuses zero-width layers).
        const added = neurons.upBias.shape[0] === 0 ? output : (tf.add(output, patchOutput(input, neurons)) as tf.Tensor3D);
        return extra ? (tf.add(added, extra(input)) as tf.Tensor3D) : added;
      },
    };
  }

  /** The patched layer's MLP inputs at every position of `ids`: [S, hidden] (constant while training). */
  private mlpInputs(ids: readonly number[]): tf.Tensor2D {
    let captured: tf.Tensor2D | null = null;
    tf.tidy(() => {
      this.model.forward({
        ids: tf.tensor2d([ids as number[]], undefined, 'int32'),
        compactLogits: true,
        logitPositions: [0], // only the hook's capture is read
        hooks: { mlpInput: (layer, x) => void (layer === this.options.layer && (captured = tf.keep(x.squeeze([0]) as tf.Tensor2D))) },
      });
    });
    if (!captured) throw new Error(`The model did not call the mlpInput hook of layer ${this.options.layer}.`);
    return captured;
  }

  /** MLP inputs of the memory texts: the given ones, or four samples from each opening (seeded). */
  private async initialMemory(): Promise<tf.Tensor2D> {
    let texts = this.options.memoryTexts;
    if (!texts) {
      const sampled: string[] = [];
      for (const [i, opening] of MEMORY_OPENINGS.entries()) {
        for (let k = 0; k < 4; k++) {
          const prompt = this.model.tokenizer.encode(opening, { addBos: true });
          const result = await this.model.generate(prompt, { maxTokens: 10, temperature: 1, seed: (this.options.seed ?? 0) * 1000 + i * 10 + k });
          sampled.push(`${opening}${result.text.startsWith(' ') || result.text === '' ? '' : ' '}${result.text}`);
        }
      }
      texts = sampled;
    }
    const rows = texts.map((text) => this.mlpInputs(this.model.tokenizer.encode(text, { addBos: true })));
    const memory = tf.concat(rows) as tf.Tensor2D;
    tf.dispose(rows);
    return memory;
  }

  /** Trains one zero-initialised neuron for the edit, the earlier neurons frozen. */
  private trainNeuron(pair: ReturnType<typeof editPairs>[number], inputs: tf.Tensor2D): NeuronWeights {
    const batch = editBatch(this.model, [pair]);
    const fresh = zeroNeurons(this.model.dimensions.hiddenSize, 1, this.gated);
    const variables = new Map(Object.entries(fresh).map(([name, tensor]) => [name, tf.variable(tensor as tf.Tensor, true)]));
    tf.dispose(neuronTensors(fresh));
    const trained = Object.fromEntries(variables) as unknown as NeuronWeights;
    const optimizer = new AdamOptimizer(variables);
    const memory = this.memory as tf.Tensor2D;
    const hooks = this.patchHooks(this.neurons, (x) => patchOutput(x, trained));
    const { activationWeight, memoryWeight } = this.options;
    try {
      for (let step = 0; step < this.options.steps; step++) {
        let targetLoss = 0;
        const { value, grads } = tf.variableGrads(() => {
          const edit = maskedTargetNll(this.model.forward({ ids: batch.ids, compactLogits: true, hooks }).logits, batch);
          targetLoss = edit.dataSync()[0] as number;
          const firing = this.options.activationPositions === 'target' ? inputs.slice([pair.firstScored, 0], [-1, -1]) : inputs;
          const onEdit = preActivations(firing, trained);
          const onMemory = preActivations(memory, trained);
          const activation = [onEdit.up, onEdit.gate].filter((z): z is tf.Tensor => z !== undefined).map((z) => tf.mean(tf.exp(tf.neg(z))));
          const silence = [onMemory.up, onMemory.gate].filter((z): z is tf.Tensor => z !== undefined).map((z) => tf.mean(tf.exp(tf.relu(z))));
          return tf.addN([edit, tf.mul(activationWeight, tf.addN(activation)), tf.mul(memoryWeight, tf.addN(silence))]) as tf.Scalar;
        }, [...variables.values()]);
        value.dispose();
        if (targetLoss < 1e-2) {
          tf.dispose(grads);
          break;
        }
        optimizer.apply(new Map([...variables].map(([name, variable]) => [name, grads[variable.name] as tf.Tensor])), this.options.learningRate);
        tf.dispose(grads);
      }
      return tf.tidy(() => Object.fromEntries([...variables].map(([name, variable]) => [name, tf.clone(variable)])) as unknown as tf.TensorContainerObject) as unknown as NeuronWeights;
    } finally {
      tf.dispose([...variables.values()]);
      optimizer.dispose();
      batch.dispose();
    }
  }
}
