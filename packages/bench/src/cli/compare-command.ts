import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { InvalidInputError } from '@recipe-kit/core';
import { readCompareConfig, type CompareConfig } from '../compare/compare-config.js';
import { runCompare } from '../compare/run-compare.js';
import { optionalNumber, requireString, type Command, type CommandIo, type ParsedValues } from './command.js';

export const repositoryRoot = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../../../..');

/** Flags shared by `compare` and `main`. */
export const compareRunOptions = {
  out: { type: 'string' },
  fresh: { type: 'boolean' },
  limit: { type: 'string' },
  'skip-efficiency': { type: 'boolean' },
  editors: { type: 'string' },
  edits: { type: 'string' },
  'finished-only': { type: 'boolean' },
} as const;

/** Runs a compare config with the command-line overrides, then prints the tables and the report path. */
export async function compareFromCommandLine(configFile: string, values: ParsedValues, io: CommandIo, overrides: Partial<Pick<CompareConfig, 'limit'>> = {}): Promise<void> {
  const config = await readCompareConfig(configFile, repositoryRoot);
  const limit = optionalNumber(values, 'limit', { integer: true, min: 1 }) ?? overrides.limit;
  if (limit !== undefined) config.limit = limit;
  if (values['skip-efficiency'] === true) delete config.efficiency;
  const name = path.basename(configFile).replace(/\.json$/, '');
  const out = typeof values['out'] === 'string' ? values['out'] : path.join(repositoryRoot, 'runs', name);
  const started = performance.now();
  const only = typeof values['editors'] === 'string' ? commaList(values['editors']) : undefined;
  const onlyEdits = typeof values['edits'] === 'string' ? parseEditsFilter(values['edits'], config.edits) : undefined;
  const result = await runCompare({ config, out, fresh: values['fresh'] === true, repositoryRoot, log: io.log, finishedOnly: values['finished-only'] === true, ...(only ? { onlyEditors: only } : {}), ...(onlyEdits ? { onlyEdits } : {}) });
  io.out(result.markdown);
  if (result.skipped.length > 0) io.out(`Not run: ${result.skipped.map((entry) => `${entry.editor} (${entry.reason.split('\n')[0] ?? ''})`).join('; ')}\n`);
  if (result.report !== '') io.out(`report: ${result.report}`);
  io.log(`compare: finished in ${((performance.now() - started) / 1000).toFixed(0)} s`);
}

/** The non-empty, trimmed items of a comma-separated flag value. */
function commaList(text: string): string[] {
  return text.split(',').map((item) => item.trim()).filter((item) => item !== '');
}

/** `--edits 1,10,100`: T values of the config to run now (the others are left for a later run). */
function parseEditsFilter(text: string, configured: readonly number[]): number[] {
  const values = commaList(text);
  const bad = values.find((value) => !configured.includes(Number(value)));
  if (values.length === 0 || bad !== undefined) {
    throw new InvalidInputError(`--edits ${text}: ${bad === undefined ? 'no T value given' : `T = ${bad} is not among the config's "edits"`}.`, `Pass T values of the config, comma-separated: ${configured.join(',')}.`);
  }
  return values.map(Number);
}

export const compareCommand: Command = {
  name: 'compare',
  summary: 'Run every registered editor under one protocol on one model and dataset (a JSON config); resumable; writes tables, plots and report.html.',
  usage: 'recipe-kit compare --config FILE [--out DIR] [--fresh] [--limit N] [--editors NAME,...] [--edits T,...] [--skip-efficiency] [--finished-only]',
  options: { config: { type: 'string' }, ...compareRunOptions },
  async run(values, io) {
    await compareFromCommandLine(requireString(values, 'config', this), values, io);
  },
};
