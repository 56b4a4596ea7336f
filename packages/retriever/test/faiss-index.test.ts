import { BackendUnavailableError, InvalidInputError } from '@recipe-kit/core';
import { describe, expect, it } from 'vitest';
import { loadFaiss } from '../src/faiss-native.js';
import { FaissIndex, createKnowledgeIndex, knowledgeIndexBackend } from '../src/index.js';
import { createVectorDataset } from '../src/benchmarks/vector-dataset.js';
import { bruteForceTopK, naiveDot, randomVector, seededRandom, structuredVectors } from './seeded-random.js';

let faissSkip: string | null = null;
try {
  loadFaiss();
} catch (error) {
  faissSkip = (error as Error).message;
  console.warn(`[faiss] tests that need the native module are skipped: ${faissSkip}`);
}

/** `count` random vectors with ids v0, v1, …, as a map and as index entries. */
function randomEntries(random: () => number, count: number, dimension: number): { vectors: Map<string, Float32Array>; entries: Array<{ id: string; vector: Float32Array }> } {
  const vectors = new Map<string, Float32Array>();
  for (let i = 0; i < count; i++) vectors.set(`v${i}`, randomVector(random, dimension));
  return { vectors, entries: [...vectors].map(([id, vector]) => ({ id, vector })) };
}

describe('index backend registry', () => {
  it('names the known backends when asked for an unknown one', async () => {
    const error = await createKnowledgeIndex('faiss-hnws', { dimension: 4 }).then(() => null, (caught: unknown) => caught);
    expect(error).toBeInstanceOf(InvalidInputError);
    expect((error as Error).message).toMatch(/Unknown knowledge index backend "faiss-hnws"/);
    expect((error as InvalidInputError).message).toMatch(/exact, faiss-flat, faiss-hnsw, faiss-hnsw-sq8, faiss-ivf, faiss-ivf-sq8, faiss-ivf-pq, faiss-ivf-pca, lancedb, chroma/);
    expect(knowledgeIndexBackend('faiss-flat').exact).toBe(true);
    expect(knowledgeIndexBackend('faiss-hnsw').exact).toBe(false);
    expect(knowledgeIndexBackend('faiss-ivf-pq').exact).toBe(false);
  });

  it('refuses a parameter the backend does not read, naming the ones it does', async () => {
    const misspelt = await createKnowledgeIndex('faiss-ivf-pq', { dimension: 256, parameters: { nprobes: 64 } }).then(() => null, (caught: unknown) => caught);
    expect(misspelt).toBeInstanceOf(InvalidInputError);
    expect((misspelt as Error).message).toMatch(/faiss-ivf-pq index has no parameter "nprobes"/);
    expect((misspelt as InvalidInputError).message).toMatch(/threads, trainAt, nlist, nprobe, pqM, rescore/);
    await expect(createKnowledgeIndex('exact', { dimension: 4, parameters: { nprobe: 1 } })).rejects.toThrow(/exact takes no parameters/);
    await expect(createKnowledgeIndex('faiss-hnsw', { dimension: 4, parameters: { efSearch: Number.NaN } })).rejects.toThrow(/efSearch is NaN/);
  });

  it('says how to install faiss when its native module cannot load, instead of falling back', () => {
    const error = (() => {
      try {
        loadFaiss('faiss-node-absent-for-this-test');
        return null;
      } catch (caught) {
        return caught;
      }
    })();
    expect(error).toBeInstanceOf(BackendUnavailableError);
    expect((error as Error).message).toMatch(/need the native module faiss-node, which is not installed or did not build/);
    expect((error as Error).message).toMatch(/apt-get install -y libfaiss-dev libopenblas-dev.*npm_config_nodedir=\/usr pnpm install/s);
  });
});

describe.skipIf(faissSkip !== null)('FaissIndex', () => {
  it('trains IVF once trainAt vectors are stored and then finds the exact top-1 with every list probed', async () => {
    const dimension = 8;
    const index = new FaissIndex(dimension, { kind: 'ivf', nlist: 8, nprobe: 8, trainAt: 400, threads: 1 });
    const random = seededRandom(11);
    const vectors = new Map<string, Float32Array>();
    for (let i = 0; i < 1000; i++) {
      const vector = randomVector(random, dimension);
      vectors.set(`v${i}`, vector);
      await index.add([{ id: `v${i}`, vector }]);
      if (i === 398) expect(index.trained).toBe(false);
    }
    expect(index.trained).toBe(true);
    for (let q = 0; q < 30; q++) {
      const query = randomVector(random, dimension);
      expect((await index.search(query, 1))[0]!.id).toBe(bruteForceTopK(vectors, query, 1)[0]!.id);
    }
    // One list probed: approximate, so some queries may miss, but results are still stored ids.
    index.setSearchParameter(1);
    const hit = (await index.search(randomVector(random, dimension), 3)).map((result) => result.id);
    expect(hit.every((id) => vectors.has(id))).toBe(true);
    await index.dispose();
  });

  it.each([
    ['Flat', 'faiss-ivf'],
    ['SQ8', 'faiss-ivf-sq8'],
  ] as const)('IVF-%s get() returns every vector, also those added after the first get() (%s)', async (storage, _backend) => {
    const dimension = 8;
    const index = new FaissIndex(dimension, { kind: 'ivf', storage, nlist: 4, nprobe: 4, trainAt: 300, threads: 1 });
    const random = seededRandom(5);
    const vectors = new Map<string, Float32Array>();
    const addSome = async (from: number, to: number): Promise<void> => {
      for (let i = from; i < to; i++) {
        const vector = randomVector(random, dimension);
        vectors.set(`v${i}`, vector);
        await index.add([{ id: `v${i}`, vector }]);
      }
    };
    const expectStored = async (ids: readonly string[]): Promise<void> => {
      for (const id of ids) {
        const stored = await index.get(id);
        const original = vectors.get(id)!;
        expect(stored, id).not.toBeNull();
        stored!.forEach((x, i) => expect(Math.abs(x - original[i]!), `${id}[${i}]`).toBeLessThan(storage === 'Flat' ? 1e-6 : 0.05));
      }
    };
    await addSome(0, 400);
    expect(index.trained).toBe(true);
    // The first get() makes faiss build its id → (list, offset) map; later adds must update it.
    await addSome(400, 450);
    await expectStored(['v3', 'v420', 'v449']);
    await addSome(450, 500);
    await expectStored(['v0', 'v450', 'v499']);
    await index.dispose();
  });

  it('rebuilds HNSW without its tombstones once they pass 10% (and 1024), keeping every live vector findable', async () => {
    const dimension = 4;
    const index = new FaissIndex(dimension, { kind: 'hnsw', hnswM: 8, efSearch: 64 });
    const random = seededRandom(12);
    const { vectors, entries } = randomEntries(random, 3000, dimension);
    await index.add(entries);
    const removed = [...vectors.keys()].slice(0, 1100);
    expect(await index.remove(removed)).toBe(1100);
    for (const id of removed) vectors.delete(id);
    expect(index.size).toBe(1900);
    // Removed vectors never come back, and the live ones rank as in a brute-force scan.
    let agree = 0;
    for (let q = 0; q < 200; q++) {
      const query = randomVector(random, dimension);
      const hits = await index.search(query, 5);
      expect(hits.some((hit) => removed.includes(hit.id))).toBe(false);
      if (hits[0]!.id === bruteForceTopK(vectors, query, 1)[0]!.id) agree++;
    }
    expect(agree).toBeGreaterThanOrEqual(195);
    expect(await index.get('v0')).toBeNull();
    expect(await index.get('v2999')).toEqual(vectors.get('v2999'));
    await index.dispose();
  });

  it('IVF-PQ scans compact codes but returns exact scores: the top-1 of near-duplicate queries, the exact vector from get', async () => {
    const dimension = 32;
    // pqM 4: 8 dimensions per byte, as the 1M configuration uses; rescore 8 × k candidates exactly.
    const index = new FaissIndex(dimension, { kind: 'ivf', storage: 'PQ', nlist: 8, nprobe: 8, pqM: 4, rescore: 8, trainAt: 1000, threads: 1 });
    const random = seededRandom(21);
    const { vectors, entries } = randomEntries(random, 3000, dimension);
    await index.add(entries.slice(0, 999));
    expect(index.trained).toBe(false);
    await index.add(entries.slice(999));
    expect(index.trained).toBe(true);
    let agree = 0;
    for (let q = 0; q < 100; q++) {
      // A paraphrase's key: a stored key plus noise (cos ≈ 0.8), the case RECIPE retrieval must get right.
      const source = vectors.get(`v${Math.floor(random() * 3000)}`)!;
      const query = source.map((value) => value + 0.75 * (random() + random() + random() - 1.5));
      const hits = await index.search(query, 2);
      // Scores are the rescored float32 inner products, not PQ estimates.
      for (const hit of hits) expect(hit.score).toBeCloseTo(naiveDot(vectors.get(hit.id)!, query), 3);
      if (hits[0]!.id === bruteForceTopK(vectors, query, 1)[0]!.id) agree++;
    }
    expect(agree).toBeGreaterThanOrEqual(98);
    expect(await index.get('v1234')).toEqual(vectors.get('v1234'));
    await index.dispose();
    // Centred: the stored vector comes back up to float32 rounding of (k − μ)·s / s + μ.
    const centred = new FaissIndex(dimension, { kind: 'ivf', storage: 'PQ', nlist: 8, nprobe: 8, pqM: 4, trainAt: 1000, threads: 1, center: true });
    await centred.add(entries);
    const stored = (await centred.get('v1234'))!;
    stored.forEach((value, i) => expect(Math.abs(value - vectors.get('v1234')![i]!)).toBeLessThanOrEqual(1e-6));
    await centred.dispose();
  });

  it('faiss-ivf-pq defaults to the measured 1M configuration at width 256; parameters override it', async () => {
    const index = (await createKnowledgeIndex('faiss-ivf-pq', { dimension: 256 })) as FaissIndex;
    expect(index.options).toMatchObject({ kind: 'ivf', storage: 'PQ', nlist: 1024, nprobe: 160, pqM: 16, rescore: 16 });
    const tuned = (await createKnowledgeIndex('faiss-ivf-pq', { dimension: 256, parameters: { nprobe: 64, pqM: 32 } })) as FaissIndex;
    expect(tuned.options).toMatchObject({ nprobe: 64, pqM: 32 });
    await Promise.all([index.dispose(), tuned.dispose()]);
  });

  it('center is an opt-in 0/1 switch of faiss-ivf-pq alone', async () => {
    expect(((await createKnowledgeIndex('faiss-ivf-pq', { dimension: 256 })) as FaissIndex).options.center).toBe(false);
    expect(((await createKnowledgeIndex('faiss-ivf-pq', { dimension: 256, parameters: { center: 1 } })) as FaissIndex).options.center).toBe(true);
    expect(((await createKnowledgeIndex('faiss-ivf', { dimension: 8 })) as FaissIndex).options.center).toBe(false);
    await expect(createKnowledgeIndex('faiss-ivf-pq', { dimension: 256, parameters: { center: 2 } })).rejects.toThrow(/parameter center is a switch, got 2/);
    await expect(createKnowledgeIndex('faiss-ivf', { dimension: 8, parameters: { center: 1 } })).rejects.toThrow(/faiss-ivf index has no parameter "center"/);
    expect(() => new FaissIndex(8, { kind: 'ivf', center: true })).toThrow(/center needs storage "PQ"/);
  });

  it('centred IVF-PQ ranks structured keys exactly as a brute-force scan, with exact scores, also after a rebuild', async () => {
    const dimension = 32;
    const next = structuredVectors(seededRandom(41), dimension);
    const vectors = new Map<string, Float32Array>();
    for (let i = 0; i < 3000; i++) vectors.set(`s${i}`, next());
    // Every list probed and 600 × k candidates (all) rescored: what is left to check is the centring.
    const index = new FaissIndex(dimension, { kind: 'ivf', storage: 'PQ', nlist: 8, nprobe: 8, pqM: 4, rescore: 600, trainAt: 1000, threads: 1, center: true });
    await index.add([...vectors].map(([id, vector]) => ({ id, vector })));
    const expectExact = async (): Promise<void> => {
      for (let q = 0; q < 30; q++) {
        const query = next();
        const expected = bruteForceTopK(vectors, query, 5);
        const hits = await index.search(query, 5);
        expect(hits.map((hit) => hit.id)).toEqual(expected.map((hit) => hit.id));
        hits.forEach((hit, i) => expect(hit.score).toBeCloseTo(expected[i]!.score, 4));
      }
    };
    await expectExact();
    // 1100 tombstones (> 10% and > 1024): rebuilt from the live vectors, trained again with a new mean.
    const removed = [...vectors.keys()].slice(0, 1100);
    await index.remove(removed);
    for (const id of removed) vectors.delete(id);
    expect(index.trained).toBe(true);
    await expectExact();
    await index.dispose();
  });

  it('centred IVF-PQ keeps lists balanced on structured keys: a query scans ≈ nprobe / nlist of the codes, uncentred ≥ 8% more', async () => {
    // At 100k × 256 keys (nlist 512, trainAt 19968, nprobe 128) uncentred queries scanned 2.0× the uniform share, centred 1.0×.
    const [size, dimension, nlist, nprobe] = [10_000, 128, 128, 16];
    const dataset = createVectorDataset({ dimension, size, queries: 40, noise: 0.75, seed: 5, sharedCosine: 0.4 });
    const entries = Array.from({ length: size }, (_, i) => ({ id: `k${i}`, vector: dataset.base.subarray(i * dimension, (i + 1) * dimension) }));
    const scannedShare = async (center: boolean): Promise<number> => {
      const index = new FaissIndex(dimension, { kind: 'ivf', storage: 'PQ', nlist, nprobe, pqM: 8, trainAt: size, threads: 1, center });
      await index.add(entries);
      let scanned = 0;
      for (let q = 0; q < dataset.queryCount; q++) scanned += index.ivfCodesScanned(dataset.query(q));
      const sizes = index.ivfListSizes();
      expect(sizes.length).toBe(nlist);
      expect(sizes.reduce((sum, length) => sum + length, 0)).toBe(size);
      await index.dispose();
      return scanned / dataset.queryCount / ((size * nprobe) / nlist);
    };
    expect(await scannedShare(true)).toBeLessThan(1.05);
    expect(await scannedShare(false)).toBeGreaterThan(1.08);
  }, 60_000);

  it('rejects bad options with the fix', () => {
    expect(() => new FaissIndex(30, { kind: 'ivf', storage: 'PQ', pqM: 4 })).toThrow(/pqM \(4\) must divide the dimension \(30\)/);
    expect(() => new FaissIndex(32, { kind: 'hnsw', storage: 'PQ' })).toThrow(/storage "PQ" needs kind "ivf"/);
    expect(() => new FaissIndex(32, { kind: 'ivf', storage: 'PQ', nlist: 4, trainAt: 100 })).toThrow(/trainAt \(100\) must be ≥ 256 for PQ/);
    expect(() => new FaissIndex(32, { kind: 'ivf', storage: 'OPQ' as 'PQ' })).toThrow(/storage must be "Flat", "SQ8" or "PQ"/);
    expect(() => new FaissIndex(4, { kind: 'ivf', nlist: 64, trainAt: 10 })).toThrow(/trainAt \(10\) must be ≥ nlist \(64\)/);
    expect(() => new FaissIndex(4, { kind: 'hnsw', efSearch: 0 })).toThrow(/efSearch must be a positive integer/);
    expect(() => new FaissIndex(4, { kind: 'graph' as 'hnsw' })).toThrow(/Unknown faiss index kind "graph"/);
  });
});
