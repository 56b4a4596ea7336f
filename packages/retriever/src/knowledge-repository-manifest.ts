import { InvalidCheckpointError } from '@recipe-kit/core';

export const KNOWLEDGE_REPOSITORY_FORMAT = 'recipe-kit.knowledge-repository';
/** 2 added `journal`; version 1 snapshots (no journal) are still read. */
export const KNOWLEDGE_REPOSITORY_VERSION = 2;
export const KNOWLEDGE_REPOSITORY_MANIFEST_FILE = 'manifest.json';

/** One data file the manifest points at; size and hash let a load detect truncation and corruption. */
export interface RepositoryFileReference {
  /** File name inside the repository directory (no path components). */
  name: string;
  bytes: number;
  sha256: string;
}

/** A saved native index: its file, the JSON of its label ids, and the faiss description that made it. */
export interface NativeIndexReference {
  kind: 'faiss';
  description: string;
  data: RepositoryFileReference;
  /** JSON array: the id of every label in order, null for a removed one; a centred index: { labels: that array, mean, scale }. */
  labels: RepositoryFileReference;
}

/**
 * `manifest.json` of a saved knowledge repository. It is written last, by rename, so it is the commit
 * point of a save: the data files it names are complete whenever it exists.
 */
export interface KnowledgeRepositoryManifest {
  format: typeof KNOWLEDGE_REPOSITORY_FORMAT;
  version: number;
  /** d_r: length of every key and of the sentinel. */
  dimension: number;
  /** [l, d_llm] of every stored prompt. */
  promptShape: [number, number];
  /** Number of entries (the sentinel is not counted). */
  count: number;
  /** Identifies the retriever/LLM pair that produced keys and prompts; checked on load. */
  encoderFingerprint: string;
  byteOrder: 'little-endian';
  dtype: 'float32';
  createdAt: string;
  files: {
    /** [count × dimension] float32, entries in insertion order. */
    keys: RepositoryFileReference;
    /** [count × l × d_llm] float32, same order as keys. */
    prompts: RepositoryFileReference;
    /** One JSON object per line: { id, createdAt, request }, same order as keys. */
    requests: RepositoryFileReference;
    /** [dimension] float32, absent when no sentinel was set. */
    sentinel: RepositoryFileReference | null;
    /**
     * The search backend's own index (a faiss file) as it was at this snapshot, so a reopen need not
     * rebuild it from the keys (minutes at a million edits); absent for backends without one, and
     * ignored (rebuilt) when the reopening backend was made with other options.
     */
    index?: NativeIndexReference | null;
  };
  /**
   * A durable repository's write-ahead journal (a file name in the directory): records of the edits
   * made after this snapshot, replayed on load. null for a plain `save`.
   */
  journal: string | null;
}

/** Validates parsed JSON as a manifest; every problem names the field so a hand-edited file can be fixed. */
export function parseKnowledgeRepositoryManifest(value: unknown, manifestPath: string): KnowledgeRepositoryManifest {
  const fail = (problem: string): never => {
    throw new InvalidCheckpointError(
      `${manifestPath} is not a valid knowledge-repository manifest: ${problem}.`,
      'The repository is corrupted or was not written by KnowledgeRepository.save(); re-save it from a live repository or restore a backup.',
    );
  };
  if (!isRecord(value)) return fail('it is not a JSON object');
  if (value['format'] !== KNOWLEDGE_REPOSITORY_FORMAT) {
    return fail(`"format" is ${JSON.stringify(value['format'])}, expected "${KNOWLEDGE_REPOSITORY_FORMAT}"`);
  }
  const version = value['version'];
  if (version !== KNOWLEDGE_REPOSITORY_VERSION && version !== 1) {
    throw new InvalidCheckpointError(
      `${manifestPath} has format version ${JSON.stringify(version)}; this @recipe-kit/retriever reads versions 1 to ${KNOWLEDGE_REPOSITORY_VERSION}.`,
      'Load it with the recipe-kit version that wrote it, or re-save the repository with this one.',
    );
  }
  const positiveInteger = (field: string, raw: unknown, allowZero = false): number => {
    if (typeof raw !== 'number' || !Number.isInteger(raw) || raw < (allowZero ? 0 : 1)) {
      return fail(`"${field}" is ${JSON.stringify(raw)}, expected a ${allowZero ? 'non-negative' : 'positive'} integer`);
    }
    return raw;
  };
  const dimension = positiveInteger('dimension', value['dimension']);
  const shape = value['promptShape'];
  if (!Array.isArray(shape) || shape.length !== 2) return fail('"promptShape" must be [l, d_llm]');
  const promptShape: [number, number] = [
    positiveInteger('promptShape[0]', shape[0]),
    positiveInteger('promptShape[1]', shape[1]),
  ];
  const count = positiveInteger('count', value['count'], true);
  const encoderFingerprint = value['encoderFingerprint'];
  if (typeof encoderFingerprint !== 'string') return fail('"encoderFingerprint" must be a string');
  if (value['byteOrder'] !== 'little-endian') return fail('"byteOrder" must be "little-endian"');
  if (value['dtype'] !== 'float32') return fail('"dtype" must be "float32"');
  const createdAt = typeof value['createdAt'] === 'string' ? value['createdAt'] : '';
  const files = value['files'];
  if (!isRecord(files)) return fail('"files" must be an object');
  const journal = value['journal'] ?? null;
  if (journal !== null && (typeof journal !== 'string' || !/^journal-[0-9a-f]{16}\.log$/.test(journal))) {
    return fail('"journal" must be null or a journal file name (journal-<16 hex>.log)');
  }
  const fileReference = (key: string, within: Record<string, unknown> = files, prefix = 'files'): RepositoryFileReference => {
    const raw = within[key];
    if (!isRecord(raw)) return fail(`"${prefix}.${key}" must be an object`);
    const name = raw['name'];
    // Only plain names: a manifest must not make load read outside its own directory.
    if (typeof name !== 'string' || name.length === 0 || /[/\\]/.test(name) || name === '.' || name === '..') {
      return fail(`"${prefix}.${key}.name" must be a plain file name`);
    }
    const sha256 = raw['sha256'];
    if (typeof sha256 !== 'string' || !/^[0-9a-f]{64}$/.test(sha256)) return fail(`"${prefix}.${key}.sha256" must be 64 hex digits`);
    return { name, bytes: positiveInteger(`${prefix}.${key}.bytes`, raw['bytes'], true), sha256 };
  };
  const nativeIndexReference = (raw: unknown): NativeIndexReference => {
    if (!isRecord(raw) || raw['kind'] !== 'faiss' || typeof raw['description'] !== 'string') {
      return fail('"files.index" must be null or { kind: "faiss", description, data, labels }');
    }
    return { kind: 'faiss', description: raw['description'], data: fileReference('data', raw, 'files.index'), labels: fileReference('labels', raw, 'files.index') };
  };
  return {
    format: KNOWLEDGE_REPOSITORY_FORMAT,
    version,
    dimension,
    promptShape,
    count,
    encoderFingerprint,
    byteOrder: 'little-endian',
    dtype: 'float32',
    createdAt,
    files: {
      keys: fileReference('keys'),
      prompts: fileReference('prompts'),
      requests: fileReference('requests'),
      sentinel: files['sentinel'] === null || files['sentinel'] === undefined ? null : fileReference('sentinel'),
      index: files['index'] === null || files['index'] === undefined ? null : nativeIndexReference(files['index']),
    },
    journal,
  };
}

function isRecord(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}
