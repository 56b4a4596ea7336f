import { InvalidInputError } from '@recipe-kit/core';
import { describe, expect, it } from 'vitest';
import { ExactIndex, innerProduct } from '../src/index.js';
import { bruteForceTopK, randomVector, seededRandom } from './seeded-random.js';

/** Checks index.search against brute force for several k: same ids in the same order, same scores. */
async function expectMatchesBruteForce(
  index: ExactIndex,
  model: ReadonlyMap<string, Float32Array>,
  random: () => number,
  queries: number,
): Promise<void> {
  const n = model.size;
  for (let q = 0; q < queries; q++) {
    const query = randomVector(random, index.dimension);
    for (const k of [1, 2, 5, 17, n, n + 3]) {
      if (k < 1) continue;
      const hits = await index.search(query, k);
      const expected = bruteForceTopK(model, query, k);
      expect(hits.map((hit) => hit.id)).toEqual(expected.map((hit) => hit.id));
      // Bit-identical scores: the index sums each row left to right in float64, like the naive loop.
      expect(hits).toEqual(expected);
      for (const hit of hits) expect(hit.score).toBe(innerProduct(model.get(hit.id)!, 0, query, index.dimension));
    }
  }
}

describe('ExactIndex', () => {
  it('matches brute-force top-k (ids and scores) on random data, for several k', async () => {
    const random = seededRandom(1);
    const dimension = 23; // not a multiple of 4: exercises the kernel's remainder loop
    const index = new ExactIndex(dimension);
    const model = new Map<string, Float32Array>();
    const entries = Array.from({ length: 300 }, (_, i) => ({ id: `e${i}`, vector: randomVector(random, dimension) }));
    await index.add(entries);
    for (const entry of entries) model.set(entry.id, entry.vector);
    expect(index.size).toBe(300);
    await expectMatchesBruteForce(index, model, random, 4);
  });

  it('still matches brute force after removals (swap-with-last) and re-adds', async () => {
    const random = seededRandom(2);
    const dimension = 16;
    const index = new ExactIndex(dimension, { initialCapacity: 8 });
    const model = new Map<string, Float32Array>();
    for (let i = 0; i < 200; i++) {
      const vector = randomVector(random, dimension);
      await index.add([{ id: `e${i}`, vector }]);
      model.set(`e${i}`, vector);
    }
    const removed = [...model.keys()].filter(() => random() < 0.5);
    expect(await index.remove([...removed, 'never-added'])).toBe(removed.length);
    for (const id of removed) model.delete(id);
    expect(index.size).toBe(model.size);
    await expectMatchesBruteForce(index, model, random, 5);
    // Re-add half of the removed ids with new vectors, plus new ids.
    for (const id of [...removed.slice(0, removed.length >> 1), 'new1', 'new2']) {
      const vector = randomVector(random, dimension);
      await index.add([{ id, vector }]);
      model.set(id, vector);
    }
    await expectMatchesBruteForce(index, model, random, 5);
    for (const [id, vector] of model) expect(await index.get(id)).toEqual(vector);
    for (const id of removed.slice(removed.length >> 1)) expect(await index.get(id)).toBeNull();
  });

  it('grows capacity geometrically and keeps every vector', async () => {
    const random = seededRandom(3);
    const index = new ExactIndex(5, { initialCapacity: 1 });
    const vectors: Float32Array[] = [];
    const capacities = new Set<number>();
    for (let i = 0; i < 1000; i++) {
      const vector = randomVector(random, 5);
      vectors.push(vector);
      await index.add([{ id: `e${i}`, vector }]);
      capacities.add(index.capacity);
    }
    // Doubling from 1 to ≥ 1000 reallocates 10 times, not 1000.
    expect([...capacities]).toEqual([1, 2, 4, 8, 16, 32, 64, 128, 256, 512, 1024]);
    for (let i = 0; i < 1000; i++) expect(await index.get(`e${i}`)).toEqual(vectors[i]);
    // A batch larger than double the capacity reserves exactly what it needs.
    const big = new ExactIndex(2, { initialCapacity: 4 });
    await big.add(Array.from({ length: 50 }, (_, i) => ({ id: `b${i}`, vector: new Float32Array([i, -i]) })));
    expect(big.capacity).toBe(50);
    expect(await big.get('b49')).toEqual(new Float32Array([49, -49]));
  });

  it('returns copies from get, and [] from an empty index', async () => {
    const index = new ExactIndex(3);
    expect(await index.search(new Float32Array(3), 4)).toEqual([]);
    const vector = new Float32Array([1, 2, 3]);
    await index.add([{ id: 'a', vector }]);
    vector[0] = 100; // the caller's buffer is not aliased
    const got = (await index.get('a'))!;
    expect(got).toEqual(new Float32Array([1, 2, 3]));
    got[1] = 100;
    expect(await index.get('a')).toEqual(new Float32Array([1, 2, 3]));
    expect(await index.get('missing')).toBeNull();
  });

  it('breaks score ties by id, for k = 1 and k > 1', async () => {
    const index = new ExactIndex(2);
    await index.add([
      { id: 'c', vector: new Float32Array([1, 0]) },
      { id: 'a', vector: new Float32Array([1, 0]) },
      { id: 'b', vector: new Float32Array([1, 0]) },
      { id: 'z', vector: new Float32Array([0, 1]) },
    ]);
    const query = new Float32Array([1, 0]);
    expect((await index.search(query, 1)).map((hit) => hit.id)).toEqual(['a']);
    expect((await index.search(query, 2)).map((hit) => hit.id)).toEqual(['a', 'b']);
    expect((await index.search(query, 4)).map((hit) => hit.id)).toEqual(['a', 'b', 'c', 'z']);
  });

  it('rejects bad input with messages that name the problem and the fix, leaving the index unchanged', async () => {
    const index = new ExactIndex(3);
    await index.add([{ id: 'a', vector: new Float32Array([1, 2, 3]) }]);
    const cases: Array<[() => Promise<unknown>, RegExp]> = [
      [() => index.add([{ id: 'b', vector: new Float32Array(4) }]), /dimension 4, but this index holds vectors of dimension 3[\s\S]*→ Pass a vector of length 3/],
      [() => index.add([{ id: 'b', vector: new Float32Array([1, Number.NaN, 0]) }]), /non-finite value \(NaN\) at position 1[\s\S]*→/],
      [() => index.add([{ id: 'b', vector: new Float32Array([Infinity, 0, 0]) }]), /non-finite value \(Infinity\) at position 0/],
      [() => index.add([{ id: 'a', vector: new Float32Array(3) }]), /Duplicate id "a": it is already in the index[\s\S]*remove\("a"\) first/],
      [
        () => index.add([{ id: 'b', vector: new Float32Array(3) }, { id: 'b', vector: new Float32Array(3) }]),
        /Duplicate id "b": it is twice in this batch/,
      ],
      [() => index.add([{ id: '', vector: new Float32Array(3) }]), /ids must be non-empty strings/],
      [() => index.add([{ id: 'b', vector: [1, 2, 3] as unknown as Float32Array }]), /is not a Float32Array/],
      [() => index.search(new Float32Array(3), 0), /k must be an integer ≥ 1, got 0[\s\S]*→ Pass the number/],
      [() => index.search(new Float32Array(3), 1.5), /k must be an integer ≥ 1, got 1.5/],
      [() => index.search(new Float32Array(2), 1), /query has dimension 2/],
      [() => index.search(new Float32Array([0, NaN, 0]), 1), /query has a non-finite value/],
    ];
    for (const [operation, message] of cases) {
      const error = await operation().then(
        () => null,
        (caught: unknown) => caught,
      );
      expect(error).toBeInstanceOf(InvalidInputError);
      expect((error as Error).message).toMatch(message);
    }
    // A batch with one bad entry adds nothing.
    await expect(
      index.add([
        { id: 'good', vector: new Float32Array(3) },
        { id: 'bad', vector: new Float32Array([0, 0, NaN]) },
      ]),
    ).rejects.toThrow(InvalidInputError);
    expect(index.size).toBe(1);
    expect(await index.get('good')).toBeNull();
    expect(() => new ExactIndex(0)).toThrow(/dimension must be a positive integer/);
  });

  it('property: random add/remove/search sequences agree with a Map model (seeded)', async () => {
    for (const seed of [11, 12, 13]) {
      const random = seededRandom(seed);
      const dimension = 1 + Math.floor(random() * 9);
      const index = new ExactIndex(dimension, { initialCapacity: 1 + Math.floor(random() * 4) });
      const model = new Map<string, Float32Array>();
      let nextId = 0;
      for (let step = 0; step < 400; step++) {
        const roll = random();
        if (roll < 0.45) {
          const batch = Array.from({ length: 1 + Math.floor(random() * 4) }, () => ({
            id: `p${nextId++}`,
            // Small integers make exact ties common, so tie-breaking is exercised too.
            vector: Float32Array.from({ length: dimension }, () => Math.floor(random() * 5) - 2),
          }));
          await index.add(batch);
          for (const entry of batch) model.set(entry.id, entry.vector);
        } else if (roll < 0.75) {
          const ids = [...model.keys()].filter(() => random() < 0.2);
          if (random() < 0.3) ids.push(`p${nextId + 5}`); // absent ids are ignored
          expect(await index.remove(ids)).toBe(ids.filter((id) => model.has(id)).length);
          for (const id of ids) model.delete(id);
        } else {
          const query = Float32Array.from({ length: dimension }, () => Math.floor(random() * 5) - 2);
          const k = 1 + Math.floor(random() * 6);
          const hits = await index.search(query, k);
          expect(hits).toEqual(bruteForceTopK(model, query, k));
        }
        expect(index.size).toBe(model.size);
      }
      for (const [id, vector] of model) expect(await index.get(id)).toEqual(vector);
    }
  });
});
