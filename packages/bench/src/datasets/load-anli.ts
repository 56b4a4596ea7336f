import { existsSync } from 'node:fs';
import path from 'node:path';
import { DataNotFoundError, InvalidDatasetError, type MultipleChoiceItem } from '@recipe-kit/core';
import { csvRecords } from './csv-records.js';
import { DatasetRecord, type DatasetSource } from './dataset-record.js';
import type { MultipleChoiceTask } from './general-task.js';
import { resolveLimit, type LoaderOptions } from './loader-options.js';
import { parseCsv } from './parse-csv.js';
import { parseJsonLines } from './parse-json-lines.js';
import { datasetPathKind, readDatasetText } from './read-dataset-text.js';

export type AnliRound = 1 | 2 | 3;

export interface LoadAnliOptions extends LoaderOptions {
  /** Rounds to load from a directory; default all three, in order. */
  rounds?: AnliRound[];
}

/** The answer words, in the order of the official integer labels (0 entailment, 1 neutral, 2 contradiction). */
export const anliOptions = ['entailment', 'neutral', 'contradiction'];

/** RECIPE's ANLI template (evaluation/llm_general_eval.py), character for character. */
export function anliPrompt(premise: string, hypothesis: string): string {
  return `premise: ${premise}\nhypothesis: ${hypothesis}\nPlease determine whether the logical relationship between the hypothesis and the premise is entailment, neutral, or contradiction: `;
}

const format = 'ANLI: the analysis CSV (context, statement, gold_label e/n/c, uid; columns in any order) or the official JSON Lines ({uid, context, hypothesis, label})';

/**
 * Loads ANLI in RECIPE's template. A file is one round: the facebookresearch/anli analysis CSV
 * (ANLI_analysis_r{1,2,3}_dev.csv; column order differs between rounds, so columns are found by
 * header name) or an official R{n}/{dev,test}.jsonl. A directory loads the three analysis CSVs.
 * Item ids are ANLI's uid.
 */
export async function loadAnli(datasetPath: string, options: LoadAnliOptions = {}): Promise<MultipleChoiceTask> {
  const limit = resolveLimit(options);
  const files = (await datasetPathKind(datasetPath, 'ANLI data')) === 'file' ? [datasetPath] : roundFiles(datasetPath, options.rounds ?? [1, 2, 3]);
  const items: MultipleChoiceItem[] = [];
  for (const file of files) {
    if (items.length >= limit) break;
    const source: DatasetSource = { path: file, format };
    const records = file.endsWith('.jsonl') ? await jsonLinesRecords(source, limit - items.length) : await csvFileRecords(source, limit - items.length);
    for (const record of records) items.push(anliItem(record));
  }
  return { name: 'anli', kind: 'multiple-choice', items };
}

function roundFiles(directory: string, rounds: readonly AnliRound[]): string[] {
  return rounds.map((round) => {
    const file = path.join(directory, `ANLI_analysis_r${round}_dev.csv`);
    if (!existsSync(file)) {
      throw new DataNotFoundError(`ANLI round ${round} not found: ${path.resolve(file)}`, 'Put ANLI_analysis_r{1,2,3}_dev.csv (facebookresearch/anli, anlizinganli/anli_annot_v0.2) there, pass { rounds } for the ones you have, or pass a file path.');
    }
    return file;
  });
}

async function jsonLinesRecords(source: DatasetSource, limit: number): Promise<DatasetRecord[]> {
  const lines = await parseJsonLines(source, limit);
  return lines.map(({ value, line }, index) => DatasetRecord.from(value, { source, index, line }));
}

/** The CSV's rows keyed by its own header; the columns this loader needs must be in it. */
async function csvFileRecords(source: DatasetSource, limit: number): Promise<DatasetRecord[]> {
  const rows = parseCsv(await readDatasetText(source.path, 'ANLI CSV'), source.path);
  const header = rows[0]?.cells.map((cell) => cell.trim()) ?? [];
  for (const needed of ['context', 'statement', 'gold_label']) {
    if (!header.includes(needed)) {
      throw new InvalidDatasetError(`${path.basename(source.path)}: the header has no "${needed}" column (found ${header.slice(0, 8).join(', ') || 'no header'}).`, `Expected ${format}.`);
    }
  }
  return csvRecords(rows.slice(1, 1 + limit), header, source);
}

function anliItem(record: DatasetRecord): MultipleChoiceItem {
  const csv = record.has('statement');
  const id = record.has('uid') ? record.string('uid') : `${path.basename(record.location.source.path)}:${record.location.index}`;
  record.identify('uid', id);
  const premise = record.string('context');
  const hypothesis = record.string(csv ? 'statement' : 'hypothesis');
  const labelField = csv ? 'gold_label' : 'label';
  const answerIndex = labelIndex(record.raw(labelField));
  if (answerIndex < 0) throw record.fail(labelField, 'e, n or c (entailment, neutral, contradiction; or 0, 1, 2)');
  return { id, prompt: anliPrompt(premise, hypothesis), options: [...anliOptions], answerIndex };
}

/** e/n/c (ANLI's files), the full words, or 0/1/2 (Hugging Face); -1 for anything else. */
function labelIndex(label: unknown): number {
  if (typeof label === 'number') return Number.isInteger(label) && label >= 0 && label <= 2 ? label : -1;
  if (typeof label !== 'string') return -1;
  const value = label.trim().toLowerCase();
  const byLetter = ['e', 'n', 'c'].indexOf(value);
  if (byLetter >= 0) return byLetter;
  if (/^[0-2]$/.test(value)) return Number(value);
  return anliOptions.indexOf(value);
}
