import type { TokenizerName } from '@recipe-kit/llm-adapters';

/**
 * Micro model shapes sized for two CPU cores (compute-budget.md): hidden 128, 4 layers, and a
 * compact vocabulary (set at pretraining from the corpus) so the output layer does not dominate.
 */
export interface MicroArchitecture {
  tokenizer: TokenizerName;
  /** Ids every model keeps besides its corpus's: unknown/BOS/EOS. */
  specialIds: number[];
  config: Record<string, unknown>;
}

export const MICRO_ARCHITECTURES: Record<'llama' | 'gptj', MicroArchitecture> = {
  llama: {
    tokenizer: 'llama2',
    specialIds: [0, 1, 2],
    config: {
      model_type: 'llama',
      hidden_size: 128,
      intermediate_size: 344,
      num_hidden_layers: 4,
      num_attention_heads: 4,
      num_key_value_heads: 2,
      vocab_size: 32000,
      max_position_embeddings: 128,
      rms_norm_eps: 1e-5,
      rope_theta: 10000,
      tie_word_embeddings: false,
    },
  },
  gptj: {
    tokenizer: 'gpt2',
    specialIds: [50256],
    config: {
      model_type: 'gptj',
      n_embd: 128,
      n_inner: 512,
      n_layer: 4,
      n_head: 4,
      rotary_dim: 16,
      vocab_size: 50257,
      n_positions: 128,
      layer_norm_epsilon: 1e-5,
      tie_word_embeddings: false,
    },
  },
};
