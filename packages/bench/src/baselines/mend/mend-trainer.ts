import * as tf from '@tensorflow/tfjs';
import type { EditRequest } from '@recipe-kit/core';
import { captureGradientFactors } from '../hypernetwork/capture-gradient-factors.js';
import { HypernetworkTrainer, type StepGradients } from '../hypernetwork/hypernetwork-trainer.js';
import { buildOuterBatch, localityReference, outerAccuracies, outerTerms } from '../hypernetwork/outer-batch.js';
import { usedRows } from '../hypernetwork/used-rows.js';
import { weightDeltaHooks } from '../hypernetwork/weight-delta-hooks.js';
import { mendDeltas } from './mend-deltas.js';

/**
 * MEND meta-training (spec §6.4): per step, E training edits each edit a copy of the model on its
 * own (the reference's batch of one edit, accumulated E times — here one pass, each row carrying its
 * edit's ΔW), and L = cedit·NLL(new target | edit prompt, rephrase) + cloc·KL(unedited ‖ edited on
 * a locality prompt) trains the network and the per-layer steps α. u and δ are constants, so this is
 * first-order, as in the reference.
 */
export class MendTrainer extends HypernetworkTrainer {
  protected stepGradients(requests: readonly EditRequest[], random: () => number): StepGradients {
    const { layers } = this.network.config;
    const factors = captureGradientFactors(this.model, layers, requests.map((request) => ({ prompt: request.prompt, target: request.targetNew })), 'attended', this.pairs);
    const batch = buildOuterBatch(this.model, this.pairs, requests, random);
    const reference = localityReference(this.model, batch);
    try {
      for (const layer of layers) {
        const rows = usedRows(factors, layer);
        this.network.observe(rows.keys, rows.gradients);
      }
      const { editWeight, localityWeight } = this.hyperparameters;
      const numbers = { edit: 0, locality: 0, editAccuracy: 0, localityAgreement: 0 };
      const { value, grads } = tf.variableGrads(() => {
        // Rows are [edit prompts; rephrases; locality prompts] of the same E edits, so the per-row
        // ΔW is the per-edit ΔW three times over (concat: its gradient is a cheap slice, gather's is not).
        const deltas = new Map(
          layers.map((layer) => {
            const perEdit = mendDeltas(this.network, factors.keys.get(layer) as tf.Tensor3D, factors.gradients.get(layer) as tf.Tensor3D, factors.rows, layer); // [E, in, out]
            return [layer, tf.concat([perEdit, perEdit, perEdit], 0)];
          }),
        );
        const logits = this.model.forward({ ids: batch.ids, hooks: weightDeltaHooks(deltas), compactLogits: true }).logits;
        const terms = outerTerms(logits, batch, reference);
        Object.assign(numbers, { edit: terms.edit.dataSync()[0], locality: terms.locality.dataSync()[0] }, outerAccuracies(logits, batch, reference));
        return tf.add(tf.mul(terms.edit, editWeight), tf.mul(terms.locality, localityWeight)) as tf.Scalar;
      }, [...this.network.variables.values()]);
      const loss = value.dataSync()[0] as number;
      value.dispose();
      const gradients = new Map<string, tf.Tensor>();
      for (const [name, variable] of this.network.variables) {
        const gradient = grads[variable.name];
        if (gradient) gradients.set(name, gradient);
      }
      return { terms: { loss, ...numbers }, gradients };
    } finally {
      factors.dispose();
      batch.dispose();
      reference.dispose();
    }
  }
}
