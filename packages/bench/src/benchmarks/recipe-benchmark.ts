#!/usr/bin/env node
/**
 * `pnpm bench:recipe`: RECIPE's editing cost and query-time overhead against the unedited model, at
 * several repository sizes, in one process. Writes recipe-<date>.json/.md and latest.json/.md to
 * bench-results/recipe/ (or --out DIR). Progress goes to stderr; the Markdown table to stdout.
 */
import { mkdir, readFile, writeFile } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';
import { parseArgs } from 'node:util';
import * as tf from '@tensorflow/tfjs';
import { InvalidInputError, RecipeEditor, selectBackend, type EditRequest } from '@recipe-kit/core';
import { loadModel } from '@recipe-kit/llm-adapters';
import { loadEditDataset } from '../datasets/index.js';
import { createEditor } from '../editors/editor-registry.js';
import { machineInfo } from '../evaluation/provenance.js';
import { describeGitState } from './forward-report.js';
import { renderRecipeMarkdown, type RecipeBenchmarkReport } from './recipe-benchmark-markdown.js';
import { DEFAULT_RECIPE_BENCHMARK_SETTINGS, measureRecipe, type RecipeBenchmarkSettings } from './recipe-benchmark-measure.js';

const thisFile = fileURLToPath(import.meta.url);
/** This file is packages/bench/{dist,src}/benchmarks/recipe-benchmark.{js,ts}. */
const repositoryRoot = path.resolve(path.dirname(thisFile), '../../../..');

const defaults = DEFAULT_RECIPE_BENCHMARK_SETTINGS;
const USAGE = `Usage: node packages/bench/dist/benchmarks/recipe-benchmark.js [options]

Times RECIPE's single-request edits and its scoring of a fixed probe set against the unedited model,
with N edits stored, for each N; all in one process.

Options:
  --model DIR          model directory (default: models/synthetic-llama)
  --checkpoint DIR     RECIPE checkpoint (default: <model>/recipe)
  --edits LIST         comma-separated synthetic edit files, stored in this order; clones with new ids
                       beyond them (default: <model>/held-out-eval-edits.json,<model>/held-out-train-edits.json)
  --sizes LIST         repository sizes N (default: ${defaults.sizes.join(',')})
  --timed-edits K      single edits timed per size (default ${defaults.timedEdits})
  --probes P           probes in the query set (default ${defaults.probes})
  --repeats R          timed passes per scorer and size; medians reported (default ${defaults.repeats})
  --batch-size B       probes per scoreContinuations call (default ${defaults.scoreBatchSize})
  --warmup-edits W     untimed single edits (each retracted) before the first size (default ${defaults.warmupEdits})
  --out DIR            result directory (default: <repo>/bench-results/recipe)
  -h, --help           this text
`;

function progress(line: string): void {
  process.stderr.write(`[recipe-bench] ${line}\n`);
}

function positiveInteger(value: string | undefined, option: string): number | undefined {
  if (value === undefined) return undefined;
  const parsed = Number(value.replace(/_/g, ''));
  if (!Number.isInteger(parsed) || parsed < 1) throw new InvalidInputError(`${option} must be a positive integer, got "${value}".`, `Pass e.g. ${option} 5.`);
  return parsed;
}

/** A path as written into the report: relative to the repository when inside it. */
function shown(file: string): string {
  const relative = path.relative(repositoryRoot, file);
  return relative.startsWith('..') || path.isAbsolute(relative) ? file : relative;
}

async function readCheckpointConfig(checkpoint: string): Promise<Record<string, unknown> | null> {
  try {
    const json = JSON.parse(await readFile(path.join(checkpoint, 'recipe-encoder.json'), 'utf8')) as Record<string, unknown>;
    return { heads: json['heads'] ?? null, fingerprint: json['fingerprint'] ?? null };
  } catch {
    return null;
  }
}

async function runBenchmark(options: {
  model: string;
  checkpoint: string;
  editFiles: string[];
  outDirectory: string;
  settings: Partial<RecipeBenchmarkSettings>;
  command: string;
}): Promise<void> {
  const started = performance.now();
  const date = new Date();
  const loadAverageStart = os.loadavg().map((value) => Math.round(value * 100) / 100);
  const backend = await selectBackend({ log: progress });
  const model = await loadModel(options.model);
  const editor = await createEditor('recipe', model, { modelDirectory: options.model, checkpoint: options.checkpoint });
  const baseline = await createEditor('none', model);
  if (!(editor instanceof RecipeEditor)) throw new Error('The recipe editor factory did not return a RecipeEditor.');
  const requests: EditRequest[] = [];
  for (const file of options.editFiles) requests.push(...(await loadEditDataset('synthetic', file)));
  progress(`model ${shown(options.model)}, checkpoint ${shown(options.checkpoint)}, ${requests.length} edit requests; loaded in ${((performance.now() - started) / 1000).toFixed(1)} s`);

  const measurement = await measureRecipe({ editor, baseline, tokenizer: model.tokenizer, requests, settings: options.settings, log: progress });
  editor.dispose();
  baseline.dispose();
  model.dispose();

  const git = describeGitState(repositoryRoot);
  const report: RecipeBenchmarkReport = {
    benchmark: 'recipe',
    date: date.toISOString(),
    command: options.command,
    gitCommit: git.gitCommit,
    gitDirty: git.gitDirty,
    machine: machineInfo(),
    backend: backend.description,
    tfjsVersion: tf.version_core,
    model: shown(options.model),
    checkpoint: shown(options.checkpoint),
    checkpointConfig: await readCheckpointConfig(options.checkpoint),
    editFiles: options.editFiles.map(shown),
    datasetRequests: requests.length,
    loadAverageStart,
    loadAverageEnd: os.loadavg().map((value) => Math.round(value * 100) / 100),
    totalSeconds: Math.round((performance.now() - started) / 100) / 10,
    ...measurement,
  };
  const markdown = renderRecipeMarkdown(report);
  const json = `${JSON.stringify(report, null, 2)}\n`;
  const stamp = report.date.replace(/\.\d+Z$/, 'Z').replace(/:/g, '-');
  await mkdir(options.outDirectory, { recursive: true });
  const written = [`recipe-${stamp}.json`, `recipe-${stamp}.md`, 'latest.json', 'latest.md'].map((name) => path.join(options.outDirectory, name));
  await Promise.all(written.map((file) => writeFile(file, file.endsWith('.json') ? json : markdown)));
  process.stdout.write(markdown);
  progress(`done in ${report.totalSeconds.toFixed(0)} s; wrote ${written.map(shown).join(', ')}`);
}

async function main(): Promise<void> {
  const args = process.argv.slice(2);
  const { values } = parseArgs({
    args,
    options: {
      model: { type: 'string' },
      checkpoint: { type: 'string' },
      edits: { type: 'string' },
      sizes: { type: 'string' },
      'timed-edits': { type: 'string' },
      probes: { type: 'string' },
      repeats: { type: 'string' },
      'batch-size': { type: 'string' },
      'warmup-edits': { type: 'string' },
      out: { type: 'string' },
      help: { type: 'boolean', short: 'h' },
    },
    strict: true,
  });
  if (values.help) {
    process.stdout.write(USAGE);
    return;
  }
  const model = path.resolve(values.model ?? path.join(repositoryRoot, 'models', 'synthetic-llama'));
  const checkpoint = path.resolve(values.checkpoint ?? path.join(model, 'recipe'));
  const editFiles = (values.edits?.split(',').map((file) => file.trim()).filter(Boolean) ?? [
    path.join(model, 'held-out-eval-edits.json'),
    path.join(model, 'held-out-train-edits.json'),
  ]).map((file) => path.resolve(file));
  const sizes = values.sizes?.split(',').map((size) => positiveInteger(size.trim(), '--sizes') as number);
  const settings: Partial<RecipeBenchmarkSettings> = {};
  if (sizes) settings.sizes = sizes;
  const timedEdits = positiveInteger(values['timed-edits'], '--timed-edits');
  if (timedEdits !== undefined) settings.timedEdits = timedEdits;
  const probes = positiveInteger(values.probes, '--probes');
  if (probes !== undefined) settings.probes = probes;
  const repeats = positiveInteger(values.repeats, '--repeats');
  if (repeats !== undefined) settings.repeats = repeats;
  const batchSize = positiveInteger(values['batch-size'], '--batch-size');
  if (batchSize !== undefined) settings.scoreBatchSize = batchSize;
  if (values['warmup-edits'] !== undefined) {
    const warmupEdits = Number(values['warmup-edits']);
    if (!Number.isInteger(warmupEdits) || warmupEdits < 0) throw new InvalidInputError(`--warmup-edits must be a non-negative integer, got "${values['warmup-edits']}".`, 'Pass e.g. --warmup-edits 5.');
    settings.warmupEdits = warmupEdits;
  }
  await runBenchmark({
    model,
    checkpoint,
    editFiles,
    outDirectory: path.resolve(values.out ?? path.join(repositoryRoot, 'bench-results', 'recipe')),
    settings,
    command: ['node', shown(thisFile), ...args].join(' '),
  });
}

if (process.argv[1] && pathToFileURL(path.resolve(process.argv[1])).href === import.meta.url) {
  main().catch((error: unknown) => {
    process.stderr.write(`${error instanceof Error ? error.message : String(error)}\n`);
    process.exitCode = 1;
  });
}
