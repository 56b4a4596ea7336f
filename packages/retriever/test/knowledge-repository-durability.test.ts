import { spawn } from 'node:child_process';
import { copyFile, mkdtemp, readdir, readFile, rm, stat, truncate, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { InvalidCheckpointError, InvalidInputError } from '@recipe-kit/core';
import { afterEach, describe, expect, it } from 'vitest';
import { KnowledgeRepository } from '../src/index.js';
import { DIMENSION, FINGERPRINT, PROMPT_SHAPE, entryKey, entryPrompt, entryRequest } from './fixtures/crash-entries.mjs';
import { seededRandom } from './seeded-random.js';

const openOptions = { dimension: DIMENSION, promptShape: PROMPT_SHAPE, encoderFingerprint: FINGERPRINT };
const childScript = fileURLToPath(new URL('./fixtures/edit-loop-child.mjs', import.meta.url));
const directories: string[] = [];

async function temporaryDirectory(): Promise<string> {
  const directory = await mkdtemp(path.join(tmpdir(), 'durable-repository-'));
  directories.push(directory);
  return directory;
}

afterEach(async () => {
  for (const directory of directories.splice(0)) await rm(directory, { recursive: true, force: true });
});

async function addEdit(repository: KnowledgeRepository, n: number): Promise<void> {
  await repository.add(`edit-${n}`, entryKey(n), { prompt: entryPrompt(n), request: entryRequest(n), createdAt: '2026-01-01T00:00:00.000Z' });
}

/** Every stored entry must be exactly the deterministic edit of its number (no torn or mixed entry). */
async function expectIntactEntries(repository: KnowledgeRepository): Promise<Set<number>> {
  const present = new Set<number>();
  for (const payload of repository.entries()) {
    const n = Number(payload.id.slice('edit-'.length));
    expect(payload.prompt).toEqual(entryPrompt(n));
    expect(payload.request).toEqual(entryRequest(n));
    expect(await repository.getKey(payload.id)).toEqual(entryKey(n));
    present.add(n);
  }
  return present;
}

function journalPath(directory: string): Promise<string> {
  return readdir(directory).then((names) => path.join(directory, names.find((name) => name.startsWith('journal-'))!));
}

describe('KnowledgeRepository.open: durability', () => {
  it('keeps every acknowledged edit across kill -9 of the writing process at random moments', async () => {
    const directory = await temporaryDirectory();
    const random = seededRandom(2026);
    const acknowledgedAdds = new Set<number>();
    const acknowledgedRemoves = new Set<number>();
    let next = 0;
    for (let round = 0; round < 4; round++) {
      // A small compaction threshold in some rounds, so kills also land inside compactions.
      const child = spawn(process.execPath, [childScript, directory, String(next)], { stdio: ['ignore', 'pipe', 'pipe'], env: { ...process.env, COMPACT_BYTES: round % 2 === 0 ? String(2 ** 28) : '4096' } });
      let output = '';
      let errors = '';
      child.stdout.on('data', (chunk: Buffer) => (output += chunk.toString()));
      child.stderr.on('data', (chunk: Buffer) => (errors += chunk.toString()));
      const exited = new Promise<void>((resolve) => child.once('exit', () => resolve()));
      while (!output.includes('ready\n')) {
        if (child.exitCode !== null) throw new Error(`child failed: ${errors}`);
        await new Promise((resolve) => setTimeout(resolve, 10));
      }
      await new Promise((resolve) => setTimeout(resolve, 50 + random() * 400));
      child.kill('SIGKILL');
      await exited;
      expect(errors).toBe('');
      // Only complete lines are acknowledgements; a line cut by the kill is not.
      const lines = output.split('\n').slice(0, -1);
      for (const line of lines) {
        const [kind, number] = line.split(' ');
        if (kind === 'a') acknowledgedAdds.add(Number(number));
        if (kind === 'r') acknowledgedRemoves.add(Number(number));
      }
      const repository = await KnowledgeRepository.open(directory, openOptions);
      const present = await expectIntactEntries(repository);
      // After acknowledging add n with n % 7 == 6 the child removes n − 3: a kill there may or may not have made that removal durable.
      const lastAdd = Math.max(...lines.filter((line) => line.startsWith('a ')).map((line) => Number(line.slice(2))));
      const removalInFlight = lastAdd % 7 === 6 && !acknowledgedRemoves.has(lastAdd - 3) ? lastAdd - 3 : null;
      for (const n of acknowledgedAdds) if (!acknowledgedRemoves.has(n) && n !== removalInFlight) expect(present.has(n), `acknowledged edit-${n}`).toBe(true);
      for (const n of acknowledgedRemoves) expect(present.has(n), `acknowledged removal of edit-${n}`).toBe(false);
      // Beyond the acknowledged ones, at most the one add that was in flight.
      const unacknowledged = [...present].filter((n) => !acknowledgedAdds.has(n));
      expect(unacknowledged.length).toBeLessThanOrEqual(1);
      // Seen after a reopen, such an edit is durable from now on: later rounds must keep it.
      for (const n of unacknowledged) acknowledgedAdds.add(n);
      if (removalInFlight !== null && !present.has(removalInFlight)) acknowledgedRemoves.add(removalInFlight);
      next = Math.max(-1, ...present, ...acknowledgedAdds) + 1;
      await repository.close();
    }
    expect(acknowledgedAdds.size).toBeGreaterThan(20);
  });

  it('drops a torn tail record (cut at any byte) and appends cleanly after it', async () => {
    const directory = await temporaryDirectory();
    const repository = await KnowledgeRepository.open(directory, openOptions);
    repository.setSentinel(entryKey(-1));
    for (let n = 0; n < 6; n++) await addEdit(repository, n);
    await repository.close();
    const journal = await journalPath(directory);
    const full = await readFile(journal);
    const random = seededRandom(5);
    for (let trial = 0; trial < 12; trial++) {
      const cut = Math.floor(random() * full.length);
      await writeFile(journal, full.subarray(0, cut));
      const reopened = await KnowledgeRepository.open(directory, openOptions);
      const present = await expectIntactEntries(reopened);
      // A prefix of the edits, in order: 0..m−1.
      expect([...present]).toEqual([...Array(present.size).keys()]);
      await addEdit(reopened, 100 + trial);
      await reopened.close();
      const again = await KnowledgeRepository.open(directory, openOptions);
      expect(again.get(`edit-${100 + trial}`)).toBeDefined();
      expect(again.size).toBe(present.size + 1);
      await again.close();
    }
  });

  it('refuses a journal corrupted before its end, a repository of another encoder/LLM, and other shapes', async () => {
    const directory = await temporaryDirectory();
    const repository = await KnowledgeRepository.open(directory, openOptions);
    for (let n = 0; n < 4; n++) await addEdit(repository, n);
    await repository.close();
    const journal = await journalPath(directory);
    const bytes = await readFile(journal);
    const copy = `${journal}.good`;
    await copyFile(journal, copy);
    bytes[20] = bytes[20]! ^ 0xff;
    await writeFile(journal, bytes);
    const corrupted = await KnowledgeRepository.open(directory, openOptions).then(() => null, (error: unknown) => error);
    expect(corrupted).toBeInstanceOf(InvalidCheckpointError);
    expect((corrupted as Error).message).toMatch(/journal .* is corrupted at byte 0: record 1 fails its CRC-32/);
    await copyFile(copy, journal);
    await rm(copy);

    const otherEncoder = await KnowledgeRepository.open(directory, { ...openOptions, encoderFingerprint: 'other-encoder+crash-test-llm' }).then(() => null, (error: unknown) => error);
    expect(otherEncoder).toBeInstanceOf(InvalidCheckpointError);
    expect((otherEncoder as Error).message).toMatch(/written by another encoder\/LLM/);
    const otherShape = await KnowledgeRepository.open(directory, { ...openOptions, dimension: DIMENSION + 1 }).then(() => null, (error: unknown) => error);
    expect((otherShape as Error).message).toMatch(/holds keys of width 8 and prompts of shape \[2, 3\], but this retriever makes 9/);
    const reopened = await KnowledgeRepository.open(directory, openOptions);
    expect(reopened.size).toBe(4);
    await reopened.close();
  });

  it('journals nothing for rejected edits (bad vectors, duplicates) and survives compaction', async () => {
    const directory = await temporaryDirectory();
    const repository = await KnowledgeRepository.open(directory, { ...openOptions, compactJournalBytes: 1 });
    await addEdit(repository, 0);
    const rejected: Array<[() => Promise<unknown>, RegExp]> = [
      [() => addEdit(repository, 0), /Duplicate id "edit-0"/],
      [() => repository.add('nan', new Float32Array(DIMENSION).fill(Number.NaN), { prompt: entryPrompt(1), request: entryRequest(-2) }), /non-finite value \(NaN\)/],
      [() => repository.add('wide', new Float32Array(DIMENSION + 1), { prompt: entryPrompt(1), request: entryRequest(-3) }), /has dimension 9/],
    ];
    for (const [call, message] of rejected) {
      const error = await call().then(() => null, (caught: unknown) => caught);
      expect(error).toBeInstanceOf(InvalidInputError);
      expect((error as Error).message).toMatch(message);
    }
    // compactJournalBytes 1: every edit triggers a compaction; edits issued meanwhile wait for it.
    await Promise.all([1, 2, 3, 4, 5].map((n) => addEdit(repository, n)));
    await repository.remove('edit-2');
    await repository.compact();
    await repository.close();
    const journals = (await readdir(directory)).filter((name) => name.startsWith('journal-'));
    expect(journals.length).toBe(1);
    expect((await stat(path.join(directory, journals[0]!))).size).toBe(0);
    const reopened = await KnowledgeRepository.open(directory, openOptions);
    expect([...(await expectIntactEntries(reopened))].sort()).toEqual([0, 1, 3, 4, 5]);
    await reopened.close();
  });

  it('serves consistent searches while edits are being written, and load() reads a live directory read-only', async () => {
    const directory = await temporaryDirectory();
    const repository = await KnowledgeRepository.open(directory, openOptions);
    repository.setSentinel(new Float32Array(DIMENSION).fill(-1));
    const searches: Array<Promise<void>> = [];
    const edits: Array<Promise<void>> = [];
    for (let n = 0; n < 40; n++) {
      edits.push(addEdit(repository, n));
      searches.push(
        repository.search(entryKey(n), { topK: 3 }).then((result) => {
          for (const hit of result.hits) {
            const number = Number(hit.id.slice('edit-'.length));
            expect(hit.payload.prompt).toEqual(entryPrompt(number));
          }
        }),
      );
      if (n % 10 === 9) {
        const reader = await KnowledgeRepository.load(directory, { encoderFingerprint: FINGERPRINT });
        await expectIntactEntries(reader);
        expect(reader.size).toBeLessThanOrEqual(n + 1);
      }
    }
    await Promise.all([...edits, ...searches]);
    const reader = await KnowledgeRepository.load(directory, { encoderFingerprint: FINGERPRINT });
    expect(reader.size).toBe(40);
    expect(reader.getSentinel()).toEqual(new Float32Array(DIMENSION).fill(-1));
    await repository.close();
  });

  it('refuses save() into its own directory and compact() on an in-memory repository', async () => {
    const directory = await temporaryDirectory();
    const repository = await KnowledgeRepository.open(directory, openOptions);
    await expect(repository.save(directory)).rejects.toThrow(/detach its journal/);
    const memory = new KnowledgeRepository(openOptions);
    await expect(memory.compact()).rejects.toThrow(/needs a durable repository/);
    await repository.close();
    await expect(addEdit(repository, 1)).rejects.toThrow(/was closed/);
    await truncate(await journalPath(directory), 0);
  });
});

describe('KnowledgeRepository.addMany', () => {
  it('stores a batch durably with the same checks as add, and nothing of a bad batch', async () => {
    const directory = await temporaryDirectory();
    const repository = await KnowledgeRepository.open(directory, openOptions);
    const entry = (n: number) => ({ id: `edit-${n}`, key: entryKey(n), payload: { prompt: entryPrompt(n), request: entryRequest(n), createdAt: '2026-01-01T00:00:00.000Z' } });
    await repository.addMany([0, 1, 2].map(entry));
    const bad = [entry(3), { ...entry(4), key: new Float32Array(DIMENSION).fill(Number.NaN) }];
    await expect(repository.addMany(bad)).rejects.toThrow(/non-finite value \(NaN\)/);
    await expect(repository.addMany([entry(5), entry(5)])).rejects.toThrow(/already used/);
    await expect(repository.addMany([entry(1)])).rejects.toThrow(/already used/);
    expect(repository.size).toBe(3);
    await repository.close();
    const reopened = await KnowledgeRepository.open(directory, openOptions);
    expect([...(await expectIntactEntries(reopened))].sort()).toEqual([0, 1, 2]);
    await reopened.close();
  });
});
