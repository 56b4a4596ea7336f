import type { CausalLanguageModel } from '@recipe-kit/core';
import type { EditorFactory, EditorSettings } from '../../editors/editor-registry.js';
import { baselineLayers } from '../shared/baseline-layers.js';
import { contextTemplatesFromOptions } from '../shared/context-templates.js';
import { editorOption } from '../shared/editor-option.js';
import { editorSecondMoments, STATISTICS_OPTION_KEYS } from '../shared/editor-second-moments.js';
import { FACT_TOKENS } from '../shared/prepare-edit-rows.js';
import { VALUE_OPTION_KEYS, valueSettingsFromOptions } from '../shared/value-settings-from-options.js';
import { MemitEditor } from './memit-editor.js';
import { defaultMemitSettings } from './memit-settings.js';

export const memitEditorFactory: EditorFactory = {
  description: 'MEMIT: z at the last of several layers, the residual spread over their MLP output projections by least squares against C (batch edits)',
  optionKeys: ['layers', 'lambda', 'epsilon', 'context-templates', 'fact-token', ...VALUE_OPTION_KEYS, ...STATISTICS_OPTION_KEYS],
  create: async (model: CausalLanguageModel, settings: EditorSettings) => {
    const options = settings.options;
    const layers = editorOption.layers('memit', options, 'layers', baselineLayers.memit(model.dimensions.numLayers));
    const defaults = defaultMemitSettings(model, layers);
    const memitSettings = {
      ...valueSettingsFromOptions('memit', options, defaults),
      lambda: editorOption.number('memit', options, 'lambda', defaults.lambda),
      epsilon: editorOption.number('memit', options, 'epsilon', defaults.epsilon),
      factToken: editorOption.choice('memit', options, 'fact-token', FACT_TOKENS, defaults.factToken),
    };
    const secondMoments = await editorSecondMoments('memit', model, layers, settings);
    const templates = await contextTemplatesFromOptions('memit', model, options, 'memit');
    return MemitEditor.create(model, { settings: memitSettings, secondMoments, templates });
  },
};
