import { createHash, randomBytes } from 'node:crypto';
import { mkdir, readdir, readFile, rm, stat } from 'node:fs/promises';
import path from 'node:path';
import { DataNotFoundError, InvalidCheckpointError, type EditRequest } from '@recipe-kit/core';
import { float32Chunks } from './float32-chunks.js';
import {
  KNOWLEDGE_REPOSITORY_FORMAT,
  KNOWLEDGE_REPOSITORY_MANIFEST_FILE,
  KNOWLEDGE_REPOSITORY_VERSION,
  parseKnowledgeRepositoryManifest,
  type KnowledgeRepositoryManifest,
} from './knowledge-repository-manifest.js';
import { writeNativeIndex } from './native-index-files.js';
import { readFloat32File } from './read-float32-file.js';
import { syncDirectory, writeDurableFile } from './write-durable-file.js';

/** One stored entry as a snapshot holds it. */
export interface SnapshotEntry {
  id: string;
  createdAt: string;
  request: EditRequest;
  key: Float32Array;
  prompt: Float32Array;
}

export interface KnowledgeSnapshot {
  manifest: KnowledgeRepositoryManifest;
  /** [count × dimension], entries in insertion order. */
  keys: Float32Array;
  entries: Array<Omit<SnapshotEntry, 'key'>>;
  sentinel: Float32Array | null;
}

/** Data files of one save share a random generation tag, so a new save never overwrites the files the current manifest names. */
const DATA_FILE_PATTERN = /^(keys|prompts|sentinel|requests|index)-[0-9a-f]{16}\.(f32|jsonl|faiss|json)(\.tmp)?$/;
const JOURNAL_FILE_PATTERN = /^journal-[0-9a-f]{16}\.log$/;
const MANIFEST_TEMPORARY_FILE = `${KNOWLEDGE_REPOSITORY_MANIFEST_FILE}.tmp`;

/** A fresh file-name tag for one snapshot or journal generation. */
export function newGeneration(): string {
  return randomBytes(8).toString('hex');
}

/**
 * Writes a snapshot to `directory` atomically: data files get fresh names, are written to temporary
 * names, fsynced and renamed; then `manifest.json` is replaced the same way (the commit point). A
 * crash at any point leaves the previous manifest and the files it names intact. Files of older
 * snapshots and journals other than `journal` are deleted only after the new manifest is in place.
 */
export async function writeKnowledgeSnapshot(
  directory: string,
  snapshot: {
    dimension: number;
    promptShape: readonly [number, number];
    encoderFingerprint: string;
    entries: readonly SnapshotEntry[];
    sentinel: Float32Array | null;
    journal: string | null;
    /** The search backend: a faiss one also saves its own index file (see native-index-files.ts). */
    index?: unknown;
  },
): Promise<void> {
  await mkdir(directory, { recursive: true });
  const { entries, sentinel } = snapshot;
  const generation = newGeneration();
  const fileName = (kind: string, extension: string): string => `${kind}-${generation}.${extension}`;
  const write = async (name: string, chunks: Iterable<Uint8Array>) => ({ name, ...(await writeDurableFile(path.join(directory, name), chunks)) });
  const keysFile = await write(fileName('keys', 'f32'), float32Chunks(entries.map((entry) => entry.key)));
  const promptsFile = await write(fileName('prompts', 'f32'), float32Chunks(entries.map((entry) => entry.prompt)));
  const sentinelFile = sentinel === null ? null : await write(fileName('sentinel', 'f32'), float32Chunks([sentinel]));
  const indexFiles = await writeNativeIndex(directory, generation, snapshot.index);
  const encoder = new TextEncoder();
  const requestsFile = await write(
    fileName('requests', 'jsonl'),
    (function* () {
      // Lines are joined into ~1 MiB chunks: one write per line would be one syscall per edit.
      let pending: string[] = [];
      let pendingLength = 0;
      for (const entry of entries) {
        const line = `${JSON.stringify({ id: entry.id, createdAt: entry.createdAt, request: entry.request })}\n`;
        pending.push(line);
        pendingLength += line.length;
        if (pendingLength >= 1 << 20) {
          yield encoder.encode(pending.join(''));
          pending = [];
          pendingLength = 0;
        }
      }
      if (pending.length > 0) yield encoder.encode(pending.join(''));
    })(),
  );
  const manifest: KnowledgeRepositoryManifest = {
    format: KNOWLEDGE_REPOSITORY_FORMAT,
    version: KNOWLEDGE_REPOSITORY_VERSION,
    dimension: snapshot.dimension,
    promptShape: [snapshot.promptShape[0], snapshot.promptShape[1]],
    count: entries.length,
    encoderFingerprint: snapshot.encoderFingerprint,
    byteOrder: 'little-endian',
    dtype: 'float32',
    createdAt: new Date().toISOString(),
    files: { keys: keysFile, prompts: promptsFile, requests: requestsFile, sentinel: sentinelFile, index: indexFiles },
    journal: snapshot.journal,
  };
  // The data files must be durable before the manifest that names them can be.
  await syncDirectory(directory);
  await writeDurableFile(path.join(directory, KNOWLEDGE_REPOSITORY_MANIFEST_FILE), [encoder.encode(`${JSON.stringify(manifest, null, 2)}\n`)]);
  await syncDirectory(directory);
  // Garbage-collect files of earlier (or interrupted) saves; only names this module writes are touched.
  const current = new Set([keysFile.name, promptsFile.name, requestsFile.name, sentinelFile?.name, indexFiles?.data.name, indexFiles?.labels.name, snapshot.journal]);
  for (const name of await readdir(directory)) {
    if (((DATA_FILE_PATTERN.test(name) || JOURNAL_FILE_PATTERN.test(name)) && !current.has(name)) || name === MANIFEST_TEMPORARY_FILE) {
      await rm(path.join(directory, name), { force: true });
    }
  }
}

/** Whether `directory` holds a snapshot manifest. */
export async function hasKnowledgeSnapshot(directory: string): Promise<boolean> {
  return stat(path.join(directory, KNOWLEDGE_REPOSITORY_MANIFEST_FILE)).then(
    () => true,
    () => false,
  );
}

/** Reads a snapshot, checking the fingerprint, every file's size and SHA-256. */
export async function readKnowledgeSnapshot(directory: string, encoderFingerprint: string): Promise<KnowledgeSnapshot> {
  const manifestPath = path.join(directory, KNOWLEDGE_REPOSITORY_MANIFEST_FILE);
  let manifestText: string;
  try {
    manifestText = await readFile(manifestPath, 'utf8');
  } catch (error) {
    throw new DataNotFoundError(
      `No knowledge repository at ${directory}: cannot read ${manifestPath}.`,
      'Check the path; a repository directory is created by KnowledgeRepository.save() or open() and holds manifest.json.',
      { cause: error },
    );
  }
  let parsed: unknown;
  try {
    parsed = JSON.parse(manifestText);
  } catch (error) {
    throw new InvalidCheckpointError(
      `${manifestPath} is not valid JSON (truncated or corrupted).`,
      'Restore the directory from a backup or re-save the repository from a live process.',
      { cause: error },
    );
  }
  const manifest = parseKnowledgeRepositoryManifest(parsed, manifestPath);
  if (manifest.encoderFingerprint !== encoderFingerprint) {
    throw new InvalidCheckpointError(
      `The knowledge repository at ${directory} was written by another encoder/LLM: its fingerprint is ` +
        `"${manifest.encoderFingerprint}", this retriever's is "${encoderFingerprint}".`,
      'Its keys and prompts are only meaningful to the retriever checkpoint and LLM that produced them: load it ' +
        'with those, or rebuild it by re-applying the edit requests (saved in its requests-*.jsonl) with this one.',
    );
  }
  const { dimension, promptShape, count } = manifest;
  const [l, dLlm] = promptShape;
  const dataPath = (name: string): string => path.join(directory, name);
  const expectBytes = (what: string, actual: number, expected: number): void => {
    if (actual !== expected) {
      throw new InvalidCheckpointError(
        `${manifestPath} disagrees with itself: the ${what} file is recorded as ${actual} bytes, but ${count} entries need ${expected}.`,
        'The manifest was edited or corrupted; restore a backup or re-save the repository.',
      );
    }
  };
  expectBytes('keys', manifest.files.keys.bytes, count * dimension * 4);
  expectBytes('prompts', manifest.files.prompts.bytes, count * l * dLlm * 4);
  if (manifest.files.sentinel !== null) expectBytes('sentinel', manifest.files.sentinel.bytes, dimension * 4);
  await assertFilesExist(directory, manifest);

  const records = await readRequests(dataPath(manifest.files.requests.name), manifest);
  const keys = new Float32Array(count * dimension);
  await readFloat32File(dataPath(manifest.files.keys.name), manifest.files.keys, [keys], 'keys');
  const prompts = records.map(() => new Float32Array(l * dLlm));
  await readFloat32File(dataPath(manifest.files.prompts.name), manifest.files.prompts, prompts, 'prompts');
  let sentinel: Float32Array | null = null;
  if (manifest.files.sentinel !== null) {
    sentinel = new Float32Array(dimension);
    await readFloat32File(dataPath(manifest.files.sentinel.name), manifest.files.sentinel, [sentinel], 'sentinel');
  }
  return { manifest, keys, sentinel, entries: records.map((record, row) => ({ ...record, prompt: prompts[row]! })) };
}

interface RequestRecord {
  id: string;
  createdAt: string;
  request: EditRequest;
}

async function assertFilesExist(directory: string, manifest: KnowledgeRepositoryManifest): Promise<void> {
  const { keys, prompts, requests, sentinel } = manifest.files;
  const names = [keys, prompts, requests, ...(sentinel === null ? [] : [sentinel])].map((reference) => reference.name);
  if (manifest.journal !== null) names.push(manifest.journal);
  for (const name of names) {
    const filePath = path.join(directory, name);
    try {
      await stat(filePath);
    } catch (error) {
      throw new InvalidCheckpointError(
        `The knowledge repository at ${directory} is incomplete: ${name}, named by its manifest, is missing.`,
        'Copy the whole directory (manifest.json and every file it names), or restore it from a backup.',
        { cause: error },
      );
    }
  }
}

async function readRequests(filePath: string, manifest: KnowledgeRepositoryManifest): Promise<RequestRecord[]> {
  const reference = manifest.files.requests;
  const bytes = await readFile(filePath);
  if (bytes.length !== reference.bytes) {
    throw new InvalidCheckpointError(
      `The requests file ${filePath} is ${bytes.length} bytes, but the manifest expects ${reference.bytes}: it is ${bytes.length < reference.bytes ? 'truncated' : 'longer than written'}.`,
      'The save was interrupted or the file was damaged after it; restore the directory from a backup or re-save the repository.',
    );
  }
  const digest = createHash('sha256').update(bytes).digest('hex');
  if (digest !== reference.sha256) {
    throw new InvalidCheckpointError(
      `The requests file ${filePath} is corrupted: its SHA-256 is ${digest}, the manifest recorded ${reference.sha256}.`,
      'The file changed after it was saved; restore the directory from a backup or re-save the repository.',
    );
  }
  const lines = bytes.toString('utf8').split('\n');
  if (lines.at(-1) === '') lines.pop();
  if (lines.length !== manifest.count) {
    throw new InvalidCheckpointError(
      `The requests file ${filePath} has ${lines.length} lines, but the manifest counts ${manifest.count} entries.`,
      'The manifest disagrees with its data; restore a backup or re-save the repository.',
    );
  }
  const seen = new Set<string>();
  return lines.map((line, i) => {
    const fail = (problem: string): never => {
      throw new InvalidCheckpointError(
        `Line ${i + 1} of ${filePath}: ${problem}.`,
        'Each line must be {"id": string, "createdAt": string, "request": EditRequest}; restore a backup or re-save the repository.',
      );
    };
    let value: unknown;
    try {
      value = JSON.parse(line);
    } catch {
      return fail('not valid JSON');
    }
    if (typeof value !== 'object' || value === null) return fail('not a JSON object');
    const record = value as Record<string, unknown>;
    const id = record['id'];
    if (typeof id !== 'string' || id.length === 0) return fail('"id" must be a non-empty string');
    if (seen.has(id)) return fail(`duplicate id "${id}"`);
    seen.add(id);
    const createdAt = record['createdAt'];
    if (typeof createdAt !== 'string') return fail('"createdAt" must be a string');
    const request = record['request'];
    if (typeof request !== 'object' || request === null || typeof (request as { id?: unknown }).id !== 'string') {
      return fail('"request" must be an EditRequest object');
    }
    return { id, createdAt, request: request as EditRequest };
  });
}
