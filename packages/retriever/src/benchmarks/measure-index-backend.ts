import { execFileSync } from 'node:child_process';
import { mkdtemp, rm, stat } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import type { KnowledgeIndex } from '@recipe-kit/core';
import { BatchedIndex } from '../batched-index.js';
import { ExactIndex } from '../exact-index.js';
import { FaissIndex } from '../faiss-index.js';
import { FaissProjectedIndex } from '../faiss-projected-index.js';
import { loadFaiss } from '../faiss-native.js';
import { innerProduct } from '../inner-product.js';
import { createKnowledgeIndex } from '../knowledge-index-registry.js';
import { loadAverage, waitForQuiet, type PhaseLoad, type QuietPolicy } from './machine-load.js';
import type { VectorDataset } from './vector-dataset.js';

/** Backends whose search knob (efSearch, nprobe, LanceDB's nprobes) can be turned after building: faiss, LanceDB. */
function hasSearchKnob<T extends object>(index: T): index is T & { setSearchParameter(value: number): void } {
  return typeof (index as { setSearchParameter?: unknown }).setSearchParameter === 'function';
}

export interface LatencySummary {
  p50Ms: number;
  p99Ms: number;
  meanMs: number;
}

export interface BackendMeasurement {
  backend: string;
  dimension: number;
  size: number;
  parameters: Record<string, number>;
  /** Bulk insert of all N (batches of `insertBatch`), vectors per second and ms per vector. */
  insert: { seconds: number; perSecond: number; msPerEdit: number; batch: number };
  /** One-vector `add` calls at size N (what one edit costs the index). */
  singleInsert: LatencySummary & { load?: PhaseLoad };
  /**
   * Single-query `search(q, k)` with k = the repository's candidate count; cpuMeanMs = process CPU
   * time per query (all threads), which the other jobs on the shared cores inflate far less than wall time.
   */
  query: LatencySummary & { k: number; cpuMeanMs?: number; load?: PhaseLoad };
  /** Share of queries whose true best match (exact scan) is the best after exact rescoring of the k candidates. */
  recallAt1: number;
  /**
   * Share of queries whose best candidate after rescoring is the key the query was made from: what an
   * editor's answer depends on. Usually at or below the exact scan's share, which near-tied keys of other facts
   * already lower (an approximate search can land on the own key where the exact one did not, so it is no strict bound).
   * Absent from rows measured before it was recorded.
   */
  sourceAt1?: number;
  /** Queries timed and scored for recall@1. */
  queries?: number;
  /** Recall at each tried setting of the search knob (efSearch / nprobe), when tuned. */
  sweep?: Array<{ parameter: string; value: number; recallAt1: number; sourceAt1?: number; p50Ms: number; cpuMeanMs?: number; load?: PhaseLoad }>;
  /** Process RSS growth per stored vector (server memory for chroma). */
  memoryBytesPerEdit: number;
  /** Bytes on disk per vector: the backend's files (lancedb, chroma), its written index (faiss) or the snapshot's keys (exact). */
  diskBytesPerEdit: number;
  /** Time to reopen the stored index from disk, seconds. */
  reopenSeconds: number;
  notes: string[];
}

export interface MeasureOptions {
  backend: string;
  dataset: VectorDataset;
  /** Exact top-1 id index (row) per query, from the reference scan. */
  truth: Int32Array;
  parameters: Record<string, number>;
  /** Candidates per query (the repository's refine factor × topK 1). */
  k: number;
  /** Settings of the search knob to sweep; the first reaching the recall goal is kept. */
  sweep?: { parameter: 'efSearch' | 'nprobe' | 'nprobes'; values: readonly number[] };
  recallGoal: number;
  /** Queries timed (default all): the exact scan at a million keys is timed on fewer, its recall is 1 by definition. */
  latencyQueries?: number;
  /** A running Chroma server (its RSS and data directory are what chroma costs). */
  chroma?: { host: string; port: number; pid: number; directory: string };
  /** Wait for a quieter machine before each latency phase (never before builds). */
  quiet?: QuietPolicy;
  log: (line: string) => void;
}

const INSERT_BATCH = 1000;
const SINGLE_INSERTS = 200;

export function summarise(milliseconds: readonly number[]): LatencySummary {
  const sorted = [...milliseconds].sort((a, b) => a - b);
  const at = (p: number): number => sorted[Math.min(sorted.length - 1, Math.floor((p / 100) * sorted.length))] ?? Number.NaN;
  const round = (value: number): number => Math.round(value * 1000) / 1000;
  return { p50Ms: round(at(50)), p99Ms: round(at(99)), meanMs: round(sorted.reduce((a, b) => a + b, 0) / Math.max(1, sorted.length)) };
}

function rssBytes(pid?: number): number {
  if (pid === undefined) return process.memoryUsage().rss;
  const status = execFileSync('cat', [`/proc/${pid}/status`]).toString();
  const match = /VmRSS:\s+(\d+) kB/.exec(status);
  return match ? Number(match[1]) * 1024 : Number.NaN;
}

function directoryBytes(directory: string): number {
  return Number(execFileSync('du', ['-sb', directory]).toString().split('\t')[0]);
}

function collectGarbage(): void {
  (globalThis as { gc?: () => void }).gc?.();
}

/** Best-of-k after exact rescoring, as KnowledgeRepository does; returns the winning row or −1. */
function rescoredBest(hits: readonly { id: string }[], dataset: VectorDataset, query: Float32Array): number {
  let best = -1;
  let bestScore = Number.NEGATIVE_INFINITY;
  for (const hit of hits) {
    const row = Number(hit.id.slice(1));
    const score = innerProduct(dataset.base, row * dataset.dimension, query, dataset.dimension);
    if (score > bestScore) {
      bestScore = score;
      best = row;
    }
  }
  return best;
}

interface TimedQueries {
  latencies: number[];
  recall: number;
  sourceAt1: number;
  cpuMeanMs: number;
  load: PhaseLoad;
}

async function timeQueries(index: KnowledgeIndex, options: MeasureOptions): Promise<TimedQueries> {
  const { dataset, truth, k } = options;
  const queries = Math.min(dataset.queryCount, options.latencyQueries ?? dataset.queryCount);
  const latencies: number[] = [];
  let correct = 0;
  let own = 0;
  const waitedSeconds = await waitForQuiet(options.quiet, options.log);
  const start = loadAverage();
  // Warm-up: first queries touch cold pages and JIT paths.
  for (let q = 0; q < Math.min(10, queries); q++) await index.search(dataset.query(q), k);
  let cpuMicros = 0;
  for (let q = 0; q < queries; q++) {
    const query = dataset.query(q);
    const cpu = process.cpuUsage();
    const started = performance.now();
    const hits = await index.search(query, k);
    latencies.push(performance.now() - started);
    const used = process.cpuUsage(cpu);
    cpuMicros += used.user + used.system;
    const best = rescoredBest(hits, dataset, query);
    if (best === truth[q]) correct++;
    if (best === dataset.sourceRows[q]) own++;
  }
  const load = { start, end: loadAverage(), ...(waitedSeconds > 0 ? { waitedSeconds } : {}) };
  return { latencies, recall: correct / queries, sourceAt1: own / queries, cpuMeanMs: Math.round(cpuMicros / queries) / 1000, load };
}

/** Inserts the dataset into one backend and measures it (see BackendMeasurement). */
export async function measureIndexBackend(options: MeasureOptions): Promise<BackendMeasurement> {
  const { dataset, backend, log } = options;
  const { dimension, size } = dataset;
  const notes: string[] = [];
  const directory = await mkdtemp(path.join(tmpdir(), `retriever-bench-${backend}-`));
  try {
    collectGarbage();
    const memoryBefore = rssBytes(options.chroma?.pid);
    const index = await createKnowledgeIndex(backend, { dimension, directory, parameters: options.parameters, ...(options.chroma ? { chroma: { host: options.chroma.host, port: options.chroma.port } } : {}) });
    const insertStarted = performance.now();
    for (let start = 0; start < size; start += INSERT_BATCH) {
      const batch = [];
      for (let row = start; row < Math.min(size, start + INSERT_BATCH); row++) batch.push({ id: `v${row}`, vector: dataset.base.subarray(row * dimension, (row + 1) * dimension) });
      await index.add(batch);
      if (start % (INSERT_BATCH * 20) === 0 && start > 0) log(`  ${backend}: ${start} / ${size} inserted`);
    }
    if (index instanceof BatchedIndex) await index.flush();
    const insertSeconds = (performance.now() - insertStarted) / 1000;
    collectGarbage();
    const memoryBytesPerEdit = (rssBytes(options.chroma?.pid) - memoryBefore) / size;
    log(`  ${backend}: inserted ${size} in ${insertSeconds.toFixed(1)} s`);

    let sweep: BackendMeasurement['sweep'];
    if (options.sweep !== undefined && hasSearchKnob(index)) {
      sweep = [];
      for (const value of options.sweep.values) {
        index.setSearchParameter(value);
        const { latencies, recall, sourceAt1, cpuMeanMs, load } = await timeQueries(index, options);
        sweep.push({ parameter: options.sweep.parameter, value, recallAt1: recall, sourceAt1, p50Ms: summarise(latencies).p50Ms, cpuMeanMs, load });
        log(`  ${backend}: ${options.sweep.parameter}=${value} recall@1 ${recall.toFixed(3)} p50 ${summarise(latencies).p50Ms} ms`);
        if (recall >= options.recallGoal) break;
      }
      const chosen = sweep.at(-1)!;
      options.parameters[options.sweep.parameter] = chosen.value;
      if (chosen.recallAt1 < options.recallGoal) notes.push(`recall goal ${options.recallGoal} not reached at ${chosen.parameter} ≤ ${chosen.value}`);
    }
    const { latencies, recall, sourceAt1, cpuMeanMs, load } = await timeQueries(index, options);
    if (options.latencyQueries !== undefined && options.latencyQueries < dataset.queryCount) notes.push(`query latency timed on ${options.latencyQueries} of the ${dataset.queryCount} queries`);

    // One-vector adds at size N (fresh ids beyond the dataset, reusing its vectors).
    const single: number[] = [];
    const singleWaited = await waitForQuiet(options.quiet, log);
    const singleStart = loadAverage();
    for (let i = 0; i < SINGLE_INSERTS; i++) {
      const row = i % size;
      const started = performance.now();
      await index.add([{ id: `extra${i}`, vector: dataset.base.subarray(row * dimension, (row + 1) * dimension) }]);
      single.push(performance.now() - started);
    }
    const singleLoad: PhaseLoad = { start: singleStart, end: loadAverage(), ...(singleWaited > 0 ? { waitedSeconds: singleWaited } : {}) };
    if (index instanceof BatchedIndex) {
      const started = performance.now();
      await index.flush();
      notes.push(`adds are buffered (${index.constructor.name}); flushing the ${SINGLE_INSERTS} single adds took ${(performance.now() - started).toFixed(0)} ms`);
    }

    const { diskBytes, reopenSeconds } = await persistAndReopen(index, backend, directory, dataset, options);
    await index.dispose();
    return {
      backend,
      dimension,
      size,
      parameters: { ...options.parameters },
      insert: { seconds: insertSeconds, perSecond: size / insertSeconds, msPerEdit: (insertSeconds * 1000) / size, batch: INSERT_BATCH },
      singleInsert: { ...summarise(single), load: singleLoad },
      query: { ...summarise(latencies), k: options.k, cpuMeanMs, load },
      recallAt1: recall,
      sourceAt1,
      queries: Math.min(dataset.queryCount, options.latencyQueries ?? dataset.queryCount),
      ...(sweep ? { sweep } : {}),
      memoryBytesPerEdit: Math.round(memoryBytesPerEdit),
      diskBytesPerEdit: Math.round(diskBytes / size),
      reopenSeconds,
      notes,
    };
  } finally {
    await rm(directory, { recursive: true, force: true });
  }
}

/** Disk footprint and reopen time, per backend kind. */
async function persistAndReopen(index: KnowledgeIndex, backend: string, directory: string, dataset: VectorDataset, options: MeasureOptions): Promise<{ diskBytes: number; reopenSeconds: number }> {
  if (index instanceof FaissIndex) {
    const file = path.join(directory, 'index.faiss');
    index.saveNative(file);
    const diskBytes = (await stat(file)).size;
    const started = performance.now();
    loadFaiss().Index.read(file);
    return { diskBytes, reopenSeconds: (performance.now() - started) / 1000 };
  }
  if (index instanceof FaissProjectedIndex) {
    // The repository snapshot holds the keys file and the saved lists (+ subspace); reopening reads both
    // and hands the keys to loadNative: no k-means, no re-encoding.
    const file = path.join(directory, 'index.faiss');
    const state = index.saveNative(file)!;
    const { diskBytes, started, keys } = await writeAndReadKeys(directory, dataset);
    const reopened = (await createKnowledgeIndex(backend, { dimension: dataset.dimension, parameters: options.parameters })) as FaissProjectedIndex;
    // Ids are `v<row>`: the row is read off the id (a 1M-entry id → row map would be built inside the timed reopen).
    const keyOf = (id: string): Float32Array | null => {
      const row = Number(id.slice(1));
      return Number.isInteger(row) && row >= 0 && row < dataset.size ? keys.subarray(row * dataset.dimension, (row + 1) * dataset.dimension) : null;
    };
    if (!(await reopened.loadNative(file, state, keyOf))) throw new Error('faiss-ivf-pca did not reload its own file.');
    const reopenSeconds = (performance.now() - started) / 1000;
    await reopened.dispose();
    return { diskBytes: diskBytes + (await stat(file)).size, reopenSeconds };
  }
  if (index instanceof ExactIndex) {
    const { diskBytes, started, keys } = await writeAndReadKeys(directory, dataset);
    const reopened = new ExactIndex(dataset.dimension, { initialCapacity: dataset.size });
    await reopened.add(Array.from({ length: dataset.size }, (_, row) => ({ id: `v${row}`, vector: keys.subarray(row * dataset.dimension, (row + 1) * dataset.dimension) })));
    return { diskBytes, reopenSeconds: (performance.now() - started) / 1000 };
  }
  if (backend === 'lancedb' || backend === 'chroma') {
    const diskBytes = directoryBytes(backend === 'chroma' ? options.chroma!.directory : directory);
    const started = performance.now();
    const reopened = await createReopened(backend, directory, dataset.dimension, options);
    const reopenSeconds = (performance.now() - started) / 1000;
    if (reopened.size !== index.size) throw new Error(`${backend} reopened with ${reopened.size} rows, expected ${index.size}.`);
    return { diskBytes, reopenSeconds };
  }
  return { diskBytes: Number.NaN, reopenSeconds: Number.NaN };
}

/** Writes the dataset's keys as a durable keys file, then reads them back; `started` is when the read began. */
async function writeAndReadKeys(directory: string, dataset: VectorDataset): Promise<{ diskBytes: number; started: number; keys: Float32Array }> {
  const { writeDurableFile } = await import('../write-durable-file.js');
  const { float32Chunks } = await import('../float32-chunks.js');
  const { readFloat32File } = await import('../read-float32-file.js');
  const file = path.join(directory, 'keys.f32');
  const reference = { name: 'keys.f32', ...(await writeDurableFile(file, float32Chunks([dataset.base]))) };
  const started = performance.now();
  const keys = new Float32Array(dataset.size * dataset.dimension);
  await readFloat32File(file, reference, [keys], 'keys');
  return { diskBytes: reference.bytes, started, keys };
}

async function createReopened(backend: string, directory: string, dimension: number, options: MeasureOptions): Promise<KnowledgeIndex> {
  if (backend === 'lancedb') {
    const { LanceIndex } = await import('../lance-index.js');
    return LanceIndex.open(dimension, { directory, mode: 'reopen' });
  }
  const { ChromaIndex } = await import('../chroma-index.js');
  return ChromaIndex.open(dimension, { host: options.chroma!.host, port: options.chroma!.port, mode: 'reopen' });
}
