import { existsSync } from 'node:fs';
import path from 'node:path';
import { DataNotFoundError, InvalidInputError, type EditRequest } from '@recipe-kit/core';
import { DatasetRecord, type DatasetSource } from './dataset-record.js';
import { resolveLimit, oneOf, type LoaderOptions } from './loader-options.js';
import { normaliseTarget } from './normalise-target.js';
import { parseJsonList } from './parse-json-dataset.js';
import { datasetPathKind } from './read-dataset-text.js';
import { resolveSubject, type SubjectMismatchOptions } from './resolve-subject.js';

export const counterfactSplits = ['eval', 'train'] as const;
export type CounterfactSplit = (typeof counterfactSplits)[number];

export interface LoadCounterfactOptions extends LoaderOptions, SubjectMismatchOptions {
  /** Which file to pick when the path is a directory. */
  split?: CounterfactSplit;
}

/** File names per split, as RECIPE ships them (eval is "counterfact-edit.json" there) and as data/ renames it. */
const splitFiles: Record<CounterfactSplit, readonly string[]> = {
  eval: ['counterfact-eval.json', 'counterfact-edit.json'],
  train: ['counterfact-train.json'],
};
/** ROME's original single file, usable from a directory only when nothing else is there. */
const romeFile = 'counterfact.json';

const format = 'CounterFact in the RECIPE/EasyEdit format (case_id, prompt, target_new, subject, ground_truth, rephrase_prompt, locality_prompt, locality_ground_truth) or the ROME format (case_id, requested_rewrite, paraphrase_prompts, neighborhood_prompts)';

/**
 * Loads CounterFact as EditRequests. Accepts RECIPE's/EasyEdit's flat records and ROME's original
 * records (detected per file from the first record), or a directory plus `split`. The subject must
 * occur in the prompt (default 'error': the published files are clean, so a mismatch means a
 * damaged or wrong file).
 */
export async function loadCounterfact(datasetPath: string, options: LoadCounterfactOptions = {}): Promise<EditRequest[]> {
  const limit = resolveLimit(options);
  const file = (await datasetPathKind(datasetPath, 'CounterFact data')) === 'directory' ? pickCounterfactFile(datasetPath, options.split) : datasetPath;
  const source: DatasetSource = { path: file, format };
  const records = await parseJsonList(source);
  const rome = records.length > 0 && typeof records[0] === 'object' && records[0] !== null && 'requested_rewrite' in records[0];
  const requests: EditRequest[] = [];
  for (let index = 0; index < records.length && requests.length < limit; index++) {
    const record = DatasetRecord.from(records[index], { source, index });
    const request = rome ? fromRomeRecord(record) : fromRecipeRecord(record, options);
    if (request) requests.push(request);
  }
  return requests;
}

/** The file for `split` in a CounterFact directory; an error when it is missing or ambiguous. */
function pickCounterfactFile(directory: string, split: CounterfactSplit | undefined): string {
  const present = (names: readonly string[]): string[] => names.filter((name) => existsSync(path.join(directory, name)));
  if (split !== undefined) {
    const wanted = splitFiles[oneOf(split, counterfactSplits, 'split')];
    const found = present(wanted);
    if (found.length === 0) {
      throw new DataNotFoundError(`No CounterFact ${split} file in ${path.resolve(directory)} (looked for ${wanted.join(' or ')}).`, 'Put the file there under one of those names, or pass the file path itself.');
    }
    if (found.length > 1) {
      throw new InvalidInputError(`Both ${found.join(' and ')} are in ${path.resolve(directory)}: which is the ${split} split is ambiguous.`, 'Pass the file path itself instead of the directory.');
    }
    return path.join(directory, found[0] ?? '');
  }
  const all = present([...splitFiles.eval, ...splitFiles.train, romeFile]);
  if (all.length === 1) return path.join(directory, all[0] ?? '');
  throw new InvalidInputError(
    all.length === 0 ? `No CounterFact file in ${path.resolve(directory)} (looked for ${[...splitFiles.eval, ...splitFiles.train, romeFile].join(', ')}).` : `${path.resolve(directory)} holds several CounterFact files (${all.join(', ')}).`,
    "Pass { split: 'eval' } or { split: 'train' } (CLI: --split), or the file path itself.",
  );
}

/** case_id is an integer in every public copy; a string id is accepted as-is. */
function caseId(record: DatasetRecord): string {
  const value = record.raw('case_id');
  if ((typeof value === 'number' && Number.isInteger(value)) || (typeof value === 'string' && value.trim() !== '')) {
    const id = String(value);
    record.identify('case_id', id);
    return id;
  }
  throw record.fail('case_id', 'an integer');
}

function fromRecipeRecord(record: DatasetRecord, options: SubjectMismatchOptions): EditRequest | null {
  const id = caseId(record);
  const prompt = record.string('prompt');
  const targetNew = normaliseTarget(record.string('target_new'));
  const subject = resolveSubject(record, { prompt: 'prompt', subject: 'subject' }, { prompt, subject: record.string('subject') }, options, 'error');
  if (subject === null) return null;
  return {
    id,
    prompt,
    subject,
    targetNew,
    groundTruth: normaliseTarget(record.string('ground_truth')),
    generality: [{ prompt: record.string('rephrase_prompt'), target: targetNew, type: 'rephrase' }],
    locality: [{ prompt: record.string('locality_prompt'), target: normaliseTarget(record.string('locality_ground_truth')), type: 'neighborhood' }],
  };
}

/**
 * ROME's record: the prompt is a template with "{}" for the subject. Neighbourhood prompts are
 * other subjects sharing the true object, so their answer is target_true (what the unedited model
 * should keep saying). attribute_prompts and generation_prompts are not used by these metrics.
 */
function fromRomeRecord(record: DatasetRecord): EditRequest {
  const id = caseId(record);
  const rewrite = record.object('requested_rewrite');
  const template = rewrite.string('prompt');
  if (!template.includes('{}')) throw rewrite.fail('prompt', 'a template containing "{}" where the subject goes');
  const subject = rewrite.string('subject');
  const targetNew = normaliseTarget(rewrite.object('target_new').string('str'));
  const targetTrue = normaliseTarget(rewrite.object('target_true').string('str'));
  return {
    id,
    prompt: template.replace('{}', subject),
    subject,
    targetNew,
    groundTruth: targetTrue,
    generality: record.stringList('paraphrase_prompts').map((prompt) => ({ prompt, target: targetNew, type: 'rephrase' })),
    locality: record.stringList('neighborhood_prompts').map((prompt) => ({ prompt, target: targetTrue, type: 'neighborhood' })),
  };
}
