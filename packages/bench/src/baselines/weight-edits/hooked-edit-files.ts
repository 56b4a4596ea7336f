import { existsSync } from 'node:fs';
import { mkdir, readFile, writeFile } from 'node:fs/promises';
import path from 'node:path';
import {
  InvalidInputError,
  MissingArtifactError,
  modelFingerprint,
  readSafetensors,
  writeSafetensors,
  type CausalLanguageModel,
  type NamedTensor,
} from '@recipe-kit/core';

/** The saved state of an editor that acts through forward hooks (GRACE's codebook, T-Patcher's neurons). */
export interface HookedEditState {
  editCount: number;
  tensors: Map<string, NamedTensor>;
  /** Editor-specific JSON (labels, ids, hyperparameters that shape the tensors). */
  details: unknown;
}

const TENSORS_FILE = 'edit-state.safetensors';
const STATE_FILE = 'edit-state.json';

/** Writes the state with the model's fingerprint (hook editors never change the weights). */
export async function saveHookedEditState(directory: string, editor: string, model: CausalLanguageModel, state: HookedEditState): Promise<void> {
  await mkdir(directory, { recursive: true });
  await writeSafetensors(path.join(directory, TENSORS_FILE), state.tensors);
  const json = { editor, modelFingerprint: modelFingerprint(model), editCount: state.editCount, tensors: [...state.tensors.keys()], details: state.details };
  await writeFile(path.join(directory, STATE_FILE), `${JSON.stringify(json)}\n`);
}

/** Reads a state written by `saveHookedEditState` for the same editor and model; refuses anything else. */
export async function loadHookedEditState(directory: string, editor: string, model: CausalLanguageModel): Promise<HookedEditState> {
  const file = path.join(directory, STATE_FILE);
  if (!existsSync(file)) throw new MissingArtifactError(`${file} does not exist.`, `Load a directory written by the ${editor} editor's save().`);
  const json = JSON.parse(await readFile(file, 'utf8')) as { editor?: unknown; modelFingerprint?: unknown; editCount?: unknown; tensors?: unknown; details?: unknown };
  if (json.editor !== editor || typeof json.editCount !== 'number' || !Array.isArray(json.tensors)) {
    throw new InvalidInputError(`${directory} is not a saved state of the ${editor} editor (it names "${String(json.editor)}").`, `Load it with the editor that saved it, or save one with ${editor}.`);
  }
  const fingerprint = modelFingerprint(model);
  if (json.modelFingerprint !== fingerprint) {
    throw new InvalidInputError(`${directory} holds ${editor} edits of another model (${String(json.modelFingerprint)}); this model is ${fingerprint}.`, 'Load the edit state with the model it was saved from.');
  }
  const tensors = await readSafetensors(path.join(directory, TENSORS_FILE), { names: new Set(json.tensors as string[]) });
  return { editCount: json.editCount, tensors, details: json.details };
}
