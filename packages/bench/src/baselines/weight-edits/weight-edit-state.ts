import { existsSync } from 'node:fs';
import { mkdir, readFile, writeFile } from 'node:fs/promises';
import path from 'node:path';
import * as tf from '@tensorflow/tfjs';
import {
  InvalidInputError,
  MissingArtifactError,
  modelFingerprint,
  readSafetensors,
  writeSafetensors,
  type CausalLanguageModel,
} from '@recipe-kit/core';

const WEIGHTS_FILE = 'edited-weights.safetensors';
const STATE_FILE = 'weight-edit-state.json';

interface SavedState {
  format: 'recipe-kit-weight-edits-1';
  /** Fingerprint of the unedited model the edits were made on. */
  modelFingerprint: string;
  names: string[];
  /** Editor-specific state (edit count, chosen layers), kept verbatim. */
  extra?: unknown;
}

/**
 * The undo record of a weight editor: the original of every weight it touched (a copy taken the
 * first time), so `restore` is bit-identical, and save/load of the edited values of those weights.
 * Editors change weights only through `modify`/`set`, never with `model.setWeight` directly.
 */
export class WeightEditState {
  private readonly originals = new Map<string, tf.Tensor>();
  /** Fingerprint of the unedited model, taken before the first change (weights still original). */
  private fingerprint: string | null = null;

  constructor(readonly model: CausalLanguageModel) {}

  /** Names of the weights changed since construction or the last restore, in first-touch order. */
  get touchedNames(): string[] {
    return [...this.originals.keys()];
  }

  /** The weight as it was before any edit (the current one when untouched). Not a copy: do not dispose. */
  original(name: string): tf.Tensor {
    return this.originals.get(name) ?? this.model.getWeight(name);
  }

  /** Replaces a weight by `update(current)`; the tensor returned is owned by the model afterwards. */
  modify(name: string, update: (current: tf.Tensor) => tf.Tensor): void {
    const current = this.model.getWeight(name);
    const next = update(current);
    if (next === current) return;
    this.set(name, next);
  }

  /** Replaces a weight by `value` (same shape; the model takes ownership of `value`). */
  set(name: string, value: tf.Tensor): void {
    const current = this.model.getWeight(name);
    if (value.shape.join() !== current.shape.join()) {
      throw new InvalidInputError(
        `Weight "${name}" has shape [${current.shape}] but the edit gives [${value.shape}].`,
        'An edited weight must keep its shape; compute the update in the weight\'s [in, out] layout.',
      );
    }
    if (this.originals.has(name)) {
      this.model.setWeight(name, value);
      return;
    }
    this.fingerprint ??= modelFingerprint(this.model);
    // The model's tensor becomes the original: it is kept, not disposed, so restore is bit-identical.
    this.originals.set(name, current);
    this.model.setWeight(name, value, { keepPrevious: true });
  }

  /** Puts every original back (bit-identical) and forgets the edits. */
  restore(): void {
    for (const [name, original] of this.originals) this.model.setWeight(name, original);
    this.originals.clear();
  }

  /** Writes the touched weights' current values and the unedited model's fingerprint. */
  async save(directory: string, extra?: unknown): Promise<void> {
    await mkdir(directory, { recursive: true });
    const names = this.touchedNames;
    const tensors = names.map((name): [string, { shape: number[]; data: Float32Array }] => {
      const weight = this.model.getWeight(name);
      return [name, { shape: [...weight.shape], data: weight.dataSync() as Float32Array }];
    });
    await writeSafetensors(path.join(directory, WEIGHTS_FILE), tensors);
    const state: SavedState = { format: 'recipe-kit-weight-edits-1', modelFingerprint: this.uneditedFingerprint(), names };
    if (extra !== undefined) state.extra = extra;
    await writeFile(path.join(directory, STATE_FILE), `${JSON.stringify(state, null, 2)}\n`);
  }

  /**
   * Restores, then applies a state written by `save` for the same unedited model; returns its
   * editor-specific `extra`. A state written for another model is refused.
   */
  async load(directory: string): Promise<unknown> {
    const stateFile = path.join(directory, STATE_FILE);
    if (!existsSync(stateFile)) {
      throw new MissingArtifactError(`${stateFile} does not exist.`, 'Load a directory written by a weight editor\'s save().');
    }
    const state = JSON.parse(await readFile(stateFile, 'utf8')) as Partial<SavedState>;
    if (state.format !== 'recipe-kit-weight-edits-1' || !Array.isArray(state.names) || typeof state.modelFingerprint !== 'string') {
      throw new InvalidInputError(`${stateFile} is not a weight-edit state.`, 'Load a directory written by a weight editor\'s save().');
    }
    this.restore();
    const fingerprint = this.uneditedFingerprint();
    if (state.modelFingerprint !== fingerprint) {
      throw new InvalidInputError(
        `${directory} holds edits of another model (${state.modelFingerprint}); this model is ${fingerprint}.`,
        'Load the edit state with the model it was saved from.',
      );
    }
    const names = new Set(state.names);
    const tensors = await readSafetensors(path.join(directory, WEIGHTS_FILE), { names });
    for (const name of state.names) {
      const saved = tensors.get(name);
      if (!saved) continue;
      this.set(name, tf.tensor(saved.data, saved.shape));
    }
    return state.extra;
  }

  /** Frees the kept originals (the model keeps its current, edited weights). */
  dispose(): void {
    for (const original of this.originals.values()) original.dispose();
    this.originals.clear();
  }

  private uneditedFingerprint(): string {
    // Taken before the first change, so it names the unedited model even while edits are applied.
    this.fingerprint ??= modelFingerprint(this.model);
    return this.fingerprint;
  }
}
