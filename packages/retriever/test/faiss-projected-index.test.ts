import { InvalidInputError } from '@recipe-kit/core';
import { describe, expect, it } from 'vitest';
import { loadFaiss } from '../src/faiss-native.js';
import { FaissProjectedIndex, createKnowledgeIndex } from '../src/index.js';
import { keysForEuclideanIndex, learnEuclideanRows, principalSubspace, queryForEuclideanIndex } from '../src/principal-subspace.js';
import { bruteForceTopK, naiveDot, randomVector, seededRandom } from './seeded-random.js';

let faissSkip: string | null = null;
try {
  loadFaiss();
} catch (error) {
  faissSkip = (error as Error).message;
  console.warn(`[faiss] projected-index tests are skipped: ${faissSkip}`);
}

/**
 * Keys like a trained RECIPE encoder's: a shared direction, most variance in `rank` random directions,
 * a little isotropic noise. Row-major [count × dimension].
 */
function lowRankKeys(random: () => number, count: number, dimension: number, rank: number, noise = 0.02): { keys: Float32Array; axes: Float32Array[] } {
  const shared = randomVector(random, dimension).map((value) => 3 * value);
  const axes = Array.from({ length: rank }, () => randomVector(random, dimension));
  const keys = new Float32Array(count * dimension);
  for (let row = 0; row < count; row++) {
    const weights = randomVector(random, rank);
    const noiseVector = randomVector(random, dimension);
    for (let i = 0; i < dimension; i++) {
      let value = shared[i]! + noise * noiseVector[i]!;
      for (let j = 0; j < rank; j++) value += weights[j]! * axes[j]![i]!;
      keys[row * dimension + i] = value;
    }
  }
  return { keys, axes };
}

describe('principalSubspace', () => {
  it('returns an orthonormal basis that spans the planted subspace', () => {
    const dimension = 48;
    const { keys, axes } = lowRankKeys(seededRandom(1), 3000, dimension, 6);
    const subspace = principalSubspace(keys, dimension, 6);
    const column = (j: number) => subspace.basis.subarray(j * dimension, (j + 1) * dimension);
    for (let a = 0; a < 6; a++) {
      for (let b = 0; b < 6; b++) {
        let dot = 0;
        for (let i = 0; i < dimension; i++) dot += column(a)[i]! * column(b)[i]!;
        expect(dot).toBeCloseTo(a === b ? 1 : 0, 9);
      }
    }
    // Each planted axis lies in the subspace: its projection keeps (almost) all its length.
    for (const axis of axes) {
      let kept = 0;
      for (let j = 0; j < 6; j++) kept += naiveDot(Float32Array.from(column(j)), axis) ** 2;
      expect(kept / naiveDot(axis, axis)).toBeGreaterThan(0.999);
    }
    expect(subspace.explained).toBeGreaterThan(0.99);
    // A rank-1 subspace of the same keys explains much less: the test can tell the difference.
    expect(principalSubspace(keys, dimension, 1).explained).toBeLessThan(0.5);
  });

  it('learns the rows in one projection pass exactly as projecting the keys with the learnt subspace does (padded width too)', () => {
    const dimension = 24;
    const { keys } = lowRankKeys(seededRandom(5), 300, dimension, 6, 0.2);
    const { subspace, rows } = learnEuclideanRows(keys, dimension, 6, 8);
    expect(subspace.boundSquared).toBeGreaterThan(0);
    expect(subspace).toEqual(principalSubspace(keys, dimension, 6));
    expect(Array.from(rows)).toEqual(Array.from(keysForEuclideanIndex(subspace, keys, 8)));
    // The padding stays zero and the bound column is set for every row.
    for (let row = 0; row < 300; row++) {
      expect(rows[row * 8 + 7]).toBe(0);
      expect(rows[row * 8 + 6]).toBeGreaterThan(0);
    }
  });

  it('turns the projected inner product into a Euclidean distance exactly (|q′ − z′|² = |Bᵀq|² + M² − 2·Bᵀq·z)', () => {
    const dimension = 32;
    const random = seededRandom(2);
    const { keys } = lowRankKeys(random, 500, dimension, 8, 0.3);
    const subspace = principalSubspace(keys, dimension, 8);
    const stored = keysForEuclideanIndex(subspace, keys);
    const query = randomVector(random, dimension);
    const q = queryForEuclideanIndex(subspace, query);
    expect(q.length).toBe(9);
    expect(q[8]).toBe(0);
    const qq = naiveDot(q, q);
    for (let row = 0; row < 500; row += 37) {
      const z = stored.subarray(row * 9, row * 9 + 9);
      let distance = 0;
      for (let i = 0; i < 9; i++) distance += (q[i]! - z[i]!) ** 2;
      const projected = naiveDot(q.subarray(0, 8), z.subarray(0, 8));
      expect(distance).toBeCloseTo(qq + subspace.boundSquared - 2 * projected, 2);
      // And the projected score is the centred inner product up to the noise outside the subspace.
      let centred = 0;
      for (let i = 0; i < dimension; i++) centred += query[i]! * (keys[row * dimension + i]! - subspace.mean[i]!);
      expect(Math.abs(projected - centred)).toBeLessThan(0.05 * Math.abs(centred) + 1);
    }
  });
});

describe.skipIf(faissSkip !== null)('FaissProjectedIndex', () => {
  const dimension = 64;
  const count = 6000;

  async function filled(parameters: Record<string, number>): Promise<{ index: FaissProjectedIndex; vectors: Map<string, Float32Array> }> {
    const { keys } = lowRankKeys(seededRandom(3), count, dimension, 12);
    const index = (await createKnowledgeIndex('faiss-ivf-pca', { dimension, parameters: { nlist: 32, trainAt: 2000, rank: 15, ...parameters } })) as FaissProjectedIndex;
    const vectors = new Map<string, Float32Array>();
    const entries = [];
    for (let row = 0; row < count; row++) {
      const vector = keys.slice(row * dimension, (row + 1) * dimension);
      vectors.set(`k${row}`, vector);
      entries.push({ id: `k${row}`, vector });
    }
    // In batches across trainAt: keys before it are trained on, later ones projected with what was learnt.
    for (let start = 0; start < count; start += 1000) await index.add(entries.slice(start, start + 1000));
    return { index, vectors };
  }

  /** Queries from another "head": the keys' structure seen through a different mix, plus noise. */
  function queries(total: number): Float32Array[] {
    const { keys } = lowRankKeys(seededRandom(4), total, dimension, 12, 0.5);
    return Array.from({ length: total }, (_, row) => keys.slice(row * dimension, (row + 1) * dimension));
  }

  it('ranks exactly with every list probed, and keeps recall@1 far above the share scanned with fewer', async () => {
    const { index, vectors } = await filled({ nprobe: 32 });
    expect(index.trained).toBe(true);
    expect(index.explainedVariance!).toBeGreaterThan(0.99);
    const asked = queries(100);
    for (const query of asked) {
      const expected = bruteForceTopK(vectors, query, 3);
      const actual = await index.search(query, 3);
      expect(actual.map((hit) => hit.id)).toEqual(expected.map((hit) => hit.id));
      // Scores are the exact inner products, not the projection's.
      actual.forEach((hit, i) => expect(hit.score).toBeCloseTo(expected[i]!.score, 3));
    }
    // Fewer lists probed: recall@1 falls with the share scanned, but stays far above that share.
    const recallAt = async (nprobe: number): Promise<number> => {
      index.setSearchParameter(nprobe);
      let agree = 0;
      for (const query of asked) if ((await index.search(query, 1))[0]!.id === bruteForceTopK(vectors, query, 1)[0]!.id) agree++;
      return agree / asked.length;
    };
    const quarter = await recallAt(8);
    const half = await recallAt(16);
    // Measured 0.80 and 0.96 (a quarter and half of the lists scanned).
    expect(quarter).toBeGreaterThanOrEqual(0.75);
    expect(half).toBeGreaterThanOrEqual(0.9);
    await index.dispose();
  });

  it('loses nothing through removals and the rebuild they trigger', async () => {
    const { index, vectors } = await filled({ nprobe: 32 });
    const removed = Array.from({ length: 1500 }, (_, i) => `k${i * 4}`);
    expect(await index.remove(removed)).toBe(1500);
    for (const id of removed) vectors.delete(id);
    expect(index.size).toBe(count - 1500);
    expect(index.trained).toBe(true);
    for (const query of queries(30)) {
      expect((await index.search(query, 5)).map((hit) => hit.id)).toEqual(bruteForceTopK(vectors, query, 5).map((hit) => hit.id));
    }
    expect(await index.get('k0')).toBeNull();
    expect(await index.get('k1')).toEqual(vectors.get('k1'));
    await index.dispose();
  });

  it('stays finite for keys longer than any it was trained on (clamped onto the bound)', async () => {
    const { index, vectors } = await filled({ nprobe: 32 });
    const long = vectors.get('k5')!.map((value) => 40 * value);
    await index.add([{ id: 'long', vector: long }]);
    const hits = await index.search(long, 1);
    expect(hits[0]!.id).toBe('long');
    expect(Number.isFinite(hits[0]!.score)).toBe(true);
    await index.dispose();
  });

  it('keeps float32 rows with pqM 0, ranking exactly with every list probed', async () => {
    const { index, vectors } = await filled({ nprobe: 32, pqM: 0 });
    for (const query of queries(30)) expect((await index.search(query, 3)).map((hit) => hit.id)).toEqual(bruteForceTopK(vectors, query, 3).map((hit) => hit.id));
    await index.dispose();
  });

  it('refuses a rank that is not below the key width, and bad knobs, naming the fix', async () => {
    expect(() => new FaissProjectedIndex(16, { rank: 16 })).toThrow(/rank \(16\) must be below the key width \(16\)/);
    expect(() => new FaissProjectedIndex(16, { nlist: 64, trainAt: 10 })).toThrow(InvalidInputError);
    expect(() => new FaissProjectedIndex(16, { trainAt: 200, nlist: 4 })).toThrow(/trainAt \(200\) must be ≥ 256 with pqM > 0/);
    await expect(createKnowledgeIndex('faiss-ivf-pca', { dimension: 16, parameters: { center: 1 } })).rejects.toThrow(/faiss-ivf-pca index has no parameter "center"/);
  });
});
