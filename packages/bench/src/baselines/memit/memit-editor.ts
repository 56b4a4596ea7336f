import * as tf from '@tensorflow/tfjs';
import { InvalidInputError, type CausalLanguageModel, type EditRequest } from '@recipe-kit/core';
import { captureActivations } from '../shared/capture-activations.js';
import type { SecondMoment } from '../shared/collect-second-moments.js';
import { generateContextTemplates, MEMIT_TEMPLATE_LENGTHS, type ContextTemplates } from '../shared/context-templates.js';
import { mlpOutputWeightName } from '../shared/edited-module.js';
import { WeightEditor } from '../weight-edits/weight-editor.js';
import { optimiseTargetValue } from '../shared/optimise-target-value.js';
import { prepareEditRows, type EditRows } from '../shared/prepare-edit-rows.js';
import { memitLayerUpdate } from './memit-layer-update.js';
import type { MemitSettings } from './memit-settings.js';

export interface MemitEditorOptions {
  settings: MemitSettings;
  /** C per edited layer, in the order of `settings.layers`. */
  secondMoments: readonly SecondMoment[];
  /** `[["{}"], [generated...]]`; default generated once from the unedited model (MEMIT's lengths, seed 0). */
  templates?: ContextTemplates;
}

/**
 * MEMIT (spec §5): for a batch of requests, target hidden states z at the last edited layer, then
 * the residual z − h spread over the layers (each layer takes 1/(layers left) of what remains,
 * recomputed on the partially edited model) by least squares against C.
 */
export class MemitEditor extends WeightEditor {
  readonly name = 'memit';
  private readonly weightNames: string[];

  private constructor(
    model: CausalLanguageModel,
    readonly settings: MemitSettings,
    readonly templates: readonly string[],
    private readonly secondMoments: readonly SecondMoment[],
  ) {
    super(model);
    this.weightNames = settings.layers.map((layer) => mlpOutputWeightName(model, layer));
  }

  static async create(model: CausalLanguageModel, options: MemitEditorOptions): Promise<MemitEditor> {
    const { layers } = options.settings;
    const ascending = layers.length > 0 && layers.every((layer, i) => i === 0 || layer > (layers[i - 1] as number));
    if (!ascending || options.secondMoments.map((m) => m.layer).join() !== layers.join()) {
      throw new InvalidInputError(
        `MEMIT needs ascending layers with one second moment each; got layers [${layers}] and statistics for [${options.secondMoments.map((m) => m.layer)}].`,
        'Pass the layers in ascending order and C for each of them, in the same order.',
      );
    }
    const groups = options.templates ?? (await generateContextTemplates(model, { lengths: MEMIT_TEMPLATE_LENGTHS, seed: 0 }));
    return new MemitEditor(model, options.settings, groups.flat(), options.secondMoments);
  }

  protected async applyEdits(requests: readonly EditRequest[]): Promise<void> {
    const { layers } = this.settings;
    const last = layers[layers.length - 1] as number;
    const { hiddenSize: d, intermediateSize: f } = this.model.dimensions;
    const edits = requests.map((request) => prepareEditRows(this.model, request, this.templates, this.settings.factToken));
    const targets = edits.map((rows) => optimiseTargetValue(this.model, rows, { ...this.settings, layer: last, site: 'residual' }).target);
    const n = edits.length;
    const captureRows = edits.flatMap((rows) => rows.rewriting.map((row) => ({ ids: row.ids, position: row.lookupIndex })));
    for (const [index, layer] of layers.entries()) {
      const [keys, hidden] = captureActivations(this.model, captureRows, [{ site: 'mlpKeys', layer }, { site: 'residual', layer: last }]) as [Float32Array, Float32Array];
      const averagedKeys = new Float64Array(n * f);
      const residuals = new Float64Array(n * d);
      let start = 0;
      edits.forEach((rows, r) => {
        averagedKeys.set(groupAveragedKey(keys, start, rows, f), r * f);
        // R_l = (z − h at the plain prompt) / (layers left).
        for (let j = 0; j < d; j++) residuals[r * d + j] = ((targets[r]?.[j] as number) - (hidden[start * d + j] as number)) / (layers.length - index);
        start += rows.rewriting.length;
      });
      const moment = this.secondMoments[index] as SecondMoment;
      const update = memitLayerUpdate(moment.matrix, f, averagedKeys, residuals, n, d, this.settings.lambda, this.settings.epsilon);
      this.state.modify(this.weightNames[index] as string, (current) => tf.tidy(() => tf.add(current, tf.tensor2d(Float32Array.from(update), [f, d]))));
    }
  }
}

/** The plain prompt's key and the templates' mean key, averaged (spec §0.5: each group weighs 1/2). */
function groupAveragedKey(keys: Float32Array, start: number, rows: EditRows, f: number): Float64Array {
  const others = rows.rewriting.length - 1;
  const key = new Float64Array(f);
  for (let i = 0; i < f; i++) {
    const plain = keys[start * f + i] as number;
    if (others === 0) {
      key[i] = plain;
      continue;
    }
    let sum = 0;
    for (let r = 1; r <= others; r++) sum += keys[(start + r) * f + i] as number;
    key[i] = (plain + sum / others) / 2;
  }
  return key;
}
