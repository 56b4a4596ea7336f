import type { CausalLanguageModel } from '@recipe-kit/core';
import type { TargetValueSettings } from '../shared/optimise-target-value.js';
import type { FactToken } from '../shared/prepare-edit-rows.js';

/** ROME's hyperparameters (spec §4.1), per architecture, for the v* optimisation and the update. */
export interface RomeSettings extends Omit<TargetValueSettings, 'layer' | 'site'> {
  layer: number;
  /** Use u = C⁻¹ k̄ (original ROME, WILKE) instead of u = k̄ (EasyEdit's default). */
  mom2Adjustment: boolean;
  /**
   * `prefix-averaged`: k* and m* in the rank-one step are the template-averaged key and output, the
   * same key as in u (the Rebuilding-ROME fix of sequential collapse, spec §4.7). `original`: k*, m*
   * from the plain prompt, as the original code (inconsistent with u).
   */
  keys: 'prefix-averaged' | 'original';
  /** Shrinkage ε of C + ε·(tr C / f)·I before it is inverted. */
  epsilon: number;
  /** The token whose key is rewritten (spec §0.4): the subject's last (reference) or the prompt's last. */
  factToken: FactToken;
}

export const ROME_KEY_MODES = ['prefix-averaged', 'original'] as const;

/**
 * A micro model (hidden size below this) gets a larger v* learning rate and clamp: its MLP output
 * at the subject is small against the residual stream (‖m₀‖ ≈ 4–12 vs ‖h‖ ≈ 30–70 on the 4-layer
 * micro LLaMA), so with lr 0.5 and ‖δ‖ ≤ 4‖m₀‖ the loss stalls on the normalised plateau for half of the
 * edits; lr 2 and ‖δ‖ ≤ 8‖m₀‖ reach the reference's 5e-2 stop for most of them.
 * The price is sequential: the updates are ~4× larger and sequential ROME collapses by T = 100
 * (synthetic-llama: ‖W‖/‖W₀‖ 58 vs 16 after 40 edits); `lr=0.5 clamp=4` restores the spec's values.
 */
export const MICRO_HIDDEN_SIZE = 1024;

/** EasyEdit's LLaMA-2 and original GPT-J values (lr and clamp raised for micro models); WILKE uses the same. */
export function defaultRomeSettings(model: CausalLanguageModel, layer: number): RomeSettings {
  const gptj = model.architecture === 'gptj';
  const micro = model.dimensions.hiddenSize < MICRO_HIDDEN_SIZE;
  return {
    layer,
    steps: gptj ? 20 : 25,
    learningRate: micro ? 2 : 0.5,
    weightDecay: gptj ? 0.5 : 1e-3,
    clampNormFactor: micro ? 8 : 4,
    klFactor: 0.0625,
    mom2Adjustment: true,
    keys: 'prefix-averaged',
    epsilon: 1e-3,
    factToken: 'subject_last',
  };
}
