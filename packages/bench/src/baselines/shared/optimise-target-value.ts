import * as tf from '@tensorflow/tfjs';
import type { CausalLanguageModel, ForwardHooks } from '@recipe-kit/core';
import type { HookSite } from './capture-activations.js';
import type { EditRows } from './prepare-edit-rows.js';
import { positionMask, tokenBatch } from './token-batch.js';

/** The v* (ROME, WILKE) / z (MEMIT) optimisation's settings (spec §4.1, §5.1). */
export interface TargetValueSettings {
  layer: number;
  /** ROME/WILKE add δ to the MLP output (H2); MEMIT to the residual stream after the layer (H3). */
  site: Exclude<HookSite, 'mlpKeys'>;
  steps: number;
  learningRate: number;
  /** Multiplies ‖δ‖ / ‖m₀‖² (not squared: the reference code's form). */
  weightDecay: number;
  /** ‖δ‖ is clamped to clampNormFactor · ‖m₀‖ after every step. */
  clampNormFactor: number;
  /** Weight of KL(p_δ ‖ p_0) at the subject-last position of "<subject> is a" (the essence term). */
  klFactor: number;
  /** Stop once the loss is below this (reference: 5e-2). */
  stopLoss?: number;
  /**
   * Also stop as soon as every target token is the argmax in every rewriting row (most-probable
   * early stopping, Gupta et al. 2024): δ grows no further than the edit needs, which slows the
   * weight-norm growth that makes sequential ROME collapse.
   */
  stopWhenArgmax?: boolean;
}

export interface TargetValue {
  /** v* = m₀ + δ: the vector the site should output at the subject's last token. [hidden] */
  target: Float32Array;
  /** m₀: the site's output at the plain prompt's subject-last token, unedited. [hidden] */
  initial: Float32Array;
  /** Loss at each evaluated step. */
  losses: number[];
}

let variableCount = 0;
const norm = (values: ArrayLike<number>): number => Math.sqrt(Array.from(values).reduce((sum, x) => sum + x * x, 0));

/**
 * Finds δ such that adding it at the subject's last token (every template row and the essence row)
 * makes the target likely: loss = NLL (mean over rows of the per-token mean) + klFactor·KL + weightDecay·‖δ‖/‖m₀‖²,
 * Adam, norm clamp, early stop, no step on the last iteration (spec §4.2 step B, §5.2 step A).
 */
export function optimiseTargetValue(model: CausalLanguageModel, rows: EditRows, settings: TargetValueSettings): TargetValue {
  const all = [...rows.rewriting.map((row) => ({ ids: row.ids, position: row.lookupIndex })), { ids: rows.essence.ids, position: rows.essence.lookupIndex }];
  const essenceRow = all.length - 1;
  const batch = tokenBatch(all.map((row) => row.ids));
  const { width } = batch;
  const lookup = positionMask(all.map((row) => row.position), width); // [rows, width, 1]
  const stored = storedIndexOf(model);
  // Teacher-forced target positions, each weighted 1 / (n_o · rows) so the NLL is a mean of per-row means.
  const selectedRows: number[] = [];
  const selectedTokens: number[] = [];
  const weights: number[] = [];
  rows.rewriting.forEach((row, r) => {
    row.targetIds.forEach((id, j) => {
      const index = stored(id);
      if (index === null) return; // the model cannot emit this id: no gradient can help
      selectedRows.push(r * width + row.targetStart + j);
      selectedTokens.push(index);
      weights.push(1 / (row.targetIds.length * rows.rewriting.length));
    });
  });
  const vocabulary = model.outputIds?.length ?? model.dimensions.vocabSize;
  const targetCount = selectedRows.length;
  // Logits only where the loss reads them: the M target positions, then the essence position.
  const logitPositions = [...selectedRows, essenceRow * width + rows.essence.lookupIndex];
  const selection = tf.tensor1d(selectedRows.map((_, i) => i), 'int32');
  const targetTokens = tf.tensor1d(selectedTokens, 'int32');
  const targetOneHot = tf.tidy(() => tf.oneHot(targetTokens, vocabulary)); // [M, V]
  const tokenWeights = tf.tensor1d(weights);
  const essenceIndex = tf.tensor1d([targetCount], 'int32');
  const forwardLogits = (hooks: ForwardHooks): tf.Tensor2D => {
    const logits = model.forward({ ids: batch.ids, attentionMask: batch.mask, hooks, compactLogits: true, logitPositions }).logits; // [1, M + 1, V]
    return logits.reshape([targetCount + 1, vocabulary]);
  };

  // Step 0 (δ = 0): m₀ at the plain prompt and the essence distribution p_0.
  let initial: Float32Array = new Float32Array(0);
  const initialEssence = tf.tidy(() => {
    const logits = forwardLogits({
      [settings.site]: (layer: number, x: tf.Tensor3D) => {
        if (layer === settings.layer) initial = x.slice([0, all[0]?.position ?? 0, 0], [1, 1, x.shape[2]]).dataSync() as Float32Array;
      },
    });
    return tf.logSoftmax(tf.gather(logits, essenceIndex)); // [1, V]
  });
  const initialNorm = norm(initial);
  const zeros = tf.zeros([initial.length]);
  const delta = tf.variable(zeros, true, `target-delta-${variableCount++}`);
  zeros.dispose();
  const adam = new VectorAdam(initial.length);
  const losses: number[] = [];
  try {
    for (let step = 0; step < settings.steps; step++) {
      let allArgmax = false;
      const { value, grads } = tf.variableGrads(() => {
        const logits = forwardLogits({
          [settings.site]: (layer: number, x: tf.Tensor3D) => (layer === settings.layer ? tf.add(x, tf.mul(lookup, delta)) : undefined),
        });
        const targetLogits = tf.gather(logits, selection); // [M, V]
        if (settings.stopWhenArgmax) allArgmax = tf.all(tf.equal(tf.argMax(targetLogits, 1), targetTokens)).dataSync()[0] === 1;
        const targetLogProbs = tf.sum(tf.mul(tf.logSoftmax(targetLogits), targetOneHot), 1); // [M]
        const nll = tf.neg(tf.sum(tf.mul(targetLogProbs, tokenWeights)));
        const essence = tf.logSoftmax(tf.gather(logits, essenceIndex)); // [1, V]
        const kl = tf.mul(tf.sum(tf.mul(tf.exp(essence), tf.sub(essence, initialEssence))), settings.klFactor);
        // sqrt(Σδ² + 1e-20): tf.norm's gradient at δ = 0 is 0/0; PyTorch's is 0.
        const decay = tf.mul(tf.sqrt(tf.add(tf.sum(tf.square(delta)), 1e-20)), settings.weightDecay / (initialNorm * initialNorm));
        return tf.addN([nll, kl, decay]) as tf.Scalar;
      }, [delta]);
      const loss = value.dataSync()[0] as number;
      value.dispose();
      losses.push(loss);
      if (loss < (settings.stopLoss ?? 5e-2) || allArgmax || step === settings.steps - 1) {
        tf.dispose(grads);
        break;
      }
      const gradient = (grads[delta.name] as tf.Tensor).dataSync();
      tf.dispose(grads);
      const next = adam.step(delta.dataSync(), gradient, settings.learningRate);
      const limit = settings.clampNormFactor * initialNorm;
      const current = norm(next);
      if (current > limit) next.forEach((x, i) => (next[i] = (x * limit) / current));
      tf.tidy(() => delta.assign(tf.tensor1d(Float32Array.from(next))));
    }
    const offset = delta.dataSync() as Float32Array;
    return { target: initial.map((x, i) => x + (offset[i] as number)), initial, losses };
  } finally {
    delta.dispose();
    tf.dispose([batch.ids, batch.mask, lookup, selection, targetTokens, targetOneHot, tokenWeights, essenceIndex, initialEssence]);
  }
}

/** PyTorch's Adam (β = 0.9, 0.999, ε = 1e-8, no weight decay) on one small vector, in float64. */
class VectorAdam {
  private readonly first: Float64Array;
  private readonly second: Float64Array;
  private count = 0;

  constructor(size: number) {
    this.first = new Float64Array(size);
    this.second = new Float64Array(size);
  }

  step(values: ArrayLike<number>, gradient: ArrayLike<number>, learningRate: number): Float64Array {
    this.count += 1;
    const correction1 = 1 - 0.9 ** this.count;
    const correction2 = 1 - 0.999 ** this.count;
    return Float64Array.from(values, (value, i) => {
      const g = gradient[i] as number;
      this.first[i] = 0.9 * (this.first[i] as number) + 0.1 * g;
      this.second[i] = 0.999 * (this.second[i] as number) + 0.001 * g * g;
      return value - (learningRate * ((this.first[i] as number) / correction1)) / (Math.sqrt((this.second[i] as number) / correction2) + 1e-8);
    });
  }
}

/** Maps a full-vocabulary id to its row in the compact logits (identity when the output layer is full). */
function storedIndexOf(model: CausalLanguageModel): (id: number) => number | null {
  const ids = model.outputIds;
  if (!ids) return (id) => id;
  const index = new Map<number, number>();
  ids.forEach((id, i) => index.set(id, i));
  return (id) => index.get(id) ?? null;
}
