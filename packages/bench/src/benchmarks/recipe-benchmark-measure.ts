import * as tf from '@tensorflow/tfjs';
import { tokenizeProbe, type EditedModel, type EditRequest, type QueryContinuation, type RecipeEditor, type Tokenizer } from '@recipe-kit/core';
import { scoreInBatches } from '../metrics/batched-scoring.js';

/** What the measurement needs of RECIPE: a `RecipeEditor` (or anything shaped like one, in tests). */
export type RecipeBenchmarkEditor = Pick<RecipeEditor, 'model' | 'edit' | 'retract' | 'restore' | 'retrieve' | 'scoreContinuations' | 'editCount'>;

export interface RecipeBenchmarkSettings {
  /** Repository sizes N (edits stored when timing queries); measured in ascending order, growing one repository. */
  sizes: number[];
  /** Single `edit([request])` calls timed per size (default 200). */
  timedEdits: number;
  /** Requests per `edit` call while filling the repository (untimed, default 64). */
  fillBatchSize: number;
  /** Probes in the fixed query set (default 96). */
  probes: number;
  /** Distinct edits whose probes make the query set (default 32; fewer when N is smaller). */
  queryEdits: number;
  /** Timed passes over the query set per scorer (default 9); the median is reported. */
  repeats: number;
  /** Untimed single edits (each retracted at once) before the first size, to warm up JIT and kernels (default 5). */
  warmupEdits: number;
  /** Queries per `scoreContinuations` call (default 16). */
  scoreBatchSize: number;
}

export const DEFAULT_RECIPE_BENCHMARK_SETTINGS: RecipeBenchmarkSettings = {
  sizes: [10, 1000, 10000],
  timedEdits: 200,
  fillBatchSize: 64,
  probes: 96,
  queryEdits: 32,
  repeats: 9,
  warmupEdits: 5,
  scoreBatchSize: 16,
};

export interface LatencySummary {
  count: number;
  meanMs: number;
  p50Ms: number;
  p99Ms: number;
  minMs: number;
  maxMs: number;
}

export interface MemorySnapshot {
  /** process.memoryUsage().rss (no forced GC: includes garbage not yet collected). */
  rssMiB: number;
  heapUsedMiB: number;
  /** ArrayBuffers outside the V8 heap (the repository's Float32Arrays, the wasm heap). */
  arrayBuffersMiB: number;
  tfjsTensors: number;
  tfjsMiB: number;
}

export interface RecipeSizeResult {
  /** The requested repository size N. */
  size: number;
  /** `editor.editCount` while the queries were timed (equals `size`). */
  editCount: number;
  fill: {
    /** Edits stored by batched `edit` calls for this size (untimed for the per-edit figures). */
    edits: number;
    batchSize: number;
    seconds: number;
    /** Wall time of the batched fill per edit; null when nothing was filled. */
    msPerEdit: number | null;
  };
  /**
   * Single-request `edit([request])` latency at this size: the last min(N, timedEdits) of the N
   * edits one by one, then, where N < timedEdits, cycles of an untimed `retract` of the newest edit
   * followed by a timed single edit of a fresh clone, so the repository holds N edits after each.
   */
  singleEdit: LatencySummary & { retractCycles: number };
  query: {
    probes: number;
    /** Distinct repository edits the probes come from. */
    queryEdits: number;
    /** Probes by kind: reliability (edit prompt → new target), generality, locality. */
    kinds: { reliability: number; generality: number; locality: number };
    repeats: number;
    batchSize: number;
    /** Share of probes that retrieved a stored fact (these carry a prefix through the LLM). */
    hitShare: number;
    /** Median ms per probe of `scoreInBatches` through RECIPE with N edits. */
    recipeMsPerProbe: number;
    /** Median ms per probe of the same probes through the unedited model (the `none` editor). */
    uneditedMsPerProbe: number;
    /** recipeMsPerProbe ÷ uneditedMsPerProbe. */
    ratio: number;
    /** Median ms per probe of `editor.retrieve` alone (query encoder + repository search), same batches. */
    retrievalMsPerProbe: number;
    /** recipeMsPerProbe − retrievalMsPerProbe: the LLM forward with prefixes, and bookkeeping. */
    llmMsPerProbe: number;
    /** Every timed pass, in ms per probe, for the spread. */
    recipeRuns: number[];
    uneditedRuns: number[];
    retrievalRuns: number[];
  };
  /** Single-edit mean ÷ unedited ms per probe: one edit costs this many unedited probe scorings. */
  editCostInUneditedProbes: number;
  /** After the repository reached N and before the queries. */
  memory: MemorySnapshot;
  /** Tensors alive after this size's queries that were not alive before them (should be 0). */
  leakedTensors: number;
}

export interface RecipeMeasurement {
  settings: RecipeBenchmarkSettings;
  /** Memory before the first edit (model and retriever loaded). */
  memoryBefore: MemorySnapshot;
  /** Requests needed beyond the dataset, made by cloning with ids `${id}#${k}`. */
  clonedRequests: number;
  sizes: RecipeSizeResult[];
}

export interface MeasureRecipeOptions {
  editor: RecipeBenchmarkEditor;
  /** The unedited model as an EditedModel (e.g. the `none` editor around the same model). */
  baseline: EditedModel;
  tokenizer: Tokenizer;
  /** The edits to store, in order; cloned with new ids when more are needed. */
  requests: readonly EditRequest[];
  settings?: Partial<RecipeBenchmarkSettings>;
  log?: (line: string) => void;
}

const MiB = 2 ** 20;

function round(value: number, digits = 3): number {
  const scale = 10 ** digits;
  return Math.round(value * scale) / scale;
}

export function median(values: readonly number[]): number {
  if (values.length === 0) return Number.NaN;
  const sorted = [...values].sort((a, b) => a - b);
  const middle = Math.floor(sorted.length / 2);
  return sorted.length % 2 === 1 ? (sorted[middle] as number) : ((sorted[middle - 1] as number) + (sorted[middle] as number)) / 2;
}

/** Nearest-rank percentile (p in 0..100). */
export function percentile(values: readonly number[], p: number): number {
  if (values.length === 0) return Number.NaN;
  const sorted = [...values].sort((a, b) => a - b);
  const rank = Math.max(1, Math.ceil((p / 100) * sorted.length));
  return sorted[Math.min(rank, sorted.length) - 1] as number;
}

export function summariseLatency(milliseconds: readonly number[]): LatencySummary {
  return {
    count: milliseconds.length,
    meanMs: round(milliseconds.reduce((a, b) => a + b, 0) / Math.max(1, milliseconds.length)),
    p50Ms: round(percentile(milliseconds, 50)),
    p99Ms: round(percentile(milliseconds, 99)),
    minMs: round(Math.min(...milliseconds)),
    maxMs: round(Math.max(...milliseconds)),
  };
}

export function memorySnapshot(): MemorySnapshot {
  const usage = process.memoryUsage();
  const tfjs = tf.memory();
  return {
    rssMiB: round(usage.rss / MiB, 1),
    heapUsedMiB: round(usage.heapUsed / MiB, 1),
    arrayBuffersMiB: round(usage.arrayBuffers / MiB, 1),
    tfjsTensors: tfjs.numTensors,
    tfjsMiB: round(tfjs.numBytes / MiB, 1),
  };
}

/**
 * An endless supply of distinct requests: the dataset in order, then clones `${id}#${k}` (same
 * texts, new ids — retrieval cost depends on the repository size, not on the texts being new).
 */
export class RequestSupply {
  private next = 0;
  constructor(private readonly requests: readonly EditRequest[]) {
    if (requests.length === 0) throw new Error('The RECIPE benchmark needs at least one edit request.');
  }

  /** Requests handed out that were clones. */
  get cloned(): number {
    return Math.max(0, this.next - this.requests.length);
  }

  take(count: number): EditRequest[] {
    const taken: EditRequest[] = [];
    for (let i = 0; i < count; i++, this.next++) {
      const source = this.requests[this.next % this.requests.length] as EditRequest;
      const generation = Math.floor(this.next / this.requests.length);
      taken.push(generation === 0 ? source : { ...source, id: `${source.id}#${generation}` });
    }
    return taken;
  }
}

interface QuerySet {
  queries: QueryContinuation[];
  queryEdits: number;
  kinds: { reliability: number; generality: number; locality: number };
}

/**
 * The fixed query set: probes of the first `queryEdits` stored edits, taken kind by kind across the
 * edits (all reliability prompts, then each edit's first rephrase, first neighbour, second …) until
 * `probes` are collected; where the edits have fewer probes, the list repeats.
 */
export function buildQuerySet(tokenizer: Tokenizer, stored: readonly EditRequest[], probes: number, queryEdits: number): QuerySet {
  const edits = stored.slice(0, Math.max(1, Math.min(queryEdits, stored.length)));
  type Kind = keyof QuerySet['kinds'];
  const layers: { kind: Kind; prompt: string; target: string }[][] = [];
  const depth = Math.max(...edits.map((edit) => Math.max(edit.generality.length, edit.locality.length)));
  layers.push(edits.map((edit) => ({ kind: 'reliability', prompt: edit.prompt, target: edit.targetNew })));
  for (let level = 0; level < depth; level++) {
    for (const kind of ['generality', 'locality'] as const) {
      layers.push(edits.flatMap((edit) => {
        const probe = edit[kind][level];
        return probe ? [{ kind, prompt: probe.prompt, target: probe.target }] : [];
      }));
    }
  }
  const pool = layers.flat();
  const chosen = Array.from({ length: probes }, (_, i) => pool[i % pool.length] as (typeof pool)[number]);
  const kinds = { reliability: 0, generality: 0, locality: 0 };
  for (const probe of chosen) kinds[probe.kind]++;
  return { queries: chosen.map((probe) => tokenizeProbe(tokenizer, probe.prompt, probe.target)), queryEdits: edits.length, kinds };
}

/** The batches `scoreInBatches` forms (rows of similar length together), as query texts. */
function retrievalBatches(queries: readonly QueryContinuation[], batchSize: number): string[][] {
  const order = queries.map((_, i) => i).sort((a, b) => length(queries[a]) - length(queries[b]));
  const batches: string[][] = [];
  for (let start = 0; start < order.length; start += batchSize) batches.push(order.slice(start, start + batchSize).map((i) => (queries[i] as QueryContinuation).queryText));
  return batches;
}

function length(query: QueryContinuation | undefined): number {
  return query ? query.context.length + query.continuation.length : 0;
}

async function timeRetrieval(editor: RecipeBenchmarkEditor, batches: readonly string[][]): Promise<{ ms: number; hits: number }> {
  let hits = 0;
  const started = performance.now();
  for (const batch of batches) {
    const results = await editor.retrieve(batch);
    hits += results.filter((result) => result.hits.length > 0).length;
  }
  return { ms: performance.now() - started, hits };
}

async function timeSingleEdit(editor: RecipeBenchmarkEditor, request: EditRequest): Promise<number> {
  const started = performance.now();
  await editor.edit([request]);
  return performance.now() - started;
}

/**
 * Grows one RECIPE repository through `settings.sizes` (ascending) and, at each size N, times
 * single edits, the query set through RECIPE and through the unedited baseline (alternating, so
 * drift hits both), and retrieval alone. Leaves the editor restored (empty).
 */
export async function measureRecipe(options: MeasureRecipeOptions): Promise<RecipeMeasurement> {
  const settings: RecipeBenchmarkSettings = { ...DEFAULT_RECIPE_BENCHMARK_SETTINGS, ...options.settings };
  const { editor, baseline, tokenizer } = options;
  const log = options.log ?? (() => {});
  const sizes = [...new Set(settings.sizes)].sort((a, b) => a - b);
  for (const size of sizes) if (!Number.isInteger(size) || size < 1) throw new Error(`Repository sizes must be positive integers, got ${size}.`);
  for (const name of ['timedEdits', 'fillBatchSize', 'probes', 'queryEdits', 'repeats', 'scoreBatchSize'] as const) {
    if (!Number.isInteger(settings[name]) || settings[name] < 1) throw new Error(`${name} must be a positive integer, got ${settings[name]}.`);
  }
  if (!Number.isInteger(settings.warmupEdits) || settings.warmupEdits < 0) throw new Error(`warmupEdits must be a non-negative integer, got ${settings.warmupEdits}.`);

  await editor.restore();
  const supply = new RequestSupply(options.requests);
  for (let k = 0; k < settings.warmupEdits; k++) {
    const source = options.requests[k % options.requests.length] as EditRequest;
    const request = { ...source, id: `${source.id}#warmup-${k}` };
    await editor.edit([request]);
    await editor.retract(request.id);
  }
  const stored: EditRequest[] = [];
  const memoryBefore = memorySnapshot();
  const results: RecipeSizeResult[] = [];

  for (const size of sizes) {
    // 1. Fill (untimed per edit) to N − k, then time the last k single edits, k = min(N, timedEdits).
    const single = Math.min(size, settings.timedEdits);
    const fillCount = Math.max(0, size - single - stored.length);
    const fillStarted = performance.now();
    for (let done = 0; done < fillCount; done += settings.fillBatchSize) {
      const batch = supply.take(Math.min(settings.fillBatchSize, fillCount - done));
      await editor.edit(batch);
      stored.push(...batch);
    }
    const fillSeconds = (performance.now() - fillStarted) / 1000;
    if (fillCount > 0) log(`N=${size}: filled ${fillCount} edits in batches of ${settings.fillBatchSize} in ${fillSeconds.toFixed(1)} s`);

    const editMs: number[] = [];
    for (const request of supply.take(size - stored.length)) {
      editMs.push(await timeSingleEdit(editor, request));
      stored.push(request);
    }
    // Small N: keep the repository at N by retracting the newest edit before each further timed edit.
    let retractCycles = 0;
    while (editMs.length < settings.timedEdits) {
      const newest = stored.pop() as EditRequest;
      if (!(await editor.retract(newest.id))) throw new Error(`Could not retract ${newest.id}.`);
      const [request] = supply.take(1) as [EditRequest];
      editMs.push(await timeSingleEdit(editor, request));
      stored.push(request);
      retractCycles++;
    }
    if (editor.editCount !== size) throw new Error(`The repository holds ${editor.editCount} edits, expected ${size}.`);
    const singleEdit = { ...summariseLatency(editMs), retractCycles };
    log(`N=${size}: ${editMs.length} single edits, mean ${singleEdit.meanMs.toFixed(2)} ms, p50 ${singleEdit.p50Ms.toFixed(2)} ms, p99 ${singleEdit.p99Ms.toFixed(2)} ms`);
    const memory = memorySnapshot();

    // 2. Queries: warm up each path once, then rotate which runs first in each repeat.
    const querySet = buildQuerySet(tokenizer, stored, settings.probes, settings.queryEdits);
    const probes = querySet.queries.length;
    const batches = retrievalBatches(querySet.queries, settings.scoreBatchSize);
    const tensorsBefore = tf.memory().numTensors;
    const runners = {
      recipe: async () => (await scoreInBatches(editor, querySet.queries, settings.scoreBatchSize)).seconds * 1000,
      unedited: async () => (await scoreInBatches(baseline, querySet.queries, settings.scoreBatchSize)).seconds * 1000,
      retrieval: async () => (await timeRetrieval(editor, batches)).ms,
    };
    type RunnerName = keyof typeof runners;
    const names: RunnerName[] = ['recipe', 'unedited', 'retrieval'];
    for (const name of names) await runners[name]();
    const hits = (await timeRetrieval(editor, batches)).hits;
    const runs: Record<RunnerName, number[]> = { recipe: [], unedited: [], retrieval: [] };
    for (let repeat = 0; repeat < settings.repeats; repeat++) {
      for (let k = 0; k < names.length; k++) {
        const name = names[(repeat + k) % names.length] as RunnerName;
        runs[name].push((await runners[name]()) / probes);
      }
    }
    const leakedTensors = tf.memory().numTensors - tensorsBefore;
    const recipeMs = median(runs.recipe);
    const uneditedMs = median(runs.unedited);
    const retrievalMs = median(runs.retrieval);
    const query = {
      probes,
      queryEdits: querySet.queryEdits,
      kinds: querySet.kinds,
      repeats: settings.repeats,
      batchSize: settings.scoreBatchSize,
      hitShare: round(hits / probes),
      recipeMsPerProbe: round(recipeMs, 4),
      uneditedMsPerProbe: round(uneditedMs, 4),
      ratio: round(recipeMs / uneditedMs),
      retrievalMsPerProbe: round(retrievalMs, 4),
      llmMsPerProbe: round(recipeMs - retrievalMs, 4),
      recipeRuns: runs.recipe.map((value) => round(value, 4)),
      uneditedRuns: runs.unedited.map((value) => round(value, 4)),
      retrievalRuns: runs.retrieval.map((value) => round(value, 4)),
    };
    log(
      `N=${size}: ${probes} probes (hits ${(query.hitShare * 100).toFixed(0)}%), RECIPE ${recipeMs.toFixed(3)} ms/probe (retrieval ${retrievalMs.toFixed(3)}), ` +
        `unedited ${uneditedMs.toFixed(3)} ms/probe, ratio ${query.ratio.toFixed(2)}×`,
    );
    results.push({
      size,
      editCount: editor.editCount,
      fill: { edits: fillCount, batchSize: settings.fillBatchSize, seconds: round(fillSeconds), msPerEdit: fillCount > 0 ? round((fillSeconds * 1000) / fillCount) : null },
      singleEdit,
      query,
      editCostInUneditedProbes: round(singleEdit.meanMs / uneditedMs, 2),
      memory,
      leakedTensors,
    });
  }
  await editor.restore();
  return { settings: { ...settings, sizes }, memoryBefore, clonedRequests: supply.cloned, sizes: results };
}
