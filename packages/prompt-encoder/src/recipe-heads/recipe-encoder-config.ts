import { InvalidConfigError } from '@recipe-kit/core';

/** RECIPE's d_r (`knowledge_rep_dim`) in every reference config: far too big for CPU micro models. */
export const RECIPE_SPEC_REPRESENTATION_DIM = 4096;
/** Our default d_r, sized for the CPU default encoder (pooled features 4·128 = 512). */
export const DEFAULT_REPRESENTATION_DIM = 256;

/**
 * What MLP_P reads. `representation` (RECIPE): the knowledge representation r_k of the whole
 * knowledge text. `target`: the pooled encoder features of the new target alone, f_rm(target_new).
 * Why: r_k is trained to match queries, i.e. texts without the target, and in a small encoder the
 * target is one word among many (knowledge texts that differ only in it have cos 0.99), so the
 * prompt head learns one prompt for every fact (measured on the CounterFact micro models: cos ≥ 0.98
 * between the trained prompts of different facts, reliability at the unedited level).
 */
export const PROMPT_SOURCES = ['representation', 'target'] as const;
export type PromptSource = (typeof PROMPT_SOURCES)[number];

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
  /** Input of MLP_P (default `representation`, the spec's p_k = MLP_P(r_k)). */
  promptSource: PromptSource;
  /**
   * When > 0, every prompt vector is rescaled to this L2 norm (default 0: off, as in the spec).
   * The LLMs normalise each position before attention (RMSNorm / LayerNorm), so a prompt vector's
   * scale barely changes their output and its gradient is orthogonal to it: training then only
   * grows the norm, which shrinks the effective step on its direction until learning stalls. On
   * counterfact-llama the spec's head reached norms 120–2,500 with every fact's prompt the same.
   */
  promptNorm: number;
}

export function resolveRecipeEncoderConfig(partial: Partial<RecipeEncoderConfig> & { llmWidth: number }, source = 'RecipeEncoder config'): RecipeEncoderConfig {
  const config: RecipeEncoderConfig = {
    representationDim: DEFAULT_REPRESENTATION_DIM,
    promptLength: 3,
    sentinelLength: 10,
    seed: 0,
    promptSource: 'representation',
    promptNorm: 0,
    ...partial,
  };
  if (!Number.isFinite(config.promptNorm) || config.promptNorm < 0) {
    throw new InvalidConfigError(`${source}: promptNorm is ${JSON.stringify(config.promptNorm)}, expected a number ≥ 0.`, 'Use 0 (off) or the prompt vectors\' L2 norm, e.g. 4.');
  }
  if (!(PROMPT_SOURCES as readonly string[]).includes(config.promptSource)) {
    throw new InvalidConfigError(`${source}: promptSource is ${JSON.stringify(config.promptSource)}.`, `Use one of ${PROMPT_SOURCES.join(', ')}.`);
  }
  for (const key of ['representationDim', 'promptLength', 'llmWidth', 'sentinelLength'] as const) {
    const value = config[key];
    if (!Number.isInteger(value) || value <= 0) {
      throw new InvalidConfigError(`${source}: ${key} is ${JSON.stringify(value)}, expected a positive integer.`, `Set ${key} to a positive integer.`);
    }
  }
  if (!Number.isInteger(config.seed)) throw new InvalidConfigError(`${source}: seed ${config.seed} is not an integer.`, 'Use an integer seed.');
  return config;
}
