import { InvalidInputError, type EditRequest, type Probe } from '@recipe-kit/core';
import { createRandom } from '@recipe-kit/core';
import { seededShuffle } from '../protocols/seeded-shuffle.js';
import { deriveSeed } from './derive-seed.js';
import { fillTemplate, subjectPlaceholder, type SyntheticRelation } from './synthetic-relations.js';

/** One true statement of the world: `subject`'s `relation` is `value`. */
export interface SyntheticFact {
  subject: string;
  /** A relation name of the world (`SyntheticRelation.name`). */
  relation: string;
  value: string;
}

/** A fact asked under one template, with the true value as target (what a pretrained model should say). */
export interface KnowledgeProbe extends Probe {
  subject: string;
  relation: string;
  /** Whether the template is in the pretraining corpus ('train') or never seen ('held-out'). */
  split: 'train' | 'held-out';
  /** `type` is 'known-fact' for a train template and 'rephrase' for a held-out one. */
  type: string;
}

/** How `editRequests` draws a set of counterfactual edits. */
export interface SyntheticEditOptions {
  /** How many edits, each on a different subject; at most subjects − 1. Default min(100, subjects − 1). */
  count?: number;
  /** Seed of the draw (which facts, new values, prompts, neighbours). Default: the world's seed. */
  seed?: number;
  /** Locality probes of other subjects under the same relation and the edit's own template. Default 2. */
  sameRelationNeighbours?: number;
  /** Locality probes of other subjects under another relation (a train template). Default 1. */
  otherRelationNeighbours?: number;
  /** Only these subjects are edited (default: every subject with a fact). */
  editSubjects?: readonly string[];
  /** Locality probes come from these subjects (default: every subject). */
  localitySubjects?: readonly string[];
}

/** Everything a world is made of; `toJson` writes it with a format tag. */
export interface SyntheticWorldContents {
  /** The seed the world was generated from; also the default seed of its corpus order and edits. */
  seed: number;
  relations: readonly SyntheticRelation[];
  subjects: readonly string[];
  facts: readonly SyntheticFact[];
}

export const syntheticWorldFormat = 'recipe-kit-synthetic-world';

/** The JSON form of a world (`toJson`, `syntheticWorldFromJson`, `loadSyntheticWorld`). */
export interface SyntheticWorldJson {
  format: typeof syntheticWorldFormat;
  seed: number;
  relations: SyntheticRelation[];
  subjects: string[];
  facts: SyntheticFact[];
}

export const defaultEditCount = 100;
const defaultSameRelationNeighbours = 2;
const defaultOtherRelationNeighbours = 1;

/**
 * The problems with a world's contents, as sentences (empty when it is consistent): duplicate or
 * overlapping names, templates without exactly one `{subject}`, facts with unknown subjects,
 * relations or values, and duplicate facts. Shared by the constructor and the JSON loader.
 */
export function findWorldProblems(contents: SyntheticWorldContents): string[] {
  const problems: string[] = [];
  if (!Number.isInteger(contents.seed)) problems.push(`seed must be an integer, got ${String(contents.seed)}`);
  const relationNames = new Set<string>();
  for (const relation of contents.relations) {
    if (relationNames.has(relation.name)) problems.push(`relation "${relation.name}" is defined twice`);
    relationNames.add(relation.name);
    if (!/^[a-z0-9]+(-[a-z0-9]+)*$/.test(relation.name)) problems.push(`relation name "${relation.name}" must be kebab-case (it is part of edit ids)`);
    if (relation.values.length < 2) problems.push(`relation "${relation.name}" needs at least 2 values (a counterfactual needs another)`);
    if (new Set(relation.values).size !== relation.values.length) problems.push(`relation "${relation.name}" lists a value twice`);
    if (relation.values.some((value) => value.trim() === '' || value !== value.trim())) problems.push(`relation "${relation.name}" has an empty value or one with surrounding spaces`);
    if (relation.trainTemplates.length === 0) problems.push(`relation "${relation.name}" has no train template`);
    if (relation.heldOutTemplates.length === 0) problems.push(`relation "${relation.name}" has no held-out template`);
    for (const template of [...relation.trainTemplates, ...relation.heldOutTemplates]) {
      if (template.split(subjectPlaceholder).length !== 2) problems.push(`template "${template}" of relation "${relation.name}" must contain ${subjectPlaceholder} exactly once`);
    }
    const shared = relation.trainTemplates.filter((template) => relation.heldOutTemplates.includes(template));
    if (shared.length > 0) problems.push(`relation "${relation.name}" has "${shared[0]}" as both a train and a held-out template`);
  }
  const subjects = new Set<string>();
  for (const subject of contents.subjects) {
    if (subject.trim() === '' || subject.includes(subjectPlaceholder)) problems.push(`subject ${JSON.stringify(subject)} is not a usable name`);
    if (subjects.has(subject)) problems.push(`subject "${subject}" is listed twice`);
    subjects.add(subject);
  }
  for (const subject of subjects) {
    const container = contents.subjects.find((other) => other !== subject && other.includes(subject));
    if (container !== undefined) problems.push(`subject "${subject}" is part of subject "${container}", so prompts about one would mention the other`);
  }
  const relationsByName = new Map(contents.relations.map((relation) => [relation.name, relation]));
  const seen = new Set<string>();
  contents.facts.forEach((fact, index) => {
    const relation = relationsByName.get(fact.relation);
    if (!subjects.has(fact.subject)) problems.push(`fact ${index} names an unknown subject "${fact.subject}"`);
    if (relation === undefined) problems.push(`fact ${index} names an unknown relation "${fact.relation}"`);
    else if (!relation.values.includes(fact.value)) problems.push(`fact ${index}: "${fact.value}" is not a value of relation "${fact.relation}"`);
    const key = `${fact.subject}\u0000${fact.relation}`;
    if (seen.has(key)) problems.push(`fact ${index}: "${fact.subject}" has a second "${fact.relation}" value`);
    seen.add(key);
  });
  return problems;
}

/** The stable edit id of a fact: `sw-<subject in kebab case>-<relation>`. */
export function syntheticEditId(subject: string, relation: string): string {
  const slug = subject
    .toLowerCase()
    .replace(/[^a-z0-9]+/g, '-')
    .replace(/^-+|-+$/g, '');
  return `sw-${slug}-${relation}`;
}

function pick<T>(items: readonly T[], random: () => number): T {
  return items[Math.floor(random() * items.length)] as T;
}

/** Fisher–Yates on a shared generator (the protocol's `seededShuffle` starts a fresh one per call). */
function shuffleWith<T>(items: readonly T[], random: () => number): T[] {
  const result = [...items];
  for (let i = result.length - 1; i > 0; i--) {
    const j = Math.floor(random() * (i + 1));
    [result[i], result[j]] = [result[j] as T, result[i] as T];
  }
  return result;
}

/**
 * A synthetic world: made-up people, each with a few facts drawn from closed value sets, and the
 * texts made from them — a pretraining corpus (train templates only), knowledge probes, and
 * counterfactual edit requests whose generality probes use held-out templates. Everything derived is
 * a pure function of the contents (including the seed), so a world loaded from JSON gives the same
 * corpus and edits as the one that was saved.
 */
export class SyntheticWorld {
  readonly seed: number;
  readonly relations: readonly SyntheticRelation[];
  readonly subjects: readonly string[];
  readonly facts: readonly SyntheticFact[];
  private readonly relationsByName: ReadonlyMap<string, SyntheticRelation>;
  private readonly factsBySubject: ReadonlyMap<string, readonly SyntheticFact[]>;

  constructor(contents: SyntheticWorldContents) {
    const problems = findWorldProblems(contents);
    if (problems.length > 0) {
      throw new InvalidInputError(`The synthetic world is inconsistent: ${problems.slice(0, 5).join('; ')}${problems.length > 5 ? ` (and ${problems.length - 5} more)` : ''}.`, 'Generate it with generateSyntheticWorld, or fix the listed contents.');
    }
    this.seed = contents.seed;
    this.relations = contents.relations.map((relation) => ({
      name: relation.name,
      values: [...relation.values],
      trainTemplates: [...relation.trainTemplates],
      heldOutTemplates: [...relation.heldOutTemplates],
    }));
    this.subjects = [...contents.subjects];
    this.facts = contents.facts.map((fact) => ({ ...fact }));
    this.relationsByName = new Map(this.relations.map((relation) => [relation.name, relation]));
    const bySubject = new Map<string, SyntheticFact[]>(this.subjects.map((subject) => [subject, []]));
    for (const fact of this.facts) bySubject.get(fact.subject)?.push(fact);
    this.factsBySubject = bySubject;
  }

  relation(name: string): SyntheticRelation {
    const relation = this.relationsByName.get(name);
    if (relation === undefined) {
      throw new InvalidInputError(`The synthetic world has no relation "${name}".`, `Use one of ${this.relations.map((r) => r.name).join(', ')}.`);
    }
    return relation;
  }

  /** The facts about one subject, in relation catalogue order. */
  factsAbout(subject: string): readonly SyntheticFact[] {
    return this.factsBySubject.get(subject) ?? [];
  }

  /**
   * The pretraining text: every fact under every train template, one statement a line
   * ("Toren Valisk lives in Paris."), in a seeded shuffled order (pass `{ shuffle: false }` for
   * fact order). Held-out templates never occur.
   */
  pretrainingCorpus(options: { shuffle?: boolean } = {}): string[] {
    const lines: string[] = [];
    for (const fact of this.facts) {
      for (const template of this.relation(fact.relation).trainTemplates) {
        lines.push(`${fillTemplate(template, fact.subject)} ${fact.value}.`);
      }
    }
    return options.shuffle === false ? lines : seededShuffle(lines, deriveSeed(this.seed, 'corpus'));
  }

  /** Every fact under each of its train and held-out templates, with the true value as target. */
  knowledgeProbes(): KnowledgeProbe[] {
    const probes: KnowledgeProbe[] = [];
    for (const fact of this.facts) {
      const relation = this.relation(fact.relation);
      const make = (template: string, split: KnowledgeProbe['split']): KnowledgeProbe => ({
        subject: fact.subject,
        relation: fact.relation,
        split,
        prompt: fillTemplate(template, fact.subject),
        target: fact.value,
        type: split === 'train' ? 'known-fact' : 'rephrase',
      });
      for (const template of relation.trainTemplates) probes.push(make(template, 'train'));
      for (const template of relation.heldOutTemplates) probes.push(make(template, 'held-out'));
    }
    return probes;
  }

  /**
   * Counterfactual edits, each on a different subject: one of its facts gets another value of the
   * same relation. The prompt is one of the relation's train templates (so the model has seen the
   * fact in that form), generality is every held-out template with the new value (type 'rephrase'),
   * and locality is other subjects' true facts (type 'neighborhood'): first neighbours under the
   * same relation and the same template, preferring those that share the edited fact's true value
   * (as CounterFact's neighbourhood prompts do), then facts of another relation.
   *
   * Locality subjects are drawn from subjects no edit in this set touches, so applying the whole set
   * — batch or lifelong — never legitimately changes a locality answer; only when too few such facts
   * are left (a set covering nearly every subject) are other edited subjects used to make up the
   * numbers. A probe is left out only when the world has no fact to fill it.
   * Returned in draw order; the same world and options always give the same list.
   */
  editRequests(options: SyntheticEditOptions = {}): EditRequest[] {
    const seed = options.seed ?? this.seed;
    const count = options.count ?? Math.min(defaultEditCount, this.subjects.length - 1);
    const sameRelation = options.sameRelationNeighbours ?? defaultSameRelationNeighbours;
    const otherRelation = options.otherRelationNeighbours ?? defaultOtherRelationNeighbours;
    if (!Number.isInteger(seed)) throw new InvalidInputError(`seed must be an integer, got ${String(seed)}.`, 'Pass e.g. { seed: 1 }.');
    for (const [name, value] of [['sameRelationNeighbours', sameRelation], ['otherRelationNeighbours', otherRelation]] as const) {
      if (!Number.isInteger(value) || value < 0) throw new InvalidInputError(`${name} must be a non-negative integer, got ${String(value)}.`, `Pass e.g. { ${name}: 2 }.`);
    }
    for (const [name, list] of [['editSubjects', options.editSubjects], ['localitySubjects', options.localitySubjects]] as const) {
      const unknown = list?.find((subject) => !this.factsBySubject.has(subject));
      if (unknown !== undefined) throw new InvalidInputError(`${name} names "${unknown}", who is not a subject of this world.`, 'List subjects of the world.');
    }
    const chosen = options.editSubjects ? new Set(options.editSubjects) : null;
    const candidates = chosen ? this.subjects.filter((subject) => chosen.has(subject)) : this.subjects;
    const editable = candidates.filter((subject) => this.factsAbout(subject).length > 0);
    const maximum = Math.min(editable.length, this.subjects.length - 1);
    if (!Number.isInteger(count) || count < 0 || count > maximum) {
      throw new InvalidInputError(`count must be an integer from 0 to ${maximum} (one edit per subject, and at least one other subject for locality), got ${String(count)}.`, `Pass a smaller count, or generate a world with more subjects.`);
    }
    const random = createRandom(deriveSeed(seed, 'edits'));
    const editedSubjects = shuffleWith(editable, random).slice(0, count);
    const edited = new Set(editedSubjects);
    const localityPool = options.localitySubjects ? new Set(options.localitySubjects) : null;
    const untouched = this.subjects.filter((subject) => !edited.has(subject) && (localityPool === null || localityPool.has(subject)));
    return editedSubjects.map((subject) => {
      const fact = pick(this.factsAbout(subject), random);
      const relation = this.relation(fact.relation);
      const targetNew = pick(
        relation.values.filter((value) => value !== fact.value),
        random,
      );
      const template = pick(relation.trainTemplates, random);
      // Untouched subjects first; other edited subjects only to make up the numbers when too few are left.
      const pools = [untouched, editedSubjects.filter((other) => other !== subject && (localityPool === null || localityPool.has(other)))].map((pool) => pool.flatMap((other) => this.factsAbout(other)));
      const neighbours = pools
        .flatMap((facts) => {
          const sameRelationFacts = facts.filter((other) => other.relation === fact.relation);
          return [
            ...shuffleWith(
              sameRelationFacts.filter((other) => other.value === fact.value),
              random,
            ),
            ...shuffleWith(
              sameRelationFacts.filter((other) => other.value !== fact.value),
              random,
            ),
          ];
        })
        .slice(0, sameRelation);
      const others = pools
        .flatMap((facts) =>
          shuffleWith(
            facts.filter((other) => other.relation !== fact.relation),
            random,
          ),
        )
        .slice(0, otherRelation);
      const locality: Probe[] = [
        ...neighbours.map((other) => ({ prompt: fillTemplate(template, other.subject), target: other.value, type: 'neighborhood' })),
        ...others.map((other) => ({ prompt: fillTemplate(pick(this.relation(other.relation).trainTemplates, random), other.subject), target: other.value, type: 'neighborhood' })),
      ];
      return {
        id: syntheticEditId(subject, fact.relation),
        prompt: fillTemplate(template, subject),
        subject,
        targetNew,
        groundTruth: fact.value,
        generality: relation.heldOutTemplates.map((heldOut) => ({ prompt: fillTemplate(heldOut, subject), target: targetNew, type: 'rephrase' })),
        locality,
      };
    });
  }

  toJson(): SyntheticWorldJson {
    return {
      format: syntheticWorldFormat,
      seed: this.seed,
      relations: this.relations.map((relation) => ({
        name: relation.name,
        values: [...relation.values],
        trainTemplates: [...relation.trainTemplates],
        heldOutTemplates: [...relation.heldOutTemplates],
      })),
      subjects: [...this.subjects],
      facts: this.facts.map((fact) => ({ ...fact })),
    };
  }
}
