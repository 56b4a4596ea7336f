export { ExactIndex, type ExactIndexOptions } from './exact-index.js';
export { FaissIndex, type FaissIndexKind, type FaissIndexOptions, type FaissStorage } from './faiss-index.js';
export { FaissProjectedIndex, type FaissProjectedIndexOptions } from './faiss-projected-index.js';
// LanceDB and Chroma load on demand through the registry (createKnowledgeIndex); their classes are exported as types.
export type { LanceIndex, LanceIndexOptions } from './lance-index.js';
export type { ChromaIndex, ChromaIndexOptions } from './chroma-index.js';
export { startChromaServer, type ChromaServer, type StartChromaServerOptions } from './chroma-server.js';
export { BatchedIndex } from './batched-index.js';
export {
  KNOWLEDGE_INDEX_BACKENDS,
  createKnowledgeIndex,
  knowledgeIndexBackend,
  type CreateKnowledgeIndexOptions,
  type KnowledgeIndexBackend,
} from './knowledge-index-registry.js';
export {
  KnowledgeRepository,
  type KnowledgePayload,
  type KnowledgePayloadInput,
  type KnowledgeRepositoryOptions,
  type KnowledgeSearchOptions,
  type KnowledgeSearchResult,
  type LoadKnowledgeRepositoryOptions,
  type OpenKnowledgeRepositoryOptions,
  type RetrievedKnowledge,
} from './knowledge-repository.js';
export {
  KNOWLEDGE_REPOSITORY_FORMAT,
  KNOWLEDGE_REPOSITORY_VERSION,
  type KnowledgeRepositoryManifest,
  type RepositoryFileReference,
} from './knowledge-repository-manifest.js';
export { innerProduct } from './inner-product.js';
