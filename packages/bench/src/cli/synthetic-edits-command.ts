import { writeFile } from 'node:fs/promises';
import { heldOutEditSplits, loadSyntheticWorld, syntheticEditsFormat } from '../synthetic-world/index.js';
import { optionalNumber, requireString, type Command } from './command.js';

export const syntheticEditsCommand: Command = {
  name: 'synthetic-edits',
  summary: 'Write train and held-out edit files on new people added to a synthetic world (for training RECIPE and lifelong runs up to T = 1000+).',
  usage: 'recipe-kit synthetic-edits --world FILE --train N --eval N [--seed S] --out-train FILE --out-eval FILE',
  options: {
    world: { type: 'string' },
    train: { type: 'string' },
    eval: { type: 'string' },
    seed: { type: 'string' },
    'out-train': { type: 'string' },
    'out-eval': { type: 'string' },
  },
  async run(values, io) {
    const world = await loadSyntheticWorld(requireString(values, 'world', this));
    const seed = optionalNumber(values, 'seed', { integer: true, min: 0 }) ?? world.seed;
    const splits = heldOutEditSplits(world, {
      train: optionalNumber(values, 'train', { integer: true, min: 1 }) ?? 2000,
      eval: optionalNumber(values, 'eval', { integer: true, min: 1 }) ?? 1000,
      seed,
    });
    for (const [name, requests] of [['out-train', splits.train], ['out-eval', splits.eval]] as const) {
      const file = requireString(values, name, this);
      await writeFile(file, `${JSON.stringify({ format: syntheticEditsFormat, seed, worldSeed: world.seed, requests })}\n`);
      io.out(`${file}: ${requests.length} edits`);
    }
  },
};
