import type { GenerativeItem } from '@recipe-kit/core';
import { DatasetRecord, type DatasetSource, type RecordLocation } from './dataset-record.js';
import type { GenerativeTask } from './general-task.js';
import { resolveLimit, type LoaderOptions } from './loader-options.js';
import { parseJsonFile } from './parse-json-dataset.js';
import { parseJsonLines } from './parse-json-lines.js';

/** RECIPE's SQuAD 2.0 instruction (evaluation/llm_general_eval.py). */
export const squad2Instruction = 'Please read the context and find the answer to the question. If there is no answer, reply N/A.';

/** The answer RECIPE scores for an unanswerable question. */
export const squad2NoAnswer = 'N/A';

/** RECIPE's template: instruction, then "\nTitle: …\nContext: …\nQuestion: …\nAnswer:". */
export function squad2Prompt(title: string, context: string, question: string): string {
  return `${squad2Instruction}\nTitle: ${title}\nContext: ${context}\nQuestion: ${question}\nAnswer:`;
}

const format = 'SQuAD 2.0: the official JSON ({data:[{title, paragraphs:[{context, qas:[{id, question, answers:[{text}], is_impossible}]}]}]}) or Hugging Face squad_v2 JSON Lines ({id, title, context, question, answers:{text[]}})';

/**
 * Loads SQuAD 2.0 (dev-v2.0.json) as generative items in RECIPE's template. The answer is the first
 * gold answer, or "N/A" when the question is unanswerable (is_impossible, or an empty answer list
 * in the Hugging Face export, which has no is_impossible). Titles are kept as written
 * ("Super_Bowl_50"), as RECIPE does. An answerable question without answers is an error.
 */
export async function loadSquad2(datasetPath: string, options: LoaderOptions = {}): Promise<GenerativeTask> {
  const limit = resolveLimit(options);
  const source: DatasetSource = { path: datasetPath, format };
  const items = datasetPath.endsWith('.jsonl') ? await huggingFaceItems(source, limit) : await officialItems(source, limit);
  return { name: 'squad2', kind: 'generative', items };
}

async function officialItems(source: DatasetSource, limit: number): Promise<GenerativeItem[]> {
  const root = DatasetRecord.from(await parseJsonFile(source), { source, index: 0, noun: 'file' });
  const items: GenerativeItem[] = [];
  // Structural errors above the question level are reported at the next question's index.
  const location = (): RecordLocation => ({ source, index: items.length, noun: 'question' });
  const articles = root.list('data');
  for (let a = 0; a < articles.length && items.length < limit; a++) {
    const article = DatasetRecord.from(articles[a], location(), `data[${a}]`);
    const title = article.string('title', { allowEmpty: true });
    const paragraphs = article.list('paragraphs');
    for (let p = 0; p < paragraphs.length && items.length < limit; p++) {
      const paragraph = DatasetRecord.from(paragraphs[p], location(), `data[${a}].paragraphs[${p}]`);
      const context = paragraph.string('context');
      const questions = paragraph.list('qas');
      for (let q = 0; q < questions.length && items.length < limit; q++) {
        const qa = DatasetRecord.from(questions[q], location(), `data[${a}].paragraphs[${p}].qas[${q}]`);
        const id = qa.string('id');
        qa.identify('id', id);
        const question = qa.string('question');
        const impossible = qa.has('is_impossible') ? qa.boolean('is_impossible') : false;
        const answers = qa.objectList('answers', { nonEmpty: !impossible });
        const answer = impossible ? squad2NoAnswer : (answers[0]?.string('text') ?? squad2NoAnswer);
        items.push({ id, prompt: squad2Prompt(title, context, question), answer });
      }
    }
  }
  return items;
}

async function huggingFaceItems(source: DatasetSource, limit: number): Promise<GenerativeItem[]> {
  const lines = await parseJsonLines(source, limit);
  return lines.map(({ value, line }, index) => {
    const record = DatasetRecord.from(value, { source, index, line });
    const id = record.string('id');
    record.identify('id', id);
    // An empty list is how the Hugging Face export marks an unanswerable question.
    const texts = record.object('answers').stringList('text');
    return { id, prompt: squad2Prompt(record.string('title', { allowEmpty: true }), record.string('context'), record.string('question')), answer: texts[0] ?? squad2NoAnswer };
  });
}
