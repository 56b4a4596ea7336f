import { mkdir, readFile, writeFile } from 'node:fs/promises';
import path from 'node:path';
import {
  InvalidInputError,
  type CausalLanguageModel,
  type ContinuationScore,
  type EditRequest,
  type Editor,
  type QueryContinuation,
} from '@recipe-kit/core';

const STATE_FILE = 'noop-editor.json';

/**
 * The unedited model as an editor: edits are counted and ignored. It is the first row of every
 * table, so that every other editor is read against the model it started from.
 */
export class NoopEditor implements Editor {
  readonly name = 'none';
  private edits = 0;

  constructor(readonly model: CausalLanguageModel) {}

  get editCount(): number {
    return this.edits;
  }

  async edit(requests: readonly EditRequest[]): Promise<void> {
    this.edits += requests.length;
  }

  async restore(): Promise<void> {
    this.edits = 0;
  }

  scoreContinuations(requests: readonly QueryContinuation[]): ContinuationScore[] {
    return this.model.scoreContinuations(requests);
  }

  async save(directory: string): Promise<void> {
    await mkdir(directory, { recursive: true });
    await writeFile(path.join(directory, STATE_FILE), JSON.stringify({ editor: this.name, editCount: this.edits }));
  }

  async load(directory: string): Promise<void> {
    const file = path.join(directory, STATE_FILE);
    const state = JSON.parse(await readFile(file, 'utf8')) as { editor?: unknown; editCount?: unknown };
    if (state.editor !== this.name || typeof state.editCount !== 'number') {
      throw new InvalidInputError(`${file} is not a saved state of the "${this.name}" editor.`, 'Load a directory written by this editor\'s save().');
    }
    this.edits = state.editCount;
  }

  dispose(): void {}
}
