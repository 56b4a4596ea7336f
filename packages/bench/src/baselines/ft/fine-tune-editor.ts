import * as tf from '@tensorflow/tfjs';
import { AdamOptimizer, type EditRequest, type CausalLanguageModel } from '@recipe-kit/core';
import { editBatch, editPairs } from '../weight-edits/edit-pairs.js';
import { mlpProjections } from '../weight-edits/mlp-projections.js';
import { maskedTargetNll, promptLastNll } from '../weight-edits/target-losses.js';
import { WeightEditor } from '../weight-edits/weight-editor.js';

/** FT-L scores every target token at the last prompt position; FT-M is masked teacher forcing. */
export type FineTuneObjective = 'prompt-last' | 'target-new';

export interface FineTuneOptions {
  objective: FineTuneObjective;
  /** The layer whose MLP output projection (and GPT-J's bias) is trained. */
  layer: number;
  /** Adam steps per edit call (spec: 25). */
  steps: number;
  /** Adam learning rate (spec: 5e-4). */
  learningRate: number;
  /** L∞ box around the weights before the edit call (FT-L of ROME/MEMIT); 0 = none. */
  normConstraint: number;
  /** Stop when the loss falls below this (spec: 1e-2). */
  stopLoss?: number;
}

/**
 * Fine-tuning baselines (spec §3): only one layer's MLP output projection is trained, with Adam,
 * on all requests of an edit call at once, for at most `steps` steps, stopping once the loss is
 * below 1e-2; with a norm constraint every element stays within ε of its value before the call.
 */
export class FineTuneEditor extends WeightEditor {
  readonly name: string;

  constructor(model: CausalLanguageModel, readonly options: FineTuneOptions) {
    super(model);
    this.name = options.objective === 'prompt-last' ? 'ft-l' : 'ft-m';
    mlpProjections(model, options.layer);
  }

  protected async applyEdits(requests: readonly EditRequest[]): Promise<void> {
    const pairs = editPairs(this.model, requests);
    const batch = editBatch(this.model, pairs);
    const projections = mlpProjections(this.model, this.options.layer);
    const names = [projections.output, ...(projections.outputBias ? [projections.outputBias] : [])];
    // The model reads the variables while training; the box is taken around the weights before this call.
    const before = new Map(names.map((name) => [name, tf.clone(this.model.getWeight(name))]));
    const variables = new Map(names.map((name) => [name, tf.variable(this.model.getWeight(name), true)]));
    for (const [name, variable] of variables) this.state.set(name, variable);
    const optimizer = new AdamOptimizer(variables);
    const positions = pairs.map((pair) => pair.firstScored);
    const { objective, steps, learningRate, normConstraint, stopLoss = 1e-2 } = this.options;
    try {
      for (let step = 0; step < steps; step++) {
        const { value, grads } = tf.variableGrads(() => {
          const logits = this.model.forward({ ids: batch.ids, compactLogits: true }).logits;
          return objective === 'prompt-last' ? promptLastNll(logits, batch, positions) : maskedTargetNll(logits, batch);
        }, [...variables.values()]);
        const loss = value.dataSync()[0] as number;
        value.dispose();
        if (loss < stopLoss) {
          tf.dispose(grads);
          break;
        }
        const gradients = new Map([...variables].map(([name, variable]) => [name, grads[variable.name] as tf.Tensor]));
        optimizer.apply(gradients, learningRate);
        tf.dispose(grads);
        if (normConstraint > 0) {
          for (const [name, variable] of variables) {
            const origin = before.get(name) as tf.Tensor;
            tf.tidy(() => variable.assign(tf.minimum(tf.maximum(variable, tf.sub(origin, normConstraint)), tf.add(origin, normConstraint))));
          }
        }
      }
    } finally {
      // Plain tensors replace the variables (which setWeight disposes).
      for (const [name, variable] of variables) this.state.set(name, tf.clone(variable));
      optimizer.dispose();
      batch.dispose();
      tf.dispose([...before.values()]);
    }
  }
}
