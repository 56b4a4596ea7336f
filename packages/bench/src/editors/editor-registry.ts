import { InvalidInputError, type CausalLanguageModel, type Editor } from '@recipe-kit/core';
import { NoopEditor } from './noop-editor.js';
import { createRecipeEditorFromCheckpoint } from './recipe-editor-factory.js';
import { createMendEditor } from '../baselines/mend/create-mend-editor.js';
import { createMalmenEditor } from '../baselines/malmen/create-malmen-editor.js';
import { HYPERNETWORK_OPTION_KEYS } from '../baselines/hypernetwork/load-trained-hypernetwork.js';
import { memitEditorFactory } from '../baselines/memit/memit-editor-factory.js';
import { romeEditorFactory } from '../baselines/rome/rome-editor-factory.js';
import { wilkeEditorFactory } from '../baselines/wilke/wilke-editor-factory.js';
import { FT_L_FACTORY, FT_M_FACTORY } from '../baselines/ft/fine-tune-editor-factories.js';
import { GRACE_FACTORY } from '../baselines/grace/grace-editor-factory.js';
import { T_PATCHER_FACTORY } from '../baselines/t-patcher/t-patcher-editor-factory.js';
import { createLteEditorFromCheckpoint } from '../baselines/lte/lte-editor-factory.js';
import { createRaseEditorFromArtefacts, RASE_OPTION_KEYS } from '../baselines/rase/rase-editor-factory.js';

/** What the CLI hands an editor factory besides the model. */
export interface EditorSettings {
  /** The model's directory (editors find their trained artefacts beside it, e.g. `<model>/recipe`). */
  modelDirectory?: string;
  /** A trained artefact (RECIPE checkpoint, hypernetwork) to use instead of the default one. */
  checkpoint?: string;
  /** Editor-specific options from the command line (`--editor-option key=value`), e.g. RECIPE's `ablation`. */
  options?: Readonly<Record<string, string>>;
}

export interface EditorFactory {
  description: string;
  /** Option keys the editor understands (anything else is refused). */
  optionKeys?: readonly string[];
  create(model: CausalLanguageModel, settings: EditorSettings): Promise<Editor>;
}

/** Editors by CLI name. Each editor package registers here; no matching on substrings. */
const EDITORS = new Map<string, EditorFactory>([
  ['none', { description: 'the unedited model (edits are ignored)', create: async (model) => new NoopEditor(model) }],
  [
    'recipe',
    {
      description: 'RECIPE: retrieval-augmented continuous prompts with a knowledge sentinel (checkpoint: --checkpoint DIR, default <model>/recipe)',
      optionKeys: ['ablation', 'threshold', 'top-k', 'sentinel-margin', 'index', 'index-parameters'],
      create: (model, settings) => createRecipeEditorFromCheckpoint(model, settings),
    },
  ],
  ['mend', { description: 'MEND: a trained hypernetwork maps the edit gradient\'s rank-one factors to a weight update (checkpoint: --checkpoint DIR, default <model>/mend)', optionKeys: HYPERNETWORK_OPTION_KEYS, create: (model, settings) => createMendEditor(model, settings) }],
  ['malmen', { description: 'MALMEN: hypernetwork value shifts aggregated by one least-squares solve per layer (checkpoint: --checkpoint DIR, default <model>/malmen)', optionKeys: HYPERNETWORK_OPTION_KEYS, create: (model, settings) => createMalmenEditor(model, settings) }],
  ['rome', romeEditorFactory],
  ['memit', memitEditorFactory],
  ['wilke', wilkeEditorFactory],
  [
    'lte',
    {
      description: 'LTE: an aligned model answers under "[Updated Information] <top-1 retrieved fact> [Question] …" (checkpoint: --checkpoint DIR, default <model>/lte)',
      optionKeys: ['top-k'],
      create: (model, settings) => createLteEditorFromCheckpoint(model, settings),
    },
  ],
  [
    'rase',
    {
      description: 'RASE (R-ROME): ROME patches computed on the unedited model, applied per query when the retrieval rule fires (calibration: --checkpoint DIR, default <model>/rase)',
      optionKeys: RASE_OPTION_KEYS,
      create: (model, settings) => createRaseEditorFromArtefacts(model, settings),
    },
  ],
  ['ft-l', FT_L_FACTORY],
  ['ft-m', FT_M_FACTORY],
  ['grace', GRACE_FACTORY],
  ['t-patcher', T_PATCHER_FACTORY],
]);

export function registerEditor(name: string, factory: EditorFactory): void {
  EDITORS.set(name, factory);
}

export function editorNames(): string[] {
  return [...EDITORS.keys()];
}

export async function createEditor(name: string, model: CausalLanguageModel, settings: EditorSettings = {}): Promise<Editor> {
  const factory = EDITORS.get(name);
  if (!factory) {
    throw new InvalidInputError(`There is no editor named "${name}".`, `Use one of: ${editorNames().join(', ')}.`);
  }
  const unknown = Object.keys(settings.options ?? {}).find((key) => !(factory.optionKeys ?? []).includes(key));
  if (unknown !== undefined) {
    throw new InvalidInputError(
      `The ${name} editor has no option "${unknown}".`,
      factory.optionKeys && factory.optionKeys.length > 0 ? `Use one of: ${factory.optionKeys.join(', ')}.` : `The ${name} editor takes no --editor-option.`,
    );
  }
  return factory.create(model, settings);
}
