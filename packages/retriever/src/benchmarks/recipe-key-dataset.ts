import { existsSync } from 'node:fs';
import { mkdir, readFile, rename, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { createRandom, InvalidInputError, selectBackend } from '@recipe-kit/core';
import { RecipeEncoder } from '@recipe-kit/prompt-encoder';
import type { VectorDataset } from './vector-dataset.js';

/** An encoder output [n, d] (a tfjs Tensor2D the caller disposes). */
type EncodedRows = ReturnType<RecipeEncoder['encodeQueries']>;

/** What the dataset needs of a synthetic world's relation (its JSON, `relations[]`). */
interface WorldRelation {
  values: string[];
  trainTemplates: string[];
  heldOutTemplates: string[];
}

export interface RecipeKeyDatasetOptions {
  /** A trained RECIPE checkpoint (recipe-encoder.json, heads, encoder/). */
  checkpoint: string;
  /** A synthetic-world JSON whose relations give the templates and values. */
  worldFile: string;
  size: number;
  queries: number;
  seed: number;
  /** Where encoded keys are kept between runs (keyed by checkpoint fingerprint, size and seed); none: not kept. */
  cacheDirectory?: string;
  log: (line: string) => void;
}

const SYLLABLE_ONSETS = ['b', 'br', 'd', 'dr', 'f', 'g', 'k', 'kl', 'l', 'm', 'n', 'p', 'pr', 'r', 's', 'st', 't', 'tr', 'v', 'z'];
const SYLLABLE_NUCLEI = ['a', 'e', 'i', 'o', 'u', 'ai', 'ei'];
const SYLLABLE_CODAS = ['', '', 'n', 'r', 'l', 's', 'k'];

/**
 * A source of distinct made-up "First Last" names (2–3 syllables each part; ~10^12 combinations),
 * so that a million facts have a million different subjects, as a lifelong edit stream would.
 */
function nameSource(random: () => number): () => string {
  const pick = (items: readonly string[]) => items[Math.floor(random() * items.length)] as string;
  const part = () => {
    let text = '';
    const syllables = 2 + Math.floor(random() * 2);
    for (let i = 0; i < syllables; i++) text += pick(SYLLABLE_ONSETS) + pick(SYLLABLE_NUCLEI) + (i === syllables - 1 ? pick(SYLLABLE_CODAS) : '');
    return text.charAt(0).toUpperCase() + text.slice(1);
  };
  const used = new Set<string>();
  return () => {
    for (;;) {
      const name = `${part()} ${part()}`;
      if (!used.has(name)) {
        used.add(name);
        return name;
      }
    }
  };
}

async function readRelations(worldFile: string): Promise<WorldRelation[]> {
  const world = JSON.parse(await readFile(worldFile, 'utf8')) as { relations?: WorldRelation[] };
  const relations = world.relations ?? [];
  if (relations.length === 0 || relations.some((relation) => relation.values.length === 0 || relation.trainTemplates.length === 0 || relation.heldOutTemplates.length === 0)) {
    throw new InvalidInputError(`${worldFile} has no usable relations (each needs values, trainTemplates and heldOutTemplates).`, 'Pass a synthetic-world.json written by recipe-kit pretrain, e.g. models/synthetic-llama/synthetic-world.json.');
  }
  return relations;
}

/** Encodes `texts` in batches through `encode` ([n, d] per batch) into one [texts × d] array. */
function encodeAll(texts: readonly string[], dimension: number, encode: (batch: readonly string[]) => EncodedRows, onProgress: (done: number) => void): Float32Array {
  const out = new Float32Array(texts.length * dimension);
  const batchSize = 512;
  for (let start = 0; start < texts.length; start += batchSize) {
    const batch = texts.slice(start, start + batchSize);
    const encoded = encode(batch);
    out.set(encoded.dataSync() as Float32Array, start * dimension);
    encoded.dispose();
    if ((start / batchSize) % 200 === 199) onProgress(start + batch.length);
  }
  return out;
}

/**
 * Keys as RECIPE stores them: `size` made-up facts of the world's relations — a train template with a
 * new subject, then a value ("Brakel Stomir lives in Rome") — encoded by the checkpoint's knowledge head
 * (r_k), and queries that are held-out rephrasings of random stored facts encoded by its query head (r_q),
 * the paraphrase a user asks. Unlike the random datasets, the exact top-1 need not be the source fact:
 * that share measures the retriever itself at this size. Seeded; the keys are cached when asked.
 */
export async function createRecipeKeyDataset(options: RecipeKeyDatasetOptions): Promise<VectorDataset> {
  const { size, queries, seed, log } = options;
  // The fastest tensor backend (wasm here) before the encoder is built; once per process.
  await selectBackend();
  const relations = await readRelations(options.worldFile);
  const random = createRandom(seed);
  const nextName = nameSource(random);
  const pick = <T>(items: readonly T[]) => items[Math.floor(random() * items.length)] as T;
  const facts: Array<{ subject: string; relation: WorldRelation }> = [];
  const knowledge: string[] = [];
  for (let row = 0; row < size; row++) {
    const subject = nextName();
    const relation = pick(relations);
    facts.push({ subject, relation });
    knowledge.push(`${pick(relation.trainTemplates).replace('{subject}', subject)} ${pick(relation.values)}`);
  }
  const sourceRows = new Int32Array(queries);
  const queryTexts: string[] = [];
  for (let q = 0; q < queries; q++) {
    const row = Math.floor(random() * size);
    sourceRows[q] = row;
    const fact = facts[row] as (typeof facts)[number];
    queryTexts.push(pick(fact.relation.heldOutTemplates).replace('{subject}', fact.subject));
  }

  const encoder = await RecipeEncoder.load(options.checkpoint);
  try {
    const dimension = encoder.config.representationDim;
    const fingerprint = (await encoder.fingerprint()).replace(/^sha256:/, '').slice(0, 16);
    const cacheFile = options.cacheDirectory ? path.join(options.cacheDirectory, `recipe-keys-${fingerprint}-${size}-seed${seed}.f32`) : null;
    let base: Float32Array;
    if (cacheFile !== null && existsSync(cacheFile)) {
      const bytes = await readFile(cacheFile);
      if (bytes.byteLength !== size * dimension * 4) throw new InvalidInputError(`${cacheFile} has ${bytes.byteLength} bytes, expected ${size * dimension * 4}.`, 'Delete the file; it is recomputed.');
      base = new Float32Array(bytes.buffer, bytes.byteOffset, size * dimension);
      log(`RECIPE keys: ${size} read from ${cacheFile}`);
    } else {
      const started = performance.now();
      base = encodeAll(knowledge, dimension, (batch) => encoder.knowledgeRepresentations(batch), (done) => log(`RECIPE keys: ${done} of ${size} encoded`));
      log(`RECIPE keys: ${size} encoded in ${((performance.now() - started) / 1000).toFixed(0)} s`);
      if (cacheFile !== null) {
        await mkdir(path.dirname(cacheFile), { recursive: true });
        await writeFile(`${cacheFile}.partial`, new Uint8Array(base.buffer, base.byteOffset, base.byteLength));
        await rename(`${cacheFile}.partial`, cacheFile);
      }
    }
    const queryVectors = encodeAll(queryTexts, dimension, (batch) => encoder.encodeQueries(batch), () => undefined);
    return {
      dimension,
      size,
      base,
      queryCount: queries,
      sourceRows,
      noise: Number.NaN,
      sharedCosine: Number.NaN,
      query: (index) => queryVectors.subarray(index * dimension, (index + 1) * dimension),
    };
  } finally {
    encoder.dispose();
  }
}
