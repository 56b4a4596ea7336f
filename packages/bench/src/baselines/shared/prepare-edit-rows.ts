import { ContextOverflowError, InvalidInputError, tokenizeProbe, type CausalLanguageModel, type EditRequest } from '@recipe-kit/core';
import { subjectTokenIndex } from './subject-token-index.js';

/** One teacher-forced rewriting prompt: `template(prompt) + target[:-1]`. */
export interface RewritingRow {
  /** context + all but the last target id. */
  ids: number[];
  /** Where keys are read and δ is added: the subject's last token, or the last prompt token (`fact-token=last`). */
  lookupIndex: number;
  /** Position whose logits predict the first target id (the last context token). */
  targetStart: number;
  /** The target's ids as tokenized jointly with this row's prompt. */
  targetIds: number[];
}

export interface EditRows {
  /** One per template that fits the context; row 0 is the plain prompt (template "{}"). */
  rewriting: RewritingRow[];
  /** `"<subject> is a"`: the KL "essence" prompt, read at its lookup position (subject-last, or its last token). */
  essence: { ids: number[]; lookupIndex: number };
}

/**
 * Which token the key and value are read at (spec §0.4 `fact_token`): `subject_last` (every
 * reference hparams file) or `last`, the last prompt token (the prompt's last token for keys; for
 * the value, the position that predicts the first target token).
 */
export const FACT_TOKENS = ['subject_last', 'last'] as const;
export type FactToken = (typeof FACT_TOKENS)[number];

/**
 * Tokenizes one request under every template for the value optimisation (spec §4.2 step B) and
 * checks it: the subject must occur in the prompt, the target must be non-empty, and prompt + target
 * must fit the context window. Templates that would overflow it are skipped; the plain prompt never is.
 */
export function prepareEditRows(model: CausalLanguageModel, request: EditRequest, templates: readonly string[], factToken: FactToken = 'subject_last'): EditRows {
  if (templates[0] !== '{}') {
    throw new InvalidInputError(`The first context template must be "{}" (the plain prompt), got ${JSON.stringify(templates[0])}.`, 'Put the plain template first.');
  }
  if (request.targetNew.trim().length === 0) {
    throw new InvalidInputError(`Edit ${request.id} has an empty target.`, 'Give every edit request a non-empty targetNew.');
  }
  const { tokenizer } = model;
  const limit = model.dimensions.contextLength;
  const rewriting: RewritingRow[] = [];
  for (const template of templates) {
    const text = template.replace('{}', request.prompt);
    const probe = tokenizeProbe(tokenizer, text, request.targetNew);
    const length = probe.context.length + probe.continuation.length;
    if (length > limit) {
      if (rewriting.length > 0) continue;
      throw new ContextOverflowError(
        `Edit ${request.id}: prompt + target are ${length} tokens, longer than the model's context of ${limit}.`,
        'Shorten the prompt or the target, or skip such edits (recipe-kit eval --skip-overlong).',
      );
    }
    const { subjectIndex } = subjectTokenIndex(tokenizer, text, request.subject);
    if (subjectIndex >= probe.context.length) {
      throw new InvalidInputError(`Edit ${request.id}: the subject ${JSON.stringify(request.subject)} must come before the target in ${JSON.stringify(text)}.`, 'Fix the request\'s subject.');
    }
    const targetIds = [...probe.continuation];
    const targetStart = probe.context.length - 1;
    rewriting.push({ ids: [...probe.context, ...targetIds.slice(0, -1)], lookupIndex: factToken === 'last' ? targetStart : subjectIndex, targetStart, targetIds });
  }
  const essenceText = `${subjectTokenText(request)} is a`;
  const essence = subjectTokenIndex(tokenizer, essenceText, subjectTokenText(request));
  const essenceIds = essence.ids.slice(0, limit);
  const essenceIndex = factToken === 'last' ? essenceIds.length - 1 : Math.min(essence.subjectIndex, limit - 1);
  return { rewriting, essence: { ids: essenceIds, lookupIndex: essenceIndex } };
}

/** The subject as spelled in the prompt (checked by subjectTokenIndex before it is used). */
function subjectTokenText(request: EditRequest): string {
  const at = request.prompt.toLowerCase().indexOf(request.subject.toLowerCase());
  return at >= 0 ? request.prompt.slice(at, at + request.subject.length) : request.subject;
}
