import type { CausalLanguageModel } from '@recipe-kit/core';
import type { EditorSettings } from '../../editors/editor-registry.js';
import { hypernetworkEditorOptions, loadTrainedHypernetwork } from '../hypernetwork/load-trained-hypernetwork.js';
import { MendEditor } from './mend-editor.js';

/** A MEND editor around the trained hypernetwork (`--checkpoint DIR`, default `<model>/mend`). */
export async function createMendEditor(model: CausalLanguageModel, settings: EditorSettings): Promise<MendEditor> {
  const options = hypernetworkEditorOptions(settings, 'mend');
  return new MendEditor(model, await loadTrainedHypernetwork(model, settings, 'mend'), options);
}
