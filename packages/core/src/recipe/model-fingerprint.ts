import { createHash } from 'node:crypto';
import type { CausalLanguageModel } from '../contracts/causal-language-model.js';

/**
 * A cheap identity of an LLM for tagging stored prompts: architecture, dimensions, tokenizer and
 * every weight's name, shape and a strided sample of its values (prompts written for one set of
 * weights mean nothing to another; hashing every byte of a 7B model would take seconds).
 */
export function modelFingerprint(model: CausalLanguageModel): string {
  const hash = createHash('sha256');
  hash.update(JSON.stringify({ architecture: model.architecture, dimensions: model.dimensions, tokenizer: model.tokenizer.name }));
  for (const name of model.weightNames()) {
    const weight = model.getWeight(name);
    hash.update(`${name}[${weight.shape.join(',')}]`);
    const values = weight.dataSync() as Float32Array;
    const stride = Math.max(1, Math.floor(values.length / 1024));
    const sample = new Float32Array(Math.ceil(values.length / stride));
    for (let i = 0, k = 0; i < values.length; i += stride, k++) sample[k] = values[i] as number;
    hash.update(new Uint8Array(sample.buffer));
  }
  return `llm-sha256:${hash.digest('hex').slice(0, 32)}`;
}
