import { createRandomModel, type DecoderModel } from '@recipe-kit/llm-adapters';

/** Tiny LLaMA-2 config (GQA 4/2, untied) with the real 32k LLaMA-2 vocabulary. */
export const tinyLlamaConfig: Record<string, unknown> = {
  model_type: 'llama',
  hidden_size: 32,
  intermediate_size: 48,
  num_hidden_layers: 2,
  num_attention_heads: 4,
  num_key_value_heads: 2,
  vocab_size: 32000,
  max_position_embeddings: 64,
  rms_norm_eps: 1e-5,
  rope_theta: 10000,
  tie_word_embeddings: false,
};

/** Tiny GPT-J config (partial rotary) with the real GPT-2 vocabulary. */
export const tinyGptjConfig: Record<string, unknown> = {
  model_type: 'gptj',
  n_embd: 32,
  n_inner: 64,
  n_layer: 2,
  n_head: 4,
  rotary_dim: 4,
  vocab_size: 50257,
  n_positions: 64,
  layer_norm_epsilon: 1e-5,
};

export const tinyArchitectures = [
  { name: 'llama', config: tinyLlamaConfig, tokenizer: 'llama2' },
  { name: 'gptj', config: tinyGptjConfig, tokenizer: 'gpt2' },
] as const;

/** initStd 0.2 so that logits are far from uniform and argmaxes are decisive. */
export function tinyModel(architecture: (typeof tinyArchitectures)[number], seed = 1): Promise<DecoderModel> {
  return createRandomModel({ config: architecture.config, tokenizer: architecture.tokenizer, seed, initStd: 0.2 });
}
