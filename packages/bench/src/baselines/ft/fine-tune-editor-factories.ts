import type { EditorFactory } from '../../editors/editor-registry.js';
import { numberOption } from '../weight-edits/editor-options.js';
import { scaledLayer } from '../weight-edits/mlp-projections.js';
import { FineTuneEditor, type FineTuneObjective } from './fine-tune-editor.js';

/**
 * FT-L and FT-M (spec §3) at layer round(0.7·L), 25 Adam steps. The reference learning rate (5e-4)
 * and FT-L box (ε = 5e-5 at GPT-J scale) leave a micro model's single edits ineffective (its
 * projection has 344 rows, not 16384), so the defaults here are the smallest tried on
 * synthetic-llama and synthetic-gptj with which single one-token edits mostly succeed:
 * FT-L lr 5e-3 inside ε = 5e-2 (the box binds: 25 steps could move an element 0.125; the
 * weights' rms is 0.055–0.088), FT-M lr 2e-3 without a box.
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
  learningRate: 5e-3,
  normConstraint: 5e-2,
});

export const FT_M_FACTORY = fineTuneFactory('target-new', 'FT-M: fine-tune one MLP output projection with the loss masked to the target tokens (options: layer, steps, lr, norm-constraint)', {
  learningRate: 2e-3,
  normConstraint: 0,
});
