import * as tf from '@tensorflow/tfjs';
import { InvalidInputError, type CausalLanguageModel, type EditRequest } from '@recipe-kit/core';
import { applyRomePatch } from '../rome/apply-rome-patch.js';
import { computeRomePatch, type RomePatch } from '../rome/compute-rome-patch.js';
import { romeInverse } from '../rome/rome-editor.js';
import type { RomeSettings } from '../rome/rome-settings.js';
import type { SecondMoment } from '../shared/collect-second-moments.js';
import { generateContextTemplates, ROME_TEMPLATE_LENGTHS, type ContextTemplates } from '../shared/context-templates.js';
import { WeightEditor } from '../weight-edits/weight-editor.js';
import { prepareEditRows } from '../shared/prepare-edit-rows.js';

export interface WilkeEditorOptions {
  /** ROME's settings; `layer` is ignored (chosen per edit). */
  settings: RomeSettings;
  /** Candidate layers (the scan). */
  layers: readonly number[];
  /** C per candidate layer, same order; required with the mom2 adjustment. */
  secondMoments?: readonly SecondMoment[];
  templates?: ContextTemplates;
}

/** One edit's layer choice: the relative update size ‖ΔW_l‖_F / ‖W_l‖_F of every candidate. */
export interface WilkeChoice {
  requestId: string;
  layer: number;
  relativeUpdates: number[];
}

/**
 * WILKE (spec §9): per edit, ROME's patch at every candidate layer on the current model, and the
 * one with the smallest ‖ΔW_l‖_F / ‖W_l‖_F is applied (for rank one, ‖ΔW‖_F = ‖right‖·‖u‖).
 * Applying the computed patch equals re-running ROME at that layer on the same model.
 */
export class WilkeEditor extends WeightEditor {
  readonly name = 'wilke';
  /** The layer chosen for each edit since the last restore. */
  choices: WilkeChoice[] = [];

  private constructor(
    model: CausalLanguageModel,
    readonly settings: RomeSettings,
    readonly layers: readonly number[],
    readonly templates: readonly string[],
    private readonly inverses: readonly (Float64Array | null)[],
  ) {
    super(model);
  }

  static async create(model: CausalLanguageModel, options: WilkeEditorOptions): Promise<WilkeEditor> {
    if (options.layers.length === 0) throw new InvalidInputError('WILKE needs at least one candidate layer.', 'Pass layers, e.g. --editor-option layers=0,1.');
    const inverses = options.layers.map((layer, i) => romeInverse({ ...options.settings, layer }, options.secondMoments?.[i]));
    const groups = options.templates ?? (await generateContextTemplates(model, { lengths: ROME_TEMPLATE_LENGTHS, seed: 0 }));
    return new WilkeEditor(model, options.settings, options.layers, groups.flat(), inverses);
  }

  protected async applyEdits(requests: readonly EditRequest[]): Promise<void> {
    for (const request of requests) prepareEditRows(this.model, request, ['{}']);
    for (const request of requests) {
      const candidates = this.layers.map((layer, i) => computeRomePatch(this.model, request, { ...this.settings, layer }, this.templates, this.inverses[i] ?? null));
      const relativeUpdates = candidates.map((patch) => relativeUpdate(this.model, patch));
      const best = relativeUpdates.indexOf(Math.min(...relativeUpdates));
      applyRomePatch(this.state, candidates[best] as RomePatch);
      this.choices.push({ requestId: request.id, layer: this.layers[best] as number, relativeUpdates });
    }
  }

  protected override saveDetails(): unknown {
    return { choices: this.choices };
  }

  /** Also called with undefined by restore (the choices are forgotten). */
  protected override loadDetails(details: unknown): void {
    const choices = (details as { choices?: unknown } | undefined)?.choices;
    this.choices = Array.isArray(choices) ? (choices as WilkeChoice[]) : [];
  }
}

/** ‖u ⊗ right‖_F / ‖W‖_F with W the layer's current weight. */
function relativeUpdate(model: CausalLanguageModel, patch: RomePatch): number {
  const weightNorm = tf.tidy(() => tf.norm(model.getWeight(patch.weightName)).dataSync()[0] as number);
  const norm = (values: Float32Array): number => Math.hypot(...values);
  return (norm(patch.u) * norm(patch.right)) / weightNorm;
}
