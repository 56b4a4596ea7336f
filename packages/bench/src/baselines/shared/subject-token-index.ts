import { InvalidInputError, type Tokenizer } from '@recipe-kit/core';
import { findSubjectInPrompt } from '../../datasets/find-subject-in-prompt.js';

/** A text's token ids (BOS included where the tokenizer has one) and where its subject ends. */
export interface SubjectTokens {
  ids: number[];
  /** 0-based index in `ids` of the subject's last token ("subject_last", spec §0.4). */
  subjectIndex: number;
}

function indexOfSequence(haystack: readonly number[], needle: readonly number[]): number {
  for (let start = haystack.length - needle.length; start >= 0; start--) {
    if (needle.every((id, i) => haystack[start + i] === id)) return start;
  }
  return -1;
}

/**
 * Tokenizes `text` and finds the last token of the first occurrence of `subject` in it:
 * `len(tokenize(text up to the subject's end)) − 1`, tokenized with the same special tokens as the
 * whole text (spec §0.4). When the tokens after the subject merge into its last token (so the
 * prefix tokenization is not a prefix of the whole), the subject's own token sequence is searched.
 */
export function subjectTokenIndex(tokenizer: Tokenizer, text: string, subject: string): SubjectTokens {
  if (subject.trim().length === 0) {
    throw new InvalidInputError(`The edit of ${JSON.stringify(text)} has an empty subject.`, 'Give every edit request the subject it is about (a substring of its prompt).');
  }
  const spelled = findSubjectInPrompt(text, subject);
  if (spelled === null) {
    throw new InvalidInputError(
      `The subject ${JSON.stringify(subject)} does not occur in the prompt ${JSON.stringify(text)}.`,
      'Locate-then-edit methods (ROME, MEMIT, WILKE) need the subject verbatim in the prompt: fix the request\'s subject or prompt.',
    );
  }
  const ids = tokenizer.encode(text, { addBos: true });
  const end = text.indexOf(spelled) + spelled.length;
  const upTo = tokenizer.encode(text.slice(0, end), { addBos: true });
  const index = upTo.length - 1;
  if (index >= 0 && upTo.every((id, i) => ids[i] === id)) return { ids, subjectIndex: index };
  // Merged across the subject's end: search the subject's tokens as they appear mid-sentence.
  for (const form of [` ${spelled}`, spelled]) {
    const pieces = tokenizer.encode(form, { addBos: false });
    // SentencePiece may emit a lone "▁" (spec §0.2): drop leading pieces that spell nothing.
    while (pieces.length > 1 && tokenizer.decode(pieces.slice(0, 1)).trim() === '') pieces.shift();
    const start = pieces.length > 0 ? indexOfSequence(ids, pieces) : -1;
    if (start >= 0) return { ids, subjectIndex: start + pieces.length - 1 };
  }
  // Last resort: the token holding the subject's last character.
  return { ids, subjectIndex: Math.min(index, ids.length - 1) };
}
