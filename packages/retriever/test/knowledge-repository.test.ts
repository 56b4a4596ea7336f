import { InvalidConfigError, InvalidInputError } from '@recipe-kit/core';
import { describe, expect, it } from 'vitest';
import { ExactIndex, KnowledgeRepository } from '../src/index.js';
import { editRequest, naiveDot, randomVector, seededRandom } from './seeded-random.js';

const promptShape = [2, 3] as const;

function prompt(fill: number): Float32Array {
  return new Float32Array(promptShape[0] * promptShape[1]).fill(fill);
}

function repository(dimension = 4): KnowledgeRepository {
  return new KnowledgeRepository({ dimension, promptShape, encoderFingerprint: 'test-encoder' });
}

async function addEntry(repo: KnowledgeRepository, id: string, key: number[], fill = 1): Promise<void> {
  await repo.add(id, new Float32Array(key), { prompt: prompt(fill), request: editRequest(id) });
}

describe('KnowledgeRepository: the sentinel rule', () => {
  // Query e0, sentinel e0: s_0 = 1 / sqrt(4) = 0.5.
  const query = new Float32Array([1, 0, 0, 0]);

  it('does not return an entry scoring exactly s_0, and returns one slightly above', async () => {
    const repo = repository();
    repo.setSentinel(new Float32Array([1, 0, 0, 0]));
    await addEntry(repo, 'equal', [1, 0, 0, 0]);
    let result = await repo.search(query);
    expect(result.sentinelSimilarity).toBe(0.5);
    expect(result.candidates).toEqual([{ id: 'equal', similarity: 0.5 }]);
    expect(result.hits).toEqual([]);

    // The next float32 above 1: the smallest possible margin still passes.
    const justAbove = new Float32Array([1 + 2 ** -23, 0, 0, 0]);
    expect(justAbove[0]).toBeGreaterThan(1);
    await repo.add('above', justAbove, { prompt: prompt(2), request: editRequest('above') });
    result = await repo.search(query);
    expect(result.hits.map((hit) => hit.id)).toEqual(['above']);
    expect(result.hits[0]!.similarity).toBeGreaterThan(result.sentinelSimilarity);
    expect(result.hits[0]!.payload.prompt).toEqual(prompt(2));
  });

  it('rejects a key equal to the sentinel on random data too (scores are bit-identical in the 4-row scan)', async () => {
    const random = seededRandom(4);
    const dimension = 37;
    const repo = repository(dimension);
    const sentinel = randomVector(random, dimension);
    repo.setSentinel(sentinel);
    // Nine entries so the equal key is scored inside a 4-row block, not by the remainder loop.
    await repo.add('equal', sentinel, { prompt: prompt(0), request: editRequest('equal') });
    for (let i = 0; i < 8; i++) {
      const key = sentinel.map((value) => value * 0.25);
      await repo.add(`weaker${i}`, key, { prompt: prompt(0), request: editRequest(`weaker${i}`) });
    }
    for (let q = 0; q < 20; q++) {
      const rq = sentinel.map((value) => value + (random() - 0.5) * 0.1);
      const result = await repo.search(rq, { topK: 9 });
      expect(result.candidates[0]).toEqual({ id: 'equal', similarity: result.sentinelSimilarity });
      expect(result.hits).toEqual([]);
    }
  });

  it('retrieves nothing when the sentinel ranks first', async () => {
    const repo = repository();
    repo.setSentinel(new Float32Array([2, 0, 0, 0]));
    await addEntry(repo, 'a', [1.9, 0, 0, 0]);
    await addEntry(repo, 'b', [0, 5, 0, 0]);
    const result = await repo.search(query, { topK: 2 });
    expect(result.sentinelSimilarity).toBe(1);
    expect(result.candidates.map((candidate) => candidate.id)).toEqual(['a', 'b']);
    expect(result.hits).toEqual([]);
    expect(repo.adoptedPrompt(result)).toEqual({ prompt: new Float32Array(0), shape: [0, 3] });
  });

  it('with topK > 1 keeps only entries above the sentinel, best first', async () => {
    const repo = repository();
    repo.setSentinel(new Float32Array([0.5, 0, 0, 0]));
    await addEntry(repo, 'low', [0.4, 1, 1, 1], 1);
    await addEntry(repo, 'best', [3, 0, 0, 0], 2);
    await addEntry(repo, 'second', [0.6, 0, 0, 0], 3);
    await addEntry(repo, 'lowest', [-1, 0, 0, 0], 4);
    const result = await repo.search(query, { topK: 3 });
    expect(result.sentinelSimilarity).toBe(0.25);
    expect(result.hits.map((hit) => [hit.id, hit.similarity])).toEqual([
      ['best', 1.5],
      ['second', naiveDot(new Float32Array([0.6]), new Float32Array([1])) / 2],
    ]);
    expect(result.candidates.map((candidate) => candidate.id)).toEqual(['best', 'second', 'low']);
    // Prompts are concatenated along the token axis in the same order.
    const adopted = repo.adoptedPrompt(result);
    expect(adopted.shape).toEqual([4, 3]);
    expect(adopted.prompt).toEqual(Float32Array.from([...prompt(2), ...prompt(3)]));
    // topK = 1 is RECIPE's default.
    expect((await repo.search(query)).hits.map((hit) => hit.id)).toEqual(['best']);
  });

  it('applies minSimilarity as a second, absolute gate', async () => {
    const repo = repository();
    repo.setSentinel(new Float32Array([0, 0, 0, 0]));
    await addEntry(repo, 'a', [3, 0, 0, 0]); // s = 1.5
    await addEntry(repo, 'b', [1, 0, 0, 0]); // s = 0.5
    expect((await repo.search(query, { topK: 2 })).hits.map((hit) => hit.id)).toEqual(['a', 'b']);
    expect((await repo.search(query, { topK: 2, minSimilarity: 0.5 })).hits.map((hit) => hit.id)).toEqual(['a']);
    expect((await repo.search(query, { topK: 2, minSimilarity: 1.5 })).hits).toEqual([]);
  });

  it('without the sentinel gate (the w/o-KS ablation) only minSimilarity decides', async () => {
    const repo = repository();
    repo.setSentinel(new Float32Array([4, 0, 0, 0])); // s_0 = 2: beats both entries
    await addEntry(repo, 'a', [3, 0, 0, 0]); // s = 1.5
    await addEntry(repo, 'b', [1, 0, 0, 0]); // s = 0.5
    expect((await repo.search(query, { topK: 2 })).hits).toEqual([]);
    expect((await repo.search(query, { topK: 2, useSentinel: false })).hits.map((hit) => hit.id)).toEqual(['a', 'b']);
    expect((await repo.search(query, { topK: 2, useSentinel: false, minSimilarity: 1 })).hits.map((hit) => hit.id)).toEqual(['a']);
  });

  it('a sentinel margin m keeps entries with s_j > s_0 + m (m = 0 is RECIPE\'s rule)', async () => {
    const repo = repository();
    repo.setSentinel(new Float32Array([2, 0, 0, 0])); // s_0 = 1
    await addEntry(repo, 'a', [3, 0, 0, 0]); // s = 1.5
    await addEntry(repo, 'b', [1, 0, 0, 0]); // s = 0.5
    expect((await repo.search(query, { topK: 2 })).hits.map((hit) => hit.id)).toEqual(['a']);
    expect((await repo.search(query, { topK: 2, sentinelMargin: -0.75 })).hits.map((hit) => hit.id)).toEqual(['a', 'b']);
    expect((await repo.search(query, { topK: 2, sentinelMargin: 0.75 })).hits).toEqual([]);
    await expect(repo.search(query, { sentinelMargin: Number.NaN })).rejects.toThrow(/sentinelMargin must be a finite number/);
  });

  it('uses scaled dot products r_q·r_k / sqrt(d_r), not cosine', async () => {
    const random = seededRandom(5);
    const dimension = 64;
    const repo = repository(dimension);
    const sentinel = randomVector(random, dimension);
    repo.setSentinel(sentinel);
    const keys = Array.from({ length: 20 }, () => randomVector(random, dimension));
    for (const [i, key] of keys.entries()) await repo.add(`e${i}`, key, { prompt: prompt(i), request: editRequest(`e${i}`) });
    const rq = randomVector(random, dimension);
    const result = await repo.search(rq, { topK: 20 });
    // sqrt(64) = 8 is a power of two, so scaling is exact and the comparison can be too.
    const expected = keys
      .map((key, i) => ({ id: `e${i}`, similarity: naiveDot(key, rq) / 8 }))
      .sort((a, b) => b.similarity - a.similarity);
    expect(result.candidates.map((candidate) => candidate.id)).toEqual(expected.map((entry) => entry.id));
    result.candidates.forEach((candidate, i) => expect(candidate.similarity).toBe(expected[i]!.similarity));
    expect(result.sentinelSimilarity).toBe(naiveDot(sentinel, rq) / 8);
    const above = expected.filter((entry) => entry.similarity > result.sentinelSimilarity).map((entry) => entry.id);
    expect(result.hits.map((hit) => hit.id)).toEqual(above);
  });
});

describe('KnowledgeRepository: entries', () => {
  const query = new Float32Array([1, 0, 0, 0]);

  it('remove retracts a fact: the next best entry is retrieved instead', async () => {
    const repo = repository();
    repo.setSentinel(new Float32Array([0.125, 0, 0, 0]));
    await addEntry(repo, 'first', [3, 0, 0, 0]);
    await addEntry(repo, 'second', [2, 0, 0, 0]);
    expect((await repo.search(query)).hits[0]!.id).toBe('first');
    expect(await repo.remove('first')).toBe(true);
    expect(await repo.remove('first')).toBe(false);
    expect(repo.size).toBe(1);
    expect(repo.get('first')).toBeUndefined();
    expect(await repo.getKey('first')).toBeNull();
    expect((await repo.search(query)).hits.map((hit) => hit.id)).toEqual(['second']);
    await repo.remove('second');
    expect(await repo.search(query)).toEqual({ hits: [], sentinelSimilarity: 0.0625, candidates: [] });
    // A removed id can be added again.
    await addEntry(repo, 'first', [3, 0, 0, 0]);
    expect((await repo.search(query)).hits[0]!.id).toBe('first');
  });

  it('clear empties the entries and keeps the sentinel', async () => {
    const repo = repository();
    const sentinel = new Float32Array([0.1, 0.2, 0.3, 0.4]);
    repo.setSentinel(sentinel);
    await addEntry(repo, 'a', [3, 0, 0, 0]);
    await addEntry(repo, 'b', [2, 0, 0, 0]);
    await repo.clear();
    expect(repo.size).toBe(0);
    expect([...repo.entries()]).toEqual([]);
    expect(repo.getSentinel()).toEqual(sentinel);
    const result = await repo.search(query);
    expect(result.hits).toEqual([]);
    expect(result.sentinelSimilarity).toBeCloseTo(0.05, 7);
    await addEntry(repo, 'a', [3, 0, 0, 0]);
    expect((await repo.search(query)).hits.map((hit) => hit.id)).toEqual(['a']);
  });

  it('keeps insertion order, copies prompts, and records request and createdAt', async () => {
    const repo = repository();
    const buffer = prompt(7);
    const stored = await repo.add('x', new Float32Array([1, 1, 1, 1]), {
      prompt: buffer,
      request: editRequest('x'),
      createdAt: '2024-01-02T03:04:05.000Z',
    });
    buffer.fill(0);
    expect(stored).toEqual({
      id: 'x',
      prompt: prompt(7),
      promptShape: [2, 3],
      request: editRequest('x'),
      createdAt: '2024-01-02T03:04:05.000Z',
    });
    for (const id of ['c', 'a', 'b']) await addEntry(repo, id, [0, 0, 0, 1]);
    expect([...repo.entries()].map((entry) => entry.id)).toEqual(['x', 'c', 'a', 'b']);
    expect(Number.isNaN(Date.parse(repo.get('a')!.createdAt))).toBe(false);
  });

  it('rejects bad input clearly and stores nothing on error', async () => {
    const repo = repository();
    await addEntry(repo, 'a', [1, 0, 0, 0]);
    await expect(repo.search(query)).rejects.toThrow(InvalidConfigError);
    await expect(repo.search(query)).rejects.toThrow(/no sentinel[\s\S]*→ Call setSentinel/);
    expect(() => repo.setSentinel(new Float32Array(3))).toThrow(/sentinel vector has dimension 3/);
    expect(() => repo.setSentinel(new Float32Array([0, 0, NaN, 0]))).toThrow(/sentinel vector has a non-finite value/);
    repo.setSentinel(new Float32Array(4));
    const bad: Array<[() => Promise<unknown>, RegExp]> = [
      [() => addEntry(repo, 'a', [1, 0, 0, 0]), /Duplicate id "a": the repository already holds/],
      [() => addEntry(repo, 'b', [1, 0, 0]), /vector of id "b" has dimension 3/],
      [() => addEntry(repo, 'b', [1, 0, Infinity, 0]), /vector of id "b" has a non-finite value/],
      [
        () => repo.add('b', new Float32Array(4), { prompt: new Float32Array(5), request: editRequest('b') }),
        /prompt of id "b" \(shape \[2, 3\] flattened\) has dimension 5/,
      ],
      [() => repo.search(query, { topK: 0 }), /topK must be an integer ≥ 1, got 0/],
      [() => repo.search(query, { minSimilarity: Number.NaN }), /minSimilarity must be a number/],
      [() => repo.search(new Float32Array(5)), /query vector has dimension 5/],
    ];
    for (const [operation, message] of bad) {
      const error = await operation().then(
        () => null,
        (caught: unknown) => caught,
      );
      expect(error).toBeInstanceOf(InvalidInputError);
      expect((error as Error).message).toMatch(message);
    }
    expect(repo.size).toBe(1);
    expect(repo.get('b')).toBeUndefined();
    expect(await repo.getKey('b')).toBeNull();
    expect(
      () => new KnowledgeRepository({ dimension: 4, promptShape, encoderFingerprint: 'x', index: new ExactIndex(5) }),
    ).toThrow(/dimension 5, but the repository dimension is 4/);
    expect(() => new KnowledgeRepository({ dimension: 4, promptShape: [0, 3], encoderFingerprint: 'x' })).toThrow(
      /promptShape must be \[l, d_llm\]/,
    );
  });
});
