import { InvalidInputError } from '@recipe-kit/core';

// Pronounceable syllables: consonant onsets and vowels that read naturally in English, and a few
// closing consonants. Names are two syllables plus an optional closing consonant ("Toren", "Malisa").
const onsets = ['b', 'd', 'f', 'g', 'h', 'k', 'l', 'm', 'n', 'p', 'r', 's', 't', 'v', 'z', 'br', 'dr', 'tr', 'st', 'sh'] as const;
const vowels = ['a', 'e', 'i', 'o', 'u'] as const;
const firstEndings = ['', '', 'n', 'l', 'r', 'a'] as const;
const lastEndings = ['n', 'r', 'l', 's', 'k', 'm', 'ck', 'nd', 'sh', 'th'] as const;

/** How many draws may fail (duplicate or overlapping names) before we give up: far more than ever needed. */
const maximumAttemptsPerName = 1000;

function pick<T>(items: readonly T[], random: () => number): T {
  return items[Math.floor(random() * items.length)] as T;
}

function capitalise(word: string): string {
  return word.charAt(0).toUpperCase() + word.slice(1);
}

function syllable(random: () => number): string {
  return pick(onsets, random) + pick(vowels, random);
}

function firstName(random: () => number): string {
  return capitalise(syllable(random) + syllable(random) + pick(firstEndings, random));
}

function lastName(random: () => number): string {
  return capitalise(syllable(random) + syllable(random) + pick(lastEndings, random));
}

/**
 * `count` made-up "First Last" names, unique, none a substring of another (so "a prompt mentions
 * subject X" is an unambiguous substring test), in draw order. First names may repeat across
 * subjects, as in real data, so a model has to use the whole name.
 */
export function generateSubjectNames(count: number, random: () => number): string[] {
  if (!Number.isInteger(count) || count < 1) {
    throw new InvalidInputError(`The number of subjects must be a positive integer, got ${String(count)}.`, 'Pass e.g. { subjects: 200 }.');
  }
  const names: string[] = [];
  const firstNames: string[] = [];
  let failures = 0;
  while (names.length < count) {
    // Reuse an earlier first name a third of the time, so shared first names are common.
    const first = firstNames.length > 0 && random() < 1 / 3 ? pick(firstNames, random) : firstName(random);
    const name = `${first} ${lastName(random)}`;
    if (names.some((other) => other.includes(name) || name.includes(other))) {
      failures++;
      if (failures > maximumAttemptsPerName * count) {
        throw new InvalidInputError(`Could not draw ${count} distinct subject names.`, 'Ask for fewer subjects.');
      }
      continue;
    }
    names.push(name);
    if (!firstNames.includes(first)) firstNames.push(first);
  }
  return names;
}
