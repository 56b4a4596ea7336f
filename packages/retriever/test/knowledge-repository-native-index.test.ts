import { mkdtemp, readdir, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { InvalidCheckpointError } from '@recipe-kit/core';
import { afterEach, describe, expect, it, vi } from 'vitest';
import { loadFaiss } from '../src/faiss-native.js';
import type { KnowledgeIndex } from '@recipe-kit/core';
import { FaissIndex, FaissProjectedIndex, KnowledgeRepository, type FaissIndexOptions } from '../src/index.js';
import { bruteForceTopK, editRequest, randomVector, seededRandom } from './seeded-random.js';

let faissSkip: string | null = null;
try {
  loadFaiss();
} catch (error) {
  faissSkip = (error as Error).message;
}

const dimension = 16;
const options = { dimension, promptShape: [1, 2] as [number, number], encoderFingerprint: 'native-index-test' };
// rescore 128: every candidate is rescored, so results are exact and any wrong label mapping shows.
const ivf: FaissIndexOptions = { kind: 'ivf', storage: 'PQ', nlist: 4, nprobe: 4, trainAt: 256, rescore: 128, threads: 1 };
// Centred: the file holds (k − μ)·s, and μ and s are saved in the labels file.
const centred: FaissIndexOptions = { ...ivf, center: true };
const directories: string[] = [];

afterEach(async () => {
  vi.restoreAllMocks();
  for (const directory of directories.splice(0)) await rm(directory, { recursive: true, force: true });
});

/** A durable repository with 400 edits compacted into a snapshot (with its faiss file), then a journal tail: 30 adds, 10 removals. */
async function repositoryWithTail(indexOptions: FaissIndexOptions | ((d: number) => KnowledgeIndex) = ivf): Promise<{ directory: string; keys: Map<string, Float32Array> }> {
  const directory = await mkdtemp(path.join(tmpdir(), 'native-index-'));
  directories.push(directory);
  const random = seededRandom(31);
  const keys = new Map<string, Float32Array>();
  const createIndex = typeof indexOptions === 'function' ? indexOptions : (d: number) => new FaissIndex(d, indexOptions);
  const repository = await KnowledgeRepository.open(directory, { ...options, createIndex });
  repository.setSentinel(new Float32Array(dimension).fill(-10));
  const add = async (i: number) => {
    const key = randomVector(random, dimension);
    keys.set(`e${i}`, key);
    await repository.add(`e${i}`, key, { prompt: new Float32Array(2), request: editRequest(`e${i}`) });
  };
  for (let i = 0; i < 400; i++) await add(i);
  await repository.compact();
  for (let i = 400; i < 430; i++) await add(i);
  for (let i = 0; i < 10; i++) {
    await repository.remove(`e${i * 7}`);
    keys.delete(`e${i * 7}`);
  }
  await repository.close();
  return { directory, keys };
}

async function expectExactTopOne(repository: KnowledgeRepository, keys: Map<string, Float32Array>): Promise<void> {
  const random = seededRandom(32);
  for (let q = 0; q < 40; q++) {
    const query = randomVector(random, dimension);
    const result = await repository.search(query);
    expect(result.candidates[0]!.id).toBe(bruteForceTopK(keys, query, 1)[0]!.id);
  }
}

describe.skipIf(faissSkip !== null)('KnowledgeRepository with a faiss backend: the saved index file', () => {
  it('reopens from the faiss file written at compaction (no rebuild) and replays the journal tail into it', async () => {
    const { directory, keys } = await repositoryWithTail();
    expect((await readdir(directory)).filter((name) => name.startsWith('index-')).sort()).toEqual([expect.stringMatching(/^index-[0-9a-f]{16}\.faiss$/), expect.stringMatching(/^index-[0-9a-f]{16}\.json$/)]);
    const loadNative = vi.spyOn(FaissIndex.prototype, 'loadNative');
    const add = vi.spyOn(FaissIndex.prototype, 'add');
    const reopened = await KnowledgeRepository.open(directory, { ...options, createIndex: (d) => new FaissIndex(d, ivf) });
    expect(loadNative).toHaveReturnedWith(true);
    // Only the 30 journal adds reach the index: the 400 of the snapshot come from the file.
    expect(add.mock.calls.reduce((sum, [entries]) => sum + entries.length, 0)).toBe(30);
    expect(reopened.size).toBe(420);
    expect(reopened.indexBackend.size).toBe(420);
    await expectExactTopOne(reopened, keys);
    await reopened.close();
  });

  it('rebuilds from the keys when the file is missing or was made with other options, and refuses a corrupted one', async () => {
    const { directory, keys } = await repositoryWithTail();
    // Other options (8 lists): the file is ignored and the index rebuilt.
    const other = await KnowledgeRepository.load(directory, { encoderFingerprint: options.encoderFingerprint, createIndex: (d) => new FaissIndex(d, { ...ivf, nlist: 8, nprobe: 8 }) });
    expect(other.indexBackend.size).toBe(420);
    await expectExactTopOne(other, keys);
    await other.close();

    const faissFile = (await readdir(directory)).find((name) => name.endsWith('.faiss'))!;
    await writeFile(path.join(directory, faissFile), 'not a faiss index');
    await expect(KnowledgeRepository.load(directory, { encoderFingerprint: options.encoderFingerprint, createIndex: (d) => new FaissIndex(d, ivf) })).rejects.toThrow(InvalidCheckpointError);

    await rm(path.join(directory, faissFile));
    const rebuilt = await KnowledgeRepository.load(directory, { encoderFingerprint: options.encoderFingerprint, createIndex: (d) => new FaissIndex(d, ivf) });
    expect(rebuilt.indexBackend.size).toBe(420);
    await expectExactTopOne(rebuilt, keys);
    await rebuilt.close();
  });

  it('saves a centred index with its mean: a reopened index answers identically; a file saved uncentred is rebuilt, never misread', async () => {
    const { directory, keys } = await repositoryWithTail(centred);
    const manifest = JSON.parse(await readFile(path.join(directory, 'manifest.json'), 'utf8')) as { files: { index: { description: string; labels: { name: string } } } };
    expect(manifest.files.index.description).toBe('IVF4,PQ2np,RFlat;centred');
    const saved = JSON.parse(await readFile(path.join(directory, manifest.files.index.labels.name), 'utf8')) as { labels: unknown[]; mean: number[]; scale: number };
    expect(saved.labels).toHaveLength(400);
    expect(saved.mean).toHaveLength(dimension);
    expect(saved.scale).toBeGreaterThan(0);
    // The mean of 400 keys of roughly normal entries is small but not zero: centring did happen.
    expect(saved.mean.some((value) => value !== 0)).toBe(true);

    // FaissIndex round trip: same hits (ids and scores, bit for bit) and same vectors from get.
    const random = seededRandom(33);
    const original = new FaissIndex(dimension, centred);
    await original.add([...keys].map(([id, vector]) => ({ id, vector })));
    const file = path.join(directory, 'round-trip.faiss');
    const state = original.saveNative(file)!;
    expect(state.centring!.mean).toHaveLength(dimension);
    const reopened = new FaissIndex(dimension, centred);
    expect(reopened.loadNative(file, state)).toBe(true);
    for (let q = 0; q < 20; q++) {
      const query = randomVector(random, dimension);
      expect(await reopened.search(query, 5)).toEqual(await original.search(query, 5));
    }
    expect(await reopened.get('e401')).toEqual(await original.get('e401'));
    // A centred file without its mean is refused, not searched as if uncentred.
    expect(() => new FaissIndex(dimension, centred).loadNative(file, { ...state, centring: null })).toThrow(InvalidCheckpointError);
    await Promise.all([original.dispose(), reopened.dispose()]);

    // A repository saved uncentred (as every file before centring existed): opened centred, its file is not loaded but rebuilt.
    const old = await repositoryWithTail(ivf);
    const loadNative = vi.spyOn(FaissIndex.prototype, 'loadNative');
    const rebuilt = await KnowledgeRepository.open(old.directory, { ...options, createIndex: (d) => new FaissIndex(d, centred) });
    expect(loadNative).toHaveReturnedWith(false);
    expect(rebuilt.indexBackend.size).toBe(420);
    await expectExactTopOne(rebuilt, old.keys);
    await rebuilt.close();
    loadNative.mockClear();
    const same = await KnowledgeRepository.open(old.directory, { ...options, createIndex: (d) => new FaissIndex(d, ivf) });
    expect(loadNative).toHaveReturnedWith(true);
    await expectExactTopOne(same, old.keys);
    await same.close();
  });
  it('faiss-ivf-pca: reopens from its file and the repository\'s keys (no k-means), answering exactly as before; other options rebuild', async () => {
    // rescore 500: every candidate is rescored, so any wrong label or key mapping shows in the top-1.
    const pca = (d: number) => new FaissProjectedIndex(d, { rank: 12, nlist: 4, nprobe: 4, trainAt: 256, rescore: 500, threads: 1 });
    const { directory, keys } = await repositoryWithTail(pca);
    const manifest = JSON.parse(await readFile(path.join(directory, 'manifest.json'), 'utf8')) as { files: { index: { description: string; labels: { name: string } } } };
    expect(manifest.files.index.description).toBe('projected12,IVF4,PQ16np');
    const saved = JSON.parse(await readFile(path.join(directory, manifest.files.index.labels.name), 'utf8')) as { labels: unknown[]; subspace: { basis: number[]; mean: number[] } };
    expect(saved.labels).toHaveLength(400);
    expect(saved.subspace.basis).toHaveLength(12 * dimension);
    const loadNative = vi.spyOn(FaissProjectedIndex.prototype, 'loadNative');
    const add = vi.spyOn(FaissProjectedIndex.prototype, 'add');
    const reopened = await KnowledgeRepository.open(directory, { ...options, createIndex: pca });
    await expect(loadNative.mock.results[0]!.value).resolves.toBe(true);
    // Only the 30 journal adds reach the index; the snapshot's 400 come from the file and the repository's keys.
    expect(add.mock.calls.reduce((sum, [entries]) => sum + entries.length, 0)).toBe(30);
    expect(reopened.indexBackend.size).toBe(420);
    await expectExactTopOne(reopened, keys);
    expect(await reopened.indexBackend.get('e401')).toEqual(keys.get('e401'));
    await reopened.close();

    // Another rank: the file is not loaded but the index rebuilt from the keys.
    const other = await KnowledgeRepository.load(directory, { encoderFingerprint: options.encoderFingerprint, createIndex: (d) => new FaissProjectedIndex(d, { rank: 10, nlist: 4, nprobe: 4, trainAt: 256, rescore: 500 }) });
    await expect(loadNative.mock.results.at(-1)!.value).resolves.toBe(false);
    expect(other.indexBackend.size).toBe(420);
    await expectExactTopOne(other, keys);
    await other.close();
  });
});
