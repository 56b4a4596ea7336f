import { InvalidInputError, type EditRequest } from '@recipe-kit/core';
import { deriveSeed } from './derive-seed.js';
import { extendSyntheticWorld } from './generate-synthetic-world.js';
import type { SyntheticWorld } from './synthetic-world.js';
import { seededShuffle } from '../protocols/seeded-shuffle.js';

export interface HeldOutEditSplits {
  /** Edits RECIPE (and other trained editors) learn from. */
  train: EditRequest[];
  /** Edits on other people, never seen in training. */
  eval: EditRequest[];
}

/**
 * Train and held-out edits on new people added to `world` (one edit each, so a lifelong chunk never
 * holds two edits of one fact), with locality probes drawn from the world's own people — the facts
 * the pretrained model knows, which no edit may disturb.
 */
export function heldOutEditSplits(world: SyntheticWorld, options: { train: number; eval: number; seed?: number }): HeldOutEditSplits {
  for (const key of ['train', 'eval'] as const) {
    if (!Number.isInteger(options[key]) || options[key] < 1) throw new InvalidInputError(`${key} must be a positive integer, got ${String(options[key])}.`, 'Pass e.g. { train: 2000, eval: 1000 }.');
  }
  const seed = options.seed ?? world.seed;
  const extended = extendSyntheticWorld(world, options.train + options.eval);
  const newPeople = seededShuffle(extended.subjects.slice(world.subjects.length), deriveSeed(seed, 'held-out split'));
  const draw = (people: string[], stream: number): EditRequest[] =>
    extended.editRequests({ count: people.length, editSubjects: people, localitySubjects: world.subjects, seed: deriveSeed(seed, `held-out edits ${stream}`) });
  return { train: draw(newPeople.slice(0, options.train), 0), eval: draw(newPeople.slice(options.train), 1) };
}
