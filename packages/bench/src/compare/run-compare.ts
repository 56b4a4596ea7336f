import { createHash } from 'node:crypto';
import { existsSync, readdirSync, statSync } from 'node:fs';
import { mkdir, readFile, rm } from 'node:fs/promises';
import path from 'node:path';
import { InvalidConfigError, InvalidInputError, MissingArtifactError, selectBackend, tokenizeChoices, tokenizeProbe, type CausalLanguageModel, type EditRequest, type GeneralAbilityTask } from '@recipe-kit/core';
import { loadModel } from '@recipe-kit/llm-adapters';
import { loadEditDataset, loadGeneralTask } from '../datasets/index.js';
import { editorNames } from '../editors/editor-registry.js';
import { editorLabel } from '../evaluation/run-evaluation.js';
import { gitCommit, hashPath, machineInfo } from '../evaluation/provenance.js';
import { readRuns, renderReportMarkdown, writeReport } from '../report/index.js';
import { renderEfficiencyMarkdown } from '../report/render-efficiency.js';
import { CONFIG_HINT } from './config-reader.js';
import type { CompareConfig, EditorRow } from './compare-config.js';
import { CompareProgress } from './compare-progress.js';
import { writeAtomically } from './durable-files.js';
import { lockRunDirectory } from './run-lock.js';
import { expandEfficiencyEditors, measureEfficiency } from './measure-efficiency.js';
import type { EfficiencyReport } from '../report/efficiency-report.js';
import { CellStore } from './cell-store.js';
import { cellEditCount, runCompareCell, type CellContext, type CellPlan } from './run-compare-cell.js';
import { collectTrainingCurves } from './training-curves.js';

/** Positions kept free for an editor's prefix when dropping overlong cases (as `eval --skip-overlong`). */
const PREFIX_ROOM = 16;

export interface CompareOptions {
  config: CompareConfig;
  out: string;
  /** Discard earlier results in `out` instead of resuming. */
  fresh?: boolean;
  /** Run no cell: report the cells that finished earlier and name the others (`--finished-only`). */
  finishedOnly?: boolean;
  /** Run only the rows (and efficiency editors) of these editor names (`--editors`); default: all of the config's. */
  onlyEditors?: readonly string[];
  /** Run only these T values (a config's other T values are left for a later run). */
  onlyEdits?: readonly number[];
  /** The checkout the code runs from (for the git commit in params.json). */
  repositoryRoot: string;
  log: (line: string) => void;
}

export interface SkippedEditor {
  editor: string;
  reason: string;
}

export interface CompareResult {
  directory: string;
  /** Finished cell directories, in table order. */
  cells: string[];
  skipped: SkippedEditor[];
  efficiency: EfficiencyReport | null;
  report: string;
  /** The main tables (and the efficiency table) as Markdown. */
  markdown: string;
}

/** The rows of the comparison: "all" expands to every registered editor (default options), then the listed rows. */
export function expandEditorRows(config: Pick<CompareConfig, 'editors' | 'allEditors'>, registered: readonly string[]): EditorRow[] {
  const rows: EditorRow[] = config.allEditors ? registered.map((name) => ({ name, options: {} })) : [];
  for (const row of config.editors) {
    const same = rows.findIndex((existing) => existing.name === row.name && JSON.stringify(existing.options) === JSON.stringify(row.options) && existing.checkpoint === row.checkpoint);
    if (same >= 0) rows[same] = row;
    else rows.push(row);
  }
  const unknown = rows.find((row) => !registered.includes(row.name));
  if (unknown) throw new InvalidConfigError(`The config names an editor "${unknown.name}" that is not registered.`, `Use one of: ${registered.join(', ')}, or "all". ${CONFIG_HINT}`);
  return rows;
}

/** A directory name for a row label: "recipe (w/o KS)" → "recipe-w-o-ks". */
export function cellDirectoryName(label: string, edits: number): string {
  return `${label.toLowerCase().replace(/[^a-z0-9]+/g, '-').replace(/^-|-$/g, '')}-T${edits}`;
}

/** Whether a probe of `tokens` positions leaves room for an editor's prefix in the model's context. */
function fitsContext(model: CausalLanguageModel, tokens: number): boolean {
  return tokens + PREFIX_ROOM <= model.dimensions.contextLength;
}

/** A test of whether every token of an edit's new target is one the model can output (micro models keep a compact output vocabulary); the id set is built once. */
function targetReachability(model: CausalLanguageModel): (request: EditRequest) => boolean {
  const outputs = model.outputIds;
  if (!outputs) return () => true;
  const allowed = new Set(outputs);
  return (request) => tokenizeProbe(model.tokenizer, request.prompt, request.targetNew).continuation.every((id) => allowed.has(id));
}

/** Cases dropped by the config's filters, counted in params.json. */
export interface DroppedCases {
  overlong: number;
  unreachable: number;
}

/**
 * The run's cases: the dataset's cases that pass the config's filters (skipOverlong, skipUnreachable),
 * then the first `limit` of them, so a filter never leaves a run short of the T it asks for.
 */
async function loadRequests(config: CompareConfig, model: CausalLanguageModel, log: (line: string) => void): Promise<{ requests: EditRequest[]; dropped: DroppedCases }> {
  const filtering = config.skipOverlong || config.skipUnreachable;
  const loaded = await loadEditDataset(config.dataset.name, config.dataset.path, {
    ...(config.limit !== undefined && !filtering ? { limit: config.limit } : {}),
    ...(config.dataset.split ? { split: config.dataset.split } : {}),
  });
  const fits = (request: EditRequest): boolean =>
    [{ prompt: request.prompt, target: request.targetNew }, ...request.generality, ...request.locality].every((probe) => {
      const { context, continuation } = tokenizeProbe(model.tokenizer, probe.prompt, probe.target);
      return fitsContext(model, context.length + continuation.length);
    });
  const reachable = targetReachability(model);
  const dropped: DroppedCases = { overlong: 0, unreachable: 0 };
  const kept: EditRequest[] = [];
  for (const request of loaded) {
    if (config.limit !== undefined && kept.length === config.limit) break;
    if (config.skipOverlong && !fits(request)) dropped.overlong++;
    else if (config.skipUnreachable && !reachable(request)) dropped.unreachable++;
    else kept.push(request);
  }
  if (dropped.overlong > 0) log(`compare: dropped ${dropped.overlong} cases whose probes exceed the model's context minus ${PREFIX_ROOM} positions for a prefix (skipOverlong)`);
  if (dropped.unreachable > 0) log(`compare: dropped ${dropped.unreachable} cases whose new target has tokens outside the model's output vocabulary (skipUnreachable)`);
  return { requests: kept, dropped };
}

/** The first `items` items of a task that fit the model's context (micro models have short contexts; long items are counted, not silently lost). */
function fittingItems(task: GeneralAbilityTask, model: CausalLanguageModel, items: number): { task: GeneralAbilityTask; dropped: number } {
  let dropped = 0;
  const keep = <T>(list: readonly T[], length: (item: T) => number): T[] => {
    const kept: T[] = [];
    for (const item of list) {
      if (kept.length === items) break;
      if (fitsContext(model, length(item))) kept.push(item);
      else dropped += 1;
    }
    return kept;
  };
  const fitted: GeneralAbilityTask =
    task.kind === 'multiple-choice'
      ? { ...task, items: keep(task.items, (item) => tokenizeChoices(model.tokenizer, item.prompt, item.options).context.length + 1) }
      : { ...task, items: keep(task.items, (item) => { const probe = tokenizeProbe(model.tokenizer, item.prompt, item.answer); return probe.context.length + probe.continuation.length; }) };
  return { task: fitted, dropped };
}

async function loadGeneralTasks(config: CompareConfig, model: CausalLanguageModel, log: (line: string) => void): Promise<{ tasks: GeneralAbilityTask[]; unavailable: Record<string, string> }> {
  const general = config.general;
  if (!general) return { tasks: [], unavailable: {} };
  const unavailable: Record<string, string> = { ...general.unavailable };
  const tasks: GeneralAbilityTask[] = [];
  for (const [name, file] of Object.entries(general.tasks)) {
    if (!existsSync(file)) {
      unavailable[name] = `${file} does not exist`;
      continue;
    }
    const { task, dropped } = fittingItems(await loadGeneralTask(name, file), model, general.items);
    if (task.items.length === 0) {
      unavailable[name] = `none of its items fits the model's context of ${model.dimensions.contextLength} tokens minus ${PREFIX_ROOM} for a prefix`;
      continue;
    }
    if (dropped > 0) log(`compare: general-ability task ${name}: passed over ${dropped} items longer than the model's context minus ${PREFIX_ROOM}; scoring the first ${task.items.length} that fit`);
    tasks.push(task);
  }
  for (const [name, reason] of Object.entries(unavailable)) log(`compare: general-ability task ${name} left out: ${reason}`);
  return { tasks, unavailable };
}

/**
 * sha256 of the model itself: a file, or the files at the top of its directory (config, weights,
 * tokenizer). Editors keep their artefacts and caches in subfolders (recipe/, statistics/, ...),
 * which come and go without changing the model.
 */
async function hashModelFiles(model: string): Promise<string> {
  if (!statSync(model).isDirectory()) return hashPath(model);
  const hash = createHash('sha256');
  for (const entry of readdirSync(model, { withFileTypes: true }).filter((item) => item.isFile()).sort((a, b) => a.name.localeCompare(b.name))) {
    hash.update(`${entry.name}\0${await hashPath(path.join(model, entry.name))}\0`);
  }
  return hash.digest('hex');
}

async function sharedParameters(config: CompareConfig, model: CausalLanguageModel, requests: readonly EditRequest[], dropped: DroppedCases, backend: string, repositoryRoot: string): Promise<CellContext['sharedParams']> {
  return {
    model: {
      path: config.model,
      architecture: model.architecture,
      parameters: model.weightNames().reduce((total, name) => total + model.getWeight(name).size, 0),
      tokenizer: model.tokenizer.name,
      sha256: await hashModelFiles(config.model),
    },
    dataset: { name: config.dataset.name, path: config.dataset.path, split: config.dataset.split ?? null, sha256: await hashPath(config.dataset.path), cases: requests.length, skippedOverlong: dropped.overlong, skippedUnreachable: dropped.unreachable },
    protocol: config.protocol,
    limit: config.limit ?? null,
    seed: config.seed,
    backend,
    gitCommit: gitCommit(repositoryRoot),
    machine: machineInfo(),
  };
}

/**
 * Runs every editor row at every T under one protocol on one model and dataset, and writes one run
 * directory: params.json, cells/<editor>-T<T>/ (params.json, cases.jsonl, chunks.jsonl, summary.json,
 * summary.md), efficiency.json, report.html and summary.md. Rerunning into the same directory skips
 * finished cells and resumes an interrupted one after its last recorded chunk.
 */
export async function runCompare(options: CompareOptions): Promise<CompareResult> {
  const { config, log } = options;
  const out = path.resolve(options.out);
  if (options.fresh === true && existsSync(out)) {
    if (!existsSync(path.join(out, 'params.json')) || !existsSync(path.join(out, 'cells'))) {
      throw new InvalidInputError(`--fresh would delete ${out}, which does not look like a compare run directory.`, 'Pass an --out directory written by recipe-kit compare, or a new one.');
    }
    await rm(out, { recursive: true, force: true });
  }
  await mkdir(path.join(out, 'cells'), { recursive: true });
  const release = lockRunDirectory(out);
  try {
    return await compareInto(out, options);
  } finally {
    release();
  }
}

async function compareInto(out: string, options: CompareOptions): Promise<CompareResult> {
  const { config, log } = options;
  const backend = (await selectBackend()).description;
  const only = options.onlyEditors;
  const unknownOnly = only?.find((name) => !editorNames().includes(name));
  if (unknownOnly !== undefined) throw new InvalidInputError(`--editors names "${unknownOnly}", which is not registered.`, `Use names from: ${editorNames().join(', ')}.`);
  const rows = expandEditorRows(config, editorNames()).filter((row) => only === undefined || only.includes(row.name));
  // The model once, to fit cases and general-ability items to its context and to describe it.
  const model = await loadModel(config.model, config.tokenizer ? { tokenizer: config.tokenizer } : {});
  const prepared = await (async () => {
    const { requests, dropped } = await loadRequests(config, model, log);
    const general = await loadGeneralTasks(config, model, log);
    return { requests, general, shared: await sharedParameters(config, model, requests, dropped, backend, options.repositoryRoot) };
  })().finally(() => model.dispose());
  const { requests } = prepared;
  const { tasks: generalTasks, unavailable } = prepared.general;
  const sharedParams = prepared.shared;
  const context: CellContext = { config, requests, generalTasks, sharedParams, modelLabel: path.basename(config.model).replace(/\.bin$/, '') };

  const plans: CellPlan[][] = rows.map((row) => {
    const label = editorLabel(row.name, row.options);
    return (row.edits ?? config.edits).filter((edits) => options.onlyEdits === undefined || options.onlyEdits.includes(edits)).flatMap((edits) => {
      if (edits > requests.length) {
        log(`compare: ${label} at T = ${edits} left out: the run has only ${requests.length} cases (raise "limit")`);
        return [];
      }
      const cases = row.cases?.[edits];
      return [{ row, label, edits, directory: path.join(out, 'cells', cellDirectoryName(label, edits)), ...(cases !== undefined && cases < requests.length ? { cases } : {}) }];
    });
  });
  const labels = plans.flat().map((plan) => plan.directory);
  if (new Set(labels).size !== labels.length) throw new InvalidConfigError('Two editor rows of the config have the same label.', `Give each row distinct options. ${CONFIG_HINT}`);
  await writeAtomically(
    path.join(out, 'params.json'),
    `${JSON.stringify({ command: `recipe-kit compare --config ${path.relative(process.cwd(), config.file) || config.file}`, config: JSON.parse(await readFile(config.file, 'utf8')) as unknown, configFile: config.file, onlyEditors: only ?? null, onlyEdits: options.onlyEdits ?? null, editors: rows, ...sharedParams, generalTasks: generalTasks.map((task) => ({ name: task.name, items: task.items.length })), generalUnavailable: unavailable, date: new Date().toISOString() }, null, 2)}\n`,
  );

  const progress = new CompareProgress(plans.flat().reduce((sum, plan) => sum + cellEditCount(plan, context), 0), log);
  const cells: string[] = [];
  const ranLabels = new Set<string>();
  const skipped: SkippedEditor[] = [];
  const unfinished: string[] = [];
  try {
    for (const rowPlans of plans) {
      for (const [index, plan] of rowPlans.entries()) {
        const share = cellEditCount(plan, context);
        if (options.finishedOnly === true && !new CellStore(plan.directory).finished) {
          progress.note(`compare: ${plan.label} T=${plan.edits} has not finished: left out of the report (--finished-only)`);
          unfinished.push(`${plan.label} T=${plan.edits}`);
          progress.endCell(share);
          continue;
        }
        progress.startCell(`${plan.label} T=${plan.edits}`, share, 0);
        try {
          const outcome = await runCompareCell(plan, context, (done) => progress.update(done), (line) => progress.note(line));
          if (outcome.status === 'done-before') progress.note(`compare: ${plan.label} T=${plan.edits} finished earlier, kept (${path.relative(out, plan.directory)})`);
          else if (outcome.resumedAtChunk > 0) progress.note(`compare: ${plan.label} T=${plan.edits} resumed at chunk ${outcome.resumedAtChunk + 1}`);
          cells.push(plan.directory);
          ranLabels.add(plan.label);
          progress.endCell(share);
        } catch (error) {
          // An editor whose trained artefact is missing is skipped, visibly, with all its T.
          if (!(error instanceof MissingArtifactError)) throw error;
          progress.note(`compare: skipping the ${plan.label} editor: ${error.message}`);
          skipped.push({ editor: plan.label, reason: error.message });
          for (const rest of rowPlans.slice(index)) progress.endCell(cellEditCount(rest, context));
          break;
        }
      }
    }
  } finally {
    progress.stop();
  }

  let efficiency: EfficiencyReport | null = null;
  if (config.efficiency) {
    const file = path.join(out, 'efficiency.json');
    if (existsSync(file)) {
      efficiency = JSON.parse(await readFile(file, 'utf8')) as EfficiencyReport;
      log(`compare: efficiency measured earlier, kept (${file}); delete it to measure again`);
    } else {
      const settings = only === undefined ? config.efficiency : { ...config.efficiency, editors: expandEfficiencyEditors(config.efficiency.editors).filter((editor) => only.includes(editor.name)) };
      efficiency = await measureEfficiency({ settings, requests, modelDirectory: config.model, backend, log });
      await writeAtomically(file, `${JSON.stringify(efficiency, null, 2)}\n`);
    }
  }
  if (unfinished.length > 0) skipped.push({ editor: 'unfinished cells', reason: `${unfinished.join(', ')} did not finish (the run was stopped; rerun the same command to complete them)` });
  if (cells.length === 0 && options.finishedOnly === true) return { directory: out, cells, skipped, efficiency, report: '', markdown: efficiency ? renderEfficiencyMarkdown(efficiency) : '' };
  if (cells.length === 0) throw new InvalidInputError('No editor could run, so there is nothing to report.', 'See the skipped editors above: train their artefacts, or list other editors in the config.');
  // Config order, with RECIPE's rows last as in the paper's tables.
  const editorOrder = [...rows.filter((row) => row.name !== 'recipe'), ...rows.filter((row) => row.name === 'recipe')].map((row) => editorLabel(row.name, row.options));
  const trainingCurves = await collectTrainingCurves(
    rows.map((row) => ({ name: row.name, label: editorLabel(row.name, row.options), ...(row.checkpoint !== undefined ? { checkpoint: row.checkpoint } : {}) })),
    config.model,
    ranLabels,
  );
  const report = await writeReport(cells, path.join(out, 'report.html'), { title: config.title, editorOrder, skippedEditors: skipped, generalUnavailable: unavailable, trainingCurves, ...(efficiency ? { efficiency } : {}) });
  const markdown = [renderReportMarkdown(await readRuns(cells), { editorOrder }), ...(efficiency ? [renderEfficiencyMarkdown(efficiency)] : [])].join('\n');
  await writeAtomically(path.join(out, 'summary.md'), markdown);
  return { directory: out, cells, skipped, efficiency, report: report.file, markdown };
}
