import { mkdir, readFile, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { InvalidInputError, type EditRequest } from '@recipe-kit/core';
import { BagOfWordsEncoder } from './bag-of-words-encoder.js';

/** A stored edit: the fact as text (`prompt + " " + target`) and the request it came from. */
export interface StoredFact {
  id: string;
  text: string;
  request: EditRequest;
}

export interface RetrievedFact extends StoredFact {
  /** Cosine of the query with the fact's key. */
  score: number;
}

const STATE_FILE = 'fact-memory.json';
const FORMAT = 'recipe-kit/fact-memory@1';

/** The fact text an edit stores and retrieves by, as LTE and RASE build it. */
export function factText(request: EditRequest): string {
  return `${request.prompt} ${request.targetNew}`;
}

/**
 * LTE's and RASE's edit memory: one key per edited fact (the bag-of-words vector of its text), top-k
 * by cosine. Exact: the keys are sparse, so an inverted index (bucket → facts) scores every fact
 * sharing a word with the query, and the others score 0. Editing the same id again replaces its fact.
 */
export class FactMemory {
  private readonly facts = new Map<string, StoredFact & { key: Map<number, number> }>();
  private readonly postings = new Map<number, Map<string, number>>();

  constructor(readonly encoder: BagOfWordsEncoder) {}

  get size(): number {
    return this.facts.size;
  }

  async add(requests: readonly EditRequest[]): Promise<void> {
    const ids = new Set(requests.map((request) => request.id));
    if (ids.size !== requests.length) throw new InvalidInputError('One batch edits the same id twice.', 'Give each edit request of a batch its own id.');
    for (const request of requests) {
      this.remove(request.id);
      const text = factText(request);
      const key = this.encoder.encodeSparse(text);
      this.facts.set(request.id, { id: request.id, text, request, key });
      for (const [bucket, value] of key) {
        let posting = this.postings.get(bucket);
        if (!posting) this.postings.set(bucket, (posting = new Map()));
        posting.set(request.id, value);
      }
    }
  }

  private remove(id: string): void {
    const fact = this.facts.get(id);
    if (!fact) return;
    for (const bucket of fact.key.keys()) this.postings.get(bucket)?.delete(id);
    this.facts.delete(id);
  }

  /** The k facts most similar to the query text, best first, ties by id (fewer when fewer are stored). */
  search(query: string, k: number): RetrievedFact[] {
    if (this.facts.size === 0) return [];
    const scores = new Map<string, number>();
    for (const [bucket, value] of this.encoder.encodeSparse(query)) {
      for (const [id, weight] of this.postings.get(bucket) ?? []) scores.set(id, (scores.get(id) ?? 0) + value * weight);
    }
    const ranked = [...scores].sort((a, b) => b[1] - a[1] || (a[0] < b[0] ? -1 : 1)).slice(0, k);
    if (ranked.length < k) {
      // Facts sharing no word with the query score 0; they fill the list in id order.
      const rest = [...this.facts.keys()].filter((id) => !scores.has(id)).sort();
      ranked.push(...rest.slice(0, k - ranked.length).map((id): [string, number] => [id, 0]));
    }
    return ranked.map(([id, score]) => {
      const { key: _key, ...fact } = this.facts.get(id) as StoredFact & { key: Map<number, number> };
      return { ...fact, score };
    });
  }

  async clear(): Promise<void> {
    this.facts.clear();
    this.postings.clear();
  }

  /** Writes the stored requests (keys are recomputed on load: they are a function of the text). */
  async save(directory: string): Promise<void> {
    await mkdir(directory, { recursive: true });
    const content = { format: FORMAT, encoder: this.encoder.toJson(), requests: [...this.facts.values()].map((fact) => fact.request) };
    await writeFile(path.join(directory, STATE_FILE), `${JSON.stringify(content)}\n`);
  }

  /** Replaces the memory with one written by `save` (its encoder must match this one's). */
  async load(directory: string): Promise<void> {
    const file = path.join(directory, STATE_FILE);
    const saved = JSON.parse(await readFile(file, 'utf8')) as { format?: unknown; encoder?: unknown; requests?: unknown };
    if (saved.format !== FORMAT || !Array.isArray(saved.requests)) {
      throw new InvalidInputError(`${file} is not a ${FORMAT} file.`, 'Load a directory written by the same editor\'s save().');
    }
    if (JSON.stringify(saved.encoder) !== JSON.stringify(this.encoder.toJson())) {
      throw new InvalidInputError(`${file} was written with another fact encoder.`, 'Load it with the editor (and trained artefact) that saved it.');
    }
    await this.clear();
    await this.add(saved.requests as EditRequest[]);
  }

  dispose(): void {
    void this.clear();
  }
}
