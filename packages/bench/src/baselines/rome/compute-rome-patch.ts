import type { CausalLanguageModel, EditRequest } from '@recipe-kit/core';
import { captureActivations } from '../shared/capture-activations.js';
import { mlpOutputWeightName } from '../shared/edited-module.js';
import { optimiseTargetValue } from '../shared/optimise-target-value.js';
import { prepareEditRows } from '../shared/prepare-edit-rows.js';
import type { RomeSettings } from './rome-settings.js';

/**
 * A rank-one update ΔW = u ⊗ right of one layer's MLP output projection (in the [in, out] layout
 * the model holds: [intermediate, hidden]). Applying it adds (k·u)·right to the MLP output of any key k.
 */
export interface RomePatch {
  layer: number;
  weightName: string;
  /** [intermediate] unit key direction (C⁻¹k̄ / ‖C⁻¹k̄‖, or k̄ / ‖k̄‖ without mom2 adjustment). */
  u: Float32Array;
  /** [hidden] (v* − m*) / (k*·u). */
  right: Float32Array;
  /** [intermediate] k*: the key the patch maps exactly to v* (ΔW k* = v* − m*). */
  key: Float32Array;
  /** [hidden] v*: the optimised MLP output at the subject's last token. */
  target: Float32Array;
  /** Loss of the v* optimisation at each step. */
  losses: number[];
}

const mean = (rows: Float32Array, count: number, width: number, pick: (row: number) => boolean = () => true): Float32Array => {
  const result = new Float32Array(width);
  let used = 0;
  for (let r = 0; r < count; r++) {
    if (!pick(r)) continue;
    used++;
    for (let i = 0; i < width; i++) result[i] = (result[i] as number) + (rows[r * width + i] as number);
  }
  return result.map((x) => x / used);
};

/**
 * ROME for one request on the model as it is now, without changing it (spec §4.2): u from the
 * template-averaged key (whitened by C⁻¹ when `inverseSecondMoment` is given), v* by gradient
 * optimisation at the MLP output, and right so that ΔW k* = v* − m*. A later editor (RASE) stores
 * such patches; ROME and WILKE apply them.
 */
export function computeRomePatch(
  model: CausalLanguageModel,
  request: EditRequest,
  settings: RomeSettings,
  templates: readonly string[],
  inverseSecondMoment: Float64Array | null,
): RomePatch {
  const weightName = mlpOutputWeightName(model, settings.layer);
  const rows = prepareEditRows(model, request, templates, settings.factToken);
  const f = model.dimensions.intermediateSize;
  const d = model.dimensions.hiddenSize;
  const count = rows.rewriting.length;
  const [keys, outputs] = captureActivations(
    model,
    rows.rewriting.map((row) => ({ ids: row.ids, position: row.lookupIndex })),
    [{ site: 'mlpKeys', layer: settings.layer }, { site: 'mlpOutput', layer: settings.layer }],
  ) as [Float32Array, Float32Array];
  const averageKey = mean(keys, count, f);
  // u = C⁻¹ k̄ (float64), normalised.
  const direction = new Float64Array(f);
  for (let i = 0; i < f; i++) {
    if (!inverseSecondMoment) {
      direction[i] = averageKey[i] as number;
      continue;
    }
    let sum = 0;
    for (let j = 0; j < f; j++) sum += (inverseSecondMoment[i * f + j] as number) * (averageKey[j] as number);
    direction[i] = sum;
  }
  const length = Math.hypot(...direction);
  const u = Float32Array.from(direction, (x) => x / length);
  const value = optimiseTargetValue(model, rows, { ...settings, site: 'mlpOutput' });
  const plainOnly = settings.keys === 'original';
  const key = plainOnly ? keys.slice(0, f) : averageKey;
  const output = plainOnly ? outputs.slice(0, d) : mean(outputs, count, d);
  let keyDotU = 0;
  for (let i = 0; i < f; i++) keyDotU += (key[i] as number) * (u[i] as number);
  const right = Float32Array.from(value.target, (v, i) => (v - (output[i] as number)) / keyDotU);
  return { layer: settings.layer, weightName, u, right, key, target: value.target, losses: value.losses };
}
