import { InvalidInputError } from '@recipe-kit/core';
import { createRandom } from '@recipe-kit/core';
import { deriveSeed } from './derive-seed.js';
import { generateSubjectNames } from './generate-subject-names.js';
import { syntheticRelations, type SyntheticRelation } from './synthetic-relations.js';
import { SyntheticWorld, type SyntheticFact } from './synthetic-world.js';

export interface GenerateSyntheticWorldOptions {
  /** Everything follows from it. Default 0. */
  seed?: number;
  /** How many people. Default 200. */
  subjects?: number;
  /** How many relations each person has facts for (a seeded choice per person). Default 4. */
  relationsPerSubject?: number;
  /** The relation catalogue. Default `syntheticRelations` (8 relations). */
  relations?: readonly SyntheticRelation[];
}

/**
 * The default size, chosen for pretraining a micro model (≈ 4 layers, hidden 128) in about 30 minutes
 * on 2 CPU cores: 200 subjects × 4 relations = 800 facts, × 3 train templates = 2,400 corpus lines,
 * ≈ 91k characters, 28.1k LLaMA-2 tokens (27.0k GPT-2) an epoch without BOS, ≈ 11.7 a line (a name
 * is ≈ 5). At 300–700 tokens/s per core (×2 cores) that is 40–90 epochs in 30 minutes, i.e. 120–270
 * exposures per fact across its three templates.
 */
export const syntheticWorldDefaults = {
  seed: 0,
  subjects: 200,
  relationsPerSubject: 4,
} as const;

/**
 * A synthetic world drawn from `seed`: unique made-up names, a seeded subset of relations for each
 * person, and values balanced within each relation (each value held by as many people as possible,
 * so guessing the most common value does not pay). The same options always give the same world.
 */
export function generateSyntheticWorld(options: GenerateSyntheticWorldOptions = {}): SyntheticWorld {
  const seed = options.seed ?? syntheticWorldDefaults.seed;
  const subjectCount = options.subjects ?? syntheticWorldDefaults.subjects;
  const relations = options.relations ?? syntheticRelations;
  const relationsPerSubject = options.relationsPerSubject ?? Math.min(syntheticWorldDefaults.relationsPerSubject, relations.length);
  if (!Number.isInteger(seed)) throw new InvalidInputError(`seed must be an integer, got ${String(seed)}.`, 'Pass e.g. { seed: 0 }.');
  if (!Number.isInteger(relationsPerSubject) || relationsPerSubject < 1 || relationsPerSubject > relations.length) {
    throw new InvalidInputError(`relationsPerSubject must be an integer from 1 to ${relations.length}, got ${String(relationsPerSubject)}.`, `Pass e.g. { relationsPerSubject: ${Math.min(4, relations.length)} }.`);
  }
  const subjects = generateSubjectNames(subjectCount, createRandom(deriveSeed(seed, 'subjects')));

  // Which relations each subject has: a seeded subset, kept in catalogue order.
  const choose = createRandom(deriveSeed(seed, 'relations'));
  const chosen = subjects.map((subject) => {
    const order = relations.map((_, index) => ({ index, key: choose() }));
    order.sort((a, b) => a.key - b.key);
    const indices = new Set(order.slice(0, relationsPerSubject).map((entry) => entry.index));
    return { subject, indices };
  });

  // Values per relation: dealt round-robin over the relation's subjects in a seeded order.
  const deal = createRandom(deriveSeed(seed, 'values'));
  const values = new Map<string, string>();
  relations.forEach((relation, relationIndex) => {
    const holders = chosen.filter((entry) => entry.indices.has(relationIndex)).map((entry) => entry.subject);
    const offset = Math.floor(deal() * relation.values.length);
    const order = holders.map((subject) => ({ subject, key: deal() })).sort((a, b) => a.key - b.key);
    order.forEach((entry, position) => {
      values.set(`${entry.subject}\u0000${relation.name}`, relation.values[(position + offset) % relation.values.length] as string);
    });
  });

  const facts: SyntheticFact[] = [];
  for (const { subject, indices } of chosen) {
    relations.forEach((relation, relationIndex) => {
      if (!indices.has(relationIndex)) return;
      facts.push({ subject, relation: relation.name, value: values.get(`${subject}\u0000${relation.name}`) as string });
    });
  }
  return new SyntheticWorld({ seed, relations, subjects, facts });
}

/**
 * The world plus `extraSubjects` new people with facts of their own — people a model pretrained on
 * `world` has never seen. The new names continue the world's own name sequence (so none collides
 * with or contains an old one); their relations and values come from a world generated at the
 * larger size. Used for held-out edits beyond the one-edit-per-known-subject limit.
 */
export function extendSyntheticWorld(world: SyntheticWorld, extraSubjects: number): SyntheticWorld {
  if (!Number.isInteger(extraSubjects) || extraSubjects < 1) {
    throw new InvalidInputError(`extraSubjects must be a positive integer, got ${String(extraSubjects)}.`, 'Pass e.g. 3000.');
  }
  const larger = generateSyntheticWorld({ seed: world.seed, subjects: world.subjects.length + extraSubjects, relations: world.relations });
  const mismatch = world.subjects.findIndex((subject, index) => larger.subjects[index] !== subject);
  if (mismatch >= 0) {
    throw new InvalidInputError(
      `Subject ${mismatch} of the world ("${world.subjects[mismatch]}") is not what generateSyntheticWorld draws from seed ${world.seed}, so new names could collide with it.`,
      'Extend only worlds made by generateSyntheticWorld (recipe-kit pretrain writes one).',
    );
  }
  const known = new Set(world.subjects);
  return new SyntheticWorld({
    seed: world.seed,
    relations: world.relations,
    subjects: larger.subjects,
    facts: [...world.facts, ...larger.facts.filter((fact) => !known.has(fact.subject))],
  });
}
