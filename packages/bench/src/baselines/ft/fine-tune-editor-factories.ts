import type { EditorFactory } from '../../editors/editor-registry.js';
import { numberOption } from '../weight-edits/editor-options.js';
import { scaledLayer } from '../weight-edits/mlp-projections.js';
import { FineTuneEditor, type FineTuneObjective } from './fine-tune-editor.js';

/**
 * FT-L and FT-M (spec §3) at layer round(0.7·L). FT-L trains on the last prompt position inside an
 * L∞ box; the box of the ROME/MEMIT papers (ε = 5e-5 at GPT-J scale) leaves a micro model's edits
 * ineffective, so ε = 2e-2 with lr 1e-3 is the default here (measured on synthetic-llama: the
 * smallest box tried in which single edits of one-token targets succeed).
 */
function fineTuneFactory(objective: FineTuneObjective, description: string, defaults: { learningRate: number; normConstraint: number }): EditorFactory {
  const name = objective === 'prompt-last' ? 'ft-l' : 'ft-m';
  return {
    description,
    optionKeys: ['layer', 'steps', 'lr', 'norm-constraint'],
    create: async (model, settings) => {
      const options = settings.options;
      const layers = model.dimensions.numLayers;
      return new FineTuneEditor(model, {
        objective,
        layer: numberOption(name, options, 'layer', scaledLayer(layers, 0.7), { integer: true, min: 0, max: layers - 1 }),
        steps: numberOption(name, options, 'steps', 25, { integer: true, min: 1 }),
        learningRate: numberOption(name, options, 'lr', defaults.learningRate, { min: 0 }),
        normConstraint: numberOption(name, options, 'norm-constraint', defaults.normConstraint, { min: 0 }),
      });
    },
  };
}

export const FT_L_FACTORY = fineTuneFactory('prompt-last', 'FT-L: fine-tune one MLP output projection on the last prompt position, inside an L∞ box (options: layer, steps, lr, norm-constraint)', {
  learningRate: 1e-3,
  normConstraint: 2e-2,
});

export const FT_M_FACTORY = fineTuneFactory('target-new', 'FT-M: fine-tune one MLP output projection with the loss masked to the target tokens (options: layer, steps, lr, norm-constraint)', {
  learningRate: 5e-4,
  normConstraint: 0,
});
