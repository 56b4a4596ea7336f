import { writeFile } from 'node:fs/promises';
import { heldOutEditSplits, loadSyntheticEdits, loadSyntheticWorld, syntheticEditsFormat } from '../synthetic-world/index.js';
import { optionalNumber, requireString, type Command } from './command.js';

export const syntheticEditsCommand: Command = {
  name: 'synthetic-edits',
  summary: 'Write train and held-out edit files on new people added to a synthetic world (for training RECIPE and lifelong runs up to T = 1000+).',
  usage: 'recipe-kit synthetic-edits --world FILE --train N --eval N [--seed S] [--exclude-subjects-of EDITS_FILE] --out-train FILE --out-eval FILE',
  options: {
    world: { type: 'string' },
    train: { type: 'string' },
    eval: { type: 'string' },
    seed: { type: 'string' },
    'out-train': { type: 'string' },
    'out-eval': { type: 'string' },
    'exclude-subjects-of': { type: 'string' },
  },
  async run(values, io) {
    const world = await loadSyntheticWorld(requireString(values, 'world', this));
    const seed = optionalNumber(values, 'seed', { integer: true, min: 0 }) ?? world.seed;
    const splits = heldOutEditSplits(world, {
      train: optionalNumber(values, 'train', { integer: true, min: 1 }) ?? 2000,
      eval: optionalNumber(values, 'eval', { integer: true, min: 1 }) ?? 1000,
      seed,
    });
    // A larger training set drawn under another seed names many of the same new people as an existing
    // held-out file (names come from one generator); dropping them keeps that file's people unseen in training.
    const excludeFile = values['exclude-subjects-of'];
    const excluded = typeof excludeFile === 'string' ? new Set((await loadSyntheticEdits(excludeFile)).map((request) => request.subject)) : new Set<string>();
    for (const [name, drawn] of [['out-train', splits.train], ['out-eval', splits.eval]] as const) {
      const file = requireString(values, name, this);
      const requests = drawn.filter((request) => !excluded.has(request.subject));
      await writeFile(file, `${JSON.stringify({ format: syntheticEditsFormat, seed, worldSeed: world.seed, requests })}\n`);
      const dropped = drawn.length - requests.length;
      io.out(`${file}: ${requests.length} edits${typeof excludeFile === 'string' ? ` (${dropped} on people of ${excludeFile} left out)` : ''}`);
    }
  },
};
