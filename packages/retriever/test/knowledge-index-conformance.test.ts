import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { BackendUnavailableError } from '@recipe-kit/core';
import { createKnowledgeIndex, startChromaServer } from '../src/index.js';
import { describeKnowledgeIndexConformance, type ConformanceBackend } from './conformance/describe-knowledge-index-conformance.js';

/** A backend from the registry, skipped (with the reason) only when its native module cannot load here. */
function registryBackend(name: string, parameters: Record<string, number> = {}): () => Promise<ConformanceBackend | { skip: string }> {
  return async () => {
    const directory = await mkdtemp(path.join(tmpdir(), `conformance-${name}-`));
    const create = (dimension: number) => createKnowledgeIndex(name, { dimension, directory, parameters });
    try {
      await (await create(2)).dispose();
    } catch (error) {
      if (error instanceof BackendUnavailableError) return { skip: error.message };
      throw error;
    }
    return { create, tearDown: () => rm(directory, { recursive: true, force: true }) };
  };
}

describeKnowledgeIndexConformance('exact', registryBackend('exact'));
describeKnowledgeIndexConformance('faiss-flat', registryBackend('faiss-flat'));
describeKnowledgeIndexConformance('faiss-hnsw', registryBackend('faiss-hnsw'));
// Trained at 100 vectors so the suite exercises the quantised / inverted-list code paths, not only the staging scan.
describeKnowledgeIndexConformance('faiss-hnsw-sq8', registryBackend('faiss-hnsw-sq8', { trainAt: 100 }), { lossyVectors: true });
describeKnowledgeIndexConformance('faiss-ivf', registryBackend('faiss-ivf', { nlist: 4, nprobe: 4, trainAt: 100 }));
describeKnowledgeIndexConformance('faiss-ivf-sq8', registryBackend('faiss-ivf-sq8', { nlist: 4, nprobe: 4, trainAt: 100 }), { lossyVectors: true });
// PQ codes choose candidates, float32 copies rescore them: exact results, so not marked lossy. Trained at 256 (the least PQ allows).
describeKnowledgeIndexConformance('faiss-ivf-pq', registryBackend('faiss-ivf-pq', { nlist: 4, nprobe: 4, trainAt: 256 }));
// Centred: faiss holds (k − μ)·s, queries stay as they are, scores are mapped back: still exact results.
describeKnowledgeIndexConformance('faiss-ivf-pq (center 1)', registryBackend('faiss-ivf-pq', { nlist: 4, nprobe: 4, trainAt: 256, center: 1 }));
// Projected lists choose candidates, float32 keys rescore them; rescore 300 × k fetches every key of the suite's
// ≤ 300, so results must be exact through the transform, labels and tombstones (approximation: faiss-projected-index.test.ts).
describeKnowledgeIndexConformance('faiss-ivf-pca', registryBackend('faiss-ivf-pca', { nlist: 4, nprobe: 4, trainAt: 256, rescore: 300 }));
// Small write batches and an early IVF index so buffered, written and indexed rows are all searched.
describeKnowledgeIndexConformance('lancedb', registryBackend('lancedb', { batchRows: 64, indexAt: 256, numPartitions: 2, nprobes: 2 }));
describeKnowledgeIndexConformance('chroma', async () => {
  const directory = await mkdtemp(path.join(tmpdir(), 'conformance-chroma-'));
  let server;
  try {
    server = await startChromaServer({ directory });
  } catch (error) {
    await rm(directory, { recursive: true, force: true });
    if (error instanceof BackendUnavailableError) return { skip: error.message };
    throw error;
  }
  const chroma = { host: server.host, port: server.port };
  return {
    create: (dimension) => createKnowledgeIndex('chroma', { dimension, chroma, parameters: { batchRows: 64 } }),
    tearDown: async () => {
      await server.stop();
      await rm(directory, { recursive: true, force: true });
    },
  };
});
