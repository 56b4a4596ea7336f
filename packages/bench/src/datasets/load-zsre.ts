import type { EditRequest } from '@recipe-kit/core';
import type { DatasetSource } from './dataset-record.js';
import { resolveLimit, type LoaderOptions } from './loader-options.js';
import { normaliseTarget } from './normalise-target.js';
import { resolveSubject, type SubjectMismatchOptions } from './resolve-subject.js';
import { readEditRecords } from './read-edit-records.js';

export interface LoadZsreOptions extends LoaderOptions, SubjectMismatchOptions {}

const format = 'zsRE in the MEND format (a JSON list of {subject, src, pred, rephrase, alt, answers, loc, loc_ans, cond})';

/**
 * Loads zsRE (MEND's zsre_mend_{train,eval}.json) as EditRequests, mapped as RECIPE and EasyEdit do:
 * prompt = src, targetNew = alt, groundTruth = answers[0], one rephrase probe and one NQ locality
 * probe ("nq question: …" → loc_ans). The id is the record index, because the records have none.
 *
 * A record whose subject is not in src is skipped by default (reported through `onSkip`), not
 * fatal: zsRE's subjects were annotated separately from its questions, so a stray mismatch should
 * not cost the whole file (the 700-record shared subset has none). Skipping keeps the other ids
 * stable since ids are file positions. `pred` and `cond` (MEND's pre-edit prediction) and any
 * `portability` block are not needed by the metrics and are not read.
 */
export async function loadZsre(datasetPath: string, options: LoadZsreOptions = {}): Promise<EditRequest[]> {
  const limit = resolveLimit(options);
  const source: DatasetSource = { path: datasetPath, format };
  return readEditRecords(source, limit, (record, index) => {
    const prompt = record.string('src');
    const targetNew = normaliseTarget(record.string('alt'));
    const answers = record.stringList('answers', { nonEmpty: true });
    const rephrase = record.string('rephrase');
    const loc = record.string('loc');
    const locAnswer = normaliseTarget(record.string('loc_ans'));
    const subject = resolveSubject(record, { prompt: 'src', subject: 'subject' }, { prompt, subject: record.string('subject') }, options, 'skip');
    if (subject === null) return null;
    return {
      id: String(index),
      prompt,
      subject,
      targetNew,
      groundTruth: normaliseTarget(answers[0] ?? ''),
      generality: [{ prompt: rephrase, target: targetNew, type: 'rephrase' }],
      locality: [{ prompt: loc, target: locAnswer, type: 'neighborhood' }],
    };
  });
}
