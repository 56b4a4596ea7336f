import { createGpt2Tokenizer, createLlama2Tokenizer } from '@recipe-kit/llm-adapters';
import { describe, expect, it } from 'vitest';
import { InvalidInputError } from '@recipe-kit/core';
import { fillTemplate, generateSyntheticWorld, SyntheticWorld, syntheticRelations, templateFixedParts } from '../../src/synthetic-world/index.js';

const world = generateSyntheticWorld();
const corpus = world.pretrainingCorpus();

/** The held-out template as a regular expression matching it with any subject. */
function templatePattern(template: string): RegExp {
  const [before = '', after = ''] = template.split('{subject}').map((part) => part.replace(/[.*+?^${}()|[\]\\]/g, '\\$&'));
  return new RegExp(`${before}.+${after}`);
}

describe('generateSyntheticWorld', () => {
  it('has the documented default size', () => {
    expect(world.subjects).toHaveLength(200);
    expect(world.relations).toHaveLength(8);
    expect(world.facts).toHaveLength(800);
    expect(corpus).toHaveLength(2400);
    for (const subject of world.subjects) expect(world.factsAbout(subject)).toHaveLength(4);
  });

  it('is deterministic: the same seed gives the same world, corpus, probes and edits', () => {
    const again = generateSyntheticWorld({ seed: 0 });
    expect(again.toJson()).toEqual(world.toJson());
    expect(again.pretrainingCorpus()).toEqual(corpus);
    expect(again.knowledgeProbes()).toEqual(world.knowledgeProbes());
    expect(again.editRequests({ count: 50, seed: 3 })).toEqual(world.editRequests({ count: 50, seed: 3 }));
  });

  it('gives a different world for a different seed', () => {
    const other = generateSyntheticWorld({ seed: 1 });
    expect(other.subjects).not.toEqual(world.subjects);
    expect(other.facts).not.toEqual(world.facts);
    expect(other.pretrainingCorpus()).not.toEqual(corpus);
  });

  it('keeps a small world byte-for-byte stable (a pretrained checkpoint depends on it)', () => {
    const small = generateSyntheticWorld({ seed: 7, subjects: 3, relationsPerSubject: 2 });
    expect(small.facts).toMatchInlineSnapshot(`
      [
        {
          "relation": "home-city",
          "subject": "Brasar Bokus",
          "value": "Paris",
        },
        {
          "relation": "native-language",
          "subject": "Brasar Bokus",
          "value": "Dutch",
        },
        {
          "relation": "home-city",
          "subject": "Sidrer Stobreth",
          "value": "Moscow",
        },
        {
          "relation": "native-language",
          "subject": "Sidrer Stobreth",
          "value": "Polish",
        },
        {
          "relation": "profession",
          "subject": "Sidrer Puvar",
          "value": "teacher",
        },
        {
          "relation": "native-language",
          "subject": "Sidrer Puvar",
          "value": "Greek",
        },
      ]
    `);
    expect(small.pretrainingCorpus().slice(0, 3)).toMatchInlineSnapshot(`
      [
        "The native language of Sidrer Stobreth is Polish.",
        "Sidrer Stobreth lives in Moscow.",
        "The native language of Brasar Bokus is Dutch.",
      ]
    `);
  });

  it('draws unique subject names, none contained in another', () => {
    expect(new Set(world.subjects).size).toBe(world.subjects.length);
    for (const subject of world.subjects) {
      expect(subject).toMatch(/^[A-Z][a-z]+ [A-Z][a-z]+$/);
      expect(world.subjects.filter((other) => other.includes(subject))).toEqual([subject]);
    }
  });

  it('balances values within each relation', () => {
    for (const relation of world.relations) {
      const counts = relation.values.map((value) => world.facts.filter((fact) => fact.relation === relation.name && fact.value === value).length);
      expect(Math.max(...counts) - Math.min(...counts)).toBeLessThanOrEqual(1);
    }
  });

  it('writes every fact under every train template, "{prompt} {value}." a line', () => {
    const unshuffled = world.pretrainingCorpus({ shuffle: false });
    expect([...unshuffled].sort()).toEqual([...corpus].sort());
    const expected = world.facts.flatMap((fact) => world.relation(fact.relation).trainTemplates.map((template) => `${fillTemplate(template, fact.subject)} ${fact.value}.`));
    expect(unshuffled).toEqual(expected);
  });

  it('never uses a held-out template in the corpus', () => {
    for (const relation of world.relations) {
      for (const template of relation.heldOutTemplates) {
        const pattern = templatePattern(template);
        const longestPart = templateFixedParts(template).reduce((a, b) => (b.length > a.length ? b : a), '');
        expect(longestPart.split(' ').length).toBeGreaterThanOrEqual(2);
        expect(corpus.filter((line) => pattern.test(line) || line.includes(longestPart)), template).toEqual([]);
      }
    }
  });

  it('gives each relation at least 3 train and 2 held-out templates, each with one {subject}', () => {
    for (const relation of syntheticRelations) {
      expect(relation.trainTemplates.length).toBeGreaterThanOrEqual(3);
      expect(relation.heldOutTemplates.length).toBeGreaterThanOrEqual(2);
      for (const template of [...relation.trainTemplates, ...relation.heldOutTemplates]) expect(template.split('{subject}')).toHaveLength(2);
    }
  });

  it('lists knowledge probes for every fact under its train and held-out templates', () => {
    const probes = world.knowledgeProbes();
    expect(probes).toHaveLength(800 * 5);
    expect(probes.filter((probe) => probe.split === 'held-out')).toHaveLength(800 * 2);
    for (const probe of probes) {
      expect(probe.prompt).toContain(probe.subject);
      expect(world.factsAbout(probe.subject).find((fact) => fact.relation === probe.relation)?.value).toBe(probe.target);
    }
  });

  it('keeps the corpus within 40k tokens an epoch (28.1k LLaMA-2, 27.0k GPT-2 at the defaults)', () => {
    const characters = corpus.reduce((sum, line) => sum + line.length, 0);
    const words = corpus.reduce((sum, line) => sum + line.split(' ').length, 0);
    expect(characters).toBeLessThan(100_000);
    expect(words).toBeLessThan(18_000);
    const llama = createLlama2Tokenizer();
    const gpt2 = createGpt2Tokenizer();
    const llamaTokens = corpus.reduce((sum, line) => sum + llama.encode(line, { addBos: false }).length, 0);
    const gpt2Tokens = corpus.reduce((sum, line) => sum + gpt2.encode(line, { addBos: false }).length, 0);
    expect(llamaTokens + corpus.length).toBeLessThan(40_000); // with a BOS per line
    expect(gpt2Tokens).toBeLessThan(40_000);
    expect(llamaTokens).toBeGreaterThan(20_000);
  });

  it('gives values of one relation distinct first tokens, at most two tokens long, after a prompt', () => {
    for (const tokenizer of [createLlama2Tokenizer(), createGpt2Tokenizer()]) {
      const promptIds = tokenizer.encode('The answer is', { addBos: false });
      for (const relation of syntheticRelations) {
        const firstTokens = relation.values.map((value) => {
          const ids = tokenizer.encode(`The answer is ${value}`, { addBos: false });
          expect(ids.slice(0, promptIds.length)).toEqual(promptIds);
          expect(ids.length - promptIds.length, `${tokenizer.name}: ${value}`).toBeLessThanOrEqual(2);
          return ids[promptIds.length];
        });
        expect(new Set(firstTokens).size, `${tokenizer.name}: ${relation.name}`).toBe(relation.values.length);
      }
    }
  });

  it('rejects impossible options and inconsistent contents', () => {
    expect(() => generateSyntheticWorld({ subjects: 0 })).toThrow(InvalidInputError);
    expect(() => generateSyntheticWorld({ relationsPerSubject: 9 })).toThrow(/relationsPerSubject must be an integer from 1 to 8/);
    const json = generateSyntheticWorld({ subjects: 3 }).toJson();
    expect(() => new SyntheticWorld({ ...json, facts: [...json.facts, { subject: 'Nobody Here', relation: 'pet', value: 'dog' }] })).toThrow(/unknown subject "Nobody Here"/);
    expect(() => new SyntheticWorld({ ...json, subjects: [...json.subjects, json.subjects[0]?.split(' ')[0] ?? ''] })).toThrow(/is part of subject/);
  });
});
