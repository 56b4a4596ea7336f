import type { EditorFactory } from '../../editors/editor-registry.js';
import { numberOption } from '../weight-edits/editor-options.js';
import { scaledLayer } from '../weight-edits/mlp-projections.js';
import { GraceEditor } from './grace-editor.js';

/** GRACE at layer round(0.88·L) with EasyEdit's LLaMA-2 settings (ε 1.0, 50 steps at lr 1.0). */
export const GRACE_FACTORY: EditorFactory = {
  description: 'GRACE: a codebook of MLP outputs at one layer with deferral radii; weights unchanged (options: layer, eps, steps, lr)',
  optionKeys: ['layer', 'eps', 'steps', 'lr'],
  create: async (model, settings) => {
    const options = settings.options;
    const layers = model.dimensions.numLayers;
    return new GraceEditor(model, {
      layer: numberOption('grace', options, 'layer', scaledLayer(layers, 0.88), { integer: true, min: 0, max: layers - 1 }),
      radius: numberOption('grace', options, 'eps', 1, { min: 0 }),
      steps: numberOption('grace', options, 'steps', 50, { integer: true, min: 1 }),
      learningRate: numberOption('grace', options, 'lr', 1, { min: 0 }),
    });
  },
};
