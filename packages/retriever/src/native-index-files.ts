import { createHash } from 'node:crypto';
import { createReadStream } from 'node:fs';
import { open, readFile, rename, rm, stat } from 'node:fs/promises';
import path from 'node:path';
import { InvalidCheckpointError } from '@recipe-kit/core';
import { FaissIndex, type FaissNativeState } from './faiss-index.js';
import { FaissProjectedIndex, type ProjectedNativeState } from './faiss-projected-index.js';
import type { PrincipalSubspace } from './principal-subspace.js';
import type { Centring } from './vector-centring.js';
import type { NativeIndexReference, RepositoryFileReference } from './knowledge-repository-manifest.js';
import { writeDurableFile, type DurableFileResult } from './write-durable-file.js';

/**
 * Writes a faiss backend's own index file and its label ids into a snapshot generation (index-<gen>.faiss,
 * index-<gen>.json): fsynced, hashed, renamed into place like the other data files. Returns null (and
 * writes nothing) for other backends and for an index still waiting for training.
 */
export async function writeNativeIndex(directory: string, generation: string, index: unknown): Promise<NativeIndexReference | null> {
  if (!(index instanceof FaissIndex) && !(index instanceof FaissProjectedIndex)) return null;
  const dataName = `index-${generation}.faiss`;
  const temporary = path.join(directory, `${dataName}.tmp`);
  let state: FaissNativeState | ProjectedNativeState | null;
  try {
    state = index.saveNative(temporary);
  } catch (error) {
    await rm(temporary, { force: true });
    throw error;
  }
  if (state === null) return null;
  const data = { name: dataName, ...(await sealFile(temporary, path.join(directory, dataName))) };
  const labelsName = `index-${generation}.json`;
  // Uncentred: the bare array of earlier versions; centred: the centring beside it (hashed with it); projected: the subspace.
  const content =
    'subspace' in state
      ? { labels: state.labels, subspace: { ...state.subspace, mean: Array.from(state.subspace.mean), basis: Array.from(state.subspace.basis) } }
      : state.centring === null
        ? state.labels
        : { labels: state.labels, mean: Array.from(state.centring.mean), scale: state.centring.scale };
  const labels = { name: labelsName, ...(await writeDurableFile(path.join(directory, labelsName), [new TextEncoder().encode(JSON.stringify(content))])) };
  return { kind: 'faiss', description: state.description, data, labels };
}

/**
 * Loads a saved native index into `index` when it is a FaissIndex made with the same options and returns
 * it; missing files or other options: null (the caller rebuilds from the keys). A file
 * whose size or SHA-256 differs from the manifest is corruption, reported like any other data file.
 */
export async function readNativeIndex(
  directory: string,
  reference: NativeIndexReference | null | undefined,
  index: unknown,
  keyOf: (id: string) => Float32Array | null,
): Promise<FaissIndex | FaissProjectedIndex | null> {
  if (reference === null || reference === undefined || !(index instanceof FaissIndex || index instanceof FaissProjectedIndex)) return null;
  const dataPath = path.join(directory, reference.data.name);
  const labelsPath = path.join(directory, reference.labels.name);
  const present = await Promise.all([dataPath, labelsPath].map((file) => stat(file).then(() => true, () => false)));
  if (!present.every(Boolean)) return null;
  await verifyFile(dataPath, reference.data, 'faiss index');
  await verifyFile(labelsPath, reference.labels, 'faiss index labels');
  const { labels, centring, subspace } = parseLabelsFile(JSON.parse(await readFile(labelsPath, 'utf8')) as unknown, labelsPath);
  if (index instanceof FaissProjectedIndex) {
    // A file of the other faiss kind has another description; loadNative then declines and the index is rebuilt.
    if (subspace === null) return null;
    return (await index.loadNative(dataPath, { description: reference.description, labels, subspace }, keyOf)) ? index : null;
  }
  return index.loadNative(dataPath, { description: reference.description, labels, centring }) ? index : null;
}

/**
 * index-<gen>.json: an array of ids and nulls, or (centred index) { labels: that array, mean: numbers, scale }, or
 * (faiss-ivf-pca) { labels, subspace: { mean, basis, rank, boundSquared, explained } }.
 */
function parseLabelsFile(content: unknown, labelsPath: string): { labels: Array<string | null>; centring: Centring | null; subspace: PrincipalSubspace | null } {
  const isLabels = (value: unknown): value is Array<string | null> => Array.isArray(value) && value.every((label) => label === null || typeof label === 'string');
  const isFinite = (value: unknown): value is number => typeof value === 'number' && Number.isFinite(value);
  const isNumbers = (value: unknown): value is number[] => Array.isArray(value) && value.every(isFinite);
  if (isLabels(content)) return { labels: content, centring: null, subspace: null };
  if (typeof content === 'object' && content !== null && !Array.isArray(content)) {
    const { labels, mean, scale, subspace } = content as { labels?: unknown; mean?: unknown; scale?: unknown; subspace?: unknown };
    if (isLabels(labels) && isNumbers(mean) && isFinite(scale)) {
      return { labels, centring: { mean: Float32Array.from(mean), scale }, subspace: null };
    }
    if (isLabels(labels) && typeof subspace === 'object' && subspace !== null) {
      const saved = subspace as { mean?: unknown; basis?: unknown; rank?: unknown; boundSquared?: unknown; explained?: unknown };
      if (isNumbers(saved.mean) && isNumbers(saved.basis) && isFinite(saved.rank) && isFinite(saved.boundSquared) && isFinite(saved.explained)) {
        return {
          labels,
          centring: null,
          subspace: { mean: Float32Array.from(saved.mean), basis: Float64Array.from(saved.basis), rank: saved.rank, boundSquared: saved.boundSquared, explained: saved.explained },
        };
      }
    }
  }
  throw new InvalidCheckpointError(
    `${labelsPath} is neither a JSON array of ids and nulls nor { labels, mean, scale } nor { labels, subspace } with finite numbers.`,
    'Delete the index-*.faiss/.json files named by the manifest (the index is then rebuilt from the keys), or restore a backup.',
  );
}

/** fsyncs a file another library wrote, hashes it (streamed) and renames it to `finalPath`. */
async function sealFile(temporaryPath: string, finalPath: string): Promise<DurableFileResult> {
  const handle = await open(temporaryPath, 'r+');
  try {
    await handle.sync();
  } finally {
    await handle.close();
  }
  const { bytes, sha256 } = await hashFile(temporaryPath);
  await rename(temporaryPath, finalPath);
  return { bytes, sha256 };
}

async function hashFile(file: string): Promise<DurableFileResult> {
  const hash = createHash('sha256');
  let bytes = 0;
  for await (const chunk of createReadStream(file, { highWaterMark: 1 << 24 })) {
    hash.update(chunk as Buffer);
    bytes += (chunk as Buffer).length;
  }
  return { bytes, sha256: hash.digest('hex') };
}

async function verifyFile(file: string, reference: RepositoryFileReference, what: string): Promise<void> {
  const { bytes, sha256 } = await hashFile(file);
  if (bytes !== reference.bytes || sha256 !== reference.sha256) {
    throw new InvalidCheckpointError(
      `The ${what} file ${file} is corrupted: ${bytes} bytes with SHA-256 ${sha256}, the manifest recorded ${reference.bytes} bytes and ${reference.sha256}.`,
      'Delete the index-*.faiss/.json files named by the manifest (the index is then rebuilt from the keys), or restore the directory from a backup.',
    );
  }
}
