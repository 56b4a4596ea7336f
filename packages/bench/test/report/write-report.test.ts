import { existsSync, mkdirSync, readFileSync } from 'node:fs';
import path from 'node:path';
import { InvalidInputError } from '@recipe-kit/core';
import { describe, expect, it } from 'vitest';
import type { CommandIo } from '../../src/cli/command.js';
import { commonParent } from '../../src/report/common-parent.js';
import { reportCommand } from '../../src/report/report-command.js';
import { defaultReportFile, writeReport } from '../../src/report/write-report.js';
import { scratchDirectory, writeSyntheticRun } from './synthetic-runs.js';

function captureIo(): CommandIo & { stdout: string[]; stderr: string[] } {
  const stdout: string[] = [];
  const stderr: string[] = [];
  return { stdout, stderr, out: (text) => stdout.push(text), log: (text) => stderr.push(text) };
}

describe('writeReport', () => {
  it('writes report.html into a single run directory by default', async () => {
    const directory = writeSyntheticRun(scratchDirectory(), { editor: 'recipe', edits: 1 });
    const written = await writeReport([directory]);
    expect(written.file).toBe(path.join(directory, 'report.html'));
    expect(written.format).toBe('html');
    expect(readFileSync(written.file, 'utf8')).toContain('data-table="main"');
  });

  it('writes into the common parent of several run directories, or where --out says; .md gives Markdown', async () => {
    const root = scratchDirectory();
    const a = writeSyntheticRun(path.join(root, 'zsre'), { editor: 'none', edits: 1 });
    const b = writeSyntheticRun(path.join(root, 'zsre'), { editor: 'recipe', edits: 1 });
    const c = writeSyntheticRun(path.join(root, 'cf'), { editor: 'recipe', edits: 1, dataset: 'counterfact' });
    expect(defaultReportFile([a, b])).toBe(path.join(root, 'zsre', 'report.html'));
    expect((await writeReport([a, b, c])).file).toBe(path.join(root, 'report.html'));
    const markdown = await writeReport([a, b], path.join(root, 'out', 'table.md'));
    expect(markdown.format).toBe('markdown');
    expect(readFileSync(markdown.file, 'utf8')).toContain('| Editor | Rel. (T=1) |');
  });

  it('finds the common parent by whole path segments', () => {
    expect(commonParent(['/a/run-10', '/a/run-100'])).toBe('/a');
    expect(commonParent(['/a/b/c'])).toBe('/a/b/c');
    expect(commonParent(['/a', '/b'])).toBe('/');
  });

  it('writes nothing when a run directory is invalid', async () => {
    const root = scratchDirectory();
    const good = writeSyntheticRun(root, { editor: 'recipe', edits: 1 });
    const empty = path.join(root, 'empty');
    mkdirSync(empty);
    await expect(writeReport([good, empty])).rejects.toThrow(/has no summary\.json/);
    expect(existsSync(path.join(root, 'report.html'))).toBe(false);
  });
});

describe('reportCommand', () => {
  it('takes run directories as positionals (handed over under its `positionals` key) or --run, and prints the file', async () => {
    const root = scratchDirectory();
    const a = writeSyntheticRun(root, { editor: 'none', edits: 1 });
    const b = writeSyntheticRun(root, { editor: 'recipe', edits: 1 });
    const io = captureIo();
    const out = path.join(root, 'paper.html');
    await reportCommand.run({ [reportCommand.positionals]: [a] as unknown as string, run: [b] as unknown as string, out, title: 'Paper' }, io);
    expect(io.stdout).toEqual([out]);
    expect(io.stderr).toEqual(['read 2 runs']);
    expect(readFileSync(out, 'utf8')).toContain('<h1>Paper</h1>');
  });

  it('asks for a run directory when none is given', async () => {
    const error = await reportCommand.run({}, captureIo()).catch((caught: unknown) => caught);
    expect(error).toBeInstanceOf(InvalidInputError);
    expect((error as Error).message).toMatch(/needs at least one run directory[\s\S]*Usage: recipe-kit report RUN_DIR/);
  });
});
