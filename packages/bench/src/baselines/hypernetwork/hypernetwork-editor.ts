import * as tf from '@tensorflow/tfjs';
import {
  InvalidInputError,
  PairTokenizer,
  tokenizeProbe,
  type CausalLanguageModel,
  type ContinuationScore,
  type EditRequest,
  type Editor,
  type QueryContinuation,
} from '@recipe-kit/core';
import { WeightEditState } from '../weight-edits/weight-edit-state.js';
import type { GradientDecompositionNetwork } from './gradient-decomposition-network.js';
import { mlpOutputWeightName } from '../shared/edited-module.js';

/**
 * An editor that turns each `edit` call into weight deltas ΔW_l of the MLP output projections with a
 * trained hypernetwork (MEND, MALMEN) and adds them to the model's weights. Lifelong edits
 * accumulate in the weights; WeightEditState keeps the originals, so `restore` is bit-identical.
 * Scoring is the edited model's own.
 */
export abstract class HypernetworkEditor implements Editor {
  abstract readonly name: string;
  private readonly state: WeightEditState;
  private edits = 0;
  protected readonly pairs: PairTokenizer;

  private readonly outputs: Set<number> | null;

  /**
   * `skipUnreachableTargets`: an edit whose target has no token the model can output (outside a
   * micro model's compact vocabulary) is counted but changes nothing, instead of being an error.
   */
  protected constructor(
    readonly model: CausalLanguageModel,
    readonly network: GradientDecompositionNetwork,
    private readonly options: { skipUnreachableTargets?: boolean } = {},
  ) {
    this.pairs = new PairTokenizer(model.tokenizer);
    this.state = new WeightEditState(model);
    this.outputs = model.outputIds ? new Set(model.outputIds) : null;
  }

  get editCount(): number {
    return this.edits;
  }

  /** ΔW_l [in, out] per edited layer for one batch of requests, computed on the current (edited) model. */
  protected abstract computeDeltas(requests: readonly EditRequest[]): Map<number, tf.Tensor2D>;

  async edit(requests: readonly EditRequest[]): Promise<void> {
    if (requests.length === 0) return;
    requests.forEach((request) => {
      if (request.targetNew.trim().length === 0) throw new InvalidInputError(`Edit ${request.id} has an empty target.`, 'Give every edit request a non-empty targetNew.');
    });
    const outputs = this.outputs;
    const editable = this.options.skipUnreachableTargets && outputs ? requests.filter((request) => tokenizeProbe(this.model.tokenizer, request.prompt, request.targetNew).continuation.some((id) => outputs.has(id))) : requests;
    this.edits += requests.length - editable.length;
    if (editable.length === 0) return;
    const deltas = this.computeDeltas(editable);
    try {
      for (const [layer, delta] of deltas) this.state.modify(mlpOutputWeightName(this.model, layer), (current) => tf.add(current, delta));
    } finally {
      tf.dispose([...deltas.values()]);
    }
    this.edits += editable.length;
  }

  async restore(): Promise<void> {
    this.state.restore();
    this.edits = 0;
  }

  scoreContinuations(requests: readonly QueryContinuation[]): ContinuationScore[] {
    return this.model.scoreContinuations(requests);
  }

  /** Writes the edited weights (exact values), the unedited model's fingerprint and the edit count. */
  async save(directory: string): Promise<void> {
    await this.state.save(directory, { editor: this.name, editCount: this.edits });
  }

  /** Restores the model, then applies an edit state written by `save` of this editor for the same model. */
  async load(directory: string): Promise<void> {
    const extra = (await this.state.load(directory)) as { editor?: unknown; editCount?: unknown } | undefined;
    if (extra?.editor !== this.name || typeof extra.editCount !== 'number') {
      this.state.restore();
      throw new InvalidInputError(`${directory} is not a saved state of the "${this.name}" editor.`, `Load a directory written by the ${this.name} editor's save().`);
    }
    this.edits = extra.editCount;
  }

  /** Frees the hypernetwork and the kept originals (the model keeps whatever weights it has now). */
  dispose(): void {
    this.state.dispose();
    this.network.dispose();
  }
}
