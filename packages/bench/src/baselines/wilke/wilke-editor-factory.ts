import type { CausalLanguageModel } from '@recipe-kit/core';
import type { EditorFactory, EditorSettings } from '../../editors/editor-registry.js';
import { romeSettingsFromOptions, ROME_SETTING_KEYS } from '../rome/rome-editor-factory.js';
import { baselineLayers } from '../shared/baseline-layers.js';
import { contextTemplatesFromOptions } from '../shared/context-templates.js';
import { editorOption } from '../shared/editor-option.js';
import { editorSecondMoments } from '../shared/editor-second-moments.js';
import { WilkeEditor } from './wilke-editor.js';

export const wilkeEditorFactory: EditorFactory = {
  description: 'WILKE: ROME at the layer (of a scan of the lower layers) needing the smallest relative update, chosen per edit',
  optionKeys: ['layers', ...ROME_SETTING_KEYS],
  create: async (model: CausalLanguageModel, settings: EditorSettings) => {
    const layers = editorOption.layers('wilke', settings.options, 'layers', baselineLayers.wilke(model.dimensions.numLayers));
    const romeSettings = romeSettingsFromOptions('wilke', model, settings.options, layers[0] as number);
    const secondMoments = romeSettings.mom2Adjustment ? await editorSecondMoments('wilke', model, layers, settings) : undefined;
    const templates = await contextTemplatesFromOptions('wilke', model, settings.options, 'rome');
    return WilkeEditor.create(model, { settings: romeSettings, layers, templates, ...(secondMoments ? { secondMoments } : {}) });
  },
};
