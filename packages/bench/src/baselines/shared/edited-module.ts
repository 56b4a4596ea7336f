import { UnsupportedCapabilityError, type CausalLanguageModel } from '@recipe-kit/core';
import { mlpProjections } from '../weight-edits/mlp-projections.js';

/**
 * The weight that ROME, MEMIT and WILKE rewrite at `layer`: the MLP output projection
 * (`down_proj` / `fc_out`, [intermediate, hidden]). Also checks the model offers what those
 * methods need (MLP and residual hooks, editable weights, gradients).
 */
export function mlpOutputWeightName(model: CausalLanguageModel, layer: number): string {
  const { mlpHooks, editableWeights, trainable } = model.capabilities;
  if (!mlpHooks || !editableWeights || !trainable) {
    throw new UnsupportedCapabilityError(
      `Locate-then-edit methods need MLP hooks, editable weights and gradients; this ${model.architecture} model lacks one.`,
      'Use a LLaMA-2 or GPT-J model loaded with @recipe-kit/llm-adapters.',
    );
  }
  return mlpProjections(model, layer).output;
}
