import type { CausalLanguageModel, EditRequest } from '@recipe-kit/core';
import type { GradientDecompositionNetwork, HypernetworkConfig, HypernetworkMethod } from './gradient-decomposition-network.js';
import type { HypernetworkTrainer, HypernetworkTrainingHyperparameters } from './hypernetwork-trainer.js';

/** What distinguishes MEND from MALMEN for training and loading: defaults and the trainer. */
export interface HypernetworkMethodDefinition {
  method: HypernetworkMethod;
  /** Network shape defaults (rank, blocks, modulation, scalars) and how many last layers it edits. */
  network: Pick<HypernetworkConfig, 'rank' | 'blocks' | 'modulation' | 'scalars'> & { layerCount: (numLayers: number) => number };
  training: HypernetworkTrainingHyperparameters;
  /** One line per deliberate difference from the reference configuration, for the model card. */
  differences: string[];
  createTrainer(model: CausalLanguageModel, network: GradientDecompositionNetwork, requests: readonly EditRequest[], hyperparameters: HypernetworkTrainingHyperparameters): HypernetworkTrainer;
}
