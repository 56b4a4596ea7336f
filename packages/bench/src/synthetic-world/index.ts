export { createSyntheticEditsFile, syntheticEditsFormat, type SyntheticEditsFile } from './synthetic-edits-file.js';
export { generateSubjectNames } from './generate-subject-names.js';
export { generateSyntheticWorld, syntheticWorldDefaults, type GenerateSyntheticWorldOptions } from './generate-synthetic-world.js';
export { loadSyntheticEdits } from './load-synthetic-edits.js';
export { loadSyntheticWorld, syntheticWorldFromJson } from './load-synthetic-world.js';
export { fillTemplate, subjectPlaceholder, syntheticRelations, templateFixedParts, type SyntheticRelation } from './synthetic-relations.js';
export {
  defaultEditCount,
  findWorldProblems,
  SyntheticWorld,
  syntheticEditId,
  syntheticWorldFormat,
  type KnowledgeProbe,
  type SyntheticEditOptions,
  type SyntheticFact,
  type SyntheticWorldContents,
  type SyntheticWorldJson,
} from './synthetic-world.js';
export { extendSyntheticWorld } from './generate-synthetic-world.js';
export { heldOutEditSplits, type HeldOutEditSplits } from './recipe-synthetic-splits.js';
