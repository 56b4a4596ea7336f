import { createRequire } from 'node:module';
import { BackendUnavailableError, InvalidCheckpointError } from '@recipe-kit/core';

/** The part of the (patched) faiss-node addon the faiss backends use; see patches/faiss-node@0.5.1.patch. */
export interface FaissNativeIndex {
  ntotal(): number;
  isTrained(): boolean;
  addFloat32(vectors: Float32Array): void;
  trainFloat32(vectors: Float32Array): void;
  /** distances and labels of nq × k; a missing result has label −1. */
  searchFloat32(queries: Float32Array, k: number): { distances: Float32Array; labels: Float64Array };
  /** Runtime parameters through faiss::ParameterSpace ("efSearch", "nprobe"). */
  setParameter(name: string, value: number): void;
  /** The stored (decoded, for quantised codes) vector of a label. */
  reconstruct(label: number): Float32Array;
  write(path: string): void;
}

export interface FaissModule {
  Index: {
    fromFactory(dimension: number, description: string, metric: number): FaissNativeIndex;
    read(path: string): FaissNativeIndex;
    /** Sets (when given) and returns the OpenMP thread count. */
    setThreads(threads?: number): number;
  };
  MetricType: { METRIC_INNER_PRODUCT: number; METRIC_L2: number };
}

let cached: FaissModule | undefined;

/**
 * Loads faiss-node, built by `pnpm install` against Debian's libfaiss with the project's patch. Never
 * falls back to another backend: a caller that asked for faiss gets faiss or an error saying how to
 * install it. `moduleName` exists for tests of that error.
 */
export function loadFaiss(moduleName = 'faiss-node'): FaissModule {
  if (cached !== undefined && moduleName === 'faiss-node') return cached;
  let module: FaissModule;
  try {
    module = createRequire(import.meta.url)(moduleName) as FaissModule;
  } catch (error) {
    throw new BackendUnavailableError(
      `The faiss index backends need the native module faiss-node, which is not installed or did not build (${error instanceof Error ? error.message.split('\n')[0] : String(error)}).`,
      'Install Debian\'s faiss and OpenBLAS (`apt-get install -y libfaiss-dev libopenblas-dev`), then rebuild it with ' +
        '`npm_config_nodedir=/usr pnpm install` (pnpm applies patches/faiss-node@0.5.1.patch); or pick another backend (exact, lancedb, chroma).',
      { cause: error },
    );
  }
  if (typeof module.Index?.fromFactory !== 'function' || typeof (module.Index.fromFactory(1, 'Flat', 0) as Partial<FaissNativeIndex>).searchFloat32 !== 'function') {
    throw new BackendUnavailableError(
      'The installed faiss-node lacks the typed-array methods of the project\'s patch (searchFloat32, setParameter, reconstruct).',
      'Reinstall with `npm_config_nodedir=/usr pnpm install` so pnpm applies patches/faiss-node@0.5.1.patch and rebuilds the addon.',
    );
  }
  if (moduleName === 'faiss-node') cached = module;
  return module;
}

/**
 * Whether removed-but-still-listed entries (tombstones) warrant rebuilding a faiss index from its live vectors:
 * past 10% of the labels every search over-fetches and filters enough to cost more than a rebuild amortised
 * over the removals, and below 1024 the over-fetch is negligible at any size.
 */
export function tombstonesWarrantRebuild(tombstones: number, labels: number): boolean {
  return tombstones > 1024 && tombstones > 0.1 * labels;
}

/** Reads a saved faiss index file and checks it holds one vector per saved label. */
export function readSavedIndex(faiss: FaissModule, path: string, labels: number): FaissNativeIndex {
  const native = faiss.Index.read(path);
  if (native.ntotal() !== labels) {
    throw new InvalidCheckpointError(
      `The faiss index file ${path} holds ${native.ntotal()} vectors, but ${labels} labels were saved with it.`,
      'The file and its labels come from different saves; delete the index file (the repository rebuilds the index from its keys) or restore a backup.',
    );
  }
  return native;
}
