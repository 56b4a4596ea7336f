import { readFile } from 'node:fs/promises';
import path from 'node:path';
import { DataNotFoundError, InvalidConfigError, resolveDataDirectory } from '@recipe-kit/core';
import { PROTOCOL_NAMES, type ProtocolName } from '../protocols/edit-protocol.js';
import { CONFIG_HINT, ConfigReader, isRecord } from './config-reader.js';

/** One row of the comparison: an editor with its options, at some or all of the run's T values. */
export interface EditorRow {
  name: string;
  options: Record<string, string>;
  /** A trained artefact instead of the editor's default one (`<model>/recipe` for RECIPE). */
  checkpoint?: string;
  /** T values of this row; default: all of the run's. */
  edits?: number[];
  /**
   * Cases per T for this row (the first N of the run's cases), where fewer than the run's: an editor
   * at 1–3 s per edit cannot afford 1,000 cases at every T on 2 cores. The report says which rows used fewer.
   */
  cases?: Record<number, number>;
}

/** `"all"` in the editors list: every registered editor with its default options. */
export const ALL_EDITORS = 'all';

export interface GeneralConfig {
  /** Task name (csqa, anli, mmlu, squad2) → file or directory. */
  tasks: Record<string, string>;
  /** Tasks left out because their data is absent (task → why), reported, never silently dropped. */
  unavailable: Record<string, string>;
  /** Items per task (the first N of each). */
  items: number;
  /** General ability is scored after the first `chunks` chunks of each cell (the model after T edits), and averaged. */
  chunks: number;
}

export type EfficiencyArchitecture = 'llama' | 'gptj';

export interface EfficiencyModelConfig {
  /** Row label (e.g. "llama-1b"). */
  name: string;
  architecture: EfficiencyArchitecture;
  /** A Hugging Face config.json object for a random-weight model. */
  config: Record<string, unknown>;
  /** Layers actually built, when fewer than the config's (a wasm32 heap holds at most 4 GiB); default: all. */
  layers?: number;
}

/** An editor timed by the efficiency section, with its `--editor-option`s (e.g. fewer training steps: only query time is measured). */
export interface EfficiencyEditor {
  name: string;
  options: Record<string, string>;
}

export interface EfficiencyConfig {
  models: EfficiencyModelConfig[];
  /** Editors timed; `{ name: "all" }` stands for every registered editor with its default options. */
  editors: EfficiencyEditor[];
  /** Edits stored before timing queries. */
  storedEdits: number;
  /** Queries timed per pass (half the stored edits' prompts, half unrelated prompts). */
  queries: number;
  /** Timed passes per editor; medians are reported. */
  repeats: number;
  seed: number;
}

export interface CompareConfig {
  /** The file it came from (absolute), for provenance. */
  file: string;
  title: string;
  /** Absolute model directory (or llama2.c .bin). */
  model: string;
  tokenizer?: string;
  dataset: { name: string; path: string; split?: 'eval' | 'train' };
  protocol: ProtocolName;
  edits: number[];
  limit?: number;
  seed: number;
  skipOverlong: boolean;
  /** Drop cases whose new target has tokens the model cannot output (a micro model's compact vocabulary): no editor can reach them. */
  skipUnreachable: boolean;
  batchSize?: number;
  editors: EditorRow[];
  /** Whether the editors list holds "all" (expanded against the registry when the run starts). */
  allEditors: boolean;
  general?: GeneralConfig;
  efficiency?: EfficiencyConfig;
  /** Where data paths starting with `$DATA/` point (RECIPE_KIT_DATA, default ../shared/data), or null if absent. */
  dataDirectory: string | null;
}

/** Random-weight shapes of about 1.1B parameters (TinyLlama-1.1B's shape; a GPT-J of similar size). */
export const EFFICIENCY_PRESETS: Record<string, { architecture: EfficiencyArchitecture; config: Record<string, unknown> }> = {
  'llama-1b': {
    architecture: 'llama',
    config: { model_type: 'llama', hidden_size: 2048, intermediate_size: 5632, num_hidden_layers: 22, num_attention_heads: 32, num_key_value_heads: 4, vocab_size: 32000, max_position_embeddings: 2048, rms_norm_eps: 1e-5, tie_word_embeddings: false },
  },
  'gptj-1b': {
    architecture: 'gptj',
    config: { model_type: 'gptj', n_embd: 2048, n_inner: 8192, n_layer: 16, n_head: 16, rotary_dim: 64, vocab_size: 50400, n_positions: 2048, layer_norm_epsilon: 1e-5 },
  },
};

/** A path of the config: `$DATA/...` under the data directory, anything else relative to the config file's folder. */
function resolvePath(reader: ConfigReader, field: string, base: string, dataDirectory: string | null, value = reader.string(field)): string {
  if (value.startsWith('$DATA/')) {
    if (dataDirectory === null) {
      throw new DataNotFoundError(
        `${reader.file}: "${reader.path(field)}" is ${value}, but the data directory is absent.`,
        'Set RECIPE_KIT_DATA to the folder holding the shared data (default: ../shared/data beside the repository).',
      );
    }
    return path.join(dataDirectory, value.slice('$DATA/'.length));
  }
  return path.resolve(base, value);
}

function parseEditors(reader: ConfigReader, base: string): { rows: EditorRow[]; all: boolean } {
  const rows: EditorRow[] = [];
  let all = false;
  for (const item of reader.list('editors')) {
    if (item.value === ALL_EDITORS) {
      all = true;
      continue;
    }
    if (typeof item.value === 'string' && item.value.trim() !== '') {
      rows.push({ name: item.value, options: {} });
      continue;
    }
    const entry = item.reader;
    if (entry === null) {
      throw new InvalidConfigError(`${reader.file}: "${item.path}" is ${JSON.stringify(item.value)}, expected "all", an editor name, or { "name", "options", "edits", "cases", "checkpoint" }.`, CONFIG_HINT);
    }
    entry.refuseUnknown(['name', 'options', 'edits', 'cases', 'checkpoint']);
    const checkpoint = entry.has('checkpoint') ? resolvePath(entry, 'checkpoint', base, null) : undefined;
    rows.push({
      name: entry.string('name'),
      options: entry.stringMap('options'),
      ...(checkpoint !== undefined ? { checkpoint } : {}),
      ...(entry.has('edits') ? { edits: entry.positiveIntegers('edits') } : {}),
      ...(entry.has('cases') ? { cases: casesPerT(entry) } : {}),
    });
  }
  if (rows.length === 0 && !all) reader.fail('editors', 'at least one editor (or "all")');
  return { rows, all };
}

/** `"cases": { "1": 200, "10": 200 }`: keys are T values, values at least T (one chunk). */
function casesPerT(entry: ConfigReader): Record<number, number> {
  const inner = entry.object('cases');
  const result: Record<number, number> = {};
  for (const key of Object.keys(inner.record)) {
    if (key.startsWith('//')) continue;
    const edits = Number(key);
    if (!Number.isInteger(edits) || edits < 1) inner.fail(key, 'a key that is a T value (a positive integer), e.g. "cases": { "1": 200 }', key);
    result[edits] = inner.integer(key, { min: edits });
  }
  return result;
}

function parseGeneral(reader: ConfigReader, base: string, dataDirectory: string | null): GeneralConfig {
  const general = reader.object('general').refuseUnknown(['tasks', 'items', 'chunks']);
  const tasks = general.object('tasks');
  const resolved: Record<string, string> = {};
  const unavailable: Record<string, string> = {};
  for (const name of Object.keys(tasks.record)) {
    if (name.startsWith('//')) continue;
    try {
      resolved[name] = resolvePath(tasks, name, base, dataDirectory);
    } catch (error) {
      // A run without the shared data still runs (the embedded default needs none); the report says what is missing.
      if (!(error instanceof DataNotFoundError)) throw error;
      unavailable[name] = error.message;
    }
  }
  return { tasks: resolved, unavailable, items: general.integer('items', { min: 1, fallback: 100 }), chunks: general.integer('chunks', { min: 1, fallback: 1 }) };
}

function parseEfficiency(reader: ConfigReader): EfficiencyConfig {
  const efficiency = reader.object('efficiency').refuseUnknown(['models', 'editors', 'storedEdits', 'queries', 'repeats', 'seed']);
  const models = efficiency.list('models').map((item): EfficiencyModelConfig => {
    if (typeof item.value === 'string') {
      const preset = EFFICIENCY_PRESETS[item.value];
      if (!preset) throw new InvalidConfigError(`${reader.file}: "${item.path}" is "${item.value}", which is no preset.`, `Use one of: ${Object.keys(EFFICIENCY_PRESETS).join(', ')}, or { "name", "preset" | "architecture" + "config", "layers" }. ${CONFIG_HINT}`);
      return { name: item.value, ...preset, config: { ...preset.config } };
    }
    const entry = item.reader;
    if (entry === null) throw new InvalidConfigError(`${reader.file}: "${item.path}" is ${JSON.stringify(item.value)}, expected a preset name or an object.`, CONFIG_HINT);
    entry.refuseUnknown(['name', 'preset', 'architecture', 'config', 'layers']);
    const preset = entry.has('preset') ? EFFICIENCY_PRESETS[entry.oneOf('preset', Object.keys(EFFICIENCY_PRESETS))] : undefined;
    const architecture = preset?.architecture ?? entry.oneOf<EfficiencyArchitecture>('architecture', ['llama', 'gptj']);
    const config = { ...(preset?.config ?? {}), ...(entry.has('config') ? entry.object('config').record : {}) };
    if (!preset && !entry.has('config')) entry.fail('config', 'a config.json object (or a "preset")');
    const layers = entry.optionalInteger('layers', 1);
    return { name: entry.string('name'), architecture, config, ...(layers !== undefined ? { layers } : {}) };
  });
  if (models.length === 0) efficiency.fail('models', 'at least one model');
  const editors = efficiency.has('editors')
    ? efficiency.list('editors').map((item): EfficiencyEditor => {
        if (typeof item.value === 'string' && item.value !== '') return { name: item.value, options: {} };
        const entry = item.reader;
        if (entry === null) return efficiency.fail('editors', 'a list of editor names, { "name", "options" } objects, or "all"');
        entry.refuseUnknown(['name', 'options']);
        return { name: entry.string('name'), options: entry.stringMap('options') };
      })
    : [{ name: ALL_EDITORS, options: {} }];
  return {
    models,
    editors,
    storedEdits: efficiency.integer('storedEdits', { min: 1, fallback: 8 }),
    queries: efficiency.integer('queries', { min: 2, fallback: 8 }),
    repeats: efficiency.integer('repeats', { min: 1, fallback: 3 }),
    seed: efficiency.integer('seed', { min: 0, fallback: 0 }),
  };
}

/** Validates a parsed compare config; relative paths resolve against `base` (the config file's folder). */
export function parseCompareConfig(value: unknown, file: string, base: string, dataDirectory: string | null): CompareConfig {
  if (!isRecord(value)) throw new InvalidConfigError(`${file} must hold a JSON object.`, CONFIG_HINT);
  const reader = new ConfigReader(file, value).refuseUnknown(['title', 'model', 'tokenizer', 'dataset', 'protocol', 'edits', 'limit', 'seed', 'skipOverlong', 'skipUnreachable', 'batchSize', 'editors', 'general', 'efficiency']);
  const dataset = reader.object('dataset').refuseUnknown(['name', 'path', 'split']);
  const split = dataset.has('split') ? dataset.oneOf('split', ['eval', 'train'] as const) : undefined;
  const { rows, all } = parseEditors(reader, base);
  const edits = reader.positiveIntegers('edits');
  for (const row of rows) {
    const outside = row.edits?.find((t) => !edits.includes(t));
    if (outside !== undefined) throw new InvalidConfigError(`${file}: editor ${row.name} asks for T = ${outside}, which is not in "edits" (${edits.join(', ')}).`, `Add ${outside} to "edits" or remove it from the row. ${CONFIG_HINT}`);
    const casesOutside = Object.keys(row.cases ?? {}).map(Number).find((t) => !(row.edits ?? edits).includes(t));
    if (casesOutside !== undefined) throw new InvalidConfigError(`${file}: editor ${row.name} sets "cases" for T = ${casesOutside}, which the row does not run.`, `Use the row's T values (${(row.edits ?? edits).join(', ')}) as keys of "cases". ${CONFIG_HINT}`);
  }
  const limit = reader.optionalInteger('limit', 1);
  const batchSize = reader.optionalInteger('batchSize', 1);
  const tokenizer = reader.optionalString('tokenizer');
  return {
    file,
    title: reader.has('title') ? reader.string('title') : 'Knowledge editing: comparative benchmark',
    model: resolvePath(reader, 'model', base, dataDirectory),
    ...(tokenizer !== undefined ? { tokenizer: ['llama2', 'gpt2'].includes(tokenizer) ? tokenizer : resolvePath(reader, 'tokenizer', base, dataDirectory) } : {}),
    dataset: { name: dataset.string('name'), path: resolvePath(dataset, 'path', base, dataDirectory), ...(split !== undefined ? { split } : {}) },
    protocol: reader.oneOf('protocol', PROTOCOL_NAMES, 'lifelong'),
    edits,
    ...(limit !== undefined ? { limit } : {}),
    seed: reader.integer('seed', { min: 0, fallback: 0 }),
    skipOverlong: reader.boolean('skipOverlong', false),
    skipUnreachable: reader.boolean('skipUnreachable', false),
    ...(batchSize !== undefined ? { batchSize } : {}),
    editors: rows,
    allEditors: all,
    ...(reader.has('general') ? { general: parseGeneral(reader, base, dataDirectory) } : {}),
    ...(reader.has('efficiency') ? { efficiency: parseEfficiency(reader) } : {}),
    dataDirectory,
  };
}

/** Reads and validates a compare config file. */
export async function readCompareConfig(file: string, repositoryRoot: string): Promise<CompareConfig> {
  const absolute = path.resolve(file);
  const text = await readFile(absolute, 'utf8').catch((cause: unknown) => {
    throw new DataNotFoundError(`The compare config ${file} cannot be read (${(cause as Error).message}).`, `Pass --config with an existing file, e.g. configs/main.json. ${CONFIG_HINT}`);
  });
  let value: unknown;
  try {
    value = JSON.parse(text);
  } catch (error) {
    throw new InvalidConfigError(`${absolute} is not valid JSON: ${(error as Error).message}.`, CONFIG_HINT);
  }
  return parseCompareConfig(value, absolute, path.dirname(absolute), resolveDataDirectory(repositoryRoot));
}
