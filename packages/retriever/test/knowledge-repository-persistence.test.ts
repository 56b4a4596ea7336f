import { mkdtemp, readdir, readFile, rm, truncate, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { DataNotFoundError, InvalidCheckpointError, type IndexEntry } from '@recipe-kit/core';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { ExactIndex, KnowledgeRepository, type KnowledgeRepositoryManifest } from '../src/index.js';
import { editRequest, randomVector, seededRandom } from './seeded-random.js';

const dimension = 32;
const promptShape = [3, 8] as const;
const encoderFingerprint = 'roberta-base+recipe-heads@abc123/llama-tiny@def456';

let directory: string;

beforeEach(async () => {
  directory = await mkdtemp(path.join(tmpdir(), 'knowledge-repository-'));
});

afterEach(async () => {
  await rm(directory, { recursive: true, force: true });
});

async function filledRepository(count: number, seed = 7): Promise<KnowledgeRepository> {
  const random = seededRandom(seed);
  const repo = new KnowledgeRepository({ dimension, promptShape, encoderFingerprint });
  repo.setSentinel(randomVector(random, dimension));
  for (let i = 0; i < count; i++) {
    await repo.add(`case-${i}`, randomVector(random, dimension), {
      prompt: randomVector(random, promptShape[0] * promptShape[1]),
      request: editRequest(`case-${i}`),
      createdAt: new Date(Date.UTC(2024, 0, 1, 0, 0, i)).toISOString(),
    });
  }
  return repo;
}

async function manifest(): Promise<KnowledgeRepositoryManifest> {
  return JSON.parse(await readFile(path.join(directory, 'manifest.json'), 'utf8')) as KnowledgeRepositoryManifest;
}

async function loadError(): Promise<unknown> {
  return KnowledgeRepository.load(directory, { encoderFingerprint }).then(
    () => null,
    (error: unknown) => error,
  );
}

describe('KnowledgeRepository persistence', () => {
  it('round-trips entries, sentinel and search results exactly', async () => {
    const repo = await filledRepository(150);
    await repo.remove('case-3'); // a hole in the middle must not shift anything
    await repo.save(directory);
    const loaded = await KnowledgeRepository.load(directory, { encoderFingerprint });
    expect(loaded.size).toBe(149);
    expect(loaded.dimension).toBe(dimension);
    expect(loaded.promptShape).toEqual(promptShape);
    expect(loaded.getSentinel()).toEqual(repo.getSentinel());
    expect([...loaded.entries()]).toEqual([...repo.entries()]);
    for (const entry of repo.entries()) expect(await loaded.getKey(entry.id)).toEqual(await repo.getKey(entry.id));
    const random = seededRandom(99);
    for (let q = 0; q < 20; q++) {
      const rq = randomVector(random, dimension);
      for (const topK of [1, 3]) expect(await loaded.search(rq, { topK })).toEqual(await repo.search(rq, { topK }));
    }
    const written = await manifest();
    expect(written).toMatchObject({
      format: 'recipe-kit.knowledge-repository',
      version: 2,
      dimension,
      promptShape: [3, 8],
      count: 149,
      encoderFingerprint,
      byteOrder: 'little-endian',
      dtype: 'float32',
    });
    expect(written.files.keys.bytes).toBe(149 * dimension * 4);
    expect(written.files.prompts.bytes).toBe(149 * 24 * 4);
    // Raw little-endian float32: the first key can be read back with a DataView.
    const keyBytes = await readFile(path.join(directory, written.files.keys.name));
    const firstKey = (await repo.getKey('case-0'))!;
    expect(new DataView(keyBytes.buffer, keyBytes.byteOffset).getFloat32(4, true)).toBe(firstKey[1]);
  });

  it('round-trips an empty repository and one without a sentinel, into a caller-supplied index', async () => {
    const repo = new KnowledgeRepository({ dimension, promptShape, encoderFingerprint });
    await repo.save(directory);
    let created = 0;
    const loaded = await KnowledgeRepository.load(directory, {
      encoderFingerprint,
      createIndex: (d) => {
        created++;
        return new ExactIndex(d, { initialCapacity: 2 });
      },
    });
    expect(created).toBe(1);
    expect(loaded.size).toBe(0);
    expect(loaded.hasSentinel).toBe(false);
    expect((await manifest()).files.sentinel).toBeNull();
  });

  it('replaces an earlier save and leaves only the files the new manifest names', async () => {
    const repo = await filledRepository(10);
    await repo.save(directory);
    const first = await manifest();
    await repo.clear();
    await repo.add('only', new Float32Array(dimension).fill(1), {
      prompt: new Float32Array(24),
      request: editRequest('only'),
    });
    await repo.save(directory);
    const second = await manifest();
    expect(second.files.keys.name).not.toBe(first.files.keys.name);
    const names = (await readdir(directory)).sort();
    const expected = [
      'manifest.json',
      second.files.keys.name,
      second.files.prompts.name,
      second.files.requests.name,
      second.files.sentinel!.name,
    ].sort();
    expect(names).toEqual(expected);
    const loaded = await KnowledgeRepository.load(directory, { encoderFingerprint });
    expect([...loaded.entries()].map((entry) => entry.id)).toEqual(['only']);
  });

  it('refuses a repository written by another encoder/LLM', async () => {
    await (await filledRepository(3)).save(directory);
    const error = await KnowledgeRepository.load(directory, { encoderFingerprint: 'some-other-retriever' }).then(
      () => null,
      (caught: unknown) => caught,
    );
    expect(error).toBeInstanceOf(InvalidCheckpointError);
    expect((error as Error).message).toMatch(/was written by another encoder\/LLM/);
    expect((error as Error).message).toContain(encoderFingerprint);
    expect((error as Error).message).toMatch(/→ .*load it with those, or rebuild it/);
  });

  it('detects truncated and corrupted files', async () => {
    await (await filledRepository(20)).save(directory);
    const { files } = await manifest();
    const keysPath = path.join(directory, files.keys.name);
    const original = await readFile(keysPath);

    await truncate(keysPath, original.length - 4);
    let error = await loadError();
    expect(error).toBeInstanceOf(InvalidCheckpointError);
    expect((error as Error).message).toMatch(/keys file .* is 2556 bytes, but the manifest expects 2560: it is truncated/);

    const flipped = Buffer.from(original);
    flipped[100] = flipped[100]! ^ 0x40;
    await writeFile(keysPath, flipped);
    error = await loadError();
    expect(error).toBeInstanceOf(InvalidCheckpointError);
    expect((error as Error).message).toMatch(/keys file .* is corrupted: its SHA-256/);
    await writeFile(keysPath, original);

    await truncate(path.join(directory, files.prompts.name), 10);
    expect(await loadError()).toBeInstanceOf(InvalidCheckpointError);
    expect(((await loadError()) as Error).message).toMatch(/prompts file .* truncated/);
  });

  it('detects a damaged requests file, manifest, or a missing data file', async () => {
    await (await filledRepository(5)).save(directory);
    const { files } = await manifest();
    const requestsPath = path.join(directory, files.requests.name);
    const requests = await readFile(requestsPath, 'utf8');
    await writeFile(requestsPath, requests.replace('case-2', 'case-9'));
    expect(((await loadError()) as Error).message).toMatch(/requests file .* is corrupted/);
    await writeFile(requestsPath, requests.slice(0, -20));
    expect(((await loadError()) as Error).message).toMatch(/requests file .* truncated/);
    await writeFile(requestsPath, requests);

    const manifestPath = path.join(directory, 'manifest.json');
    const manifestText = await readFile(manifestPath, 'utf8');
    await writeFile(manifestPath, manifestText.slice(0, manifestText.length / 2));
    expect(((await loadError()) as Error).message).toMatch(/manifest.json is not valid JSON/);
    await writeFile(manifestPath, manifestText.replace('"count": 5', '"count": 6'));
    expect(((await loadError()) as Error).message).toMatch(/disagrees with itself: the keys file is recorded as 640 bytes, but 6 entries need 768/);
    await writeFile(manifestPath, manifestText.replace('"version": 2', '"version": 3'));
    expect(((await loadError()) as Error).message).toMatch(/format version 3; this @recipe-kit\/retriever reads versions 1 to 2/);
    await writeFile(manifestPath, manifestText);

    await rm(path.join(directory, files.prompts.name));
    const error = await loadError();
    expect(error).toBeInstanceOf(InvalidCheckpointError);
    expect((error as Error).message).toMatch(/is incomplete: prompts-[0-9a-f]{16}\.f32, named by its manifest, is missing/);

    const missing = await KnowledgeRepository.load(path.join(directory, 'nope'), { encoderFingerprint }).then(
      () => null,
      (caught: unknown) => caught,
    );
    expect(missing).toBeInstanceOf(DataNotFoundError);
  });

  it('loads into the index in batches, preserving insertion order across them', async () => {
    const repo = await filledRepository(4100, 8); // > one 4096-row batch
    await repo.save(directory);
    const batches: number[] = [];
    const loaded = await KnowledgeRepository.load(directory, {
      encoderFingerprint,
      createIndex: (d) => {
        const index = new ExactIndex(d);
        const add = index.add.bind(index);
        index.add = async (entries: readonly IndexEntry[]) => {
          batches.push(entries.length);
          return add(entries);
        };
        return index;
      },
    });
    expect(batches).toEqual([4096, 4]);
    expect([...loaded.entries()].map((entry) => entry.id)).toEqual([...repo.entries()].map((entry) => entry.id));
    expect(await loaded.getKey('case-4099')).toEqual(await repo.getKey('case-4099'));
  });
});
