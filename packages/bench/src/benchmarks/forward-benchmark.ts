#!/usr/bin/env node
/**
 * `pnpm bench:forward`: inference throughput of each (model × backend), each in its own Node process.
 * Writes forward-<date>.json/.md and latest.json/.md to bench-results/forward/ (or --out DIR).
 * Progress goes to stderr; the Markdown table to stdout at the end.
 */
import { spawn } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { mkdir, writeFile } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';
import { parseArgs } from 'node:util';
import * as tf from '@tensorflow/tfjs';
import { BACKEND_NAMES, type BackendName } from '@recipe-kit/core';
import {
  describeGitState,
  describeMachine,
  emptyForwardRow,
  type ForwardReport,
  type ForwardRow,
  type ForwardRowPlan,
} from './forward-report.js';
import { FORWARD_MODEL_NAMES, forwardRowPlans, type ForwardModelName } from './forward-row-plans.js';
import { renderForwardMarkdown } from './render-forward-markdown.js';
import { runForwardRow } from './run-forward-row.js';

const thisFile = fileURLToPath(import.meta.url);
/** This file is packages/bench/{dist,src}/benchmarks/forward-benchmark.{js,ts}. */
const repositoryRoot = path.resolve(path.dirname(thisFile), '../../../..');

const USAGE = `Usage: node packages/bench/dist/benchmarks/forward-benchmark.js [options]

Measures prefill and decode tokens/s, peak RSS and tfjs memory of each model on each backend,
every (model × backend) in a fresh child process.

Options:
  --out DIR            result directory (default: <repo>/bench-results/forward)
  --models LIST        comma-separated, from ${FORWARD_MODEL_NAMES.join(', ')} (default: all)
  --backends LIST      comma-separated, from wasm, cpu (default: wasm,cpu)
  --row-timeout S      kill a row's process after S seconds (default 900)
  -h, --help           this text

Environment: RECIPE_KIT_DATA locates the shared data (stories260K); default ../shared/data beside the repository.
`;

function progress(line: string): void {
  process.stderr.write(`[forward] ${line}\n`);
}

function formatDuration(seconds: number): string {
  const minutes = Math.floor(seconds / 60);
  const rest = Math.round(seconds - minutes * 60);
  return minutes > 0 ? `${minutes}m${String(rest).padStart(2, '0')}s` : `${seconds.toFixed(1)}s`;
}

function parseList<T extends string>(value: string | undefined, allowed: readonly T[], option: string): T[] | undefined {
  if (value === undefined) return undefined;
  const items = value.split(',').map((item) => item.trim()).filter(Boolean);
  for (const item of items) {
    if (!(allowed as readonly string[]).includes(item)) throw new Error(`${option}: "${item}" is not one of ${allowed.join(', ')}`);
  }
  return items as T[];
}

/** Worker mode: run one plan, write the row as JSON to the result file. */
async function runWorker(planFile: string, resultFile: string): Promise<void> {
  const plan = JSON.parse(readFileSync(planFile, 'utf8')) as ForwardRowPlan;
  const row = await runForwardRow(plan, { log: (line) => progress(`  ${plan.model} on ${plan.backend}: ${line}`) });
  writeFileSync(resultFile, JSON.stringify(row));
}

/** Runs one plan in a child process; a crash or timeout becomes a failed row with the reason. */
function runRowInChild(plan: ForwardRowPlan, directory: string, index: number, timeoutSeconds: number): Promise<ForwardRow> {
  const planFile = path.join(directory, `plan-${index}.json`);
  const resultFile = path.join(directory, `row-${index}.json`);
  writeFileSync(planFile, JSON.stringify(plan));
  const started = performance.now();
  return new Promise((resolve) => {
    const child = spawn(process.execPath, [thisFile, '--worker', planFile, '--result', resultFile], { stdio: ['ignore', 'pipe', 'pipe'] });
    let tail = '';
    const forward = (chunk: Buffer): void => {
      process.stderr.write(chunk);
      tail = (tail + chunk.toString()).slice(-2000);
    };
    child.stdout.on('data', forward);
    child.stderr.on('data', forward);
    let timedOut = false;
    const timer = setTimeout(() => {
      timedOut = true;
      child.kill('SIGKILL');
    }, timeoutSeconds * 1000);
    const fail = (reason: string): void => resolve(emptyForwardRow(plan, 'failed', reason, (performance.now() - started) / 1000));
    child.on('error', (error) => {
      clearTimeout(timer);
      fail(`could not start the worker: ${error.message}`);
    });
    child.on('close', (code, signal) => {
      clearTimeout(timer);
      if (timedOut) return fail(`worker killed after the ${timeoutSeconds} s row timeout`);
      if (code !== 0) {
        const lastLine = tail.trim().split('\n').filter(Boolean).slice(-3).join(' / ');
        return fail(`worker exited with ${signal ?? `code ${code}`}: ${lastLine.slice(0, 400)}`);
      }
      try {
        const row = JSON.parse(readFileSync(resultFile, 'utf8')) as ForwardRow;
        // The row's own elapsed time excludes process start and module loading; report the whole.
        row.elapsedSeconds = Math.round((performance.now() - started) / 10) / 100;
        resolve(row);
      } catch (error) {
        fail(`worker wrote no readable result: ${(error as Error).message}`);
      }
    });
  });
}

function summarise(row: ForwardRow): string {
  if (row.status !== 'measured') return row.note;
  const depth = row.truncatedDepth ? ` [TRUNCATED: ${row.layersRun}/${row.layersTotal} layers]` : '';
  return (
    `prefill ${row.prefillTokensPerSecond?.toFixed(2)} tok/s, decode ${row.decodeTokensPerSecond?.toFixed(2)} tok/s, ` +
    `peak RSS ${row.peakRssMiB?.toFixed(0)} MiB, tfjs ${row.tfjsMiB?.toFixed(0)} MiB${depth}`
  );
}

async function runBenchmark(options: {
  outDirectory: string;
  models?: ForwardModelName[];
  backends?: BackendName[];
  rowTimeoutSeconds: number;
}): Promise<void> {
  const started = performance.now();
  const date = new Date();
  const loadAverageStart = os.loadavg().map((value) => Math.round(value * 100) / 100);
  const elapsed = (): string => formatDuration((performance.now() - started) / 1000);
  const plans = forwardRowPlans({ repositoryRoot, models: options.models, backends: options.backends });
  progress(`${plans.length} rows: ${plans.map((plan) => `${plan.model}/${plan.backend}`).join(', ')}`);
  const scratch = mkdtempSync(path.join(os.tmpdir(), 'forward-benchmark-'));
  const rows: ForwardRow[] = [];
  try {
    for (const [index, plan] of plans.entries()) {
      const label = `(${index + 1}/${plans.length}) ${plan.model} on ${plan.backend}`;
      if (plan.skipReason) {
        progress(`${label}: skipped — ${plan.skipReason} [elapsed ${elapsed()}]`);
        rows.push(emptyForwardRow(plan, 'skipped', plan.skipReason, 0));
        continue;
      }
      const depth = plan.layersRun !== plan.layersTotal ? `, ${plan.layersRun} of ${plan.layersTotal} layers (truncated)` : '';
      progress(`${label}: start${depth} [elapsed ${elapsed()}]`);
      const row = await runRowInChild(plan, scratch, index, options.rowTimeoutSeconds);
      rows.push(row);
      progress(`${label}: ${row.status} in ${formatDuration(row.elapsedSeconds)} — ${summarise(row)} [elapsed ${elapsed()}]`);
    }
  } finally {
    rmSync(scratch, { recursive: true, force: true });
  }

  const report: ForwardReport = {
    benchmark: 'forward',
    date: date.toISOString(),
    ...describeGitState(repositoryRoot),
    machine: describeMachine(tf.version_core),
    totalSeconds: Math.round((performance.now() - started) / 100) / 10,
    loadAverageStart,
    loadAverageEnd: os.loadavg().map((value) => Math.round(value * 100) / 100),
    rows,
  };
  const markdown = renderForwardMarkdown(report);
  const json = `${JSON.stringify(report, null, 2)}\n`;
  const stamp = report.date.replace(/\.\d+Z$/, 'Z').replace(/:/g, '-');
  await mkdir(options.outDirectory, { recursive: true });
  const written = [`forward-${stamp}.json`, `forward-${stamp}.md`, 'latest.json', 'latest.md'].map((name) => path.join(options.outDirectory, name));
  await Promise.all(written.map((file) => writeFile(file, file.endsWith('.json') ? json : markdown)));
  process.stdout.write(markdown);
  progress(`done in ${elapsed()}; wrote ${written.join(', ')}`);
  if (rows.some((row) => row.status === 'failed')) process.exitCode = 1;
}

async function main(): Promise<void> {
  const { values } = parseArgs({
    options: {
      out: { type: 'string' },
      models: { type: 'string' },
      backends: { type: 'string' },
      'row-timeout': { type: 'string' },
      worker: { type: 'string' },
      result: { type: 'string' },
      help: { type: 'boolean', short: 'h' },
    },
    strict: true,
  });
  if (values.help) {
    process.stdout.write(USAGE);
    return;
  }
  if (values.worker !== undefined) {
    if (values.result === undefined) throw new Error('--worker needs --result FILE');
    await runWorker(values.worker, values.result);
    return;
  }
  const timeout = Number(values['row-timeout'] ?? 900);
  if (!Number.isFinite(timeout) || timeout <= 0) throw new Error(`--row-timeout must be a positive number of seconds, got ${values['row-timeout']}`);
  const backends = parseList(values.backends, BACKEND_NAMES, '--backends');
  await runBenchmark({
    outDirectory: path.resolve(values.out ?? path.join(repositoryRoot, 'bench-results', 'forward')),
    models: parseList(values.models, FORWARD_MODEL_NAMES, '--models'),
    backends,
    rowTimeoutSeconds: timeout,
  });
}

if (process.argv[1] && pathToFileURL(path.resolve(process.argv[1])).href === import.meta.url) {
  main().catch((error: unknown) => {
    process.stderr.write(`${error instanceof Error ? error.message : String(error)}\n`);
    process.exitCode = 1;
  });
}
