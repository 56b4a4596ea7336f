import type { CausalLanguageModel } from '@recipe-kit/core';

/** The last `count` layers (clamped to the model's depth): the layers MEND and MALMEN edit (spec §14). */
export function lastLayers(model: CausalLanguageModel, count: number): number[] {
  const total = model.dimensions.numLayers;
  const n = Math.max(1, Math.min(count, total));
  return Array.from({ length: n }, (_, i) => total - n + i);
}
