import { InvalidInputError, selectBackend } from '@recipe-kit/core';
import { RecipeEncoder } from '@recipe-kit/prompt-encoder';
import { loadEditDataset } from '../datasets/index.js';
import { writeCalibration } from '../recipe/train-recipe.js';
import { requireString, type Command } from './command.js';

export const calibrateRecipeCommand: Command = {
  name: 'calibrate-recipe',
  summary: 'Refit a RECIPE checkpoint\'s calibration.json (w/o-KS threshold, sentinel margin) on training edits.',
  usage: 'recipe-kit calibrate-recipe --checkpoint DIR --dataset NAME --data PATH [--split train|eval]',
  options: { checkpoint: { type: 'string' }, dataset: { type: 'string' }, data: { type: 'string' }, split: { type: 'string' } },
  async run(values, io) {
    const split = values['split'] ?? 'train';
    if (split !== 'train' && split !== 'eval') throw new InvalidInputError(`--split is "${String(split)}".`, 'Use --split train (default) or --split eval.');
    await selectBackend();
    const checkpoint = requireString(values, 'checkpoint', this);
    const requests = (await loadEditDataset(requireString(values, 'dataset', this), requireString(values, 'data', this), { split })).filter((r) => r.generality.length > 0 && r.locality.length > 0);
    const retriever = await RecipeEncoder.load(checkpoint);
    const calibration = await writeCalibration(retriever, requests, checkpoint);
    retriever.dispose();
    io.out(
      `threshold ${calibration.threshold.toFixed(3)} (TPR ${calibration.truePositiveRate.toFixed(3)}, TNR ${calibration.trueNegativeRate.toFixed(3)}); ` +
        `sentinel margin ${calibration.sentinelMargin.value.toFixed(3)} (TPR ${calibration.sentinelMargin.truePositiveRate.toFixed(3)}, TNR ${calibration.sentinelMargin.trueNegativeRate.toFixed(3)}; ` +
        `RECIPE's m = 0: TPR ${calibration.sentinelRule.truePositiveRate.toFixed(3)}, TNR ${calibration.sentinelRule.trueNegativeRate.toFixed(3)})`,
    );
  },
};
