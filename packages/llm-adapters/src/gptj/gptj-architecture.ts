import type { ArchitectureDefinition, WeightSpec } from '../architecture.js';
import { gptjConfigToJson, parseGptjConfig, type GptjConfig } from './gptj-config.js';
import { GptjModel } from './gptj-model.js';

function weightSpecs(config: GptjConfig): WeightSpec[] {
  const { hiddenSize: h, intermediateSize: m, vocabSize: fullVocabSize } = config;
  // Micro models store rows only for their compact vocabulary.
  const vocabSize = config.vocabulary?.size ?? fullVocabSize;
  const specs: WeightSpec[] = [{ name: 'transformer.wte.weight', shape: [vocabSize, h], linear: false }];
  for (let i = 0; i < config.numLayers; i++) {
    const p = `transformer.h.${i}.`;
    specs.push(
      { name: `${p}ln_1.weight`, shape: [h], linear: false },
      { name: `${p}ln_1.bias`, shape: [h], linear: false },
      { name: `${p}attn.q_proj.weight`, shape: [h, h], linear: true },
      { name: `${p}attn.k_proj.weight`, shape: [h, h], linear: true },
      { name: `${p}attn.v_proj.weight`, shape: [h, h], linear: true },
      { name: `${p}attn.out_proj.weight`, shape: [h, h], linear: true },
      { name: `${p}mlp.fc_in.weight`, shape: [m, h], linear: true },
      { name: `${p}mlp.fc_in.bias`, shape: [m], linear: false },
      { name: `${p}mlp.fc_out.weight`, shape: [h, m], linear: true },
      { name: `${p}mlp.fc_out.bias`, shape: [h], linear: false },
    );
  }
  specs.push(
    { name: 'transformer.ln_f.weight', shape: [h], linear: false },
    { name: 'transformer.ln_f.bias', shape: [h], linear: false },
    { name: 'lm_head.bias', shape: [vocabSize], linear: false },
  );
  if (!config.tieWordEmbeddings) specs.push({ name: 'lm_head.weight', shape: [vocabSize, h], linear: true });
  return specs;
}

export const gptjArchitecture: ArchitectureDefinition<GptjConfig> = {
  modelType: 'gptj',
  parseConfig: parseGptjConfig,
  toHuggingFaceConfig: gptjConfigToJson,
  weightSpecs,
  // Causal-mask buffers (attn.bias, attn.masked_bias) are not weights.
  isIgnoredTensor: (name, config) =>
    name.endsWith('.attn.bias') || name.endsWith('.attn.masked_bias') || (config.tieWordEmbeddings && name === 'lm_head.weight'),
  defaultTokenizer: (config) => (config.vocabSize === 50257 || config.vocabSize === 50400 ? 'gpt2' : null),
  create: (config, weights, tokenizer) => new GptjModel(config, weights, tokenizer),
};
