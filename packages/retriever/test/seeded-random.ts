import { createRandom, type EditRequest } from '@recipe-kit/core';

/** The project's seeded PRNG (mulberry32), so random tests are reproducible. */
export const seededRandom = createRandom;

/** Roughly normal entries (sum of uniforms), stored as float32. */
export function randomVector(random: () => number, dimension: number): Float32Array {
  const vector = new Float32Array(dimension);
  for (let i = 0; i < dimension; i++) vector[i] = random() + random() + random() - 1.5;
  return vector;
}

/**
 * Keys with structure like RECIPE's (mean pairwise cos ≈ 0.4): one shared direction plus each key's own
 * roughly normal part. Returns a generator of such keys for one seed.
 */
export function structuredVectors(random: () => number, dimension: number): () => Float32Array {
  const shared = randomVector(random, dimension);
  return () => {
    const own = randomVector(random, dimension);
    return own.map((value, i) => shared[i]! + 1.2 * value);
  };
}

/** Naive float64 inner product, the reference the index is checked against. */
export function naiveDot(a: Float32Array, b: Float32Array): number {
  let sum = 0;
  for (let i = 0; i < a.length; i++) sum += a[i]! * b[i]!;
  return sum;
}

/** Brute-force top-k by sorting every score: descending score, ties by id. */
export function bruteForceTopK(
  vectors: ReadonlyMap<string, Float32Array>,
  query: Float32Array,
  k: number,
): Array<{ id: string; score: number }> {
  return [...vectors]
    .map(([id, vector]) => ({ id, score: naiveDot(vector, query) }))
    .sort((a, b) => b.score - a.score || (a.id < b.id ? -1 : a.id > b.id ? 1 : 0))
    .slice(0, k);
}

export function editRequest(id: string): EditRequest {
  return {
    id,
    prompt: `The capital of Country ${id} is`,
    subject: `Country ${id}`,
    targetNew: `City ${id}`,
    generality: [{ prompt: `Country ${id}'s capital is`, target: `City ${id}`, type: 'rephrase' }],
    locality: [{ prompt: 'The capital of France is', target: 'Paris', type: 'neighborhood' }],
  };
}
