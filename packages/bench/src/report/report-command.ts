import { InvalidInputError } from '@recipe-kit/core';
import type { Command, ParsedValues } from '../cli/command.js';
import { writeReport } from './write-report.js';

/** Key under which `parseCommandArguments` hands over positional arguments (see `positionals` below). */
const RUN_DIRECTORIES = 'runDirectories';

function strings(value: unknown): string[] {
  if (typeof value === 'string') return [value];
  if (Array.isArray(value)) return value.filter((item): item is string => typeof item === 'string');
  return [];
}

/** Run directories from positionals (when the CLI passes them) and from repeated --run flags. */
export function reportRunDirectories(values: ParsedValues): string[] {
  const record = values as Record<string, unknown>;
  return [...strings(record[RUN_DIRECTORIES]), ...strings(record['run'])];
}

export const reportCommand: Command & { positionals: string } = {
  name: 'report',
  summary: 'Write an HTML report (paper-style tables, plots, provenance) from `recipe-kit eval` run directories.',
  usage: 'recipe-kit report RUN_DIR... [--out FILE.html|FILE.md] [--title TEXT] [--editor-order A,B,...]',
  /** Positional arguments go to values[positionals] as string[] (for CLIs that support it). */
  positionals: RUN_DIRECTORIES,
  options: {
    run: { type: 'string', multiple: true },
    out: { type: 'string' },
    title: { type: 'string' },
    'editor-order': { type: 'string' },
  },
  async run(values, io) {
    const directories = reportRunDirectories(values);
    if (directories.length === 0) {
      throw new InvalidInputError('recipe-kit report needs at least one run directory.', `Usage: ${this.usage}`);
    }
    const out = typeof values['out'] === 'string' && values['out'] !== '' ? values['out'] : undefined;
    const title = typeof values['title'] === 'string' ? values['title'] : undefined;
    const order = typeof values['editor-order'] === 'string' ? values['editor-order'].split(',').map((name) => name.trim()).filter((name) => name !== '') : undefined;
    const report = await writeReport(directories, out, { ...(title !== undefined ? { title } : {}), ...(order !== undefined ? { editorOrder: order } : {}) });
    io.log(`read ${report.runs.length} run${report.runs.length === 1 ? '' : 's'}`);
    io.out(report.file);
  },
};
