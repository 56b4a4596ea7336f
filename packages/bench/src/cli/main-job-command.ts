import { existsSync } from 'node:fs';
import path from 'node:path';
import { pretrain } from '../pretraining/pretrain.js';
import { optionalNumber, type Command } from './command.js';
import { compareFromCommandLine, compareRunOptions, repositoryRoot } from './compare-command.js';

/** The committed embedded default and the exact command that made it (also in its README). */
export const SYNTHETIC_MODEL = {
  directory: path.join(repositoryRoot, 'models', 'synthetic-llama'),
  pretrainArguments: ['--arch', 'llama', '--corpus', 'synthetic', '--out', 'models/synthetic-llama', '--steps', '1500', '--seed', '0'],
};

/** The README's main job: `recipe-kit compare --config configs/main.json`. */
export const MAIN_CONFIG = path.join(repositoryRoot, 'configs', 'main.json');

/**
 * The README's main job: the comparison of configs/main.json (every registered editor, lifelong, on
 * the synthetic-world micro LLaMA, which is pretrained here first if absent), tables and report.
 */
export const mainJobCommand: Command = {
  name: 'main',
  summary: 'The main job: recipe-kit compare --config configs/main.json (pretrains the synthetic-world micro model first if absent).',
  usage: 'recipe-kit main [--out DIR] [--cases N] [--fresh] [--skip-efficiency]',
  options: { ...compareRunOptions, cases: { type: 'string' } },
  async run(values, io) {
    const model = SYNTHETIC_MODEL.directory;
    if (!existsSync(path.join(model, 'config.json'))) {
      io.log(`${model} is absent: pretraining it (recipe-kit pretrain ${SYNTHETIC_MODEL.pretrainArguments.join(' ')}), about 10 minutes on 2 cores.`);
      await pretrain({
        architecture: 'llama',
        corpus: 'synthetic',
        out: model,
        seed: 0,
        steps: 1500,
        batchSize: 32,
        learningRate: 3e-3,
        checkpointEvery: 250,
        command: `recipe-kit pretrain ${SYNTHETIC_MODEL.pretrainArguments.join(' ')}`,
        log: io.log,
      });
    }
    const cases = optionalNumber(values, 'cases', { integer: true, min: 1 });
    await compareFromCommandLine(MAIN_CONFIG, values, io, cases !== undefined ? { limit: cases } : {});
  },
};
