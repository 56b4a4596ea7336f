import { existsSync } from 'node:fs';
import { mkdir, readFile } from 'node:fs/promises';
import path from 'node:path';
import { InvalidInputError } from '@recipe-kit/core';
import type { CaseResult } from '../protocols/edit-protocol.js';
import { appendDurably, readJsonLines, writeAtomically } from './durable-files.js';

/** What is recorded once a chunk is scored (its cases are in cases.jsonl, written just before). */
export interface ChunkRecord {
  chunk: number;
  cases: number;
  probes: number;
  querySeconds: number;
  /** General-ability scores on the model right after this chunk's edits, where measured. */
  general?: Record<string, number>;
}

export interface CellProgress {
  /** Chunk records 0..k-1 (a resumed cell continues at chunk k). */
  chunks: ChunkRecord[];
  cases: CaseResult[];
}

const CASES = 'cases.jsonl';
const CHUNKS = 'chunks.jsonl';
const PARAMS = 'params.json';
const SUMMARY = 'summary.json';

/**
 * The files of one (editor, T) cell of a comparison. Each chunk's cases are appended to cases.jsonl
 * and then its record to chunks.jsonl, each with fsync, so an interrupted cell resumes after its
 * last recorded chunk; summary.json is written last, atomically, and marks the cell finished.
 */
export class CellStore {
  constructor(readonly directory: string) {}

  /** Refuses a directory that holds another computation (finished or not) rather than mixing results. */
  async checkKey(key: string): Promise<void> {
    const paramsFile = path.join(this.directory, PARAMS);
    if (!existsSync(paramsFile)) return;
    const saved = JSON.parse(await readFile(paramsFile, 'utf8')) as { compareCell?: { key?: unknown } };
    if (saved.compareCell?.key !== key) {
      throw new InvalidInputError(
        `${this.directory} holds a cell computed with other settings (model, data, editor options, T, limit or seed differ).`,
        'Run into a fresh --out directory, or pass --fresh to discard the earlier results.',
      );
    }
  }

  get finished(): boolean {
    return existsSync(path.join(this.directory, SUMMARY));
  }

  /**
   * Prepares the cell: a new one gets params.json; an interrupted one keeps its recorded chunks
   * (a torn tail and the cases of an unrecorded chunk are dropped). `key` identifies what the cell
   * computes; a directory holding another computation is refused rather than mixed.
   */
  async open(key: string, params: Record<string, unknown>): Promise<CellProgress> {
    await mkdir(this.directory, { recursive: true });
    const paramsFile = path.join(this.directory, PARAMS);
    await this.checkKey(key);
    const corrupt = (file: string) => (line: number, text: string): never => {
      throw new InvalidInputError(`${path.join(this.directory, file)} line ${line} is not JSON: ${text.slice(0, 60)}.`, 'Delete the cell directory to recompute it.');
    };
    const records = (await readJsonLines(path.join(this.directory, CHUNKS), corrupt(CHUNKS))) as ChunkRecord[];
    // Chunks run in order; keep the contiguous prefix 0..k-1.
    const chunks: ChunkRecord[] = [];
    for (const record of records) if (record.chunk === chunks.length) chunks.push(record);
    const cases = ((await readJsonLines(path.join(this.directory, CASES), corrupt(CASES))) as CaseResult[]).filter((c) => c.chunk < chunks.length);
    // Rewrite both files without dropped lines, so that later appends start on a clean line.
    await writeAtomically(path.join(this.directory, CHUNKS), lines(chunks));
    await writeAtomically(path.join(this.directory, CASES), lines(cases));
    await writeAtomically(paramsFile, `${JSON.stringify({ ...params, compareCell: { key } }, null, 2)}\n`);
    return { chunks, cases };
  }

  /** A chunk's cases, as soon as they are scored. */
  async appendCases(cases: readonly CaseResult[]): Promise<void> {
    await appendDurably(path.join(this.directory, CASES), lines(cases));
  }

  /** The chunk's record, after its cases (and its general-ability scores): from now on the chunk counts as done. */
  async appendRecord(record: ChunkRecord): Promise<void> {
    await appendDurably(path.join(this.directory, CHUNKS), lines([record]));
  }

  async finish(summary: unknown, markdown: string): Promise<void> {
    await writeAtomically(path.join(this.directory, 'summary.md'), markdown);
    await writeAtomically(path.join(this.directory, SUMMARY), `${JSON.stringify(summary, null, 2)}\n`);
  }
}

function lines(values: readonly unknown[]): string {
  return values.map((value) => `${JSON.stringify(value)}\n`).join('');
}
