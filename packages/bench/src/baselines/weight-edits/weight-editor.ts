import {
  InvalidInputError,
  UnsupportedCapabilityError,
  type CausalLanguageModel,
  type ContinuationScore,
  type EditRequest,
  type Editor,
  type QueryContinuation,
} from '@recipe-kit/core';
import { WeightEditState } from './weight-edit-state.js';

/** What a weight editor saves beside the edited weights. */
interface SavedExtra {
  editor: string;
  editCount: number;
  details?: unknown;
}

/**
 * The common part of editors that change weights in place (FT, ROME, MEMIT, WILKE): scoring is the
 * model's own, restore puts the originals back bit-identically, save/load write the touched
 * weights. Subclasses implement `applyEdits` and change weights only through `this.state`.
 */
export abstract class WeightEditor implements Editor {
  abstract readonly name: string;
  protected readonly state: WeightEditState;
  private edits = 0;

  constructor(readonly model: CausalLanguageModel) {
    if (!model.capabilities.editableWeights || !model.capabilities.trainable) {
      throw new UnsupportedCapabilityError(
        `The model (${model.architecture}) does not allow its weights to be replaced and differentiated.`,
        'Use a LLaMA or GPT-J model from @recipe-kit/llm-adapters.',
      );
    }
    this.state = new WeightEditState(model);
  }

  get editCount(): number {
    return this.edits;
  }

  /** Changes the weights for these requests (already non-empty). */
  protected abstract applyEdits(requests: readonly EditRequest[]): Promise<void>;

  /** Editor-specific state to save (e.g. chosen layers); restored through `loadDetails`. */
  protected saveDetails(): unknown {
    return undefined;
  }

  protected loadDetails(_details: unknown): void {}

  async edit(requests: readonly EditRequest[]): Promise<void> {
    if (requests.length === 0) return;
    await this.applyEdits(requests);
    this.edits += requests.length;
  }

  async restore(): Promise<void> {
    this.state.restore();
    this.edits = 0;
    this.loadDetails(undefined);
  }

  scoreContinuations(requests: readonly QueryContinuation[]): ContinuationScore[] {
    return this.model.scoreContinuations(requests);
  }

  async save(directory: string): Promise<void> {
    const extra: SavedExtra = { editor: this.name, editCount: this.edits, details: this.saveDetails() };
    await this.state.save(directory, extra);
  }

  async load(directory: string): Promise<void> {
    const extra = (await this.state.load(directory)) as Partial<SavedExtra> | undefined;
    if (extra?.editor !== this.name || typeof extra.editCount !== 'number') {
      this.state.restore();
      throw new InvalidInputError(
        `${directory} was saved by the "${String(extra?.editor)}" editor, not "${this.name}".`,
        `Load it with --editor ${String(extra?.editor)}, or save a state with this editor first.`,
      );
    }
    this.edits = extra.editCount;
    this.loadDetails(extra.details);
  }

  dispose(): void {
    this.state.dispose();
  }
}
