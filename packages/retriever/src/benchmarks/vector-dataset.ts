import { createRandom } from '@recipe-kit/core';

export interface VectorDataset {
  dimension: number;
  size: number;
  /** [size × dimension] unit vectors (the stored keys). */
  base: Float32Array;
  queryCount: number;
  /** Row each query was made from. */
  sourceRows: Int32Array;
  /** Noise norm relative to the unit key (cos(query, source) ≈ 1 / sqrt(1 + noise²)). */
  noise: number;
  /** Expected cosine between two keys: 0 for i.i.d. keys, > 0 when keys share a common direction. */
  sharedCosine: number;
  query(index: number): Float32Array;
}

/**
 * Random unit keys (i.i.d. Gaussian, normalised) and queries that are noisy copies of random keys —
 * a paraphrase's query key near its edit's key, the case retrieval must get right. Seeded.
 *
 * `sharedCosine` c > 0 gives keys structure like real RECIPE keys (mean pairwise cos ≈ 0.40): each key
 * is normalise(√c·u + √(1−c)·g) for one fixed random unit u and its own Gaussian g, so two keys have
 * cos ≈ c. Default 0: the i.i.d. keys, the hardest case for inverted lists and graphs.
 */
export function createVectorDataset(options: { dimension: number; size: number; queries: number; noise: number; seed: number; sharedCosine?: number }): VectorDataset {
  const { dimension, size, noise } = options;
  const sharedCosine = options.sharedCosine ?? 0;
  const random = createRandom(options.seed);
  let spare: number | null = null;
  // Box–Muller, two normals per pair of uniforms.
  const gaussian = (): number => {
    if (spare !== null) {
      const value = spare;
      spare = null;
      return value;
    }
    const u = Math.max(random(), 1e-12);
    const v = random();
    const radius = Math.sqrt(-2 * Math.log(u));
    spare = radius * Math.sin(2 * Math.PI * v);
    return radius * Math.cos(2 * Math.PI * v);
  };
  const normaliseInto = (target: Float32Array, offset: number, values: Float64Array): void => {
    let norm = 0;
    for (const value of values) norm += value * value;
    const scale = 1 / Math.sqrt(norm);
    for (let i = 0; i < dimension; i++) target[offset + i] = values[i]! * scale;
  };
  const scratch = new Float64Array(dimension);
  // The shared direction u (unit), scaled so √c·u and the √(1−c)-weighted unit-ish g mix as intended.
  const shared = new Float64Array(dimension);
  if (sharedCosine > 0) {
    for (let i = 0; i < dimension; i++) shared[i] = gaussian();
    const norm = Math.sqrt(shared.reduce((sum, value) => sum + value * value, 0));
    for (let i = 0; i < dimension; i++) shared[i] = (shared[i]! / norm) * Math.sqrt(sharedCosine);
  }
  const own = Math.sqrt((1 - sharedCosine) / dimension);
  const base = new Float32Array(size * dimension);
  for (let row = 0; row < size; row++) {
    // c = 0 draws exactly the i.i.d. keys of earlier runs (same seed, same vectors).
    for (let i = 0; i < dimension; i++) scratch[i] = sharedCosine > 0 ? shared[i]! + own * gaussian() : gaussian();
    normaliseInto(base, row * dimension, scratch);
  }
  const queries = new Float32Array(options.queries * dimension);
  const sourceRows = new Int32Array(options.queries);
  const sigma = noise / Math.sqrt(dimension);
  for (let q = 0; q < options.queries; q++) {
    const row = Math.floor(random() * size);
    sourceRows[q] = row;
    for (let i = 0; i < dimension; i++) scratch[i] = base[row * dimension + i]! + sigma * gaussian();
    normaliseInto(queries, q * dimension, scratch);
  }
  return { dimension, size, base, queryCount: options.queries, sourceRows, noise, sharedCosine, query: (index) => queries.subarray(index * dimension, (index + 1) * dimension) };
}
