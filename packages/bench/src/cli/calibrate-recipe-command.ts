import os from 'node:os';
import path from 'node:path';
import { InvalidInputError, selectBackend } from '@recipe-kit/core';
import { RecipeEncoder } from '@recipe-kit/prompt-encoder';
import { loadEditDataset } from '../datasets/index.js';
import { writeCalibration } from '../recipe/train-recipe.js';
import { fitMarginForLocality, parseMargins, writeLocalityMargin } from '../recipe/fit-margin-for-locality.js';
import { optionalNumber, requireString, type Command, type ParsedValues } from './command.js';

export const calibrateRecipeCommand: Command = {
  name: 'calibrate-recipe',
  summary: 'Refit a RECIPE checkpoint\'s calibration.json (w/o-KS threshold, sentinel margin) on training edits, or, with --target-locality, pick the sentinel margin that meets a locality target on validation edits.',
  usage:
    'recipe-kit calibrate-recipe --checkpoint DIR --dataset NAME --data PATH [--split train|eval]\n' +
    '       recipe-kit calibrate-recipe --checkpoint DIR --model DIR --dataset NAME --data VALIDATION --target-locality 0.98 [--confidence 0.95|0.9|0.99|0] [--margins=-2,-1.9,…,1] [--split train|eval] [--limit N] [--seed S] [--skip-overlong] [--runs DIR]',
  options: {
    checkpoint: { type: 'string' },
    dataset: { type: 'string' },
    data: { type: 'string' },
    split: { type: 'string' },
    model: { type: 'string' },
    'target-locality': { type: 'string' },
    confidence: { type: 'string' },
    margins: { type: 'string' },
    limit: { type: 'string' },
    seed: { type: 'string' },
    'skip-overlong': { type: 'boolean' },
    runs: { type: 'string' },
  },
  async run(values, io) {
    const split = values['split'] ?? 'train'; // never the eval split by default: a margin fitted on test edits flatters them
    if (split !== 'train' && split !== 'eval') throw new InvalidInputError(`--split is "${String(split)}".`, 'Use --split train (default) or --split eval.');
    await selectBackend();
    const checkpoint = requireString(values, 'checkpoint', this);
    if (values['target-locality'] !== undefined) {
      await fitLocalityMarginCommand(values, checkpoint, split, io.out, io.log);
      return;
    }
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

/** `--target-locality`: the lifelong sweep over margins on validation edits; writes calibration.json's localityMargin. */
async function fitLocalityMarginCommand(values: ParsedValues, checkpoint: string, split: 'eval' | 'train', out: (line: string) => void, log: (line: string) => void): Promise<void> {
  const usage = calibrateRecipeCommand;
  const targetLocality = optionalNumber(values, 'target-locality', { min: 0, max: 1 }) ?? Number.NaN;
  const margins = parseMargins(typeof values['margins'] === 'string' ? values['margins'] : undefined);
  const limit = optionalNumber(values, 'limit', { integer: true, min: 1 });
  const data = requireString(values, 'data', usage);
  const fit = await fitMarginForLocality({
    model: requireString(values, 'model', usage),
    checkpoint,
    dataset: requireString(values, 'dataset', usage),
    data,
    split,
    ...(limit !== undefined ? { limit } : {}),
    margins,
    targetLocality,
    confidence: optionalNumber(values, 'confidence', { min: 0, max: 1 }) ?? 0.95,
    seed: optionalNumber(values, 'seed', { integer: true, min: 0 }) ?? 0,
    runs: typeof values['runs'] === 'string' ? values['runs'] : path.join(os.tmpdir(), `recipe-margin-sweep-${process.pid}`),
    ...(values['skip-overlong'] === true ? { skipOverlong: true } : {}),
    log,
  });
  const file = await writeLocalityMargin(checkpoint, fit);
  const chosen = fit.sweep.find((point) => point.margin === fit.value);
  out(
    `sentinel margin ${fit.value} for locality ≥ ${fit.targetLocality} at confidence ${fit.confidence} on ${fit.data.cases} validation edits (T = ${fit.data.cases}): ` +
      `reliability ${chosen?.reliability.toFixed(4)}, generality ${chosen?.generality.toFixed(4)}, locality ${chosen?.locality.toFixed(4)} (lower bound ${chosen?.localityLowerBound.toFixed(4)}); wrote ${file} (use --editor-option sentinel-margin=validated)`,
  );
}
