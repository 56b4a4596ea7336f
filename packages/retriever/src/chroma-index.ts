import { ChromaClient, type Collection } from 'chromadb';
import { BackendUnavailableError, type IndexEntry, type IndexHit } from '@recipe-kit/core';
import { BatchedIndex } from './batched-index.js';

export interface ChromaIndexOptions {
  host: string;
  port: number;
  /** Collection name (≥ 3 characters; default "recipe-knowledge"). */
  collection?: string;
  /** "overwrite" starts empty (default); "reopen" keeps what the server holds. */
  mode?: 'overwrite' | 'reopen';
  /** Rows per HTTP request (default 500; 5000 × 768 fails in Chroma 3.0.4). */
  batchRows?: number;
  /** HNSW parameters of the collection (defaults M 32, efConstruction 200, efSearch 128). */
  maxNeighbors?: number;
  efConstruction?: number;
  efSearch?: number;
  /** Runs on dispose (e.g. stops a server started for this index). */
  onDispose?: () => Promise<void>;
}

/** Chroma computes no embeddings here: every vector comes from RECIPE's heads. */
const noEmbeddings = {
  generate: async (): Promise<number[][]> => {
    throw new Error('The recipe-kit Chroma index stores precomputed vectors only.');
  },
};

/**
 * A `KnowledgeIndex` in a Chroma collection (HNSW, "ip" space, distance 1 − x·q) on a Chroma server:
 * a local one started by `startChromaServer`, or a distributed deployment at host:port.
 */
export class ChromaIndex extends BatchedIndex {
  private readonly collection: Collection;
  private readonly onDispose: (() => Promise<void>) | undefined;

  private constructor(dimension: number, batchRows: number, collection: Collection, onDispose: (() => Promise<void>) | undefined) {
    super(dimension, batchRows);
    this.collection = collection;
    this.onDispose = onDispose;
  }

  static async open(dimension: number, options: ChromaIndexOptions): Promise<ChromaIndex> {
    const client = new ChromaClient({ host: options.host, port: options.port });
    const name = options.collection ?? 'recipe-knowledge';
    try {
      await client.heartbeat();
    } catch (error) {
      throw new BackendUnavailableError(`No Chroma server answers at ${options.host}:${options.port}.`, 'Start one (`startChromaServer` or `chroma run --path DIR --port P`), or pass the host and port of a running one.', { cause: error });
    }
    const configuration = {
      hnsw: { space: 'ip' as const, max_neighbors: options.maxNeighbors ?? 32, ef_construction: options.efConstruction ?? 200, ef_search: options.efSearch ?? 128 },
    };
    if (options.mode !== 'reopen') {
      const existing = (await client.listCollections()).some((collection) => collection.name === name);
      if (existing) await client.deleteCollection({ name });
    }
    const collection = await client.getOrCreateCollection({ name, configuration, embeddingFunction: noEmbeddings });
    const index = new ChromaIndex(dimension, options.batchRows ?? 500, collection, options.onDispose);
    if (options.mode === 'reopen') {
      const count = await collection.count();
      for (let offset = 0; offset < count; offset += 10_000) {
        index.adoptStoredIds((await collection.get({ limit: 10_000, offset, include: [] })).ids);
      }
    }
    return index;
  }

  protected async writeRows(entries: readonly IndexEntry[]): Promise<void> {
    await this.collection.add({ ids: entries.map((entry) => entry.id), embeddings: entries.map((entry) => Array.from(entry.vector)) });
  }

  protected async deleteRows(ids: readonly string[]): Promise<void> {
    await this.collection.delete({ ids: [...ids] });
  }

  protected async searchRows(query: Float32Array, k: number): Promise<IndexHit[]> {
    const result = await this.collection.query({ queryEmbeddings: [Array.from(query)], nResults: k, include: ['distances'] });
    const ids = result.ids[0] ?? [];
    const distances = result.distances[0] ?? [];
    return ids.map((id, i) => ({ id, score: 1 - (distances[i] ?? Number.POSITIVE_INFINITY) }));
  }

  protected async getRow(id: string): Promise<Float32Array | null> {
    const result = await this.collection.get({ ids: [id], include: ['embeddings'] });
    const embedding = result.embeddings[0];
    return embedding === undefined ? null : Float32Array.from(embedding);
  }

  protected async close(): Promise<void> {
    // The HTTP client holds no connection; a server started for this index stops here.
    await this.onDispose?.();
  }
}
