import * as tf from '@tensorflow/tfjs';
import type { EditRequest } from '@recipe-kit/core';
import { captureGradientFactors } from '../hypernetwork/capture-gradient-factors.js';
import { HypernetworkTrainer, type StepGradients } from '../hypernetwork/hypernetwork-trainer.js';
import { buildOuterBatch, localityReference, outerAccuracies, outerTerms } from '../hypernetwork/outer-batch.js';
import { usedRows, type UsedRows } from '../hypernetwork/used-rows.js';
import { weightDeltaHooks } from '../hypernetwork/weight-delta-hooks.js';
import { malmenDelta } from './malmen-editor.js';
import { malmenShifts } from './malmen-shifts.js';

/**
 * MALMEN meta-training (spec §7.4): the E edits of a step are solved together into one ΔW per
 * layer (no gradient), the generalisation and locality losses of the jointly edited model give
 * Γ = ∂L/∂ΔW, the hand-derived backward of the solve turns Γ into ∂L/∂D and ∂L/∂log λ, and
 * Σ ∂L/∂D ⊙ D(φ, η) is backpropagated through the hypernetwork. The solve itself is never taped,
 * which is what lets MALMEN scale to many edits per step.
 */
export class MalmenTrainer extends HypernetworkTrainer {
  protected stepGradients(requests: readonly EditRequest[], random: () => number): StepGradients {
    const { layers, inputSize, outputSize } = this.network.config;
    const factors = captureGradientFactors(this.model, layers, requests.map((request) => ({ prompt: request.prompt, target: request.targetNew })), 'target', this.pairs);
    const batch = buildOuterBatch(this.model, this.pairs, requests, random);
    const reference = localityReference(this.model, batch);
    const rowsByLayer = new Map<number, UsedRows>();
    const solved: ReturnType<typeof malmenDelta>[] = [];
    try {
      for (const layer of layers) {
        const rows = usedRows(factors, layer);
        this.network.observe(rows.keys, rows.gradients);
        rowsByLayer.set(layer, rows);
        solved.push(malmenDelta(this.network, rows, layer, inputSize, outputSize));
      }
      // Γ_l = ∂L/∂ΔW_l through the jointly edited model.
      const { editWeight, localityWeight } = this.hyperparameters;
      const numbers = { edit: 0, locality: 0, editAccuracy: 0, localityAgreement: 0 };
      const { value, grads } = tf.valueAndGrads((...deltas: tf.Tensor[]) => {
        const logits = this.model.forward({ ids: batch.ids, hooks: weightDeltaHooks(new Map(layers.map((layer, i) => [layer, deltas[i] as tf.Tensor]))), compactLogits: true }).logits;
        const terms = outerTerms(logits, batch, reference);
        Object.assign(numbers, { edit: terms.edit.dataSync()[0], locality: terms.locality.dataSync()[0] }, outerAccuracies(logits, batch, reference));
        return tf.add(tf.mul(terms.edit, editWeight), tf.mul(terms.locality, localityWeight)) as tf.Scalar;
      })(solved.map((s) => s.delta));
      const loss = value.dataSync()[0] as number;
      value.dispose();
      const backward = solved.map((s, i) => s.solution.backward((grads[i] as tf.Tensor).dataSync()));
      tf.dispose(grads);
      // Through the hypernetwork and η: the gradient of Σ_l ⟨∂L/∂D_l, D_l(φ, η)⟩.
      const logLambda = this.network.variables.get('scalar.log_lambda') as tf.Variable;
      const trained = [...this.network.variables.values()].filter((variable) => variable !== logLambda);
      const upstream = layers.map((layer, i) => tf.tensor2d(Float32Array.from((backward[i] as { shifts: Float64Array }).shifts), [(rowsByLayer.get(layer) as UsedRows).count, outputSize]));
      const through = tf.variableGrads(() => {
        const terms = layers.map((layer, i) => {
          const rows = rowsByLayer.get(layer) as UsedRows;
          return tf.sum(tf.mul(upstream[i] as tf.Tensor2D, malmenShifts(this.network, tf.tensor2d(rows.keys, [rows.count, inputSize]), tf.tensor2d(rows.gradients, [rows.count, outputSize]), layer)));
        });
        return tf.addN(terms) as tf.Scalar;
      }, trained);
      tf.dispose([through.value, ...upstream]);
      const gradients = new Map<string, tf.Tensor>();
      for (const [name, variable] of this.network.variables) {
        const gradient = through.grads[variable.name];
        if (gradient) gradients.set(name, gradient);
      }
      gradients.set('scalar.log_lambda', tf.tensor1d(backward.map((b) => b.logLambda)));
      return { terms: { loss, ...numbers }, gradients };
    } finally {
      tf.dispose(solved.map((s) => s.delta));
      factors.dispose();
      batch.dispose();
      reference.dispose();
    }
  }
}
