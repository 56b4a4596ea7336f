import { createHash } from 'node:crypto';
import * as tf from '@tensorflow/tfjs';
import type { CausalLanguageModel } from '../contracts/causal-language-model.js';

/** Values sampled per weight: enough to tell checkpoints apart, few enough to stay cheap at 7B. */
const SAMPLES_PER_WEIGHT = 1024;

/**
 * A cheap identity of an LLM for tagging stored prompts: architecture, dimensions, tokenizer and
 * every weight's name, shape and a strided sample of its values (prompts written for one set of
 * weights mean nothing to another). The sample is gathered on the backend, so only
 * SAMPLES_PER_WEIGHT values per weight are read back, never the weight itself.
 */
export function modelFingerprint(model: CausalLanguageModel): string {
  const hash = createHash('sha256');
  hash.update(JSON.stringify({ architecture: model.architecture, dimensions: model.dimensions, tokenizer: model.tokenizer.name }));
  for (const name of model.weightNames()) {
    const weight = model.getWeight(name);
    hash.update(`${name}[${weight.shape.join(',')}]`);
    const stride = Math.max(1, Math.floor(weight.size / SAMPLES_PER_WEIGHT));
    const sample = tf.tidy(() => {
      const indices = tf.range(0, weight.size, stride, 'int32');
      return tf.gather(weight.reshape([weight.size]), indices).dataSync() as Float32Array;
    });
    hash.update(new Uint8Array(sample.buffer, sample.byteOffset, sample.byteLength));
  }
  return `llm-sha256:${hash.digest('hex').slice(0, 32)}`;
}
