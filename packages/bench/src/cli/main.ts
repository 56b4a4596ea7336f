#!/usr/bin/env node
import { RecipeKitError } from '@recipe-kit/core';
import { parseCommandArguments, type Command, type CommandIo } from './command.js';
import { demoCommand } from './demo-command.js';
import { evalCommand } from './eval-command.js';
import { generateCommand } from './generate-command.js';
import { mainJobCommand } from './main-job-command.js';
import { pretrainCommand } from './pretrain-command.js';
import { reportCommand } from '../report/report-command.js';
import { syntheticEditsCommand } from './synthetic-edits-command.js';
import { calibrateRecipeCommand } from './calibrate-recipe-command.js';
import { compareCommand } from './compare-command.js';
import { trainRecipeCommand } from './train-recipe-command.js';
import { trainMendCommand } from './train-mend-command.js';
import { trainMalmenCommand } from './train-malmen-command.js';
import { collectStatisticsCommand } from '../baselines/shared/collect-statistics-command.js';
import { trainLteCommand } from './train-lte-command.js';
import { calibrateRaseCommand } from './calibrate-rase-command.js';

/** Subcommands by name. */
const COMMANDS: readonly Command[] = [mainJobCommand, compareCommand, generateCommand, evalCommand, reportCommand, pretrainCommand, trainRecipeCommand, trainMendCommand, trainMalmenCommand, trainLteCommand, calibrateRaseCommand, calibrateRecipeCommand, collectStatisticsCommand, syntheticEditsCommand, demoCommand];

function help(): string {
  const lines = COMMANDS.map((command) => `  ${command.name.padEnd(10)} ${command.summary}\n      ${command.usage}`);
  return `recipe-kit: lifelong knowledge editing of language models\n\nCommands:\n${lines.join('\n')}\n`;
}

export async function runCli(argv: string[], io: CommandIo): Promise<number> {
  const [name, ...rest] = argv;
  if (name === undefined || name === '--help' || name === '-h' || name === 'help') {
    io.out(help());
    return name === undefined ? 2 : 0;
  }
  const command = COMMANDS.find((candidate) => candidate.name === name);
  if (!command) {
    io.log(`recipe-kit: unknown command "${name}".\n  → Use one of: ${COMMANDS.map((c) => c.name).join(', ')} (recipe-kit --help).`);
    return 2;
  }
  if (rest.includes('--help') || rest.includes('-h')) {
    io.out(`${command.summary}\nUsage: ${command.usage}`);
    return 0;
  }
  try {
    await command.run(parseCommandArguments(command, rest), io);
    return 0;
  } catch (error) {
    if (error instanceof RecipeKitError) {
      io.log(`recipe-kit ${command.name}: ${error.message}`);
      return 2;
    }
    throw error;
  }
}

const invokedDirectly = process.argv[1] !== undefined && import.meta.url.endsWith(process.argv[1].replace(/\\/g, '/'));
if (invokedDirectly || process.argv[1]?.endsWith('recipe-kit')) {
  const io: CommandIo = { out: (text) => process.stdout.write(`${text}\n`), log: (text) => process.stderr.write(`${text}\n`) };
  runCli(process.argv.slice(2), io).then(
    (code) => {
      process.exitCode = code;
    },
    (error: unknown) => {
      process.stderr.write(`recipe-kit: unexpected error: ${(error as Error).stack ?? String(error)}\n`);
      process.exitCode = 1;
    },
  );
}
