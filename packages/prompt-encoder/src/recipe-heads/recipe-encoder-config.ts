import { InvalidConfigError } from '@recipe-kit/core';

/** RECIPE's d_r (`knowledge_rep_dim`) in every reference config: far too big for CPU micro models. */
export const RECIPE_SPEC_REPRESENTATION_DIM = 4096;
/** Our default d_r, sized for the CPU default encoder (pooled features 4·128 = 512). */
export const DEFAULT_REPRESENTATION_DIM = 256;

/** Hyperparameters of RECIPE's heads around a text encoder. */
export interface RecipeEncoderConfig {
  /** d_r, width of knowledge/query representations. Default 256; RECIPE uses 4096 (RECIPE_SPEC_REPRESENTATION_DIM). */
  representationDim: number;
  /** l (`prompt_token_n`), continuous prompt vectors per edit. RECIPE: 3. */
  promptLength: number;
  /** d_llm, hidden size of the LLM the prompts are injected into (4096 LLaMA-2/GPT-J, 1600 GPT2-XL). Required. */
  llmWidth: number;
  /** Knowledge-sentinel length (`knowl_rep_prot_token_n`). RECIPE: 10. */
  sentinelLength: number;
  /** Seed of the heads' and sentinel's initial values. */
  seed: number;
}

export function resolveRecipeEncoderConfig(partial: Partial<RecipeEncoderConfig> & { llmWidth: number }, source = 'RecipeEncoder config'): RecipeEncoderConfig {
  const config: RecipeEncoderConfig = {
    representationDim: DEFAULT_REPRESENTATION_DIM,
    promptLength: 3,
    sentinelLength: 10,
    seed: 0,
    ...partial,
  };
  for (const key of ['representationDim', 'promptLength', 'llmWidth', 'sentinelLength'] as const) {
    const value = config[key];
    if (!Number.isInteger(value) || value <= 0) {
      throw new InvalidConfigError(`${source}: ${key} is ${JSON.stringify(value)}, expected a positive integer.`, `Set ${key} to a positive integer.`);
    }
  }
  if (!Number.isInteger(config.seed)) throw new InvalidConfigError(`${source}: seed ${config.seed} is not an integer.`, 'Use an integer seed.');
  return config;
}
