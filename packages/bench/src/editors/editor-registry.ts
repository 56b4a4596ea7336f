import { InvalidInputError, type CausalLanguageModel, type Editor } from '@recipe-kit/core';
import { NoopEditor } from './noop-editor.js';

export interface EditorFactory {
  description: string;
  create(model: CausalLanguageModel): Promise<Editor>;
}

/** Editors by CLI name. Each editor package registers here; no matching on substrings. */
const EDITORS = new Map<string, EditorFactory>([
  ['none', { description: 'the unedited model (edits are ignored)', create: async (model) => new NoopEditor(model) }],
]);

export function registerEditor(name: string, factory: EditorFactory): void {
  EDITORS.set(name, factory);
}

export function editorNames(): string[] {
  return [...EDITORS.keys()];
}

export async function createEditor(name: string, model: CausalLanguageModel): Promise<Editor> {
  const factory = EDITORS.get(name);
  if (!factory) {
    throw new InvalidInputError(`There is no editor named "${name}".`, `Use one of: ${editorNames().join(', ')}.`);
  }
  return factory.create(model);
}
