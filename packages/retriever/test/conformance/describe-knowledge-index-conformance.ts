import { InvalidInputError, type KnowledgeIndex } from '@recipe-kit/core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { KnowledgeRepository } from '../../src/index.js';
import { bruteForceTopK, editRequest, naiveDot, randomVector, seededRandom, structuredVectors } from '../seeded-random.js';

export interface ConformanceBackend {
  /** An empty index of `dimension`. */
  create(dimension: number): Promise<KnowledgeIndex>;
  /** Stops whatever `setUp` started. */
  tearDown?(): Promise<void>;
}

export interface ConformanceCapabilities {
  /** `get` returns decoded codes (quantisation), close to but not equal to what was stored. */
  lossyVectors?: boolean;
}

/**
 * The one suite every `KnowledgeIndex` backend runs: top-k against a brute-force float64 reference,
 * removal, bad input, `get`, and RECIPE's sentinel rule through `KnowledgeRepository`. `setUp`
 * returns the backend, or a reason to skip (printed) when the backend cannot run here — e.g. no
 * native module or no Chroma server; never for a wrong result.
 */
export function describeKnowledgeIndexConformance(
  name: string,
  setUp: () => Promise<ConformanceBackend | { skip: string }>,
  capabilities: ConformanceCapabilities = {},
): void {
  describe(`KnowledgeIndex conformance: ${name}`, () => {
    let backend: ConformanceBackend | null = null;
    let skipReason = '';
    beforeAll(async () => {
      const result = await setUp();
      if ('skip' in result) {
        skipReason = result.skip;
        console.warn(`[conformance] ${name} skipped: ${skipReason}`);
      } else {
        backend = result;
      }
    });
    afterAll(async () => {
      await backend?.tearDown?.();
    });
    const open = async (dimension: number, skip: (note: string) => void): Promise<KnowledgeIndex> => {
      if (backend === null) {
        skip(skipReason);
        throw new Error('unreachable');
      }
      return backend.create(dimension);
    };
    const dimension = 16;
    const fill = async (index: KnowledgeIndex, count: number, seed: number, next?: () => Float32Array): Promise<Map<string, Float32Array>> => {
      const random = seededRandom(seed);
      const vectors = new Map<string, Float32Array>();
      for (let i = 0; i < count; i++) vectors.set(`e${i}`, next?.() ?? randomVector(random, dimension));
      await index.add([...vectors].map(([id, vector]) => ({ id, vector })));
      return vectors;
    };
    const expectSameTopK = async (index: KnowledgeIndex, vectors: Map<string, Float32Array>, seed: number, nextQuery?: () => Float32Array): Promise<void> => {
      const random = seededRandom(seed);
      for (let q = 0; q < 20; q++) {
        const query = nextQuery?.() ?? randomVector(random, dimension);
        for (const k of [1, 5]) {
          const expected = bruteForceTopK(vectors, query, k);
          const actual = await index.search(query, k);
          if (capabilities.lossyVectors) {
            // Quantised codes may swap near-ties: the true best must be in the returned top-5, and 4 of the true top-5.
            const ids = actual.map((hit) => hit.id);
            if (k === 5) {
              expect(ids).toContain(expected[0]!.id);
              expect(expected.filter((hit) => ids.includes(hit.id)).length).toBeGreaterThanOrEqual(4);
            }
            actual.forEach((hit) => expect(hit.score).toBeCloseTo(naiveDot(vectors.get(hit.id)!, query), 1));
          } else {
            expect(actual.map((hit) => hit.id)).toEqual(expected.map((hit) => hit.id));
            actual.forEach((hit, i) => expect(hit.score).toBeCloseTo(expected[i]!.score, 3));
          }
        }
      }
    };

    it('starts empty and searches an empty index without error', async ({ skip }) => {
      const index = await open(dimension, skip);
      expect(index.size).toBe(0);
      expect(await index.search(new Float32Array(dimension).fill(1), 3)).toEqual([]);
      expect(await index.get('absent')).toBeNull();
      await index.dispose();
    });

    it('finds the same top-1 and top-5 as a brute-force float64 scan', async ({ skip }) => {
      const index = await open(dimension, skip);
      const vectors = await fill(index, 300, 1);
      expect(index.size).toBe(300);
      await expectSameTopK(index, vectors, 2);
      // k beyond the size returns everything, best first.
      const few = await backend!.create(dimension);
      await fill(few, 3, 3);
      expect((await few.search(randomVector(seededRandom(4), dimension), 10)).length).toBe(3);
      await few.dispose();
      await index.dispose();
    });

    it('finds the same top-1 and top-5 on structured keys (a shared direction, mean pairwise cos ≈ 0.4, like RECIPE\'s)', async ({ skip }) => {
      const index = await open(dimension, skip);
      // Keys and queries from one generator: they share its direction, which centring backends subtract.
      const next = structuredVectors(seededRandom(10), dimension);
      const vectors = await fill(index, 300, 10, next);
      await expectSameTopK(index, vectors, 11, next);
      await index.dispose();
    });

    it('returns stored vectors by id', async ({ skip }) => {
      const index = await open(dimension, skip);
      const vectors = await fill(index, 50, 5);
      for (const id of ['e0', 'e17', 'e49']) {
        const stored = (await index.get(id))!;
        expect(stored).toBeInstanceOf(Float32Array);
        if (capabilities.lossyVectors) stored.forEach((value, i) => expect(value).toBeCloseTo(vectors.get(id)![i]!, 1));
        else expect(stored).toEqual(vectors.get(id));
      }
      expect(await index.get('e50')).toBeNull();
      await index.dispose();
    });

    it('removes entries: they are never returned again and the rest still ranks exactly', async ({ skip }) => {
      const index = await open(dimension, skip);
      const vectors = await fill(index, 200, 6);
      const removed = ['e0', 'e3', 'e77', 'e199', 'absent'];
      expect(await index.remove(removed)).toBe(4);
      expect(await index.remove(['e0'])).toBe(0);
      for (const id of removed) vectors.delete(id);
      expect(index.size).toBe(196);
      expect(await index.get('e3')).toBeNull();
      await expectSameTopK(index, vectors, 7);
      // A removed vector queried with itself must not come back.
      const random = seededRandom(6);
      const first = randomVector(random, dimension);
      expect((await index.search(first, 5)).map((hit) => hit.id)).not.toContain('e0');
      // Its id can be used again.
      await index.add([{ id: 'e0', vector: first }]);
      expect((await index.search(first, 1))[0]!.id).toBe('e0');
      await index.dispose();
    });

    it('rejects duplicate ids, wrong dimensions and non-finite values, storing nothing of the batch', async ({ skip }) => {
      const index = await open(dimension, skip);
      await fill(index, 10, 8);
      const good = new Float32Array(dimension).fill(0.5);
      const bad: Array<[string, () => Promise<unknown>, RegExp]> = [
        ['existing id', () => index.add([{ id: 'new', vector: good }, { id: 'e1', vector: good }]), /Duplicate id "e1": it is already in the index/],
        ['id twice in a batch', () => index.add([{ id: 'x', vector: good }, { id: 'x', vector: good }]), /Duplicate id "x": it is twice in this batch/],
        ['wrong dimension', () => index.add([{ id: 'y', vector: new Float32Array(dimension + 1) }]), /has dimension 17, but this index holds vectors of dimension 16/],
        ['NaN', () => index.add([{ id: 'z', vector: new Float32Array(dimension).fill(Number.NaN) }]), /non-finite value \(NaN\) at position 0/],
        ['Infinity', () => index.add([{ id: 'w', vector: good.map((v, i) => (i === 3 ? Number.POSITIVE_INFINITY : v)) }]), /non-finite value \(Infinity\) at position 3/],
        ['empty id', () => index.add([{ id: '', vector: good }]), /ids must be non-empty strings/],
        ['query of another width', () => index.search(new Float32Array(4), 1), /query has dimension 4/],
        ['k = 0', () => index.search(good, 0), /k must be an integer ≥ 1/],
      ];
      for (const [what, call, message] of bad) {
        const error = await call().then(() => null, (caught: unknown) => caught);
        expect(error, what).toBeInstanceOf(InvalidInputError);
        expect((error as Error).message, what).toMatch(message);
      }
      expect(index.size).toBe(10);
      expect(await index.get('new')).toBeNull();
      await index.dispose();
    });

    it('applies the sentinel rule in KnowledgeRepository exactly as the exact backend does', async ({ skip }) => {
      const index = await open(4, skip);
      const repo = new KnowledgeRepository({ dimension: 4, promptShape: [1, 2], encoderFingerprint: 'conformance', index });
      repo.setSentinel(new Float32Array([1, 0, 0, 0]));
      const prompt = new Float32Array(2);
      await repo.add('equal', new Float32Array([1, 0, 0, 0]), { prompt, request: editRequest('equal') });
      const query = new Float32Array([1, 0, 0, 0]);
      let result = await repo.search(query);
      expect(result.sentinelSimilarity).toBe(0.5);
      expect(result.candidates).toEqual([{ id: 'equal', similarity: 0.5 }]);
      expect(result.hits).toEqual([]);
      await repo.add('above', new Float32Array([1 + 2 ** -23, 0, 0, 0]), { prompt, request: editRequest('above') });
      result = await repo.search(query);
      expect(result.hits.map((hit) => hit.id)).toEqual(['above']);
      expect(result.hits[0]!.similarity).toBeGreaterThan(result.sentinelSimilarity);
      await repo.remove('above');
      expect((await repo.search(query)).hits).toEqual([]);
      await repo.close();
    });

    it('gives KnowledgeRepository the same search results as the exact backend on random data', async ({ skip }) => {
      const index = await open(dimension, skip);
      const repo = new KnowledgeRepository({ dimension, promptShape: [1, 2], encoderFingerprint: 'conformance', index });
      const reference = new KnowledgeRepository({ dimension, promptShape: [1, 2], encoderFingerprint: 'conformance' });
      const random = seededRandom(9);
      const sentinel = randomVector(random, dimension);
      repo.setSentinel(sentinel);
      reference.setSentinel(sentinel);
      for (let i = 0; i < 120; i++) {
        const key = randomVector(random, dimension);
        const payload = { prompt: new Float32Array([i, -i]), request: editRequest(`r${i}`), createdAt: '2026-01-01T00:00:00.000Z' };
        await repo.add(`r${i}`, key, payload);
        await reference.add(`r${i}`, key, payload);
      }
      for (const id of ['r5', 'r60']) {
        await repo.remove(id);
        await reference.remove(id);
      }
      for (let q = 0; q < 20; q++) {
        const query = randomVector(random, dimension);
        for (const topK of [1, 3]) expect(await repo.search(query, { topK })).toEqual(await reference.search(query, { topK }));
      }
      await repo.close();
    });
  });
}
