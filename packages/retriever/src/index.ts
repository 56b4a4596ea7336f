export { ExactIndex, type ExactIndexOptions } from './exact-index.js';
export {
  KnowledgeRepository,
  type KnowledgePayload,
  type KnowledgePayloadInput,
  type KnowledgeRepositoryOptions,
  type KnowledgeSearchOptions,
  type KnowledgeSearchResult,
  type LoadKnowledgeRepositoryOptions,
  type RetrievedKnowledge,
} from './knowledge-repository.js';
export {
  KNOWLEDGE_REPOSITORY_FORMAT,
  KNOWLEDGE_REPOSITORY_VERSION,
  type KnowledgeRepositoryManifest,
  type RepositoryFileReference,
} from './knowledge-repository-manifest.js';
export { innerProduct } from './inner-product.js';
