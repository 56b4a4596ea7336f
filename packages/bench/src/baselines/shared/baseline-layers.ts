/**
 * Layer choices of the spec (§14) scaled from the 28/32-layer models to a model with `numLayers`
 * layers: relative depth, rounded, clamped to [0, L−1].
 */
const clamp = (layer: number, numLayers: number): number => Math.min(numLayers - 1, Math.max(0, Math.round(layer)));

export const baselineLayers = {
  /** ROME / R-ROME: round(0.17·L) (layer 5 of 28/32). */
  rome: (numLayers: number): number => clamp(0.17 * numLayers, numLayers),
  /** MEMIT: the contiguous block round(0.11·L) … round(0.28·L), at least two layers. */
  memit: (numLayers: number): number[] => {
    const first = clamp(0.11 * numLayers, numLayers);
    let last = clamp(0.28 * numLayers, numLayers);
    if (last === first) last = Math.min(numLayers - 1, first + 1);
    const start = last === first ? Math.max(0, first - 1) : first;
    return Array.from({ length: last - start + 1 }, (_, i) => start + i);
  },
  /**
   * WILKE: scan 0 … ceiling−1 with ceiling = round(0.25·L) (7 of 28). The spec's max(1, ·) leaves a
   * 4-layer model a single candidate, i.e. no choice at all; we keep at least two candidates.
   */
  wilke: (numLayers: number): number[] => {
    const ceiling = Math.min(numLayers, Math.max(2, Math.round(0.25 * numLayers)));
    return Array.from({ length: ceiling }, (_, i) => i);
  },
} as const;
