import type { EditRequest } from '@recipe-kit/core';
import type { SyntheticEditOptions, SyntheticWorld } from './synthetic-world.js';

export const syntheticEditsFormat = 'recipe-kit-synthetic-edits';

/**
 * A file of edit requests on a synthetic world, read by `loadSyntheticEdits` (CLI: `--dataset
 * synthetic --data FILE`). Requests are EditRequests as they are (camelCase fields, probes with
 * prompt/target/type), so the file is what the evaluator gets.
 */
export interface SyntheticEditsFile {
  format: typeof syntheticEditsFormat;
  /** The seed the edits were drawn with. */
  seed: number;
  /** The seed of the world they edit (a model pretrained on that world's corpus knows the facts). */
  worldSeed: number;
  requests: EditRequest[];
}

/** Draws `world.editRequests(options)` and wraps them with their seeds, ready for JSON.stringify. */
export function createSyntheticEditsFile(world: SyntheticWorld, options: SyntheticEditOptions = {}): SyntheticEditsFile {
  return {
    format: syntheticEditsFormat,
    seed: options.seed ?? world.seed,
    worldSeed: world.seed,
    requests: world.editRequests(options),
  };
}
