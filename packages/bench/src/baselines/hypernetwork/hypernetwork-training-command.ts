import { InvalidInputError } from '@recipe-kit/core';
import { optionalNumber, requireString, type Command } from '../../cli/command.js';
import type { HypernetworkMethodDefinition } from './hypernetwork-method.js';
import { trainHypernetwork } from './train-hypernetwork.js';

const STRING_FLAGS = ['model', 'tokenizer', 'dataset', 'data', 'split', 'limit', 'steps', 'out', 'edits-per-step', 'lr', 'scalar-lr', 'edit-weight', 'locality-weight', 'clip', 'layers', 'rank', 'blocks', 'seed', 'checkpoint-every', 'log-every'];

/** The `recipe-kit train-<method>` command of a hypernetwork method (flags default to the method's settings). */
export function hypernetworkTrainingCommand(definition: HypernetworkMethodDefinition, summary: string): Command {
  const { method, training } = definition;
  return {
    name: `train-${method}`,
    summary,
    usage: `recipe-kit train-${method} --model DIR [--tokenizer PATH] --dataset counterfact|zsre|synthetic --data PATH [--split train] [--limit N] --steps N --out DIR [--edits-per-step ${training.editsPerStep}] [--lr ${training.learningRate}] [--scalar-lr ${training.scalarLearningRate}] [--edit-weight ${training.editWeight}] [--locality-weight ${training.localityWeight}] [--clip ${training.clipNorm}] [--layers N] [--rank N] [--blocks N] [--seed ${training.seed}] [--checkpoint-every 100] [--log-every 10] [--no-resume]`,
    options: {
      ...Object.fromEntries(STRING_FLAGS.map((name) => [name, { type: 'string' as const }])),
      'no-resume': { type: 'boolean' },
    },
    async run(values, io) {
      const split = values['split'];
      if (split !== undefined && split !== 'train' && split !== 'eval') throw new InvalidInputError(`--split is "${String(split)}".`, 'Use --split train (the default; never train on the eval edits).');
      const number = (name: string, options: { integer?: boolean; min?: number; max?: number }): number | undefined => optionalNumber(values, name, options);
      const integer = (name: string, min = 1): number | undefined => number(name, { integer: true, min });
      const limit = integer('limit');
      const tokenizer = values['tokenizer'];
      const hyperparameters = Object.fromEntries(
        [
          ['editsPerStep', integer('edits-per-step')],
          ['learningRate', number('lr', { min: 1e-12, max: 1 })],
          ['scalarLearningRate', number('scalar-lr', { min: 0, max: 1 })],
          ['editWeight', number('edit-weight', { min: 0 })],
          ['localityWeight', number('locality-weight', { min: 0 })],
          ['clipNorm', number('clip', { min: 1e-9 })],
          ['seed', integer('seed', 0)],
        ].filter(([, value]) => value !== undefined),
      );
      const network = Object.fromEntries([['layers', integer('layers')], ['rank', integer('rank')], ['blocks', integer('blocks')]].filter(([, value]) => value !== undefined));
      const result = await trainHypernetwork(definition, {
        model: requireString(values, 'model', this),
        ...(typeof tokenizer === 'string' ? { tokenizer } : {}),
        dataset: requireString(values, 'dataset', this),
        data: requireString(values, 'data', this),
        ...(split ? { split } : {}),
        ...(limit !== undefined ? { limit } : {}),
        steps: integer('steps') ?? 1000,
        out: requireString(values, 'out', this),
        resume: values['no-resume'] !== true,
        checkpointEvery: integer('checkpoint-every') ?? 100,
        logEvery: integer('log-every') ?? 10,
        network,
        hyperparameters,
        command: `recipe-kit ${process.argv.slice(2).join(' ')}`,
        log: io.log,
      });
      io.out(`trained ${result.steps} steps in ${(result.seconds / 60).toFixed(1)} min; final loss ${result.final['loss']?.toFixed(4)}, edit token accuracy ${result.final['editAccuracy']?.toFixed(3)}, locality agreement ${result.final['localityAgreement']?.toFixed(3)}`);
    },
  };
}
