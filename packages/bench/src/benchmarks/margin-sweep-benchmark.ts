#!/usr/bin/env node
/**
 * `pnpm bench:margin-sweep`: the sentinel-margin sweep of `calibrate-recipe --target-locality`, read off
 * one pass (`sweepLocalityMargins`), against the baseline it replaced, one lifelong `eval` run per
 * margin (`runEvaluation`), in one process on the same validation edits. Checks that both give the
 * same numbers at every margin and writes margin-sweep-<date>.json/.md and latest.json/.md to
 * bench-results/margin-sweep/ (or --out DIR).
 */
import { mkdir, mkdtemp, rm, writeFile } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';
import { parseArgs } from 'node:util';
import { InvalidInputError, selectBackend } from '@recipe-kit/core';
import { machineInfo } from '../evaluation/provenance.js';
import { runEvaluation } from '../evaluation/run-evaluation.js';
import { DEFAULT_MARGINS, parseMargins, sweepLocalityMargins } from '../recipe/fit-margin-for-locality.js';
import { describeGitState } from './forward-report.js';

const thisFile = fileURLToPath(import.meta.url);
/** This file is packages/bench/{dist,src}/benchmarks/margin-sweep-benchmark.{js,ts}. */
const repositoryRoot = path.resolve(path.dirname(thisFile), '../../../..');

const USAGE = `Usage: node packages/bench/dist/benchmarks/margin-sweep-benchmark.js [options]

Times the sentinel-margin sweep read off one pass against one lifelong eval per margin (every
validation edit stored), and checks that both give the same reliability, generality and locality.

Options:
  --model DIR       model directory (default: models/synthetic-llama)
  --checkpoint DIR  RECIPE checkpoint (default: <model>/recipe)
  --data FILE       synthetic validation edits (default: <model>/validation/validation-edits.json)
  --margins LIST    margins, e.g. --margins=-1,0 (default: calibrate-recipe's grid, ${DEFAULT_MARGINS.length} margins
                    from ${DEFAULT_MARGINS[0]} to ${DEFAULT_MARGINS.at(-1)}; the baseline takes ~30 s per margin here)
  --limit N         first N edits only (default: all)
  --out DIR         result directory (default: <repo>/bench-results/margin-sweep)
  -h, --help        this text
`;

interface MarginRow {
  margin: number;
  perMarginSeconds: number;
  perMargin: { reliability: number | null; generality: number | null; locality: number | null };
  onePass: { reliability: number; generality: number; locality: number };
  identical: boolean;
}

function progress(line: string): void {
  process.stderr.write(`[margin-sweep-bench] ${line}\n`);
}

function seconds(started: number): number {
  return (performance.now() - started) / 1000;
}

async function main(): Promise<void> {
  const args = process.argv.slice(2);
  const { values } = parseArgs({
    args,
    options: {
      model: { type: 'string' },
      checkpoint: { type: 'string' },
      data: { type: 'string' },
      margins: { type: 'string' },
      limit: { type: 'string' },
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
  const data = path.resolve(values.data ?? path.join(model, 'validation', 'validation-edits.json'));
  const margins = parseMargins(values.margins);
  const limit = values.limit === undefined ? undefined : Number(values.limit);
  if (limit !== undefined && !(Number.isInteger(limit) && limit > 0)) throw new InvalidInputError(`--limit must be a positive integer, got "${values.limit}".`, 'Pass e.g. --limit 200.');
  const outDirectory = path.resolve(values.out ?? path.join(repositoryRoot, 'bench-results', 'margin-sweep'));
  const backend = await selectBackend();
  const scratch = await mkdtemp(path.join(os.tmpdir(), 'margin-sweep-bench-'));
  const common = { model, checkpoint, dataset: 'synthetic', data, seed: 0, skipOverlong: true, ...(limit !== undefined ? { limit } : {}) };
  const started = new Date();
  try {
    // Baseline first, then the one pass: the same process, the same data, warm caches for neither in particular.
    const perMargin: Array<{ margin: number; seconds: number; summary: MarginRow['perMargin'] }> = [];
    for (const margin of margins) {
      const begun = performance.now();
      const { summary } = await runEvaluation({ ...common, editor: 'recipe', protocol: 'lifelong', edits: 'all', out: path.join(scratch, `eval-${margin}`), editorOptions: { 'sentinel-margin': String(margin) }, log: () => undefined });
      perMargin.push({ margin, seconds: seconds(begun), summary: { reliability: summary.reliability, generality: summary.generality, locality: summary.locality } });
      progress(`eval at m = ${margin}: ${perMargin.at(-1)?.seconds.toFixed(1)} s`);
    }
    const begun = performance.now();
    const { sweep, cases } = await sweepLocalityMargins({ ...common, margins, runs: path.join(scratch, 'one-pass') });
    const onePassSeconds = seconds(begun);
    progress(`one pass over ${margins.length} margins: ${onePassSeconds.toFixed(1)} s`);
    const rows: MarginRow[] = perMargin.map((run, i) => {
      const point = sweep[i];
      if (!point) throw new Error(`The one-pass sweep has no point for m = ${run.margin}.`);
      const onePass = { reliability: point.reliability, generality: point.generality, locality: point.locality };
      const identical = onePass.reliability === run.summary.reliability && onePass.generality === run.summary.generality && onePass.locality === run.summary.locality;
      return { margin: run.margin, perMarginSeconds: run.seconds, perMargin: run.summary, onePass, identical };
    });
    const perMarginSeconds = rows.reduce((total, row) => total + row.perMarginSeconds, 0);
    const report = {
      date: started.toISOString(),
      command: ['node', path.relative(repositoryRoot, thisFile), ...args].join(' '),
      ...describeGitState(repositoryRoot),
      machine: machineInfo(),
      loadAverage: os.loadavg(),
      backend: backend.description,
      model: path.relative(repositoryRoot, model),
      checkpoint: path.relative(repositoryRoot, checkpoint),
      data: path.relative(repositoryRoot, data),
      cases,
      margins,
      perMarginSeconds,
      onePassSeconds,
      speedup: perMarginSeconds / onePassSeconds,
      allIdentical: rows.every((row) => row.identical),
      rows,
    };
    await mkdir(outDirectory, { recursive: true });
    const stamp = started.toISOString().replace(/[:]/g, '-').replace(/\.\d+Z$/, 'Z');
    const markdown = renderMarkdown(report);
    const json = `${JSON.stringify(report, null, 2)}\n`;
    const written = [`margin-sweep-${stamp}.json`, `margin-sweep-${stamp}.md`, 'latest.json', 'latest.md'].map((name) => path.join(outDirectory, name));
    await Promise.all(written.map((file) => writeFile(file, file.endsWith('.json') ? json : markdown)));
    process.stdout.write(markdown);
    progress(`wrote ${written.map((file) => path.relative(repositoryRoot, file)).join(', ')}`);
    if (!report.allIdentical) process.exitCode = 1;
  } finally {
    await rm(scratch, { recursive: true, force: true });
  }
}

function percent(value: number | null): string {
  return value === null ? '–' : (100 * value).toFixed(2);
}

function renderMarkdown(report: {
  date: string; command: string; gitCommit: string | null; machine: ReturnType<typeof machineInfo>; loadAverage: number[]; backend: string;
  model: string; checkpoint: string; data: string; cases: number; perMarginSeconds: number; onePassSeconds: number; speedup: number; allIdentical: boolean; rows: MarginRow[];
}): string {
  const lines = [
    `# Sentinel-margin sweep: one pass vs. one eval per margin — ${report.date}`,
    '',
    `Machine: ${report.machine.cpu}, ${report.machine.cores} cores, Node ${report.machine.node}. ${report.backend}. Load average at the end ${report.loadAverage.map((v) => v.toFixed(2)).join(' / ')}.`,
    `Commit: ${report.gitCommit ?? 'unknown'}. Command: \`${report.command}\``,
    `Model \`${report.model}\`, checkpoint \`${report.checkpoint}\`, ${report.cases} validation edits from \`${report.data}\`, all stored (lifelong, T = all).`,
    '',
    `**One pass: ${report.onePassSeconds.toFixed(1)} s for ${report.rows.length} margins; one eval per margin: ${report.perMarginSeconds.toFixed(1)} s (${report.speedup.toFixed(1)}× the one pass).** Same numbers at every margin: ${report.allIdentical ? 'yes' : 'NO'}.`,
    '',
    '| m | eval s | Rel. (eval / one pass) | Gen. (eval / one pass) | Loc. (eval / one pass) | identical |',
    '|---:|---:|---|---|---|---|',
    ...report.rows.map((row) => `| ${row.margin} | ${row.perMarginSeconds.toFixed(1)} | ${percent(row.perMargin.reliability)} / ${percent(row.onePass.reliability)} | ${percent(row.perMargin.generality)} / ${percent(row.onePass.generality)} | ${percent(row.perMargin.locality)} / ${percent(row.onePass.locality)} | ${row.identical ? 'yes' : 'NO'} |`),
    '',
    'The one pass stores the edits once and scores each probe twice (with its top-1 prompt, and unedited); each further margin costs only the read-off.',
    '',
  ];
  return lines.join('\n');
}

if (process.argv[1] && pathToFileURL(path.resolve(process.argv[1])).href === import.meta.url) {
  main().catch((error: unknown) => {
    process.stderr.write(`${error instanceof Error ? error.message : String(error)}\n`);
    process.exitCode = 1;
  });
}
