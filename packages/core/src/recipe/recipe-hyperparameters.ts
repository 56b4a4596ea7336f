import { InvalidConfigError } from '../errors.js';

/**
 * RECIPE's training hyperparameters. Defaults are the reference's (spec §3, §6); the micro-model
 * commands override the learning rate and say so in their model cards.
 */
export interface RecipeTrainingHyperparameters {
  /** Examples per step (reference: 8). Needs ≥ 2: the contrastive terms use the batch as negatives. */
  batchSize: number;
  /** Adam learning rate of the retriever: encoder, MLP_K, MLP_Q, sentinel (`krm_lr`, reference 1e-5). */
  learningRate: number;
  /**
   * Adam learning rate of the prompt head MLP_P (`pt_lr`). The reference config has it (1e-5) but its
   * code uses `krm_lr` for both groups; null (default) follows the code: the same as learningRate.
   */
  promptLearningRate: number | null;
  /** λ of the reliability, generality, locality and contrastive terms (all 1). */
  reliabilityWeight: number;
  generalityWeight: number;
  localityWeight: number;
  contrastiveWeight: number;
  /** Temperatures `query_knowledge_t` (term a) and `query_prototype_t` (terms b, c); both 1. */
  queryKnowledgeTemperature: number;
  queryPrototypeTemperature: number;
  /** `constra_hinge_scale` (1.2): a sentinel row stops contributing once it beats the runner-up by this factor. */
  contrastiveHingeScale: number;
  /** `edit_hinge_scale` (1.2): a token stops contributing once its gold probability beats the runner-up by this factor. */
  editHingeScale: number;
  /** ε inside the logs (1e-8). */
  epsilon: number;
  /** Seed of the example order and the rel/gen role swap (reference: 1). */
  seed: number;
  /**
   * Same-relation runs per batch: 1 (reference) shuffles uniformly; k > 1 fills batches with runs of
   * k edits of one relation, so the in-batch negatives differ from the positive only in the subject.
   */
  relationGroupSize: number;
}

export const RECIPE_TRAINING_DEFAULTS: Readonly<RecipeTrainingHyperparameters> = Object.freeze({
  batchSize: 8,
  learningRate: 1e-5,
  promptLearningRate: null,
  reliabilityWeight: 1,
  generalityWeight: 1,
  localityWeight: 1,
  contrastiveWeight: 1,
  queryKnowledgeTemperature: 1,
  queryPrototypeTemperature: 1,
  contrastiveHingeScale: 1.2,
  editHingeScale: 1.2,
  epsilon: 1e-8,
  seed: 1,
  relationGroupSize: 1,
});

export function resolveTrainingHyperparameters(partial: Partial<RecipeTrainingHyperparameters> = {}, source = 'RECIPE training options'): RecipeTrainingHyperparameters {
  const resolved: RecipeTrainingHyperparameters = { ...RECIPE_TRAINING_DEFAULTS, ...partial };
  if (!Number.isInteger(resolved.batchSize) || resolved.batchSize < 2) {
    throw new InvalidConfigError(`${source}: batchSize is ${String(resolved.batchSize)}.`, 'Use an integer ≥ 2 (the other examples of a batch are the contrastive negatives; RECIPE uses 8).');
  }
  for (const key of ['learningRate', 'queryKnowledgeTemperature', 'queryPrototypeTemperature', 'contrastiveHingeScale', 'editHingeScale', 'epsilon'] as const) {
    const value = resolved[key];
    if (!(typeof value === 'number' && Number.isFinite(value) && value > 0)) {
      throw new InvalidConfigError(`${source}: ${key} is ${String(value)}.`, `Use a positive number (default ${RECIPE_TRAINING_DEFAULTS[key]}).`);
    }
  }
  if (resolved.promptLearningRate !== null && !(typeof resolved.promptLearningRate === 'number' && Number.isFinite(resolved.promptLearningRate) && resolved.promptLearningRate > 0)) {
    throw new InvalidConfigError(`${source}: promptLearningRate is ${String(resolved.promptLearningRate)}.`, 'Use a positive number, or null for the same rate as learningRate.');
  }
  for (const key of ['reliabilityWeight', 'generalityWeight', 'localityWeight', 'contrastiveWeight'] as const) {
    const value = resolved[key];
    if (!(typeof value === 'number' && Number.isFinite(value) && value >= 0)) {
      throw new InvalidConfigError(`${source}: ${key} is ${String(value)}.`, 'Use a number ≥ 0 (default 1).');
    }
  }
  if (!Number.isInteger(resolved.relationGroupSize) || resolved.relationGroupSize < 1) {
    throw new InvalidConfigError(`${source}: relationGroupSize is ${String(resolved.relationGroupSize)}.`, 'Use an integer >= 1 (1: uniform shuffle, as the reference).');
  }
  if (!Number.isInteger(resolved.seed)) throw new InvalidConfigError(`${source}: seed is ${String(resolved.seed)}.`, 'Use an integer seed.');
  return resolved;
}
