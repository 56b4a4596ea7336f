import { readdir, readFile, stat } from 'node:fs/promises';
import path from 'node:path';
import { InvalidInputError } from '@recipe-kit/core';

/** How the edits of one run were applied (spec §4.1). */
export type EditProtocol = 'lifelong' | 'single' | 'batch';

/** `params.json`: what was run, on what, where. Written by `recipe-kit eval`. */
export interface RunParams {
  /** The command line that made the run, when recorded. */
  command: string | null;
  editor: string;
  model: { path: string; architecture: string; parameters: number; tokenizer?: string; sha256?: string };
  dataset: { name: string; path: string; sha256: string; cases: number; split?: string | null };
  protocol: EditProtocol;
  /** T: edits applied before scoring. */
  edits: number;
  limit: number | null;
  seed: number;
  backend: string;
  gitCommit: string | null;
  date: string;
  machine: { cpu: string; cores: number; memoryGiB: number; node: string; platform?: string };
}

/** One line of `cases.jsonl`. Metrics are fractions in [0, 1]; null where the case has no such probe. */
export interface CaseResult {
  caseId: string;
  chunk: number;
  reliability: number | null;
  generality: number | null;
  locality: number | null;
  generalityByType: Record<string, number>;
  localityByType: Record<string, number>;
  editSeconds: number;
}

/** `summary.json`: means over all cases of all chunks. Metrics are fractions in [0, 1]; null where no case could measure them. */
export interface RunSummary {
  editor: string;
  model: string;
  dataset: string;
  protocol: EditProtocol;
  edits: number;
  cases: number;
  chunks: number;
  reliability: number | null;
  generality: number | null;
  locality: number | null;
  generalityByType: Record<string, number>;
  localityByType: Record<string, number>;
  /** Null when the run did not time edits. */
  editSecondsMean: number | null;
  /** Null when the run did not time queries. */
  querySecondsMean: number | null;
  /** General-ability scores by benchmark (spec §4.4), when measured. */
  general?: Record<string, number>;
}

/** One evaluated run directory. */
export interface EvalRun {
  /** Absolute path of the run directory. */
  directory: string;
  params: RunParams;
  summary: RunSummary;
  /** Per-case results; null when the directory has no `cases.jsonl`. */
  cases: CaseResult[] | null;
}

const PROTOCOLS: readonly EditProtocol[] = ['lifelong', 'single', 'batch'];
const EVAL_HINT = 'Run `recipe-kit eval` to (re)create the run directory, then pass that directory to `recipe-kit report`.';

/** Reads fields of one JSON object, throwing an error that names the file and the field. */
class FieldReader {
  constructor(
    private readonly file: string,
    private readonly record: Record<string, unknown>,
    private readonly prefix = '',
  ) {}

  private fail(field: string, expected: string, value: unknown): never {
    const shown = value === undefined ? 'missing' : `${JSON.stringify(value)?.slice(0, 80) ?? String(value)}`;
    throw new InvalidInputError(`${this.file}: field "${this.prefix}${field}" is ${shown}, expected ${expected}.`, EVAL_HINT);
  }

  string(field: string, options: { nonEmpty?: boolean } = {}): string {
    const value = this.record[field];
    if (typeof value !== 'string' || (options.nonEmpty === true && value.trim() === '')) {
      this.fail(field, options.nonEmpty === true ? 'a non-empty string' : 'a string', value);
    }
    return value;
  }

  /** A string, or an integer written as a number (dataset ids are either). */
  identifier(field: string): string {
    const value = this.record[field];
    if (typeof value === 'number' && Number.isInteger(value)) return String(value);
    if (typeof value !== 'string' || value === '') this.fail(field, 'a non-empty string or an integer', value);
    return value;
  }

  nullableString(field: string): string | null {
    const value = this.record[field];
    if (value === null) return null;
    if (typeof value !== 'string') this.fail(field, 'a string or null', value);
    return value;
  }

  number(field: string, options: { integer?: boolean; min?: number; max?: number } = {}): number {
    const value = this.record[field];
    const { integer = false, min = -Infinity, max = Infinity } = options;
    if (typeof value !== 'number' || !Number.isFinite(value) || (integer && !Number.isInteger(value)) || value < min || value > max) {
      const range = min > -Infinity && max < Infinity ? ` in [${min}, ${max}]` : min > -Infinity ? ` ≥ ${min}` : max < Infinity ? ` ≤ ${max}` : '';
      this.fail(field, `${integer ? 'an integer' : 'a number'}${range}`, value);
    }
    return value;
  }

  nullableNumber(field: string, options: { integer?: boolean; min?: number; max?: number } = {}): number | null {
    const value = this.record[field];
    return value === null || value === undefined ? null : this.number(field, options);
  }

  fraction(field: string): number {
    return this.number(field, { min: 0, max: 1 });
  }

  /** A fraction, or null (JSON's stand-in for NaN: nothing to measure). */
  nullableFraction(field: string): number | null {
    const value = this.record[field];
    if (value === null) return null;
    if (value === undefined) this.fail(field, 'a number in [0, 1] or null', value);
    return this.fraction(field);
  }

  optionalString(field: string): string | undefined {
    const value = this.record[field];
    if (value === undefined || value === null) return undefined;
    return this.string(field);
  }

  protocol(field: string): EditProtocol {
    const value = this.record[field];
    if (!PROTOCOLS.includes(value as EditProtocol)) this.fail(field, `one of ${PROTOCOLS.map((p) => `"${p}"`).join(', ')}`, value);
    return value as EditProtocol;
  }

  object(field: string): FieldReader {
    const value = this.record[field];
    if (!isRecord(value)) this.fail(field, 'an object', value);
    return new FieldReader(this.file, value, `${this.prefix}${field}.`);
  }

  /** An object of fractions keyed by name (e.g. RIPE types); `optional` allows the field to be absent. */
  fractions(field: string, options: { optional?: boolean } = {}): Record<string, number> | undefined {
    const value = this.record[field];
    if (value === undefined && options.optional === true) return undefined;
    const inner = this.object(field);
    const result: Record<string, number> = {};
    for (const key of Object.keys(value as Record<string, unknown>)) result[key] = inner.fraction(key);
    return result;
  }
}

/** `{ key: value }` when value is defined, `{}` otherwise (keeps absent optional fields absent). */
function optional<K extends string, V>(key: K, value: V | undefined): { [P in K]?: V } {
  return (value === undefined ? {} : { [key]: value }) as { [P in K]?: V };
}

function isRecord(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

function parseJsonObject(text: string, file: string, line?: number): Record<string, unknown> {
  const where = line === undefined ? file : `${file} line ${line}`;
  let value: unknown;
  try {
    value = JSON.parse(text);
  } catch (error) {
    throw new InvalidInputError(`${where} is not valid JSON: ${(error as Error).message}.`, EVAL_HINT);
  }
  if (!isRecord(value)) throw new InvalidInputError(`${where} must hold a JSON object.`, EVAL_HINT);
  return value;
}

async function readText(file: string): Promise<string | null> {
  try {
    return await readFile(file, 'utf8');
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === 'ENOENT') return null;
    throw new InvalidInputError(`Cannot read ${file}: ${(error as Error).message}.`, 'Check the file permissions.');
  }
}

function parseParams(text: string, file: string): RunParams {
  const fields = new FieldReader(file, parseJsonObject(text, file));
  const model = fields.object('model');
  const dataset = fields.object('dataset');
  const machine = fields.object('machine');
  const limit = fields.nullableNumber('limit', { integer: true, min: 0 });
  const date = fields.string('date', { nonEmpty: true });
  if (Number.isNaN(Date.parse(date))) throw new InvalidInputError(`${file}: field "date" is ${JSON.stringify(date)}, expected an ISO date.`, EVAL_HINT);
  return {
    command: fields.nullableString('command'),
    editor: fields.string('editor', { nonEmpty: true }),
    model: {
      path: model.string('path'),
      architecture: model.string('architecture'),
      parameters: model.number('parameters', { integer: true, min: 0 }),
      ...optional('tokenizer', model.optionalString('tokenizer')),
      ...optional('sha256', model.optionalString('sha256')),
    },
    dataset: {
      name: dataset.string('name', { nonEmpty: true }),
      path: dataset.string('path'),
      sha256: dataset.string('sha256'),
      cases: dataset.number('cases', { integer: true, min: 0 }),
      ...optional('split', dataset.optionalString('split')),
    },
    protocol: fields.protocol('protocol'),
    edits: fields.number('edits', { integer: true, min: 1 }),
    limit,
    seed: fields.number('seed', { integer: true }),
    backend: fields.string('backend'),
    gitCommit: fields.nullableString('gitCommit'),
    date,
    machine: {
      cpu: machine.string('cpu'),
      cores: machine.number('cores', { integer: true, min: 0 }),
      memoryGiB: machine.number('memoryGiB', { min: 0 }),
      node: machine.string('node'),
      ...optional('platform', machine.optionalString('platform')),
    },
  };
}

function parseSummary(text: string, file: string): RunSummary {
  const fields = new FieldReader(file, parseJsonObject(text, file));
  const general = fields.fractions('general', { optional: true });
  return {
    editor: fields.string('editor', { nonEmpty: true }),
    model: fields.string('model', { nonEmpty: true }),
    dataset: fields.string('dataset', { nonEmpty: true }),
    protocol: fields.protocol('protocol'),
    edits: fields.number('edits', { integer: true, min: 1 }),
    cases: fields.number('cases', { integer: true, min: 0 }),
    chunks: fields.number('chunks', { integer: true, min: 0 }),
    reliability: fields.nullableFraction('reliability'),
    generality: fields.nullableFraction('generality'),
    locality: fields.nullableFraction('locality'),
    generalityByType: fields.fractions('generalityByType') ?? {},
    localityByType: fields.fractions('localityByType') ?? {},
    editSecondsMean: fields.nullableNumber('editSecondsMean', { min: 0 }),
    querySecondsMean: fields.nullableNumber('querySecondsMean', { min: 0 }),
    ...(general !== undefined ? { general } : {}),
  };
}

function parseCases(text: string, file: string): CaseResult[] {
  const cases: CaseResult[] = [];
  for (const [index, line] of text.split('\n').entries()) {
    if (line.trim() === '') continue;
    const fields = new FieldReader(`${file} line ${index + 1}`, parseJsonObject(line, file, index + 1));
    cases.push({
      caseId: fields.identifier('caseId'),
      chunk: fields.number('chunk', { integer: true, min: 0 }),
      reliability: fields.nullableFraction('reliability'),
      generality: fields.nullableFraction('generality'),
      locality: fields.nullableFraction('locality'),
      generalityByType: fields.fractions('generalityByType') ?? {},
      localityByType: fields.fractions('localityByType') ?? {},
      editSeconds: fields.number('editSeconds', { min: 0 }),
    });
  }
  return cases;
}

async function runDirectoriesBelow(directory: string): Promise<string[]> {
  try {
    const entries = await readdir(directory, { withFileTypes: true });
    const found: string[] = [];
    for (const entry of entries) {
      if (!entry.isDirectory()) continue;
      const summary = await stat(path.join(directory, entry.name, 'summary.json')).catch(() => null);
      if (summary?.isFile() === true) found.push(entry.name);
    }
    return found.sort();
  } catch {
    return [];
  }
}

/** Reads and validates one run directory written by `recipe-kit eval` (params.json, summary.json, optional cases.jsonl). */
export async function readRun(directory: string): Promise<EvalRun> {
  const absolute = path.resolve(directory);
  const info = await stat(absolute).catch(() => null);
  if (info === null || !info.isDirectory()) {
    throw new InvalidInputError(`Run directory ${directory} does not exist or is not a directory.`, EVAL_HINT);
  }
  const summaryFile = path.join(absolute, 'summary.json');
  const summaryText = await readText(summaryFile);
  if (summaryText === null) {
    const below = await runDirectoriesBelow(absolute);
    const suggestion =
      below.length > 0
        ? `It looks like a folder of runs: pass its run directories instead, e.g. ${below.slice(0, 3).map((name) => path.join(directory, name)).join(' ')}.`
        : 'Run `recipe-kit eval` first: it writes params.json, cases.jsonl and summary.json into the run directory.';
    throw new InvalidInputError(`${directory} has no summary.json, so it is not a finished evaluation run.`, suggestion);
  }
  const summary = parseSummary(summaryText, summaryFile);
  const paramsFile = path.join(absolute, 'params.json');
  const paramsText = await readText(paramsFile);
  if (paramsText === null) throw new InvalidInputError(`${paramsFile} is missing (it records how the run was made).`, EVAL_HINT);
  const params = parseParams(paramsText, paramsFile);
  for (const field of ['editor', 'protocol', 'edits'] as const) {
    if (params[field] !== summary[field]) {
      throw new InvalidInputError(
        `${summaryFile}: field "${field}" is ${JSON.stringify(summary[field])} but params.json says ${JSON.stringify(params[field])}.`,
        'The files come from different runs; re-run `recipe-kit eval` into an empty directory.',
      );
    }
  }
  const casesFile = path.join(absolute, 'cases.jsonl');
  const casesText = await readText(casesFile);
  return { directory: absolute, params, summary, cases: casesText === null ? null : parseCases(casesText, casesFile) };
}

/** Reads several run directories; one (model, dataset, protocol, editor, T) may appear only once. */
export async function readRuns(directories: readonly string[]): Promise<EvalRun[]> {
  if (directories.length === 0) throw new InvalidInputError('No run directories given.', 'Pass one or more directories written by `recipe-kit eval`.');
  const runs: EvalRun[] = [];
  const seen = new Map<string, string>();
  for (const directory of directories) {
    const run = await readRun(directory);
    const { model, dataset, protocol, editor, edits } = run.summary;
    const key = JSON.stringify([model, dataset, protocol, editor, edits]);
    const earlier = seen.get(key);
    if (earlier !== undefined) {
      if (earlier === run.directory) continue;
      throw new InvalidInputError(
        `${earlier} and ${run.directory} both hold ${editor} on ${model} / ${dataset} (${protocol}, T = ${edits}).`,
        'Pass only one run per editor, model, dataset, protocol and T.',
      );
    }
    seen.set(key, run.directory);
    runs.push(run);
  }
  return runs;
}
