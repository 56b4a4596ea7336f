import { InvalidInputError } from '@recipe-kit/core';
import type { EditorFactory } from '../../editors/editor-registry.js';
import { numberOption } from '../weight-edits/editor-options.js';
import { TPatcherEditor } from './t-patcher-editor.js';

/** T-Patcher with the decoder port's settings (spec §8.3): the last layer, 75 steps of Adam at 1e-2, λ_a = λ_m = 0.1. */
export const T_PATCHER_FACTORY: EditorFactory = {
  description: 'T-Patcher: one trained neuron per edit added to the last MLP, with activation and memory losses (options: layer, steps, lr, activation-positions=all|target)',
  optionKeys: ['layer', 'steps', 'lr', 'activation-positions'],
  create: async (model, settings) => {
    const options = settings.options;
    const layers = model.dimensions.numLayers;
    const positions = options?.['activation-positions'] ?? 'all';
    if (positions !== 'all' && positions !== 'target') {
      throw new InvalidInputError(`The t-patcher editor's option activation-positions=${positions} is unknown.`, 'Use activation-positions=all (every edit position, the decoder port) or target (the positions that predict the target).');
    }
    return new TPatcherEditor(model, {
      layer: numberOption('t-patcher', options, 'layer', layers - 1, { integer: true, min: 0, max: layers - 1 }),
      steps: numberOption('t-patcher', options, 'steps', 75, { integer: true, min: 1 }),
      learningRate: numberOption('t-patcher', options, 'lr', 1e-2, { min: 0 }),
      activationWeight: 0.1,
      memoryWeight: 0.1,
      activationPositions: positions,
    });
  },
};
