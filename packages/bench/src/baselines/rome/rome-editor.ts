import { InvalidInputError, type CausalLanguageModel, type EditRequest } from '@recipe-kit/core';
import type { SecondMoment } from '../shared/collect-second-moments.js';
import { generateContextTemplates, ROME_TEMPLATE_LENGTHS, type ContextTemplates } from '../shared/context-templates.js';
import { inverseSecondMoment } from '../shared/inverse-second-moment.js';
import { WeightEditor } from '../weight-edits/weight-editor.js';
import { prepareEditRows } from '../shared/prepare-edit-rows.js';
import { applyRomePatch } from './apply-rome-patch.js';
import { computeRomePatch } from './compute-rome-patch.js';
import type { RomeSettings } from './rome-settings.js';

export interface RomeEditorOptions {
  settings: RomeSettings;
  /** Template groups (first `["{}"]`); default: generated once from the unedited model (ROME's lengths, seed 0). */
  templates?: ContextTemplates;
  /** C at `settings.layer`; required when `settings.mom2Adjustment`. */
  secondMoment?: SecondMoment;
}

/**
 * ROME (spec §4): one rank-one update of one layer's MLP output projection per request, applied in
 * sequence. By default with the mom2 adjustment (u = C⁻¹k̄) and the prefix-averaged key in the
 * update (the Rebuilding-ROME fix that keeps sequential ROME from collapsing).
 */
export class RomeEditor extends WeightEditor {
  readonly name = 'rome';

  private constructor(
    model: CausalLanguageModel,
    readonly settings: RomeSettings,
    readonly templates: readonly string[],
    private readonly inverse: Float64Array | null,
  ) {
    super(model);
  }

  static async create(model: CausalLanguageModel, options: RomeEditorOptions): Promise<RomeEditor> {
    const groups = options.templates ?? (await generateContextTemplates(model, { lengths: ROME_TEMPLATE_LENGTHS, seed: 0 }));
    return new RomeEditor(model, options.settings, groups.flat(), romeInverse(options.settings, options.secondMoment));
  }

  protected async applyEdits(requests: readonly EditRequest[]): Promise<void> {
    // Every request is checked before the first weight changes.
    for (const request of requests) prepareEditRows(this.model, request, ['{}']);
    for (const request of requests) {
      applyRomePatch(this.state, computeRomePatch(this.model, request, this.settings, this.templates, this.inverse));
    }
  }
}

/** C⁻¹ when the settings ask for the mom2 adjustment (and C is given), else null. */
export function romeInverse(settings: RomeSettings, secondMoment: SecondMoment | undefined): Float64Array | null {
  if (!settings.mom2Adjustment) return null;
  if (!secondMoment || secondMoment.layer !== settings.layer) {
    throw new InvalidInputError(`ROME with mom2 adjustment needs the second moment of layer ${settings.layer}.`, 'Pass secondMoment for that layer, or turn mom2Adjustment off.');
  }
  return inverseSecondMoment(secondMoment, settings.epsilon);
}
