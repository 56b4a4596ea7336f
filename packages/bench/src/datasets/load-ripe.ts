import type { EditRequest, Probe } from '@recipe-kit/core';
import { DatasetRecord, recordError, type DatasetSource } from './dataset-record.js';
import { resolveLimit, type LoaderOptions } from './loader-options.js';
import { normaliseTarget } from './normalise-target.js';
import { resolveSubject, type SubjectMismatchOptions } from './resolve-subject.js';
import { readEditRecords } from './read-edit-records.js';

export interface LoadRipeOptions extends LoaderOptions, SubjectMismatchOptions {}

/** RIPE's generality probe types (RippleEdits' evaluation criteria), in RECIPE's order. */
export const ripeGeneralityTypes = ['Logical_Generalization', 'Compositionality_I', 'Compositionality_II', 'Subject_Aliasing'] as const;
/** RIPE's locality probe types. */
export const ripeLocalityTypes = ['Relation_Specificity', 'Forgetfulness'] as const;
export const ripeExampleTypes = ['recent', 'random', 'popular'] as const;

const format = "RECIPE's RIPE format (a JSON list of {prompt, target_new, subject, ground_truth, example_type, Logical_Generalization, Compositionality_I, Compositionality_II, Subject_Aliasing, Relation_Specificity, Forgetfulness})";

/**
 * Loads RECIPE's RIPE files (ripe_train.json / ripe_test.json, derived from RippleEdits) as
 * EditRequests, as RECIPE's TestSampleList.ripple_effect does: each probe list item is
 * {prompt, targets[]} and its target is the first non-empty string of targets; an item without one
 * is dropped (RECIPE drops it too). probe.type is the list's name. For example_type 'recent' the
 * edit adds a new fact, so ground_truth := target_new. The id is the record index.
 *
 * A missing probe list counts as empty (a sample lacking a type does not contribute to that type's
 * mean), but a list of the wrong shape is an error. A subject not in the prompt skips the record by
 * default (see SubjectMismatchOptions).
 */
export async function loadRipe(datasetPath: string, options: LoadRipeOptions = {}): Promise<EditRequest[]> {
  const limit = resolveLimit(options);
  const source: DatasetSource = { path: datasetPath, format };
  return readEditRecords(source, limit, (record, index) => {
    rejectRawRippleEdits(record);
    const prompt = record.string('prompt');
    const targetNew = normaliseTarget(record.string('target_new'));
    const exampleType = record.string('example_type');
    if (!ripeExampleTypes.some((type) => type === exampleType)) throw record.fail('example_type', `one of ${ripeExampleTypes.join(', ')}`);
    const groundTruth = exampleType === 'recent' ? targetNew : normaliseTarget(record.string('ground_truth'));
    const generality = ripeGeneralityTypes.flatMap((type) => probes(record, type));
    const locality = ripeLocalityTypes.flatMap((type) => probes(record, type));
    const subject = resolveSubject(record, { prompt: 'prompt', subject: 'subject' }, { prompt, subject: record.string('subject') }, options, 'skip');
    if (subject === null) return null;
    return { id: String(index), prompt, subject, targetNew, groundTruth, generality, locality };
  });
}

function probes(record: DatasetRecord, type: string): Probe[] {
  if (!record.has(type)) return [];
  return record.objectList(type).flatMap((item) => {
    const prompt = item.string('prompt');
    const target = item.stringList('targets', { allowEmptyItems: true }).find((candidate) => candidate.trim() !== '');
    return target === undefined ? [] : [{ prompt, target: normaliseTarget(target), type }];
  });
}

/** The raw benchmark ({example_type, edit:{prompt,...}, Relation_Specifity:[{test_queries}]}) lacks the subject text, so it cannot be read directly. */
function rejectRawRippleEdits(record: DatasetRecord): void {
  if (record.has('edit') && !record.has('prompt')) {
    throw recordError(
      record.location,
      'this is the raw RippleEdits benchmark format ("edit", "test_queries"), not RECIPE\'s RIPE format',
      "Use RECIPE's converted files (data/evaluation/ripple_effect/ripe_test.json, data/meta-train/ripple_effect/ripe_train.json), whose records have prompt, target_new, subject, ground_truth and {prompt, targets} probe lists.",
    );
  }
}
