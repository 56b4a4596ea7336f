import type { CausalLanguageModel } from '@recipe-kit/core';
import type { EditorSettings } from '../../editors/editor-registry.js';
import { hypernetworkEditorOptions, loadTrainedHypernetwork } from '../hypernetwork/load-trained-hypernetwork.js';
import { MalmenEditor } from './malmen-editor.js';

/** A MALMEN editor around the trained hypernetwork (`--checkpoint DIR`, default `<model>/malmen`). */
export async function createMalmenEditor(model: CausalLanguageModel, settings: EditorSettings): Promise<MalmenEditor> {
  const options = hypernetworkEditorOptions(settings, 'malmen');
  return new MalmenEditor(model, await loadTrainedHypernetwork(model, settings, 'malmen'), options);
}
