import type { EditRequest } from '@recipe-kit/core';
import { createRandomModel, type DecoderModel } from '@recipe-kit/llm-adapters';
import { tinyRequests } from '../../recipe/tiny-recipe-fixtures.js';

export { tinyRequests };

/** All texts of the tiny edit requests (prompts with their targets), so a compact vocabulary covers them. */
function requestTexts(requests: readonly EditRequest[]): string[] {
  return requests.flatMap((request) => [
    `${request.prompt} ${request.targetNew}`,
    ...request.generality.map((probe) => `${probe.prompt} ${probe.target}`),
    ...request.generality.map((probe) => `${probe.prompt} ${request.targetNew}`),
    ...request.locality.map((probe) => `${probe.prompt} ${probe.target}`),
  ]);
}

/**
 * A tiny random LLaMA or GPT-J (two layers, width 16, MLP 24), its output layer restricted to the
 * ids of the tiny requests (as micro models are): the hypernetwork editors edit both layers.
 */
export async function tinyHypernetworkModel(architecture: 'llama' | 'gptj', seed = 1): Promise<DecoderModel> {
  const config =
    architecture === 'llama'
      ? { model_type: 'llama', hidden_size: 16, intermediate_size: 24, num_hidden_layers: 2, num_attention_heads: 2, vocab_size: 32000, max_position_embeddings: 64 }
      : { model_type: 'gptj', n_embd: 16, n_inner: 24, n_layer: 2, n_head: 2, rotary_dim: 4, vocab_size: 50257, n_positions: 64 };
  const tokenizer = architecture === 'llama' ? 'llama2' : 'gpt2';
  const full = await createRandomModel({ config, tokenizer, seed, initStd: 0.3 });
  const ids = new Set<number>([0, 1, 2, 50256]);
  for (const text of requestTexts(tinyRequests())) for (const id of full.tokenizer.encode(text, { addBos: true })) ids.add(id);
  full.dispose();
  const vocabulary = [...ids].filter((id) => id < (architecture === 'llama' ? 32000 : 50257)).sort((a, b) => a - b);
  return createRandomModel({ config: { ...config, recipe_kit_vocabulary_ids: vocabulary }, tokenizer, seed, initStd: 0.3 });
}
