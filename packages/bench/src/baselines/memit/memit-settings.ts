import type { CausalLanguageModel } from '@recipe-kit/core';
import { MICRO_HIDDEN_SIZE } from '../rome/rome-settings.js';
import type { TargetValueSettings } from '../shared/optimise-target-value.js';
import type { FactToken } from '../shared/prepare-edit-rows.js';

/** MEMIT's hyperparameters (spec §5.1), per architecture. */
export interface MemitSettings extends Omit<TargetValueSettings, 'layer' | 'site'> {
  /** Ascending, contiguous; z is optimised at the last one. */
  layers: number[];
  /** λ in ΔW = R Kᵀ (λC + K Kᵀ)⁻¹ (mom2_update_weight). */
  lambda: number;
  /** Shrinkage ε of C + ε·(tr C / f)·I. */
  epsilon: number;
  /** The token whose keys are rewritten (spec §0.4; see RomeSettings.factToken). */
  factToken: FactToken;
}

/** The intermediate sizes λ = 15000 was set for (GPT-J-6B, LLaMA-2-7B). */
const REFERENCE_INTERMEDIATE: Readonly<Record<string, number>> = { gptj: 16384, llama: 11008 };

/**
 * EasyEdit's values, except λ: a typical key has kᵀC⁻¹k ≈ f, so λ = 15000 against f = 11008–16384
 * gives each layer about half of its share of the residual; kept at 15000 for a micro model with
 * f ≈ 400 it would damp the update to ~3%. λ is scaled by f / f_reference to keep the reference's balance.
 */
export function defaultMemitSettings(model: CausalLanguageModel, layers: number[]): MemitSettings {
  const gptj = model.architecture === 'gptj';
  const reference = REFERENCE_INTERMEDIATE[model.architecture] ?? model.dimensions.intermediateSize;
  // Micro models: lr 2 as for ROME; GPT-J's 0.75 clamp is raised to LLaMA's 4 (see MICRO_HIDDEN_SIZE).
  const micro = model.dimensions.hiddenSize < MICRO_HIDDEN_SIZE;
  return {
    layers,
    steps: 25,
    learningRate: micro ? 2 : 0.5,
    weightDecay: gptj ? 0.5 : 1e-3,
    clampNormFactor: gptj && !micro ? 0.75 : 4,
    klFactor: 0.0625,
    lambda: (15000 * model.dimensions.intermediateSize) / reference,
    epsilon: 1e-3,
    factToken: 'subject_last',
  };
}
