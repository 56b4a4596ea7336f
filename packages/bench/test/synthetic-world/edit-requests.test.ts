import { describe, expect, it } from 'vitest';
import { InvalidInputError } from '@recipe-kit/core';
import { fillTemplate, generateSyntheticWorld, syntheticEditId } from '../../src/synthetic-world/index.js';

const world = generateSyntheticWorld();
const edits = world.editRequests();

describe('SyntheticWorld.editRequests', () => {
  it('draws 100 edits by default, one per subject, with stable ids', () => {
    expect(edits).toHaveLength(100);
    expect(new Set(edits.map((edit) => edit.subject)).size).toBe(100);
    for (const edit of edits) {
      const relation = edit.id.slice(`sw-${edit.subject.toLowerCase().replace(' ', '-')}-`.length);
      expect(edit.id).toBe(syntheticEditId(edit.subject, relation));
      expect(edit.id).toMatch(/^sw-[a-z]+-[a-z]+-[a-z-]+$/);
    }
  });

  it('edits a known fact to another value of the same relation, under a train template', () => {
    const corpus = new Set(world.pretrainingCorpus());
    for (const edit of edits) {
      const fact = world.factsAbout(edit.subject).find((candidate) => edit.id === syntheticEditId(candidate.subject, candidate.relation));
      expect(fact).toBeDefined();
      if (fact === undefined) continue;
      const relation = world.relation(fact.relation);
      expect(edit.groundTruth).toBe(fact.value);
      expect(edit.targetNew).not.toBe(edit.groundTruth);
      expect(relation.values).toContain(edit.targetNew);
      expect(relation.values).toContain(edit.groundTruth);
      expect(relation.trainTemplates.map((template) => fillTemplate(template, edit.subject))).toContain(edit.prompt);
      expect(corpus.has(`${edit.prompt} ${fact.value}.`)).toBe(true);
    }
  });

  it('uses every held-out template of the relation as a rephrase with the new value', () => {
    for (const edit of edits) {
      expect(edit.generality.length).toBeGreaterThanOrEqual(2);
      for (const probe of edit.generality) {
        expect(probe.type).toBe('rephrase');
        expect(probe.target).toBe(edit.targetNew);
      }
    }
  });

  it('puts the subject in every prompt of its own, and never in a locality probe', () => {
    for (const edit of edits) {
      expect(edit.prompt).toContain(edit.subject);
      for (const probe of edit.generality) expect(probe.prompt).toContain(edit.subject);
      expect(edit.locality).toHaveLength(3);
      for (const probe of edit.locality) {
        expect(probe.type).toBe('neighborhood');
        expect(probe.prompt).not.toContain(edit.subject);
      }
    }
  });

  it('takes locality probes only from subjects no edit in the set touches, with their true values', () => {
    const editedSubjects = edits.map((edit) => edit.subject);
    const probes = world.knowledgeProbes();
    for (const edit of edits) {
      for (const probe of edit.locality) {
        expect(editedSubjects.some((subject) => probe.prompt.includes(subject))).toBe(false);
        const known = probes.find((candidate) => candidate.split === 'train' && candidate.prompt === probe.prompt);
        expect(known?.target).toBe(probe.target);
      }
      // The first two are same-relation neighbours under the edit's own template.
      const template = edit.prompt.replace(edit.subject, '{subject}');
      for (const probe of edit.locality.slice(0, 2)) {
        const neighbour = world.subjects.find((subject) => probe.prompt === fillTemplate(template, subject));
        expect(neighbour).toBeDefined();
      }
    }
  });

  it('follows its own seed, independently of the world seed', () => {
    expect(world.editRequests({ count: 20, seed: 5 })).toEqual(world.editRequests({ count: 20, seed: 5 }));
    expect(world.editRequests({ count: 20, seed: 5 })).not.toEqual(world.editRequests({ count: 20, seed: 6 }));
    expect(world.editRequests({ count: 20 })).toEqual(world.editRequests({ count: 20, seed: world.seed }));
  });

  it('supports the largest set (every subject but one) and honours the probe counts', () => {
    const all = world.editRequests({ count: 199, sameRelationNeighbours: 1, otherRelationNeighbours: 0 });
    expect(all).toHaveLength(199);
    for (const edit of all) {
      expect(edit.locality).toHaveLength(1);
      expect(edit.locality[0]?.prompt).not.toContain(edit.subject);
    }
  });

  it('rejects a count it cannot satisfy', () => {
    expect(() => world.editRequests({ count: 200 })).toThrow(InvalidInputError);
    expect(() => world.editRequests({ count: -1 })).toThrow(/count must be an integer from 0 to 199/);
    expect(() => world.editRequests({ count: 1.5 })).toThrow(InvalidInputError);
  });
});
