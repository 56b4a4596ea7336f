import type { ArchitectureDefinition, WeightSpec } from '../architecture.js';
import { llamaConfigToJson, parseLlamaConfig, type LlamaConfig } from './llama-config.js';
import { LlamaModel } from './llama-model.js';

function weightSpecs(config: LlamaConfig): WeightSpec[] {
  const { hiddenSize: h, intermediateSize: m, numHeads, numKeyValueHeads, headDim, vocabSize: fullVocabSize } = config;
  // Micro models store rows only for their compact vocabulary.
  const vocabSize = config.vocabulary?.size ?? fullVocabSize;
  const specs: WeightSpec[] = [{ name: 'model.embed_tokens.weight', shape: [vocabSize, h], linear: false }];
  for (let i = 0; i < config.numLayers; i++) {
    const p = `model.layers.${i}.`;
    specs.push(
      { name: `${p}input_layernorm.weight`, shape: [h], linear: false },
      { name: `${p}self_attn.q_proj.weight`, shape: [numHeads * headDim, h], linear: true },
      { name: `${p}self_attn.k_proj.weight`, shape: [numKeyValueHeads * headDim, h], linear: true },
      { name: `${p}self_attn.v_proj.weight`, shape: [numKeyValueHeads * headDim, h], linear: true },
      { name: `${p}self_attn.o_proj.weight`, shape: [h, numHeads * headDim], linear: true },
      { name: `${p}post_attention_layernorm.weight`, shape: [h], linear: false },
      { name: `${p}mlp.gate_proj.weight`, shape: [m, h], linear: true },
      { name: `${p}mlp.up_proj.weight`, shape: [m, h], linear: true },
      { name: `${p}mlp.down_proj.weight`, shape: [h, m], linear: true },
    );
  }
  specs.push({ name: 'model.norm.weight', shape: [h], linear: false });
  if (!config.tieWordEmbeddings) specs.push({ name: 'lm_head.weight', shape: [vocabSize, h], linear: true });
  return specs;
}

export const llamaArchitecture: ArchitectureDefinition<LlamaConfig> = {
  modelType: 'llama',
  parseConfig: parseLlamaConfig,
  toHuggingFaceConfig: llamaConfigToJson,
  weightSpecs,
  // Tied checkpoints sometimes still carry lm_head.weight (a copy of the embedding).
  isIgnoredTensor: (name, config) =>
    name.endsWith('.rotary_emb.inv_freq') || (config.tieWordEmbeddings && name === 'lm_head.weight'),
  defaultTokenizer: (config) => (config.vocabSize === 32000 ? 'llama2' : null),
  create: (config, weights, tokenizer) => new LlamaModel(config, weights, tokenizer),
};
