import { mkdir, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { InvalidInputError, selectBackend, type EditRequest } from '@recipe-kit/core';
import { loadModel } from '@recipe-kit/llm-adapters';
import { loadEditDataset } from '../datasets/index.js';
import { createRecipeEditorFromCheckpoint } from '../editors/recipe-editor-factory.js';
import { fitsContext } from '../evaluation/run-evaluation.js';
import { hashPath, machineInfo } from '../evaluation/provenance.js';
import { summarize } from '../evaluation/summarize.js';
import { computeLocalityReference, scoreEditCases } from '../metrics/edit-metrics.js';
import { chunkRequests, type CaseResult } from '../protocols/edit-protocol.js';
import { updateCalibration } from './calibration-file.js';
import { MarginReadOff } from './margin-read-off.js';

/** Below any s_top − s_0 a trained head produces (similarities are O(10)), so every top-1 fact passes. */
const PERMISSIVE_MARGIN = -1e30;

/** One margin's lifelong result on the validation edits (metrics as fractions). */
export interface MarginSweepPoint {
  margin: number;
  reliability: number;
  generality: number;
  locality: number;
  /** One-sided lower confidence bound on locality (mean − z·sd/√n over the cases' locality), the number the target is checked against. */
  localityLowerBound: number;
}

/**
 * The sentinel margin chosen for a locality requirement on validation edits: RECIPE's rule is
 * s_j > s_0 + m; raising m trades reliability for locality, so the smallest margin whose
 * validation locality meets the target keeps the most reliability the requirement allows. The
 * target is checked against a one-sided lower confidence bound, not the point estimate: a margin
 * that only just meets it on ~1000 validation cases misses it on another draw about half the time.
 */
export interface LocalityMarginFit {
  targetLocality: number;
  /** Confidence of the one-sided bound that must reach the target (0: the point estimate). */
  confidence: number;
  value: number;
  /** The validation edits (none of them people of training or of the held-out eval), all stored at once. */
  data: { dataset: string; path: string; sha256: string; cases: number };
  sweep: MarginSweepPoint[];
}

/**
 * The default grid: m = -2, -1.9, …, 1 (31 runs). Negative margins matter: a head whose sentinel was trained further
 * (retriever-only phases) refuses more at m = 0, and the margin that buys reliability back lies below 0
 * (synthetic-llama's: -1.2); the earlier heads' margins lay between 0.6 and 0.9.
 */
export const DEFAULT_MARGINS: readonly number[] = Array.from({ length: 31 }, (_, i) => (i - 20) / 10);

/** `--margins` as written on a command line ("-1,-0.5,0"), or the default grid when absent. */
export function parseMargins(text: string | undefined): number[] {
  if (text === undefined) return [...DEFAULT_MARGINS];
  return text.split(',').map((item) => {
    const margin = Number(item);
    if (item.trim() === '' || !Number.isFinite(margin)) throw new InvalidInputError(`--margins has "${item}", which is not a number.`, 'Pass e.g. --margins=-1,-0.5,0,0.5,1 (with "=" when the first is negative).');
    return margin;
  });
}

/** The smallest swept margin whose locality bound reaches the target, or undefined when none does. */
export function smallestMarginMeeting(sweep: readonly MarginSweepPoint[], targetLocality: number): MarginSweepPoint | undefined {
  return [...sweep].sort((a, b) => a.margin - b.margin).find((point) => point.localityLowerBound >= targetLocality);
}

/** One-sided standard-normal quantiles for the confidences offered (a table, not an approximation to get wrong). */
const ONE_SIDED_Z: Readonly<Record<string, number>> = { '0': 0, '0.9': 1.2815515655446004, '0.95': 1.6448536269514722, '0.99': 2.3263478740408408 };

function oneSidedZ(confidence: number): number {
  const z = ONE_SIDED_Z[String(confidence)];
  if (z === undefined) throw new InvalidInputError(`The confidence ${confidence} is not offered.`, `Pass one of ${Object.keys(ONE_SIDED_Z).join(', ')} (0: the point estimate).`);
  return z;
}

/** mean − z·sd/√n of per-case values: the locality a fresh draw of as many cases stays above with the given confidence. */
export function lowerConfidenceBound(values: readonly number[], confidence: number): number {
  const z = oneSidedZ(confidence);
  const n = values.length;
  if (n === 0) return Number.NaN;
  const mean = values.reduce((total, value) => total + value, 0) / n;
  if (n === 1 || z === 0) return mean;
  const variance = values.reduce((total, value) => total + (value - mean) ** 2, 0) / (n - 1);
  return mean - (z * Math.sqrt(variance)) / Math.sqrt(n);
}

export interface LocalityMarginOptions {
  model: string;
  checkpoint: string;
  dataset: string;
  data: string;
  split?: 'eval' | 'train';
  limit?: number;
  margins: readonly number[];
  targetLocality: number;
  /** The target must hold for the one-sided lower bound at this confidence (default 0.95; 0 = the point estimate). */
  confidence?: number;
  seed: number;
  /** Where the sweep's files go: params.json, and per margin margin-<m>/{cases.jsonl,summary.json}. */
  runs: string;
  skipOverlong?: boolean;
  log?: (line: string) => void;
}

/**
 * The margin picked for the target from `sweepLocalityMargins`: the smallest whose locality bound
 * reaches it.
 */
export async function fitMarginForLocality(options: LocalityMarginOptions): Promise<LocalityMarginFit> {
  if (!(options.targetLocality > 0 && options.targetLocality <= 1)) {
    throw new InvalidInputError(`The target locality is ${options.targetLocality}, not a fraction in (0, 1].`, 'Pass e.g. --target-locality 0.98.');
  }
  const confidence = options.confidence ?? 0.95;
  const { sweep, cases, dataSha256 } = await sweepLocalityMargins(options);
  const chosen = smallestMarginMeeting(sweep, options.targetLocality);
  if (!chosen) {
    const best = Math.max(...sweep.map((point) => point.localityLowerBound));
    throw new InvalidInputError(
      `No swept margin reaches locality ${options.targetLocality} on the validation edits at confidence ${confidence} (best lower bound ${best.toFixed(4)} at m = ${String(sweep.find((p) => p.localityLowerBound === best)?.margin)}).`,
      'Sweep larger margins (--margins …,1.5,2), lower --target-locality or --confidence, or train the sentinel further.',
    );
  }
  return {
    targetLocality: options.targetLocality,
    confidence,
    value: chosen.margin,
    data: { dataset: options.dataset, path: options.data, sha256: dataSha256, cases },
    sweep,
  };
}

/**
 * The lifelong protocol with every validation edit stored (T = all cases), scored at each margin by
 * reading it off one pass (`MarginReadOff`: the same numbers `recipe-kit eval --editor-option
 * sentinel-margin=m --edits all` gives, at the cost of two scorings per probe instead of one run per
 * margin). Writes params.json and each margin's cases.jsonl and summary.json under `runs`.
 */
export async function sweepLocalityMargins(options: Omit<LocalityMarginOptions, 'targetLocality'>): Promise<{ sweep: MarginSweepPoint[]; cases: number; dataSha256: string }> {
  if (options.margins.length === 0 || options.margins.some((m) => !Number.isFinite(m))) {
    throw new InvalidInputError(`The margins to sweep are [${options.margins.join(', ')}].`, 'Pass finite numbers, e.g. --margins=-1,-0.5,0,0.5,1.');
  }
  const confidence = options.confidence ?? 0.95;
  oneSidedZ(confidence); // an unoffered confidence fails before the edits, not after them
  const log = options.log ?? (() => undefined);
  const backend = await selectBackend();
  const loaded = await loadEditDataset(options.dataset, options.data, {
    ...(options.limit !== undefined ? { limit: options.limit } : {}),
    ...(options.split ? { split: options.split } : {}),
  });
  const model = await loadModel(options.model);
  const requests = options.skipOverlong ? loaded.filter((request) => fitsContext(model, request)) : loaded;
  if (requests.length === 0) {
    throw new InvalidInputError(`No validation edits to sweep in ${options.data}${loaded.length > 0 ? ' once the overlong ones are skipped' : ''}.`, 'Pass a file of edits the model can take (e.g. the --out-eval file of recipe-kit synthetic-edits).');
  }
  if (requests.every((request) => request.locality.length === 0)) {
    throw new InvalidInputError(`The validation edits in ${options.data} have no locality probes, so no margin can be fitted for locality.`, 'Use edits with locality prompts (synthetic-edits, CounterFact and zsRE files have them).');
  }
  // A margin below every s_top − s_0 lets each query's top-1 fact through; the read-off applies each swept margin after.
  const permissive = await createRecipeEditorFromCheckpoint(model, { checkpoint: options.checkpoint, options: { 'sentinel-margin': String(PERMISSIVE_MARGIN) } });
  // The lifelong protocol with every case stored (T = all), in the order runEditProtocol stores them.
  const chunk = chunkRequests(requests, requests.length, options.seed)[0] as EditRequest[];
  await permissive.restore();
  const reference = await computeLocalityReference(permissive, chunk);
  const editSeconds: number[] = [];
  for (const request of chunk) {
    const started = performance.now();
    await permissive.edit([request]);
    editSeconds.push((performance.now() - started) / 1000);
  }
  log(`stored ${chunk.length} validation edits; scoring each probe with its top-1 prompt and without, then reading off ${options.margins.length} margins`);
  const readOff = new MarginReadOff(permissive, model);
  await mkdir(options.runs, { recursive: true });
  const sweep: MarginSweepPoint[] = [];
  for (const margin of options.margins) {
    readOff.margin = margin;
    const scored = await scoreEditCases(readOff, chunk, reference);
    const cases: CaseResult[] = scored.cases.map((scores, i) => ({ caseId: (chunk[i] as EditRequest).id, chunk: 0, editSeconds: editSeconds[i] as number, ...scores }));
    const summary = summarize(cases, { editor: `recipe (sentinel margin ${margin})`, model: path.basename(options.model), dataset: options.dataset, protocol: 'lifelong', edits: chunk.length, chunks: 1, querySecondsMean: 0 });
    const directory = path.join(options.runs, `margin-${margin}`);
    await mkdir(directory, { recursive: true });
    await writeFile(path.join(directory, 'cases.jsonl'), cases.map((c) => `${JSON.stringify(c)}\n`).join(''));
    await writeFile(path.join(directory, 'summary.json'), `${JSON.stringify(summary, null, 2)}\n`);
    const perCase = cases.map((result) => result.locality).filter((value) => Number.isFinite(value));
    const point = { margin, reliability: summary.reliability ?? Number.NaN, generality: summary.generality ?? Number.NaN, locality: summary.locality ?? Number.NaN, localityLowerBound: lowerConfidenceBound(perCase, confidence) };
    sweep.push(point);
    log(`margin ${margin}: reliability ${point.reliability.toFixed(4)}, generality ${point.generality.toFixed(4)}, locality ${point.locality.toFixed(4)} (${confidence} lower bound ${point.localityLowerBound.toFixed(4)})`);
  }
  await permissive.restore();
  const dataSha256 = await hashPath(options.data);
  await writeFile(path.join(options.runs, 'params.json'), `${JSON.stringify({
    method: 'RECIPE lifelong, every validation edit stored; each probe scored once with its top-1 prompt and once unedited, each margin read off with the repository rule s_top > s_0 + m',
    checkpoint: path.resolve(options.checkpoint),
    model: { path: path.resolve(options.model), sha256: await hashPath(options.model) },
    dataset: { name: options.dataset, path: path.resolve(options.data), split: options.split ?? null, sha256: dataSha256, cases: chunk.length, skippedOverlong: loaded.length - requests.length },
    seed: options.seed,
    margins: options.margins,
    backend: backend.description,
    date: new Date().toISOString(),
    machine: machineInfo(),
  }, null, 2)}\n`);
  return { sweep, cases: chunk.length, dataSha256 };
}

/** Adds (or replaces) `localityMargin` in the checkpoint's calibration.json, keeping what train-recipe fitted there. */
export async function writeLocalityMargin(checkpoint: string, fit: LocalityMarginFit): Promise<string> {
  return updateCalibration(checkpoint, { localityMargin: fit });
}
