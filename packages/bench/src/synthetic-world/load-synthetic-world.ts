import path from 'node:path';
import { InvalidDatasetError } from '@recipe-kit/core';
import { DatasetRecord, type DatasetSource } from '../datasets/dataset-record.js';
import { parseJsonFile } from '../datasets/parse-json-dataset.js';
import { checkFormatTag } from './check-format-tag.js';
import type { SyntheticRelation } from './synthetic-relations.js';
import { findWorldProblems, SyntheticWorld, syntheticWorldFormat, type SyntheticFact } from './synthetic-world.js';

const worldDescription = `a synthetic world JSON file ({ "format": "${syntheticWorldFormat}", "seed", "relations", "subjects", "facts" }, as written by SyntheticWorld.toJson)`;

/** Where a world came from, for messages; an in-memory value is called "synthetic-world.json". */
const inMemory: DatasetSource = { path: 'synthetic-world.json', format: worldDescription };

/**
 * A world from its JSON form (e.g. `JSON.parse` of a file written from `world.toJson()`), validated:
 * a malformed field is an InvalidDatasetError naming the relation, subject or fact and the field.
 */
export function syntheticWorldFromJson(value: unknown, source: DatasetSource = inMemory): SyntheticWorld {
  const top = checkFormatTag(value, syntheticWorldFormat, source);
  const world = DatasetRecord.from(top, { source, index: 0, noun: 'world' });
  const seed = world.integer('seed');
  const relations: SyntheticRelation[] = world.objectList('relations', { nonEmpty: true }).map((relation) => ({
    name: relation.string('name'),
    values: relation.stringList('values', { nonEmpty: true }),
    trainTemplates: relation.stringList('trainTemplates', { nonEmpty: true }),
    heldOutTemplates: relation.stringList('heldOutTemplates', { nonEmpty: true }),
  }));
  const subjects = world.stringList('subjects', { nonEmpty: true });
  const facts: SyntheticFact[] = world.objectList('facts').map((fact) => ({
    subject: fact.string('subject'),
    relation: fact.string('relation'),
    value: fact.string('value'),
  }));
  const problems = findWorldProblems({ seed, relations, subjects, facts });
  if (problems.length > 0) {
    throw new InvalidDatasetError(
      `${path.basename(source.path)}: the world is inconsistent: ${problems.slice(0, 5).join('; ')}${problems.length > 5 ? ` (and ${problems.length - 5} more)` : ''}.`,
      `Regenerate the file from generateSyntheticWorld(...).toJson(), or fix the listed entries in ${path.resolve(source.path)}.`,
    );
  }
  return new SyntheticWorld({ seed, relations, subjects, facts });
}

/** Reads a world written as JSON from `world.toJson()`. */
export async function loadSyntheticWorld(worldPath: string): Promise<SyntheticWorld> {
  const source: DatasetSource = { path: worldPath, format: worldDescription };
  return syntheticWorldFromJson(await parseJsonFile(source), source);
}
