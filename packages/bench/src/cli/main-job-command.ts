import { existsSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { MissingArtifactError } from '@recipe-kit/core';
import { editorNames } from '../editors/editor-registry.js';
import { runEvaluation } from '../evaluation/run-evaluation.js';
import { pretrain } from '../pretraining/pretrain.js';
import { readRuns, renderReportMarkdown, writeReport } from '../report/index.js';
import { optionalNumber, type Command } from './command.js';

const repositoryRoot = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../../../..');

/** The committed embedded default and the exact command that made it (also in its README). */
export const SYNTHETIC_MODEL = {
  directory: path.join(repositoryRoot, 'models', 'synthetic-llama'),
  pretrainArguments: ['--arch', 'llama', '--corpus', 'synthetic', '--out', 'models/synthetic-llama', '--steps', '1500', '--seed', '0'],
};

/**
 * The README's main job: the synthetic-world micro model (pretrained here if absent), the lifelong
 * protocol with every registered editor on counterfactual synthetic edits, a table and a report.
 */
export const mainJobCommand: Command = {
  name: 'main',
  summary: 'The main job: lifelong editing of the synthetic-world micro model with every editor; prints the table and the report path.',
  usage: 'recipe-kit main [--out DIR] [--cases N]',
  options: { out: { type: 'string' }, cases: { type: 'string' } },
  async run(values, io) {
    const out = path.resolve(typeof values['out'] === 'string' ? values['out'] : path.join(repositoryRoot, 'runs', 'main'));
    const cases = optionalNumber(values, 'cases', { integer: true, min: 10 }) ?? 100;
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
    const runDirectories: string[] = [];
    for (const editor of editorNames()) {
      for (const edits of [1, 10, 100].filter((t) => t <= cases)) {
        const directory = path.join(out, `${editor}-T${edits}`);
        const ran = await runEvaluation({
          editor,
          model,
          dataset: 'synthetic',
          data: path.join(model, 'synthetic-edits.json'),
          protocol: 'lifelong',
          edits,
          limit: cases,
          seed: 0,
          out: directory,
          command: `recipe-kit eval --editor ${editor} --model ${path.relative(process.cwd(), model) || '.'} --dataset synthetic --data ${path.relative(process.cwd(), path.join(model, 'synthetic-edits.json'))} --protocol lifelong --edits ${edits} --limit ${cases} --seed 0 --out ${path.relative(process.cwd(), directory)}`,
          log: io.log,
        }).then(
          () => true,
          (error: unknown) => {
            // An editor whose trained artefact is missing (e.g. models/synthetic-llama/recipe deleted) is skipped, visibly.
            if (!(error instanceof MissingArtifactError)) throw error;
            io.log(`main: skipping the ${editor} editor: ${error.message}`);
            return false;
          },
        );
        if (!ran) break;
        runDirectories.push(directory);
      }
    }
    const report = await writeReport(runDirectories, path.join(out, 'report.html'), { title: 'recipe-kit main job: lifelong editing of the synthetic-world micro LLaMA' });
    io.out(renderReportMarkdown(await readRuns(runDirectories)));
    io.out(`report: ${report.file}`);
  },
};
