import { InvalidInputError } from '@recipe-kit/core';
import { calibrateRase } from '../baselines/rase/calibrate-rase.js';
import { optionalNumber, requireString, type Command } from './command.js';

export const calibrateRaseCommand: Command = {
  name: 'calibrate-rase',
  summary: 'RASE\'s prerequisites: fit its fact encoder and recalibrate its retrieval decision rule on a training split.',
  usage: 'recipe-kit calibrate-rase --model DIR --dataset counterfact|zsre|synthetic --data PATH [--split train|eval] [--limit 1000] [--top-k 5] [--out DIR (default <model>/rase)]',
  options: { model: { type: 'string' }, dataset: { type: 'string' }, data: { type: 'string' }, split: { type: 'string' }, limit: { type: 'string' }, 'top-k': { type: 'string' }, out: { type: 'string' } },
  async run(values, io) {
    const split = values['split'];
    if (split !== undefined && split !== 'eval' && split !== 'train') throw new InvalidInputError(`--split is "${String(split)}".`, 'Use --split train (default) or --split eval.');
    const model = requireString(values, 'model', this);
    const limit = optionalNumber(values, 'limit', { integer: true, min: 2 });
    const topK = optionalNumber(values, 'top-k', { integer: true, min: 1 });
    const out = typeof values['out'] === 'string' ? values['out'] : `${model.replace(/\/+$/, '')}/rase`;
    const calibration = await calibrateRase({
      dataset: requireString(values, 'dataset', this),
      data: requireString(values, 'data', this),
      ...(split ? { split } : {}),
      ...(limit !== undefined ? { limit } : {}),
      ...(topK !== undefined ? { topK } : {}),
      out,
      command: `recipe-kit ${process.argv.slice(2).join(' ')}`,
    });
    const { max, diff, std } = calibration.thresholds;
    io.out(`RASE rule MAX > ${max} or (DIFF > ${diff} and STD > ${std}): TPR ${calibration.calibrated.truePositiveRate.toFixed(3)}, TNR ${calibration.calibrated.trueNegativeRate.toFixed(3)} (paper's thresholds: ${calibration.paper.truePositiveRate.toFixed(3)} / ${calibration.paper.trueNegativeRate.toFixed(3)}); wrote ${out}`);
  },
};
