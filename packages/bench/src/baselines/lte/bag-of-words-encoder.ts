import { readFile } from 'node:fs/promises';
import { InvalidInputError } from '@recipe-kit/core';
import { tokenizeWords } from '@recipe-kit/prompt-encoder';

export interface BagOfWordsEncoderJson {
  format: typeof FORMAT;
  dimension: number;
  /** Documents the IDF was fitted on. */
  documents: number;
  /** Document frequency per word (words seen once or more). */
  documentFrequency: Record<string, number>;
}

const FORMAT = 'recipe-kit/bag-of-words-encoder@1';

/**
 * The sentence encoder of LTE's and RASE's fact memories on the micro models: an IDF-weighted bag of
 * words, feature-hashed (signed) into `dimension` buckets and L2-normalised, so the inner product of
 * two vectors is their cosine. The papers use dense encoders (multi-qa-mpnet, contrastive RoBERTa);
 * none can be downloaded here, and on these corpora a query shares its subject's rare words with its
 * fact, which IDF weights highest. Words never seen when fitting get the largest IDF.
 */
export class BagOfWordsEncoder {
  private constructor(
    readonly dimension: number,
    private readonly documents: number,
    private readonly documentFrequency: ReadonlyMap<string, number>,
  ) {}

  /** Fits the IDF on reference texts (a training split's prompts), one document per text. */
  static fit(texts: readonly string[], dimension = 1 << 18): BagOfWordsEncoder {
    if (!Number.isInteger(dimension) || dimension < 2) throw new InvalidInputError(`Encoder dimension ${dimension} is not an integer ≥ 2.`, 'Pass e.g. 262144 (2^18).');
    if (texts.length === 0) throw new InvalidInputError('The bag-of-words encoder got no texts to fit its IDF on.', 'Pass the training split\'s prompts.');
    const frequency = new Map<string, number>();
    for (const text of texts) for (const word of new Set(tokenizeWords(text))) frequency.set(word, (frequency.get(word) ?? 0) + 1);
    return new BagOfWordsEncoder(dimension, texts.length, frequency);
  }

  /** The encoder saved as JSON in `file` (train-lte's and calibrate-rase's fact encoders). */
  static async load(file: string): Promise<BagOfWordsEncoder> {
    return BagOfWordsEncoder.fromJson(JSON.parse(await readFile(file, 'utf8')), file);
  }

  static fromJson(json: unknown, source = 'bag-of-words encoder'): BagOfWordsEncoder {
    const value = json as Partial<BagOfWordsEncoderJson> | null;
    if (!value || value.format !== FORMAT || typeof value.dimension !== 'number' || typeof value.documents !== 'number' || typeof value.documentFrequency !== 'object') {
      throw new InvalidInputError(`${source} is not a ${FORMAT} object.`, 'Point to a file written by BagOfWordsEncoder.toJson (recipe-kit train-lte writes one).');
    }
    return new BagOfWordsEncoder(value.dimension, value.documents, new Map(Object.entries(value.documentFrequency ?? {})));
  }

  toJson(): BagOfWordsEncoderJson {
    return { format: FORMAT, dimension: this.dimension, documents: this.documents, documentFrequency: Object.fromEntries(this.documentFrequency) };
  }

  /** Smoothed IDF: ln((1 + N) / (1 + df)) + 1, as scikit-learn's TfidfVectorizer. */
  inverseDocumentFrequency(word: string): number {
    return Math.log((1 + this.documents) / (1 + (this.documentFrequency.get(word) ?? 0))) + 1;
  }

  /** The unit vector as its non-zero buckets (empty for a text without words): bucket → value. */
  encodeSparse(text: string): Map<number, number> {
    const vector = new Map<number, number>();
    for (const word of tokenizeWords(text)) {
      const hash = fnv1a(word);
      const sign = (hash & 1) === 0 ? 1 : -1;
      const bucket = (hash >>> 1) % this.dimension;
      vector.set(bucket, (vector.get(bucket) ?? 0) + sign * this.inverseDocumentFrequency(word));
    }
    const norm = Math.sqrt([...vector.values()].reduce((sum, x) => sum + x * x, 0));
    for (const [bucket, value] of vector) {
      if (value === 0) vector.delete(bucket);
      else vector.set(bucket, value / norm);
    }
    return vector;
  }

  /** [dimension] unit vector (all zeros for a text without words). */
  encode(text: string): Float32Array {
    const vector = new Float32Array(this.dimension);
    for (const [bucket, value] of this.encodeSparse(text)) vector[bucket] = value;
    return vector;
  }
}

/** 32-bit FNV-1a of a string's UTF-16 code units. */
function fnv1a(text: string): number {
  let hash = 0x811c9dc5;
  for (let i = 0; i < text.length; i++) {
    hash ^= text.charCodeAt(i);
    hash = Math.imul(hash, 0x01000193) >>> 0;
  }
  return hash >>> 0;
}
