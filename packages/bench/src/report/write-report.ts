import { mkdir, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { InvalidInputError } from '@recipe-kit/core';
import { commonParent } from './common-parent.js';
import { readRuns, type EvalRun } from './read-runs.js';
import { renderReportHtml, renderReportMarkdown, type ReportOptions } from './render-report.js';

export interface WrittenReport {
  /** Absolute path of the written file. */
  file: string;
  format: 'html' | 'markdown';
  runs: EvalRun[];
}

/** Where the report goes by default: report.html in the run directory, or in the runs' common parent. */
export function defaultReportFile(runDirectories: readonly string[]): string {
  const unique = [...new Set(runDirectories.map((directory) => path.resolve(directory)))];
  return path.join(commonParent(unique), 'report.html');
}

/**
 * Reads run directories written by `recipe-kit eval` and writes one report: self-contained HTML,
 * or the main tables as Markdown when `outFile` ends in `.md`.
 */
export async function writeReport(runDirectories: readonly string[], outFile?: string, options: ReportOptions = {}): Promise<WrittenReport> {
  const runs = await readRuns(runDirectories);
  const file = path.resolve(outFile ?? defaultReportFile(runDirectories));
  const format = /\.(md|markdown)$/i.test(file) ? 'markdown' : 'html';
  const text = format === 'markdown' ? renderReportMarkdown(runs, options) : renderReportHtml(runs, options);
  try {
    await mkdir(path.dirname(file), { recursive: true });
    await writeFile(file, text, 'utf8');
  } catch (error) {
    throw new InvalidInputError(`Cannot write the report to ${file}: ${(error as Error).message}.`, 'Pass --out with a writable path.', { cause: error });
  }
  return { file, format, runs };
}
