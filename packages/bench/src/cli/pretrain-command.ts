import { InvalidInputError } from '@recipe-kit/core';
import { pretrain } from '../pretraining/pretrain.js';
import { optionalNumber, requireString, type Command } from './command.js';

export const pretrainCommand: Command = {
  name: 'pretrain',
  summary: 'Pretrain a micro LLaMA-2 / GPT-J on a corpus so that it knows facts (resumable, deterministic).',
  usage:
    'recipe-kit pretrain --arch llama|gptj --corpus synthetic|counterfact [--data PATH] [--records N] --out DIR [--steps N] [--batch-size B] [--learning-rate LR] [--seed S] [--checkpoint-every N]',
  options: {
    arch: { type: 'string' },
    corpus: { type: 'string' },
    data: { type: 'string' },
    records: { type: 'string' },
    out: { type: 'string' },
    steps: { type: 'string' },
    'batch-size': { type: 'string' },
    'learning-rate': { type: 'string' },
    seed: { type: 'string' },
    'checkpoint-every': { type: 'string' },
  },
  async run(values, io) {
    const architecture = requireString(values, 'arch', this);
    if (architecture !== 'llama' && architecture !== 'gptj') {
      throw new InvalidInputError(`--arch is "${architecture}".`, 'Use --arch llama or --arch gptj.');
    }
    const records = optionalNumber(values, 'records', { integer: true, min: 1 });
    const data = values['data'];
    const result = await pretrain({
      architecture,
      corpus: requireString(values, 'corpus', this),
      ...(typeof data === 'string' ? { data } : {}),
      ...(records !== undefined ? { records } : {}),
      out: requireString(values, 'out', this),
      seed: optionalNumber(values, 'seed', { integer: true, min: 0 }) ?? 0,
      steps: optionalNumber(values, 'steps', { integer: true, min: 1 }) ?? 3000,
      batchSize: optionalNumber(values, 'batch-size', { integer: true, min: 1 }) ?? 32,
      learningRate: optionalNumber(values, 'learning-rate', { min: 1e-6, max: 1 }) ?? 3e-3,
      checkpointEvery: optionalNumber(values, 'checkpoint-every', { integer: true, min: 1 }) ?? 250,
      command: `recipe-kit ${process.argv.slice(2).join(' ')}`,
      log: io.log,
    });
    io.out(`final loss ${result.finalLoss.toFixed(4)} after ${(result.seconds / 60).toFixed(1)} min (${result.tokensPerSecond.toFixed(0)} tok/s)`);
    for (const accuracy of result.accuracies) {
      io.out(`${accuracy.name}: ${(100 * accuracy.exact).toFixed(1)}% exact, ${(100 * accuracy.token).toFixed(1)}% token accuracy (${accuracy.items} items)`);
    }
  },
};
