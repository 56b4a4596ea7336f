import { recordError, describeValue, type DatasetRecord } from './dataset-record.js';
import { findSubjectInPrompt } from './find-subject-in-prompt.js';

/**
 * What a loader does with a record whose subject is not in its prompt:
 * - 'error': throw InvalidDatasetError naming both (CounterFact's default: its data is clean, so a
 *   mismatch means a wrong or damaged file);
 * - 'skip': leave the record out and report it through `onSkip` (zsRE's and RIPE's default: their
 *   subjects come from separate annotation, and one bad record should not cost the whole file).
 */
export type SubjectMismatchPolicy = 'error' | 'skip';

/** Loader options shared by the edit datasets. */
export interface SubjectMismatchOptions {
  subjectMismatch?: SubjectMismatchPolicy;
  /** Called once per skipped record with the same text an error would carry. */
  onSkip?: (message: string) => void;
}

/**
 * The subject spelled as in the prompt (see findSubjectInPrompt), or null when the record is to be
 * skipped under the 'skip' policy; throws under 'error'.
 */
export function resolveSubject(
  record: DatasetRecord,
  fields: { prompt: string; subject: string },
  values: { prompt: string; subject: string },
  options: SubjectMismatchOptions,
  defaultPolicy: SubjectMismatchPolicy,
): string | null {
  const found = findSubjectInPrompt(values.prompt, values.subject);
  if (found !== null) return found;
  const error = recordError(
    record.location,
    `"${record.fieldName(fields.subject)}" ${describeValue(values.subject)} does not occur in "${record.fieldName(fields.prompt)}" ${describeValue(values.prompt)}`,
    'The subject must be a substring of the prompt (locate-then-edit methods need its position): fix the record, or pass { subjectMismatch: \'skip\' } to leave such records out.',
  );
  if ((options.subjectMismatch ?? defaultPolicy) === 'error') throw error;
  options.onSkip?.(error.message);
  return null;
}
