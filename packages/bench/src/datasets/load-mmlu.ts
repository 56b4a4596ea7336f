import { existsSync } from 'node:fs';
import { readdir } from 'node:fs/promises';
import path from 'node:path';
import { DataNotFoundError, InvalidInputError, type MultipleChoiceItem } from '@recipe-kit/core';
import { csvRecords } from './csv-records.js';
import type { DatasetRecord, DatasetSource } from './dataset-record.js';
import type { MultipleChoiceTask } from './general-task.js';
import { oneOf, resolveLimit, type LoaderOptions } from './loader-options.js';
import { multipleChoicePrompt } from './multiple-choice-prompt.js';
import { parseCsv } from './parse-csv.js';
import { datasetPathKind, readDatasetText } from './read-dataset-text.js';

export const mmluSplits = ['test', 'dev', 'val'] as const;
export type MmluSplit = (typeof mmluSplits)[number];

export interface LoadMmluOptions extends LoaderOptions {
  /** Default 'test' (what RECIPE evaluates). */
  split?: MmluSplit;
  /** Subject names (file names without "_test.csv"); default all, in alphabetical order. */
  subjects?: string[];
}

const labels = ['A', 'B', 'C', 'D'] as const;
const columns = ['question', 'A', 'B', 'C', 'D', 'answer'] as const;
const format = 'MMLU CSV (question,A,B,C,D,answer; Hendrycks\' release has no header and answers A–D)';

/**
 * Loads MMLU in RECIPE's multiple-choice template. `datasetPath` is the data directory holding
 * dev/ and test/ (Hendrycks' layout), a split directory of <subject>_<split>.csv files, or one CSV.
 * Item ids are "subject:row" with the 0-based data row. Hendrycks' files have no header and letter
 * answers; some redistributions (the shared copy) add a "question,choice0,…,answer" header and use
 * 0–3: both are read. Choice cells may be empty (a choice text can legitimately be blank).
 */
export async function loadMmlu(datasetPath: string, options: LoadMmluOptions = {}): Promise<MultipleChoiceTask> {
  const limit = resolveLimit(options);
  const split = oneOf(options.split ?? 'test', mmluSplits, 'split');
  const files = (await datasetPathKind(datasetPath, 'MMLU data')) === 'file' ? [datasetPath] : await subjectFiles(datasetPath, split, options.subjects);
  const items: MultipleChoiceItem[] = [];
  for (const file of files) {
    if (items.length >= limit) break;
    const subject = path.basename(file).replace(/_(test|dev|val)\.csv$/, '').replace(/\.csv$/, '');
    const source: DatasetSource = { path: file, format };
    const rows = parseCsv(await readDatasetText(file, 'MMLU CSV'), file);
    const first = rows[0]?.cells;
    const hasHeader = first !== undefined && first[0]?.trim().toLowerCase() === 'question' && first.at(-1)?.trim().toLowerCase() === 'answer';
    const dataRows = hasHeader ? rows.slice(1) : rows;
    for (const record of csvRecords(dataRows.slice(0, limit - items.length), columns, source)) {
      items.push(mmluItem(record, subject));
    }
  }
  return { name: 'mmlu', kind: 'multiple-choice', items };
}

function mmluItem(record: DatasetRecord, subject: string): MultipleChoiceItem {
  const id = `${subject}:${record.location.index}`;
  record.identify('id', id);
  const question = record.string('question');
  const choices = labels.map((label) => ({ label, text: record.string(label, { allowEmpty: true }) }));
  const answer = record.string('answer').trim();
  const answerIndex = /^[0-3]$/.test(answer) ? Number(answer) : labels.findIndex((label) => label === answer);
  if (answerIndex < 0) throw record.fail('answer', 'a letter A–D (or an index 0–3)');
  return { id, prompt: multipleChoicePrompt(question, choices), options: [...labels], answerIndex };
}

/** The split's CSVs, sorted by subject; `subjects` filters them and must all exist. */
async function subjectFiles(directory: string, split: MmluSplit, subjects: string[] | undefined): Promise<string[]> {
  const splitDirectory = existsSync(path.join(directory, split)) ? path.join(directory, split) : directory;
  const suffix = `_${split}.csv`;
  const available = new Map(
    (await readdir(splitDirectory))
      .filter((name) => name.endsWith(suffix))
      .sort()
      .map((name) => [name.slice(0, -suffix.length), path.join(splitDirectory, name)] as const),
  );
  if (available.size === 0) {
    throw new DataNotFoundError(`No MMLU ${split} files (*${suffix}) in ${path.resolve(splitDirectory)}.`, `Point at the MMLU data directory that holds ${split}/ (e.g. data/ of hendrycks/test), or pass { split } for a split that is there.`);
  }
  if (subjects === undefined) return [...available.values()];
  return subjects.map((subject) => {
    const file = available.get(subject);
    if (file === undefined) {
      throw new InvalidInputError(`Unknown MMLU subject "${subject}".`, `Use one of: ${[...available.keys()].join(', ')}.`);
    }
    return file;
  });
}
