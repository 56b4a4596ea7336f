import type { MultipleChoiceItem } from '@recipe-kit/core';
import { DatasetRecord, type DatasetSource } from './dataset-record.js';
import type { MultipleChoiceTask } from './general-task.js';
import { resolveLimit, type LoaderOptions } from './loader-options.js';
import { multipleChoicePrompt } from './multiple-choice-prompt.js';
import { parseJsonLines } from './parse-json-lines.js';

const format = 'CommonsenseQA JSON Lines (Hugging Face {id, question, choices:{label[], text[]}, answerKey} or the original {id, question:{stem, choices:[{label, text}]}, answerKey})';

/**
 * Loads CommonsenseQA (dev_rand_split.jsonl, 1,221 questions) in RECIPE's template; the options
 * are the record's labels (A–E). Both the Hugging Face export (flat question, parallel label/text
 * lists; the shared copy) and the original tau-nlp release (question.stem, choices as objects)
 * are read, per record. The unlabelled test split (answerKey "") is rejected: it cannot be scored.
 */
export async function loadCsqa(datasetPath: string, options: LoaderOptions = {}): Promise<MultipleChoiceTask> {
  const limit = resolveLimit(options);
  const source: DatasetSource = { path: datasetPath, format };
  const lines = await parseJsonLines(source, limit);
  const items = lines.map(({ value, line }, index) => csqaItem(DatasetRecord.from(value, { source, index, line })));
  return { name: 'csqa', kind: 'multiple-choice', items };
}

function csqaItem(record: DatasetRecord): MultipleChoiceItem {
  const id = record.string('id');
  record.identify('id', id);
  const { question, choices } = typeof record.raw('question') === 'object' && record.raw('question') !== null ? originalFormat(record) : huggingFaceFormat(record);
  const labels = choices.map((choice) => choice.label);
  const answerKey = record.string('answerKey', { allowEmpty: true });
  const answerIndex = labels.indexOf(answerKey);
  if (answerIndex < 0) throw record.fail('answerKey', `one of the choice labels ${labels.join(', ')}`);
  return { id, prompt: multipleChoicePrompt(question, choices), options: labels, answerIndex };
}

function huggingFaceFormat(record: DatasetRecord): { question: string; choices: { label: string; text: string }[] } {
  const question = record.string('question');
  const choices = record.object('choices');
  const labels = choices.stringList('label', { nonEmpty: true });
  const texts = choices.stringList('text', { nonEmpty: true });
  if (texts.length !== labels.length) throw choices.fail('text', `a list as long as "choices.label" (${labels.length})`);
  return { question, choices: labels.map((label, i) => ({ label, text: texts[i] ?? '' })) };
}

function originalFormat(record: DatasetRecord): { question: string; choices: { label: string; text: string }[] } {
  const question = record.object('question');
  const choices = question.objectList('choices', { nonEmpty: true }).map((choice) => ({ label: choice.string('label'), text: choice.string('text') }));
  return { question: question.string('stem'), choices };
}
