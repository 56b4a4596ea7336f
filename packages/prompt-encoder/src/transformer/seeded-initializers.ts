import * as tf from '@tensorflow/tfjs';

/**
 * Deterministic per-weight seed: the model seed mixed with a hash of the weight's name, so a weight's
 * initial value depends on (seed, name) only, not on the order in which weights are created.
 */
export function weightSeed(seed: number, name: string): number {
  let hash = 2166136261 ^ (seed >>> 0);
  for (let i = 0; i < name.length; i++) {
    hash ^= name.charCodeAt(i);
    hash = Math.imul(hash, 16777619);
  }
  return hash >>> 0;
}

/** Normal(0, std) values, seeded by (seed, name). */
export function seededNormal(shape: number[], std: number, seed: number, name: string): tf.Tensor {
  return tf.randomNormal(shape, 0, std, 'float32', weightSeed(seed, name));
}

/** Uniform(min, max) values, seeded by (seed, name). */
export function seededUniform(shape: number[], min: number, max: number, seed: number, name: string): tf.Tensor {
  return tf.randomUniform(shape, min, max, 'float32', weightSeed(seed, name));
}
