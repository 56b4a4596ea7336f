#!/usr/bin/env node
/**
 * `pnpm bench:retriever`: every index backend at several repository sizes and key widths, in one run —
 * insert throughput, single-add and single-query latency, recall@1 against the exact scan, memory and
 * disk per edit, reopen time — plus durable-edit latency and RECIPE's end-to-end query time with a
 * million keys stored. Writes retriever-<date>.json/.md and latest.json/.md to bench-results/retriever/.
 */
import { execFileSync } from 'node:child_process';
import { mkdir, mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { parseArgs } from 'node:util';
import { BackendUnavailableError, InvalidInputError } from '@recipe-kit/core';
import { startChromaServer } from '../chroma-server.js';
import { ExactIndex } from '../exact-index.js';
import { loadFaiss } from '../faiss-native.js';
import { KnowledgeRepository } from '../knowledge-repository.js';
import { measureIndexBackend, summarise, type BackendMeasurement, type LatencySummary } from './measure-index-backend.js';
import { measureRecipeEndToEnd, type EndToEndResult } from './recipe-end-to-end.js';
import { renderRetrieverMarkdown } from './retriever-benchmark-markdown.js';
import { createRecipeKeyDataset } from './recipe-key-dataset.js';
import { createVectorDataset, type VectorDataset } from './vector-dataset.js';

const repositoryRoot = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../../../..');

export interface DurableEditResult {
  edits: number;
  keyWidth: number;
  promptShape: [number, number];
  /** One `add` on a repository from KnowledgeRepository.open: resolves after its journal record is fsynced. */
  add: LatencySummary;
  /** Reopen (snapshot + journal replay) with all edits in the journal. */
  reopenSeconds: number;
  compactSeconds: number;
}

export interface RetrieverBenchmarkReport {
  createdAt: string;
  machine: { cpus: string; cores: number; memoryGiB: number; node: string; platform: string; loadAverage: number[] };
  /** Start times of the invocations whose results are here (--append adds one). */
  runs?: string[];
  git: string;
  settings: { queries: number; largeQueries?: number; noise: number; recallGoal: number; k: number; faissThreads: number };
  /**
   * sharedCosine: rows on structured keys; keys "recipe": rows on keys a trained RECIPE encoder wrote
   * (keysSource: its checkpoint); neither: i.i.d. random keys. sourceAgreement: share of queries whose
   * exact best key is the key they were made from.
   */
  results: Array<BackendMeasurement & { run?: string; sharedCosine?: number; keys?: 'recipe'; keysSource?: string; sourceAgreement?: number }>;
  /** Backends not measured at a size; `keys` / `sharedCosine` say which key rows (absent: random keys). */
  skipped: Array<{ backend: string; dimension: number; size: number; reason: string; keys?: 'recipe'; sharedCosine?: number }>;
  durable: DurableEditResult | null;
  endToEnd: EndToEndResult | null;
}

const USAGE = `Usage: node packages/retriever/dist/benchmarks/retriever-benchmark.js [options]
  --sizes LIST          sizes at the micro key width 256 (default 10000,100000,1000000)
  --wide-sizes LIST     sizes at RECIPE's width 4096 (default 10000,100000)
  --backends LIST       backends (default exact,faiss-flat,faiss-hnsw,faiss-hnsw-sq8,faiss-ivf,faiss-ivf-sq8,faiss-ivf-pq,faiss-ivf-pca,lancedb,chroma)
  --queries N           queries per measurement (default 200)
  --large-queries N     queries per measurement at 1M keys and more (default 1000)
  --structured-sizes L  extra rows at width 256 on keys with structure (default none): keys share a
                        direction, mean pairwise cos = --shared-cosine (default 0.4, like real RECIPE keys)
  --recipe-key-sizes L  extra rows on keys a trained RECIPE encoder writes (default none): made-up facts of
                        the synthetic world encoded by --recipe-checkpoint's knowledge head, queries that are
                        held-out rephrasings through its query head (encoded keys are cached in --key-cache)
  --recipe-checkpoint D RECIPE checkpoint for those keys (default models/synthetic-llama/recipe)
  --key-cache DIR       where encoded RECIPE keys are kept between runs (default <tmp>/recipe-kit-bench-keys)
  --end-to-end N        keys stored for the RECIPE end-to-end ratio (default 1000000; 0 skips)
  --end-to-end-backend  index backend for it (default faiss-ivf-pq)
  --out DIR             result directory (default bench-results/retriever)
  --append              keep the results in <out>/latest.json and add this invocation's (each row keeps its run's time)
  --no-limits           measure every backend at every size (no per-backend size limits)
  --threads N           OpenMP threads for faiss (default 1)
  --center 0|1          faiss-ivf-pq: centre keys and queries on the keys' mean (1) or not (0);
                        default: the backend's default (off)
  --nlist N             faiss-ivf-pq: inverted lists (default 1024 past 200k keys, fewer below); trainAt
                        follows (39 × nlist) unless --train-at is given
  --train-at N          faiss-ivf-pq: train k-means on the first min(N, size) keys (default 39 × nlist)
  --pq-m N              faiss-ivf-pq: sub-quantisers per code (default width / 16; must divide the width)
  --rescore N           faiss-ivf-pq: candidates rescored exactly, as a multiple of k (default 16)
  --quiet-load X        before each latency phase (never before a build), wait until the 1-minute load
                        average is below X (default 0: do not wait) ...
  --quiet-wait S        ... for at most S seconds (default 300); the load at each phase's start and end is recorded either way
`;

/** Per-backend size limits: beyond them the build alone would blow the run's time budget on 2 shared cores. */
const HNSW_LIMIT = {
  256: 100_000,
  4096: 0,
  reason: 'HNSW construction in Debian\'s generic (SSE, no AVX2) libfaiss build: 261 inserts/s at 100k × 256 on 1 thread on a quiet machine (128/s with SQ8), slowing as the graph grows (at 1M RECIPE keys on 2 threads, 40k keys were in after 6.5 min), so 1M takes hours; width 4096 costs 16× per distance; and reopening rebuilds the graph',
};
const LIMITS: Record<string, { 256: number; 4096: number; reason: string }> = {
  'faiss-hnsw': HNSW_LIMIT,
  'faiss-hnsw-sq8': HNSW_LIMIT,
  chroma: { 256: 100_000, 4096: 10_000, reason: 'Chroma inserts over HTTP: 503 vectors/s at 100k × 256 and 118/s at 10k × 4096 on a quiet machine (2026-11-27), slowing as its HNSW graph grows, so 1M × 256 takes over 35 min and 100k × 4096 over 14 min' },
  lancedb: { 256: 1_000_000, 4096: 100_000, reason: 'LanceDB takes JS number arrays per row (no zero-copy path in this binding) and re-optimises its IVF index as it grows: 10k inserts/s at 1M × 256 but 487/s at 100k × 4096 on a quiet machine (2026-11-27), so 1M × 4096 would take over half an hour and its float32 keys alone 16 GiB' },
  'faiss-ivf-sq8': { 256: 0, 4096: 1_000_000, reason: 'SQ8 is for the wide keys; at width 256 float32 IVF fits easily' },
};

function nlistFor(size: number): number {
  return size <= 20_000 ? 128 : size <= 200_000 ? 512 : 2048;
}

/**
 * The recommended 1M+ configuration (faiss-ivf-pq): codes of dimension / 16 bytes (PQ16 at width 256),
 * 16 × k candidates rescored exactly. Past 200k keys 1024 lists, not 2048: k-means costs nlist² · 39 and
 * the share of codes scanned for a given recall is about the same.
 */
export function pqParametersFor(size: number, dimension: number, threads: number, nlistOverride?: number): Record<string, number> {
  const nlist = nlistOverride ?? (size > 200_000 ? 1024 : nlistFor(size));
  return { threads, nlist, trainAt: Math.min(size, Math.max(39 * nlist, 20_000)), pqM: dimension / 16, rescore: 16 };
}

/** A backend's parameters at this size, and the knob it sweeps; `pqNlist` overrides faiss-ivf-pq's list count (--nlist). */
function parametersFor(backend: string, size: number, dimension: number, threads: number, pqNlist?: number): { parameters: Record<string, number>; sweep?: { parameter: 'efSearch' | 'nprobe' | 'nprobes'; values: number[] } } {
  if (backend === 'faiss-flat') return { parameters: { threads } };
  if (backend === 'faiss-hnsw' || backend === 'faiss-hnsw-sq8') return { parameters: { threads, hnswM: 32, ...(backend === 'faiss-hnsw-sq8' ? { trainAt: Math.min(size, 20_000) } : {}) }, sweep: { parameter: 'efSearch', values: [16, 32, 64, 128, 256, 512] } };
  const nprobes = (nlist: number) => [1, 2, 4, 8, 16, 32, 64, 96, 128, 160, 192, 256, 384, 512, 768, 1024].filter((value) => value <= nlist / 4);
  if (backend === 'faiss-ivf-pq') {
    const parameters = pqParametersFor(size, dimension, threads, pqNlist);
    return { parameters, sweep: { parameter: 'nprobe', values: nprobes(parameters['nlist']!) } };
  }
  if (backend === 'faiss-ivf-pca') {
    // Lists over 63 of the keys' principal dimensions (the 1M RECIPE keys hold 99.1% of their variance in 64), PQ16 codes.
    const nlist = pqNlist ?? (size > 200_000 ? 1024 : nlistFor(size));
    return { parameters: { threads, nlist, trainAt: Math.min(size, Math.max(39 * nlist, 20_000)), rank: Math.min(63, dimension / 4 - 1), pqM: 16, rescore: 16 }, sweep: { parameter: 'nprobe', values: nprobes(nlist) } };
  }
  if (backend === 'faiss-ivf' || backend === 'faiss-ivf-sq8') {
    const nlist = nlistFor(size);
    return { parameters: { threads, nlist, trainAt: Math.min(size, Math.max(39 * nlist, 20_000)) }, sweep: { parameter: 'nprobe', values: nprobes(nlist) } };
  }
  // Rows cross into LanceDB as JS number arrays: bound a write to ~5M floats.
  // LanceDB's IVF has about √N partitions; 32 probed suffice to 100k, more are swept at 1M.
  if (backend === 'lancedb') return { parameters: { batchRows: Math.min(20_000, Math.round(5_000_000 / dimension)), indexAt: 50_000, nprobes: 32 }, sweep: { parameter: 'nprobes', values: [32, 64, 128, 256] } };
  // Chroma 3.0.4 drops the connection on large requests (5000 × 768 fails): ~400k floats per request.
  if (backend === 'chroma') return { parameters: { batchRows: Math.max(50, Math.round(400_000 / dimension / 50) * 50), efSearch: 128, efConstruction: 200, maxNeighbors: 32 } };
  return { parameters: {} };
}

/** A faiss-ivf-pq knob given on the command line: a positive whole number, or absent. */
function countFlag(values: Record<string, unknown>, name: string): number | undefined {
  const raw = values[name];
  if (raw === undefined) return undefined;
  const value = Number(raw);
  if (!Number.isInteger(value) || value < 1) throw new InvalidInputError(`--${name} is "${String(raw)}".`, `Give a positive whole number, e.g. --${name} 32.`);
  return value;
}

function list(value: string | undefined, fallback: number[]): number[] {
  return value === undefined ? fallback : value.split(',').filter(Boolean).map((item) => Number(item.replace(/_/g, '')));
}

async function measureDurableEdits(log: (line: string) => void): Promise<DurableEditResult> {
  const directory = await mkdtemp(path.join(os.tmpdir(), 'retriever-bench-durable-'));
  const [keyWidth, promptShape] = [256, [3, 128] as [number, number]];
  const edits = 2000;
  const dataset = createVectorDataset({ dimension: keyWidth, size: edits, queries: 1, noise: 0, seed: 3 });
  const options = { dimension: keyWidth, promptShape, encoderFingerprint: 'bench' };
  try {
    const repository = await KnowledgeRepository.open(directory, options);
    const prompt = new Float32Array(promptShape[0] * promptShape[1]).fill(0.25);
    const request = { id: 'bench', prompt: 'p', subject: 's', targetNew: 't', generality: [], locality: [] };
    const times: number[] = [];
    for (let row = 0; row < edits; row++) {
      const started = performance.now();
      await repository.add(`d${row}`, dataset.base.subarray(row * keyWidth, (row + 1) * keyWidth), { prompt, request });
      times.push(performance.now() - started);
    }
    await repository.close();
    let started = performance.now();
    const reopened = await KnowledgeRepository.open(directory, options);
    const reopenSeconds = (performance.now() - started) / 1000;
    started = performance.now();
    await reopened.compact();
    const compactSeconds = (performance.now() - started) / 1000;
    await reopened.close();
    const add = summarise(times);
    log(`durable edits: add p50 ${add.p50Ms} ms, p99 ${add.p99Ms} ms; reopen ${reopenSeconds.toFixed(3)} s`);
    return { edits, keyWidth, promptShape, add, reopenSeconds, compactSeconds };
  } finally {
    await rm(directory, { recursive: true, force: true });
  }
}

/**
 * The reference answers, each query's exact best key: the exact scan, batched through faiss's BLAS
 * flat index when it is installed (float32 sums; the best key's margin over the runner-up is large for
 * these queries, so rounding cannot flip it — checked against the JS scan on the first 5 queries).
 */
async function referenceTopOne(dataset: ReturnType<typeof createVectorDataset>, queries: number): Promise<Int32Array> {
  const { dimension, size } = dataset;
  const truth = new Int32Array(queries);
  const reference = new ExactIndex(dimension, { initialCapacity: size });
  for (let start = 0; start < size; start += 10_000) {
    const batch = [];
    for (let row = start; row < Math.min(size, start + 10_000); row++) batch.push({ id: `v${row}`, vector: dataset.base.subarray(row * dimension, (row + 1) * dimension) });
    await reference.add(batch);
  }
  const exactTop = (q: number): number => Number(reference.searchSync(dataset.query(q), 1)[0]!.id.slice(1));
  let faiss: ReturnType<typeof loadFaiss> | null = null;
  try {
    faiss = loadFaiss();
  } catch {
    faiss = null;
  }
  if (faiss === null) {
    for (let q = 0; q < queries; q++) truth[q] = exactTop(q);
  } else {
    const flat = faiss.Index.fromFactory(dimension, 'Flat', faiss.MetricType.METRIC_INNER_PRODUCT);
    flat.addFloat32(dataset.base);
    const all = new Float32Array(queries * dimension);
    for (let q = 0; q < queries; q++) all.set(dataset.query(q), q * dimension);
    const { labels } = flat.searchFloat32(all, 1);
    for (let q = 0; q < queries; q++) truth[q] = labels[q]!;
    for (let q = 0; q < Math.min(5, queries); q++) {
      if (exactTop(q) !== truth[q]) throw new Error(`faiss's flat top-1 disagrees with the exact scan on query ${q}.`);
    }
  }
  await reference.dispose();
  return truth;
}

async function main(): Promise<void> {
  const { values } = parseArgs({
    options: {
      sizes: { type: 'string' },
      'wide-sizes': { type: 'string' },
      backends: { type: 'string' },
      queries: { type: 'string' },
      'large-queries': { type: 'string' },
      'structured-sizes': { type: 'string' },
      'shared-cosine': { type: 'string' },
      'recipe-key-sizes': { type: 'string' },
      'recipe-checkpoint': { type: 'string' },
      'key-cache': { type: 'string' },
      'end-to-end': { type: 'string' },
      'end-to-end-backend': { type: 'string' },
      append: { type: 'boolean' },
      'no-limits': { type: 'boolean' },
      threads: { type: 'string' },
      center: { type: 'string' },
      'train-at': { type: 'string' },
      nlist: { type: 'string' },
      'pq-m': { type: 'string' },
      rescore: { type: 'string' },
      'quiet-load': { type: 'string' },
      'quiet-wait': { type: 'string' },
      out: { type: 'string' },
      help: { type: 'boolean', short: 'h' },
    },
  });
  if (values.help) {
    process.stdout.write(USAGE);
    return;
  }
  const log = (line: string): void => {
    process.stderr.write(`[retriever-bench] ${line}\n`);
  };
  const settings = { queries: Number(values.queries ?? 200), largeQueries: Number(values['large-queries'] ?? 1000), noise: 0.75, recallGoal: 0.99, k: 4, faissThreads: Number(values.threads ?? 1) };
  const backends = (values.backends ?? 'exact,faiss-flat,faiss-hnsw,faiss-hnsw-sq8,faiss-ivf,faiss-ivf-sq8,faiss-ivf-pq,faiss-ivf-pca,lancedb,chroma').split(',');
  const quiet = { belowLoad: Number(values['quiet-load'] ?? 0), maxWaitSeconds: Number(values['quiet-wait'] ?? 300) };
  const sharedCosine = Number(values['shared-cosine'] ?? 0.4);
  // Checked before any data is generated, so a typo fails in a second, not after an hour of encoding.
  const pqFlags = { nlist: countFlag(values, 'nlist'), trainAt: countFlag(values, 'train-at'), pqM: countFlag(values, 'pq-m'), rescore: countFlag(values, 'rescore') };
  const recipeCheckpoint = path.resolve(values['recipe-checkpoint'] ?? path.join(repositoryRoot, 'models', 'synthetic-llama', 'recipe'));
  const configs: Array<{ dimension: 256 | 4096; size: number; sharedCosine: number; recipeKeys?: true }> = [
    ...list(values.sizes, [10_000, 100_000, 1_000_000]).map((size) => ({ dimension: 256 as const, size, sharedCosine: 0 })),
    ...list(values['wide-sizes'], [10_000, 100_000]).map((size) => ({ dimension: 4096 as const, size, sharedCosine: 0 })),
    ...list(values['structured-sizes'], []).map((size) => ({ dimension: 256 as const, size, sharedCosine })),
    // Width 256 is the committed micro checkpoints' d_r; the dataset reads the real width from the checkpoint.
    ...list(values['recipe-key-sizes'], []).map((size) => ({ dimension: 256 as const, size, sharedCosine: 0, recipeKeys: true as const })),
  ];
  const results: RetrieverBenchmarkReport['results'] = [];
  const skipped: RetrieverBenchmarkReport['skipped'] = [];
  const outDirectory = path.resolve(values.out ?? path.join(repositoryRoot, 'bench-results', 'retriever'));
  await mkdir(outDirectory, { recursive: true });
  const started = new Date();
  const runs: string[] = [started.toISOString()];
  let previous: RetrieverBenchmarkReport | null = null;
  if (values.append) {
    previous = JSON.parse(await readFile(path.join(outDirectory, 'latest.json'), 'utf8')) as RetrieverBenchmarkReport;
    runs.unshift(...(previous.runs ?? [previous.createdAt]));
    results.push(...previous.results.map((result) => ({ ...result, run: result.run ?? previous!.createdAt })));
    skipped.push(...previous.skipped);
  }
  const report = (): RetrieverBenchmarkReport => ({
    createdAt: started.toISOString(),
    machine: { cpus: os.cpus()[0]?.model ?? 'unknown', cores: os.cpus().length, memoryGiB: Math.round(os.totalmem() / 2 ** 30), node: process.version, platform: `${os.platform()} ${os.release()}`, loadAverage: os.loadavg().map((value) => Math.round(value * 10) / 10) },
    git: (() => {
      try {
        return execFileSync('git', ['rev-parse', '--short', 'HEAD'], { cwd: repositoryRoot }).toString().trim();
      } catch {
        return 'unknown';
      }
    })(),
    runs,
    settings,
    results,
    skipped,
    durable,
    endToEnd,
  });
  let durable: DurableEditResult | null = previous?.durable ?? null;
  let endToEnd: EndToEndResult | null = previous?.endToEnd ?? null;
  const write = async (): Promise<void> => {
    const current = report();
    const stamp = started.toISOString().slice(0, 16).replace(/[:T]/g, '-');
    const markdown = renderRetrieverMarkdown(current);
    for (const name of [`retriever-${stamp}`, 'latest']) {
      await writeFile(path.join(outDirectory, `${name}.json`), `${JSON.stringify(current, null, 2)}\n`);
      await writeFile(path.join(outDirectory, `${name}.md`), markdown);
    }
  };

  for (const { dimension: configured, size, sharedCosine: shared, recipeKeys } of configs) {
    const keys = recipeKeys ? 'RECIPE keys' : shared > 0 ? `structured keys (pairwise cos ${shared})` : 'random keys';
    log(`${size} ${keys}: generating data`);
    // A million keys get more queries: recall@1 ≥ 0.99 on 200 queries is ±0.007 of noise, too coarse for the goal.
    const queries = size >= 1_000_000 ? settings.largeQueries : settings.queries;
    const dataset: VectorDataset = recipeKeys
      ? await createRecipeKeyDataset({ checkpoint: recipeCheckpoint, worldFile: path.join(recipeCheckpoint, '..', 'synthetic-world.json'), size, queries, seed: 1, cacheDirectory: path.resolve(values['key-cache'] ?? path.join(os.tmpdir(), 'recipe-kit-bench-keys')), log })
      : createVectorDataset({ dimension: configured, size, queries, noise: settings.noise, seed: 1, sharedCosine: shared });
    // The size limits are per nominal width; a RECIPE checkpoint of another d_r is limited as width 256.
    const dimension = (dataset.dimension === 4096 ? 4096 : 256) as 256 | 4096;
    const truth = await referenceTopOne(dataset, queries);
    const sourceAgreement = truth.filter((row, q) => row === dataset.sourceRows[q]).length / queries;
    log(`width ${dimension}, ${size} keys: the exact best match is the query's source key for ${(sourceAgreement * 100).toFixed(1)}% of queries`);
    // Which keys a row is for, on skip notes and results alike; results also name the checkpoint.
    const skipKind = recipeKeys ? { keys: 'recipe' as const } : shared > 0 ? { sharedCosine: shared } : {};
    const kind = recipeKeys ? { ...skipKind, keysSource: path.relative(repositoryRoot, recipeCheckpoint) } : skipKind;
    for (const backend of backends) {
      const limit = LIMITS[backend];
      if (limit !== undefined && size > limit[dimension] && !values['no-limits']) {
        skipped.push({ backend, dimension, size, reason: limit.reason, ...skipKind });
        continue;
      }
      if (backend === 'faiss-ivf-pca' && !recipeKeys) {
        skipped.push({ backend, dimension, size, ...skipKind, reason: 'made for keys of low rank (a trained encoder\'s): i.i.d. random or one-shared-direction keys have their variance in every dimension, which a 64-dimension projection discards; measured on the RECIPE-key rows' });
        continue;
      }
      const { parameters, sweep } = parametersFor(backend, size, dimension, settings.faissThreads, pqFlags.nlist);
      if (backend === 'faiss-ivf-pq') {
        if (values.center !== undefined) parameters['center'] = Number(values.center);
        if (pqFlags.trainAt !== undefined) parameters['trainAt'] = Math.min(size, pqFlags.trainAt);
        if (pqFlags.pqM !== undefined) parameters['pqM'] = pqFlags.pqM;
        if (pqFlags.rescore !== undefined) parameters['rescore'] = pqFlags.rescore;
      }
      log(`width ${dimension}, ${size} keys: ${backend}`);
      let server: Awaited<ReturnType<typeof startChromaServer>> | null = null;
      let serverDirectory: string | null = null;
      try {
        if (backend === 'chroma') {
          serverDirectory = await mkdtemp(path.join(os.tmpdir(), 'retriever-bench-chroma-'));
          server = await startChromaServer({ directory: serverDirectory });
        }
        const measurement = await measureIndexBackend({
          backend,
          dataset,
          truth,
          parameters,
          k: settings.k,
          recallGoal: settings.recallGoal,
          ...((backend === 'exact' || backend === 'faiss-flat') && size * dimension > 25_000_000 ? { latencyQueries: 50 } : {}),
          log,
          quiet,
          ...(sweep ? { sweep } : {}),
          ...(server ? { chroma: { host: server.host, port: server.port, pid: server.pid, directory: server.directory } } : {}),
        });
        // A re-measured configuration replaces the earlier row, and a skip note for it goes away.
        const same = (row: { backend: string; dimension: number; size: number; sharedCosine?: number; keys?: 'recipe' }) =>
          row.backend === backend && row.dimension === dataset.dimension && row.size === size && (row.sharedCosine ?? 0) === shared && (row.keys === 'recipe') === (recipeKeys === true);
        results.splice(0, results.length, ...results.filter((row) => !same(row)), { ...measurement, ...kind, sourceAgreement, run: started.toISOString() });
        skipped.splice(0, skipped.length, ...skipped.filter((row) => !same(row)));
        log(`  ${backend}: query p50 ${measurement.query.p50Ms} ms, p99 ${measurement.query.p99Ms} ms, recall@1 ${measurement.recallAt1}, ${measurement.insert.perSecond.toFixed(0)} inserts/s`);
      } catch (error) {
        if (!(error instanceof BackendUnavailableError)) throw error;
        skipped.push({ backend, dimension, size, reason: error.message, ...skipKind });
        log(`  ${backend}: skipped (${error.message})`);
      } finally {
        await server?.stop();
        if (serverDirectory) await rm(serverDirectory, { recursive: true, force: true });
      }
      await write();
    }
  }
  if (!values.append || durable === null) {
    durable = await measureDurableEdits(log);
    await write();
  }
  const storedKeys = Number(values['end-to-end'] ?? 1_000_000);
  if (storedKeys > 0) {
    const indexBackend = values['end-to-end-backend'] ?? 'faiss-ivf-pq';
    const chosen = results.filter((result) => result.backend === indexBackend && result.dimension === 256).sort((a, b) => Math.abs(a.size - storedKeys) - Math.abs(b.size - storedKeys))[0];
    // The knob tuned on random keys of the same size (nprobe / efSearch), else the backend's defaults.
    const { parameters } = parametersFor(indexBackend, storedKeys, 256, settings.faissThreads);
    if (chosen?.parameters['nprobe'] !== undefined) parameters['nprobe'] = chosen.parameters['nprobe'];
    if (chosen?.parameters['efSearch'] !== undefined) parameters['efSearch'] = chosen.parameters['efSearch'];
    log(`end-to-end: RECIPE on models/synthetic-llama with ${storedKeys} keys in ${indexBackend}`);
    endToEnd = await measureRecipeEndToEnd({
      modelDirectory: path.join(repositoryRoot, 'models', 'synthetic-llama'),
      checkpoint: path.join(repositoryRoot, 'models', 'synthetic-llama', 'recipe'),
      storedKeys,
      indexBackend,
      parameters,
      probes: 100,
      quiet,
      log,
    });
    await write();
  }
  process.stdout.write(renderRetrieverMarkdown(report()));
}

main().catch((error: unknown) => {
  process.stderr.write(`${error instanceof Error ? (error.stack ?? error.message) : String(error)}\n`);
  process.exit(1);
});
