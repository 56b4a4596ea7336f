import { InvalidInputError } from '@recipe-kit/core';
import { PROTOCOL_NAMES, type ProtocolName } from '../protocols/edit-protocol.js';
import { runEvaluation } from '../evaluation/run-evaluation.js';
import { summaryMarkdown } from '../evaluation/summarize.js';
import { optionalNumber, requireString, type Command } from './command.js';

function parsePairs(flag: string, values: readonly string[], example: string): Record<string, string> {
  const pairs: Record<string, string> = {};
  for (const value of values) {
    const separator = value.indexOf('=');
    if (separator <= 0) throw new InvalidInputError(`--${flag} "${value}" is not KEY=VALUE.`, `Pass e.g. --${flag} ${example}`);
    pairs[value.slice(0, separator)] = value.slice(separator + 1);
  }
  return pairs;
}

export const evalCommand: Command = {
  name: 'eval',
  summary: 'Evaluate an editor under the single, batch or lifelong protocol; writes a run directory.',
  usage:
    'recipe-kit eval --editor NAME --model PATH [--tokenizer PATH] --dataset counterfact|zsre|ripe --data PATH [--split eval|train] --protocol lifelong|batch|single --edits T|all [--limit N] [--seed S] [--general NAME=PATH]... [--general-limit N] [--checkpoint DIR] [--editor-option KEY=VALUE]... [--skip-overlong] --out DIR',
  options: {
    editor: { type: 'string' },
    model: { type: 'string' },
    tokenizer: { type: 'string' },
    dataset: { type: 'string' },
    data: { type: 'string' },
    split: { type: 'string' },
    protocol: { type: 'string' },
    edits: { type: 'string' },
    limit: { type: 'string' },
    seed: { type: 'string' },
    general: { type: 'string', multiple: true },
    'general-limit': { type: 'string' },
    'batch-size': { type: 'string' },
    checkpoint: { type: 'string' },
    'editor-option': { type: 'string', multiple: true },
    'skip-overlong': { type: 'boolean' },
    out: { type: 'string' },
  },
  async run(values, io) {
    const protocol = (values['protocol'] ?? 'lifelong') as string;
    if (!(PROTOCOL_NAMES as readonly string[]).includes(protocol)) {
      throw new InvalidInputError(`--protocol is "${protocol}".`, `Use one of: ${PROTOCOL_NAMES.join(', ')}.`);
    }
    const split = values['split'];
    if (split !== undefined && split !== 'eval' && split !== 'train') {
      throw new InvalidInputError(`--split is "${String(split)}".`, 'Use --split eval or --split train.');
    }
    const limit = optionalNumber(values, 'limit', { integer: true, min: 1 });
    const generalLimit = optionalNumber(values, 'general-limit', { integer: true, min: 1 });
    const batchSize = optionalNumber(values, 'batch-size', { integer: true, min: 1 });
    const general = values['general'] as unknown as string[] | undefined;
    const tokenizer = values['tokenizer'];
    const checkpoint = values['checkpoint'];
    const editorOptions = values['editor-option'] as unknown as string[] | undefined;
    const { summary } = await runEvaluation({
      editor: requireString(values, 'editor', this),
      model: requireString(values, 'model', this),
      ...(typeof tokenizer === 'string' ? { tokenizer } : {}),
      dataset: requireString(values, 'dataset', this),
      data: requireString(values, 'data', this),
      ...(split ? { split } : {}),
      protocol: protocol as ProtocolName,
      edits: values['edits'] === 'all' ? 'all' : optionalNumber(values, 'edits', { integer: true, min: 1 }) ?? 10,
      ...(limit !== undefined ? { limit } : {}),
      seed: optionalNumber(values, 'seed', { integer: true, min: 0 }) ?? 0,
      out: requireString(values, 'out', this),
      ...(general ? { general: parsePairs('general', general, 'csqa=../shared/data/general/csqa/dev_rand_split.jsonl') } : {}),
      ...(typeof checkpoint === 'string' ? { checkpoint } : {}),
      ...(values['skip-overlong'] === true ? { skipOverlong: true } : {}),
      ...(editorOptions ? { editorOptions: parsePairs('editor-option', editorOptions, 'ablation=no-sentinel') } : {}),
      ...(generalLimit !== undefined ? { generalLimit } : {}),
      ...(batchSize !== undefined ? { batchSize } : {}),
      command: `recipe-kit ${process.argv.slice(2).join(' ')}`,
      log: io.log,
    });
    io.out(summaryMarkdown(summary));
  },
};
