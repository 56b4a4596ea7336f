import { readFile } from 'node:fs/promises';
import path from 'node:path';
import { RecipeEditor, selectBackend, type EditRequest, type QueryContinuation } from '@recipe-kit/core';
import { loadModel } from '@recipe-kit/llm-adapters';
import { RecipeEncoder } from '@recipe-kit/prompt-encoder';
import { createKnowledgeIndex } from '../knowledge-index-registry.js';
import { KnowledgeRepository } from '../knowledge-repository.js';
import { loadAverage, waitForQuiet, type PhaseLoad, type QuietPolicy } from './machine-load.js';
import { summarise, type LatencySummary } from './measure-index-backend.js';
import { createVectorDataset } from './vector-dataset.js';

export interface EndToEndResult {
  model: string;
  checkpoint: string;
  tensorBackend: string;
  indexBackend: string;
  parameters: Record<string, number>;
  storedKeys: number;
  keyWidth: number;
  probes: number;
  /** Fill of the repository with storedKeys synthetic keys through KnowledgeRepository.addMany (batches of 10k). */
  fillSeconds: number;
  /** One probe per `scoreContinuations` call (query encoding, retrieval, LLM forward). */
  emptyQuery: LatencySummary;
  fullQuery: LatencySummary;
  /** `retrieve` alone (query encoder + repository search), one probe per call. */
  emptyRetrieve: LatencySummary;
  fullRetrieve: LatencySummary;
  /** One key stored: query encoding and retrieval run, over a trivial index. */
  oneKeyQuery: LatencySummary;
  oneKeyRetrieve: LatencySummary;
  /** fullQuery.p50 / emptyQuery.p50. */
  ratio: number;
  /** fullQuery.p50 / oneKeyQuery.p50: what the repository's size alone costs. */
  ratioToOneKey: number;
  /** Probes that retrieved something with the keys stored (random keys should lose to the sentinel). */
  hitsWithKeys: number;
  /** Load average around each latency phase (query + retrieve timings) with 0, 1 and storedKeys keys. */
  load?: { empty: PhaseLoad; oneKey: PhaseLoad; full: PhaseLoad };
}

export interface EndToEndOptions {
  modelDirectory: string;
  checkpoint: string;
  storedKeys: number;
  indexBackend: string;
  parameters: Record<string, number>;
  probes: number;
  quiet?: QuietPolicy;
  log: (line: string) => void;
}

/** Runs one latency phase after waiting for a quieter machine (if asked), recording the load around it. */
async function phase<T>(quiet: QuietPolicy | undefined, log: (line: string) => void, run: () => Promise<T>): Promise<{ value: T; load: PhaseLoad }> {
  const waitedSeconds = await waitForQuiet(quiet, log);
  const start = loadAverage();
  const value = await run();
  return { value, load: { start, end: loadAverage(), ...(waitedSeconds > 0 ? { waitedSeconds } : {}) } };
}

async function timeEach(probes: readonly QueryContinuation[], run: (probe: QueryContinuation) => Promise<unknown>): Promise<LatencySummary> {
  for (const probe of probes.slice(0, 5)) await run(probe);
  const times: number[] = [];
  for (const probe of probes) {
    const started = performance.now();
    await run(probe);
    times.push(performance.now() - started);
  }
  return summarise(times);
}

/**
 * The real RECIPE editor on a committed micro model, queried one probe at a time with no edits
 * stored and then with `storedKeys` random unit keys inserted directly into its repository (each
 * with a zero prompt and a shared request, as an edit would store them).
 */
export async function measureRecipeEndToEnd(options: EndToEndOptions): Promise<EndToEndResult> {
  const { log } = options;
  const tensorBackend = await selectBackend();
  const model = await loadModel(options.modelDirectory);
  const retriever = await RecipeEncoder.load(options.checkpoint);
  const { representationDim: keyWidth, promptLength, llmWidth } = retriever.config;
  let repository: KnowledgeRepository | null = null;
  const index = await createKnowledgeIndex(options.indexBackend, { dimension: keyWidth, parameters: options.parameters });
  const editor = await RecipeEditor.create({
    model,
    retriever,
    createStore: (fingerprint) => (repository = new KnowledgeRepository({ dimension: keyWidth, promptShape: [promptLength, llmWidth], encoderFingerprint: fingerprint, index })),
    loadStore: () => {
      throw new Error('not used');
    },
  });
  const edits = JSON.parse(await readFile(path.join(options.modelDirectory, 'held-out-eval-edits.json'), 'utf8')) as { requests: EditRequest[] };
  const probes: QueryContinuation[] = edits.requests.slice(0, options.probes).map((request) => {
    const query = request.generality[0] ?? { prompt: request.prompt, target: request.targetNew };
    return { queryText: query.prompt, context: model.tokenizer.encode(query.prompt, { addBos: true }), continuation: model.tokenizer.encode(` ${query.target}`) };
  });
  const score = (probe: QueryContinuation) => editor.scoreContinuations([probe]);
  const retrieve = (probe: QueryContinuation) => editor.retrieve([probe.queryText]);
  const empty = await phase(options.quiet, log, async () => [await timeEach(probes, score), await timeEach(probes, retrieve)] as const);
  const [emptyQuery, emptyRetrieve] = empty.value;
  log(`  end-to-end: empty repository, query p50 ${emptyQuery.p50Ms} ms, retrieve p50 ${emptyRetrieve.p50Ms} ms`);

  const dataset = createVectorDataset({ dimension: keyWidth, size: options.storedKeys, queries: 1, noise: 0, seed: 7 });
  const prompt = new Float32Array(promptLength * llmWidth);
  const request = edits.requests[0]!;
  const add = (row: number) => repository!.add(`synthetic-${row}`, dataset.base.subarray(row * keyWidth, (row + 1) * keyWidth), { prompt, request, createdAt: '2026-01-01T00:00:00.000Z' });
  await add(0);
  const oneKey = await phase(options.quiet, log, async () => [await timeEach(probes, score), await timeEach(probes, retrieve)] as const);
  const [oneKeyQuery, oneKeyRetrieve] = oneKey.value;
  log(`  end-to-end: one key, query p50 ${oneKeyQuery.p50Ms} ms, retrieve p50 ${oneKeyRetrieve.p50Ms} ms`);
  const fillStarted = performance.now();
  // Bulk import through KnowledgeRepository.addMany (same checks as add; one index call per 10k keys).
  for (let start = 1; start < options.storedKeys; start += 10_000) {
    const entries = [];
    for (let row = start; row < Math.min(options.storedKeys, start + 10_000); row++) {
      entries.push({ id: `synthetic-${row}`, key: dataset.base.subarray(row * keyWidth, (row + 1) * keyWidth), payload: { prompt, request, createdAt: '2026-01-01T00:00:00.000Z' } });
    }
    await repository!.addMany(entries);
    if ((start - 1) % 100_000 === 0 && start > 1) log(`  end-to-end: ${start - 1} keys stored`);
  }
  const fillSeconds = (performance.now() - fillStarted) / 1000;
  log(`  end-to-end: stored ${options.storedKeys} keys in ${fillSeconds.toFixed(1)} s`);
  const full = await phase(options.quiet, log, async () => [await timeEach(probes, score), await timeEach(probes, retrieve)] as const);
  const [fullQuery, fullRetrieve] = full.value;
  const hitsWithKeys = (await editor.retrieve(probes.map((probe) => probe.queryText))).filter((result) => result.hits.length > 0).length;
  log(`  end-to-end: ${options.storedKeys} keys, query p50 ${fullQuery.p50Ms} ms, retrieve p50 ${fullRetrieve.p50Ms} ms`);
  // No restore(): clearing a million entries is not what is measured; the index is simply dropped.
  await index.dispose();
  return {
    model: options.modelDirectory,
    checkpoint: options.checkpoint,
    tensorBackend: tensorBackend.name,
    indexBackend: options.indexBackend,
    parameters: options.parameters,
    storedKeys: options.storedKeys,
    keyWidth,
    probes: probes.length,
    fillSeconds,
    emptyQuery,
    fullQuery,
    emptyRetrieve,
    fullRetrieve,
    oneKeyQuery,
    oneKeyRetrieve,
    ratio: fullQuery.p50Ms / emptyQuery.p50Ms,
    ratioToOneKey: fullQuery.p50Ms / oneKeyQuery.p50Ms,
    hitsWithKeys,
    load: { empty: empty.load, oneKey: oneKey.load, full: full.load },
  };
}
