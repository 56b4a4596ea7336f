import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { InvalidInputError, type KnowledgeIndex } from '@recipe-kit/core';
import { startChromaServer } from './chroma-server.js';
import { ExactIndex } from './exact-index.js';
import { FaissIndex, type FaissIndexKind, type FaissIndexOptions, type FaissStorage } from './faiss-index.js';
import { FaissProjectedIndex } from './faiss-projected-index.js';
import type { LanceIndex } from './lance-index.js';

export interface CreateKnowledgeIndexOptions {
  dimension: number;
  /**
   * Where disk-backed backends keep their data (lancedb: the database; chroma: the local server's
   * data). Default: a fresh temporary directory, deleted on dispose.
   */
  directory?: string;
  /** A running Chroma server; without it, `chroma` starts a local one on 127.0.0.1. */
  chroma?: { host: string; port: number };
  /**
   * Backend knobs by name: efSearch, hnswM (faiss-hnsw); nlist, nprobe, trainAt (faiss-ivf*); pqM, rescore,
   * center (0 = off, the default; 1 = centre keys on their mean) (faiss-ivf-pq); rank, pqM (0 = float32 rows), rescore (faiss-ivf-pca);
   * indexAt, nprobes, numPartitions, batchRows (lancedb); efSearch, efConstruction, maxNeighbors,
   * batchRows (chroma); threads (faiss-*).
   */
  parameters?: Readonly<Record<string, number>>;
}

export interface KnowledgeIndexBackend {
  name: string;
  description: string;
  /** Results equal the exact scan's (up to float rounding); false for approximate (graph, list, quantised) search. */
  exact: boolean;
  /** The `parameters` names this backend reads; others are refused (a misspelt knob must not be ignored). */
  parameters: readonly string[];
  create(options: CreateKnowledgeIndexOptions): Promise<KnowledgeIndex>;
}

const number = (options: CreateKnowledgeIndexOptions, name: string): number | undefined => options.parameters?.[name];
/** A 0 / 1 switch among the numeric parameters; absent: undefined (the backend's default). */
const flag = (options: CreateKnowledgeIndexOptions, name: string): boolean | undefined => {
  const value = number(options, name);
  if (value === undefined) return undefined;
  if (value !== 0 && value !== 1) throw new InvalidInputError(`The index parameter ${name} is a switch, got ${String(value)}.`, `Pass ${name}: 1 (on) or 0 (off).`);
  return value === 1;
};
const defined = <T extends object>(value: T): T => Object.fromEntries(Object.entries(value).filter(([, v]) => v !== undefined)) as T;

/** A temporary directory unless one was given; `cleanup` removes only what was created here. */
async function workDirectory(options: CreateKnowledgeIndexOptions, prefix: string): Promise<{ directory: string; cleanup: () => Promise<void> }> {
  if (options.directory !== undefined) return { directory: options.directory, cleanup: async () => {} };
  const directory = await mkdtemp(path.join(tmpdir(), prefix));
  return { directory, cleanup: () => rm(directory, { recursive: true, force: true }) };
}

function faiss(name: string, description: string, kind: FaissIndexKind, storage: FaissStorage, defaults: (dimension: number) => Partial<FaissIndexOptions> = () => ({})): KnowledgeIndexBackend {
  return {
    name,
    description,
    exact: kind === 'flat',
    parameters: ['threads', 'trainAt', ...(kind === 'hnsw' ? ['efSearch', 'hnswM'] : []), ...(kind === 'ivf' ? ['nlist', 'nprobe'] : []), ...(storage === 'PQ' ? ['pqM', 'rescore', 'center'] : [])],
    create: async (options) =>
      new FaissIndex(options.dimension, {
        ...defaults(options.dimension),
        ...defined({
          kind,
          storage,
          efSearch: number(options, 'efSearch'),
          hnswM: number(options, 'hnswM'),
          nlist: number(options, 'nlist'),
          nprobe: number(options, 'nprobe'),
          trainAt: number(options, 'trainAt'),
          pqM: number(options, 'pqM'),
          rescore: number(options, 'rescore'),
          threads: number(options, 'threads'),
          center: flag(options, 'center'),
        }),
      }),
  };
}

/**
 * faiss-ivf-pq's defaults, the configuration measured at 1M × 256 random keys (bench-results/retriever):
 * 1024 lists, 160 probed (recall@1 0.990, p50 4.8 ms there; 192 gives 0.996 at ~1.6× the time), PQ codes of dimension / 16 bytes (width ≥ 256), 16 × k candidates
 * rescored exactly. Below 39·1024 keys the vectors wait in an exact scan, which is fast at that size.
 */
export function ivfPqDefaults(dimension: number): Partial<FaissIndexOptions> {
  // Narrow keys (tests, toy models) keep FaissIndex's default of ~8 dimensions per byte.
  return { nlist: 1024, nprobe: 160, rescore: 16, ...(dimension >= 256 && dimension % 16 === 0 ? { pqM: dimension / 16 } : {}) };
}

/** Every index backend, by the name used in configs and on the CLI (`--editor-option index=NAME`). */
export const KNOWLEDGE_INDEX_BACKENDS: readonly KnowledgeIndexBackend[] = [
  { name: 'exact', description: 'brute-force scan in JS (the reference; in memory)', exact: true, parameters: [], create: async (options) => new ExactIndex(options.dimension) },
  faiss('faiss-flat', 'faiss exact inner-product scan (IndexFlatIP; in memory)', 'flat', 'Flat'),
  faiss('faiss-hnsw', 'faiss HNSW graph over float32 vectors (in memory)', 'hnsw', 'Flat'),
  faiss('faiss-hnsw-sq8', 'faiss HNSW graph over 8-bit scalar-quantised vectors (in memory, 4x smaller)', 'hnsw', 'SQ8'),
  faiss('faiss-ivf', 'faiss inverted lists (IVF, k-means) over float32 vectors (in memory)', 'ivf', 'Flat'),
  faiss('faiss-ivf-sq8', 'faiss inverted lists over 8-bit scalar-quantised vectors (in memory, 4x smaller)', 'ivf', 'SQ8'),
  faiss('faiss-ivf-pq', 'faiss inverted lists scanning product-quantised codes, top candidates rescored exactly (in memory; recommended for 1M+ edits)', 'ivf', 'PQ', ivfPqDefaults),
  {
    name: 'faiss-ivf-pca',
    description: 'faiss inverted lists over keys projected on their principal subspace, top candidates rescored exactly (in memory; for keys a trained RECIPE encoder writes)',
    exact: false,
    parameters: ['threads', 'trainAt', 'nlist', 'nprobe', 'rank', 'pqM', 'rescore'],
    create: async (options) =>
      new FaissProjectedIndex(
        options.dimension,
        defined({
          rank: number(options, 'rank'),
          pqM: number(options, 'pqM'),
          nlist: number(options, 'nlist'),
          nprobe: number(options, 'nprobe'),
          rescore: number(options, 'rescore'),
          trainAt: number(options, 'trainAt'),
          threads: number(options, 'threads'),
        }),
      ),
  },
  {
    name: 'lancedb',
    description: 'embedded LanceDB table on disk, IVF_FLAT index past 50k rows',
    exact: false,
    parameters: ['indexAt', 'nprobes', 'numPartitions', 'batchRows'],
    create: async (options) => {
      const { directory, cleanup } = await workDirectory(options, 'recipe-lancedb-');
      // Loaded on demand: LanceDB's native module and Arrow cost ~1 s of start-up that other backends do not need.
      const { LanceIndex } = await import('./lance-index.js');
      const index = await LanceIndex.open(options.dimension, defined({
        directory,
        indexAt: number(options, 'indexAt'),
        nprobes: number(options, 'nprobes'),
        numPartitions: number(options, 'numPartitions'),
        batchRows: number(options, 'batchRows'),
      }));
      return withCleanup(index, cleanup);
    },
  },
  {
    name: 'chroma',
    description: 'Chroma collection (HNSW, ip) on a Chroma server; a local one on 127.0.0.1 unless given',
    exact: false,
    parameters: ['batchRows', 'efSearch', 'efConstruction', 'maxNeighbors'],
    create: async (options) => {
      const parameters = defined({
        batchRows: number(options, 'batchRows'),
        efSearch: number(options, 'efSearch'),
        efConstruction: number(options, 'efConstruction'),
        maxNeighbors: number(options, 'maxNeighbors'),
      });
      const { ChromaIndex } = await import('./chroma-index.js');
      if (options.chroma !== undefined) return ChromaIndex.open(options.dimension, { ...options.chroma, ...parameters });
      const { directory, cleanup } = await workDirectory(options, 'recipe-chroma-');
      const server = await startChromaServer({ directory });
      return ChromaIndex.open(options.dimension, {
        host: server.host,
        port: server.port,
        ...parameters,
        onDispose: async () => {
          await server.stop();
          await cleanup();
        },
      });
    },
  },
];

function withCleanup(index: LanceIndex, cleanup: () => Promise<void>): KnowledgeIndex {
  const dispose = index.dispose.bind(index);
  index.dispose = async () => {
    await dispose();
    await cleanup();
  };
  return index;
}

/** The backend called `name`; an unknown name is an error listing the known ones. */
export function knowledgeIndexBackend(name: string): KnowledgeIndexBackend {
  const backend = KNOWLEDGE_INDEX_BACKENDS.find((candidate) => candidate.name === name);
  if (backend === undefined) {
    throw new InvalidInputError(`Unknown knowledge index backend "${name}".`, `Use one of: ${KNOWLEDGE_INDEX_BACKENDS.map((candidate) => candidate.name).join(', ')}.`);
  }
  return backend;
}

/** Creates an empty index of the named backend. A backend whose native module is missing throws BackendUnavailableError; nothing falls back. */
export async function createKnowledgeIndex(name: string, options: CreateKnowledgeIndexOptions): Promise<KnowledgeIndex> {
  const backend = knowledgeIndexBackend(name);
  for (const [parameter, value] of Object.entries(options.parameters ?? {})) {
    if (!backend.parameters.includes(parameter)) {
      throw new InvalidInputError(
        `The ${name} index has no parameter "${parameter}".`,
        backend.parameters.length > 0 ? `Use one of: ${backend.parameters.join(', ')}.` : `${name} takes no parameters; leave them out.`,
      );
    }
    if (!Number.isFinite(value)) throw new InvalidInputError(`The ${name} index parameter ${parameter} is ${String(value)}.`, 'Give a finite number, e.g. nprobe 160.');
  }
  return backend.create(options);
}
