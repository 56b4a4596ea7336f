import { InvalidInputError, type EditRequest, type Editor } from '@recipe-kit/core';
import { computeLocalityReference, scoreEditCases, type CaseScores } from '../metrics/edit-metrics.js';
import { seededShuffle } from './seeded-shuffle.js';

/**
 * One meaning each:
 * - `single`: per case, restore, edit it alone, score it (T = 1).
 * - `batch`: per chunk of T, restore, apply all T edits in one `edit` call, score all T.
 * - `lifelong`: per chunk of T, restore, apply the T edits one by one, then score all T on the final model.
 * In every protocol the locality reference is computed on the restored (unedited) model before the
 * chunk's first edit, and the chunks come from a seeded shuffle; an incomplete last chunk is dropped.
 */
export type ProtocolName = 'single' | 'batch' | 'lifelong';
export const PROTOCOL_NAMES: readonly ProtocolName[] = ['single', 'batch', 'lifelong'];

export interface ProtocolOptions {
  protocol: ProtocolName;
  /** Edits per chunk (T); forced to 1 for `single`. */
  edits: number;
  seed: number;
  batchSize?: number;
  /** Runs on the edited model after each chunk is scored, before the next restore (general-ability tests). */
  afterChunk?: (chunk: number) => Promise<void> | void;
  /** Progress: called after each edit and after each chunk is scored. */
  onProgress?: (event: ProgressEvent) => void;
  /** Chunks before this index are skipped (a resumed run already holds their results; chunks are independent). */
  firstChunk?: number;
  /** Called with each chunk's cases and query timing as soon as it is scored, before `afterChunk` (for durable, resumable writes). */
  onChunkScored?: (chunk: number, cases: readonly CaseResult[], timing: { probes: number; seconds: number }) => Promise<void> | void;
}

export type ProgressEvent =
  | { kind: 'edit'; chunk: number; done: number; total: number }
  | { kind: 'scored'; chunk: number; chunks: number };

export interface CaseResult extends CaseScores {
  caseId: string;
  chunk: number;
  /** Seconds this case's edit took (for `batch`, the chunk's edit time divided by T). */
  editSeconds: number;
}

export interface ProtocolResult {
  cases: CaseResult[];
  chunks: number;
  /** Seconds per scored probe (reliability, generality and locality probes together). */
  querySecondsMean: number;
}

export function chunkRequests(requests: readonly EditRequest[], edits: number, seed: number): EditRequest[][] {
  if (!Number.isInteger(edits) || edits < 1) {
    throw new InvalidInputError(`The number of edits per chunk must be a positive integer, got ${edits}.`, 'Pass e.g. --edits 10.');
  }
  if (requests.length < edits) {
    throw new InvalidInputError(
      `A chunk needs ${edits} edits but the dataset has only ${requests.length} cases.`,
      'Lower --edits, or raise --limit / use a larger dataset.',
    );
  }
  const shuffled = seededShuffle(requests, seed);
  const chunks: EditRequest[][] = [];
  for (let start = 0; start + edits <= shuffled.length; start += edits) chunks.push(shuffled.slice(start, start + edits));
  return chunks;
}

export async function runEditProtocol(editor: Editor, requests: readonly EditRequest[], options: ProtocolOptions): Promise<ProtocolResult> {
  const edits = options.protocol === 'single' ? 1 : options.edits;
  const chunks = chunkRequests(requests, edits, options.seed);
  const cases: CaseResult[] = [];
  let querySeconds = 0;
  let probes = 0;
  for (const [chunkIndex, chunk] of chunks.entries()) {
    if (chunkIndex < (options.firstChunk ?? 0)) continue;
    await editor.restore();
    const reference = await computeLocalityReference(editor, chunk, options.batchSize);
    const editSeconds: number[] = [];
    if (options.protocol === 'batch') {
      const started = performance.now();
      await editor.edit(chunk);
      const perEdit = (performance.now() - started) / 1000 / chunk.length;
      chunk.forEach(() => editSeconds.push(perEdit));
      options.onProgress?.({ kind: 'edit', chunk: chunkIndex, done: chunk.length, total: chunk.length });
    } else {
      for (const [i, request] of chunk.entries()) {
        const started = performance.now();
        await editor.edit([request]);
        editSeconds.push((performance.now() - started) / 1000);
        options.onProgress?.({ kind: 'edit', chunk: chunkIndex, done: i + 1, total: chunk.length });
      }
    }
    const scored = await scoreEditCases(editor, chunk, reference, options.batchSize);
    querySeconds += scored.seconds;
    probes += scored.probes;
    const chunkCases = scored.cases.map((scores, i) => ({ caseId: (chunk[i] as EditRequest).id, chunk: chunkIndex, editSeconds: editSeconds[i] as number, ...scores }));
    cases.push(...chunkCases);
    await options.onChunkScored?.(chunkIndex, chunkCases, { probes: scored.probes, seconds: scored.seconds });
    options.onProgress?.({ kind: 'scored', chunk: chunkIndex, chunks: chunks.length });
    await options.afterChunk?.(chunkIndex);
  }
  await editor.restore();
  return { cases, chunks: chunks.length, querySecondsMean: probes === 0 ? 0 : querySeconds / probes };
}
