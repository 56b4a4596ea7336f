import { createRandomModel, type DecoderModel } from '@recipe-kit/llm-adapters';

/** Texts the tiny models' compact vocabularies cover (edit prompts, targets, the statistics corpus). */
export const TINY_TEXTS = [
  'Anna Berg lives in Rome',
  'Boris Cole lives in Paris',
  'Clara Dunn works in Berlin',
  'The home of Anna Berg is Madrid',
  'Anna Berg is a',
  'Boris Cole is a',
  'The weather today is fine',
  'Vienna is a city',
  'I think so. Because of that.',
];

/**
 * Tiny random LLaMA / GPT-J models (two layers, 16 wide) whose output layer covers only the ids of
 * TINY_TEXTS, as the micro models' does; deterministic for a seed.
 */
export async function tinyModel(architecture: 'llama' | 'gptj', seed = 1, contextLength = 64): Promise<DecoderModel> {
  const config =
    architecture === 'llama'
      ? { model_type: 'llama', hidden_size: 16, intermediate_size: 24, num_hidden_layers: 2, num_attention_heads: 2, vocab_size: 32000, max_position_embeddings: contextLength }
      : { model_type: 'gptj', n_embd: 16, n_inner: 24, n_layer: 2, n_head: 2, rotary_dim: 4, vocab_size: 50257, n_positions: contextLength };
  const tokenizer = architecture === 'llama' ? 'llama2' : 'gpt2';
  const probe = await createRandomModel({ config, tokenizer, seed, initStd: 0.3 });
  const ids = new Set<number>([0, 1, 2, 50256]);
  for (const text of TINY_TEXTS) for (const id of probe.tokenizer.encode(text, { addBos: true })) ids.add(id);
  for (const text of TINY_TEXTS) for (const id of probe.tokenizer.encode(` ${text}`, { addBos: false })) ids.add(id);
  probe.dispose();
  const vocabulary = [...ids].filter((id) => id < config.vocab_size).sort((a, b) => a - b);
  return createRandomModel({ config: { ...config, recipe_kit_vocabulary_ids: vocabulary }, tokenizer, seed, initStd: 0.3 });
}
