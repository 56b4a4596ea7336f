import type { CausalLanguageModel } from '@recipe-kit/core';
import type { EditorFactory, EditorSettings } from '../../editors/editor-registry.js';
import { baselineLayers } from '../shared/baseline-layers.js';
import { contextTemplatesFromOptions } from '../shared/context-templates.js';
import { editorOption } from '../shared/editor-option.js';
import { editorSecondMoments, STATISTICS_OPTION_KEYS } from '../shared/editor-second-moments.js';
import { FACT_TOKENS } from '../shared/prepare-edit-rows.js';
import { VALUE_OPTION_KEYS, valueSettingsFromOptions } from '../shared/value-settings-from-options.js';
import { RomeEditor } from './rome-editor.js';
import { defaultRomeSettings, ROME_KEY_MODES, type RomeSettings } from './rome-settings.js';

/** ROME's settings for `model` with `--editor-option` overrides (layer, mom2, keys, epsilon, value knobs). */
export function romeSettingsFromOptions(editor: string, model: CausalLanguageModel, options: Readonly<Record<string, string>> | undefined, layer: number): RomeSettings {
  const defaults = defaultRomeSettings(model, layer);
  return {
    ...valueSettingsFromOptions(editor, options, defaults),
    mom2Adjustment: editorOption.choice(editor, options, 'mom2', ['true', 'false'], defaults.mom2Adjustment ? 'true' : 'false') === 'true',
    keys: editorOption.choice(editor, options, 'keys', ROME_KEY_MODES, defaults.keys),
    epsilon: editorOption.number(editor, options, 'epsilon', defaults.epsilon),
    factToken: editorOption.choice(editor, options, 'fact-token', FACT_TOKENS, defaults.factToken),
  };
}

export const ROME_SETTING_KEYS = ['mom2', 'context-templates', 'keys', 'epsilon', 'fact-token', ...VALUE_OPTION_KEYS, ...STATISTICS_OPTION_KEYS] as const;

export const romeEditorFactory: EditorFactory = {
  description: 'ROME: a rank-one update of one MLP output projection per edit (mom2-adjusted, prefix-averaged keys: the Rebuilding-ROME fix)',
  optionKeys: ['layer', ...ROME_SETTING_KEYS],
  create: async (model: CausalLanguageModel, settings: EditorSettings) => {
    const layer = editorOption.integer('rome', settings.options, 'layer', baselineLayers.rome(model.dimensions.numLayers));
    const romeSettings = romeSettingsFromOptions('rome', model, settings.options, layer);
    const [secondMoment] = romeSettings.mom2Adjustment ? await editorSecondMoments('rome', model, [layer], settings) : [];
    const templates = await contextTemplatesFromOptions('rome', model, settings.options, 'rome');
    return RomeEditor.create(model, { settings: romeSettings, templates, ...(secondMoment ? { secondMoment } : {}) });
  },
};
