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

  /**
   * Refuses a directory that holds another computation (finished or not) rather than mixing results.
   * `params` (what this cell would record in params.json) lets the error name which recorded setting differs.
   */
  async checkKey(key: string, params: Record<string, unknown> = {}): Promise<void> {
    const paramsFile = path.join(this.directory, PARAMS);
    if (!existsSync(paramsFile)) return;
    const saved = JSON.parse(await readFile(paramsFile, 'utf8')) as Record<string, unknown> & { compareCell?: { key?: unknown } };
    if (saved.compareCell?.key !== key) {
      const differences = describeDifferences(saved, params);
      throw new InvalidInputError(
        `${this.directory} holds a cell computed with other settings (${differences.length > 0 ? differences.join('; ') : 'the case selection or general-ability tasks differ'}).`,
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
    await this.checkKey(key, params);
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

/** The recorded settings a cell's key covers, in params.json's shape, with how to name each in an error. */
const RECORDED_SETTINGS: ReadonlyArray<{ label: string; path: readonly string[]; hint?: string }> = [
  { label: 'the model', path: ['model', 'sha256'], hint: 'the files at the top of the model directory changed; data files and artefacts belong in subfolders' },
  { label: 'the data', path: ['dataset', 'sha256'] },
  { label: 'the number of cases', path: ['dataset', 'cases'] },
  { label: 'the protocol', path: ['protocol'] },
  { label: 'T', path: ['edits'] },
  { label: 'the seed', path: ['seed'] },
  { label: 'the editor', path: ['editorName'] },
  { label: 'the editor options', path: ['editorOptions'] },
  { label: 'the checkpoint', path: ['checkpoint'] },
];

/** "the model: sha256 c3bd3415… then, sha256 7d2a5d35… now (hint)" for each recorded setting present in both and different. */
function describeDifferences(saved: Record<string, unknown>, current: Record<string, unknown>): string[] {
  const at = (value: unknown, keys: readonly string[]): unknown => keys.reduce<unknown>((node, name) => (node !== null && typeof node === 'object' ? (node as Record<string, unknown>)[name] : undefined), value);
  const shown = (value: unknown, isHash: boolean): string => (isHash && typeof value === 'string' ? `sha256 ${value.slice(0, 8)}…` : JSON.stringify(value));
  const differences: string[] = [];
  for (const setting of RECORDED_SETTINGS) {
    const before = at(saved, setting.path);
    const now = at(current, setting.path);
    if (before === undefined || now === undefined || JSON.stringify(before) === JSON.stringify(now)) continue;
    const isHash = setting.path.at(-1) === 'sha256';
    differences.push(`${setting.label}: ${shown(before, isHash)} then, ${shown(now, isHash)} now${setting.hint ? ` (${setting.hint})` : ''}`);
  }
  return differences;
}
