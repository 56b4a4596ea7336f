import { UnsupportedCapabilityError, type CausalLanguageModel } from '@recipe-kit/core';

/** Weight names of one layer's MLP (spec §0.2), matmul layout [in, out]. */
export interface MlpProjections {
  /** The output projection `down_proj` / `fc_out`: [intermediate, hidden]. */
  output: string;
  /** Its bias (GPT-J only): [hidden]. */
  outputBias?: string;
}

const PROJECTIONS: Readonly<Record<string, (layer: number) => MlpProjections>> = {
  llama: (layer) => ({ output: `model.layers.${layer}.mlp.down_proj.weight` }),
  gptj: (layer) => ({ output: `transformer.h.${layer}.mlp.fc_out.weight`, outputBias: `transformer.h.${layer}.mlp.fc_out.bias` }),
};

/** The MLP weight names of `layer`, declared once per architecture (no matching on names). */
export function mlpProjections(model: CausalLanguageModel, layer: number): MlpProjections {
  const names = PROJECTIONS[model.architecture];
  if (!names) {
    throw new UnsupportedCapabilityError(
      `The weight editors know the MLP weights of ${Object.keys(PROJECTIONS).join(' and ')}, not of "${model.architecture}".`,
      'Use a LLaMA or GPT-J model from @recipe-kit/llm-adapters.',
    );
  }
  if (!Number.isInteger(layer) || layer < 0 || layer >= model.dimensions.numLayers) {
    throw new UnsupportedCapabilityError(`Layer ${layer} does not exist in a ${model.dimensions.numLayers}-layer model.`, `Choose a layer in 0..${model.dimensions.numLayers - 1}.`);
  }
  return names(layer);
}

/**
 * A layer chosen at the same relative depth as in the 28/32-layer reference configurations
 * (spec §14): round(fraction · L), clamped to [0, L − 1].
 */
export function scaledLayer(numLayers: number, fraction: number): number {
  return Math.min(numLayers - 1, Math.max(0, Math.round(fraction * numLayers)));
}
