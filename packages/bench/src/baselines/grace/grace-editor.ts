import * as tf from '@tensorflow/tfjs';
import {
  AdamOptimizer,
  InvalidInputError,
  createRandom,
  type CausalLanguageModel,
  type ContinuationScore,
  type EditRequest,
  type Editor,
  type ForwardHooks,
  type QueryContinuation,
} from '@recipe-kit/core';
import { editBatch, editPairs } from '../weight-edits/edit-pairs.js';
import { loadHookedEditState, saveHookedEditState } from '../weight-edits/hooked-edit-files.js';
import { mlpProjections } from '../weight-edits/mlp-projections.js';
import { maskedTargetNll } from '../weight-edits/target-losses.js';
import { GraceCodebook, type GraceEntry } from './grace-codebook.js';

export interface GraceOptions {
  /** The layer whose MLP output projection is wrapped (spec: round(0.88·L)). */
  layer: number;
  /** Initial deferral radius ε (spec: 1.0). */
  radius: number;
  /** Adam steps on the value per edit (spec: 50 LLaMA-2, 200 GPT-J). */
  steps: number;
  /** Adam learning rate of the value (spec: 1.0). */
  learningRate: number;
  /** Seed of the "cold" value initialisation U[0, 1). */
  seed?: number;
}

/**
 * GRACE (spec §10): a codebook at one layer. A query whose MLP activation at its last prompt token
 * (the input of `down_proj` / `fc_out`) lies within an entry's radius gets that position's MLP
 * output replaced by the entry's value; the weights never change. Scored teacher-forced with the
 * query position fixed at the last prompt token (spec §2.2's alternative to generation).
 */
export class GraceEditor implements Editor {
  readonly name = 'grace';
  readonly codebook: GraceCodebook;
  private edits = 0;
  private readonly random: () => number;

  constructor(readonly model: CausalLanguageModel, readonly options: GraceOptions) {
    mlpProjections(model, options.layer);
    this.codebook = new GraceCodebook(model.dimensions.intermediateSize, model.dimensions.hiddenSize);
    this.random = createRandom(options.seed ?? 0);
  }

  get editCount(): number {
    return this.edits;
  }

  async edit(requests: readonly EditRequest[]): Promise<void> {
    const pairs = editPairs(this.model, requests);
    // One request at a time (GRACE does not batch): later edits see the codebook of earlier ones.
    for (const [i, pair] of pairs.entries()) {
      const request = requests[i] as EditRequest;
      const position = pair.firstScored;
      const query = this.activationAt(pair.input, position);
      const cold = Float32Array.from({ length: this.codebook.valueSize }, () => this.random());
      const { index } = this.codebook.update(query, pair.labels.slice(position).join(','), request.id, this.options.radius, cold);
      const entry = this.codebook.entries[index] as GraceEntry;
      entry.value = this.trainValue(pair, entry.value);
      this.edits += 1;
    }
  }

  async restore(): Promise<void> {
    this.codebook.clear();
    this.edits = 0;
  }

  scoreContinuations(requests: readonly QueryContinuation[]): ContinuationScore[] {
    if (this.codebook.size === 0) return this.model.scoreContinuations(requests);
    return this.model.scoreContinuations(requests, { hooks: this.lookupHooks(requests.map((r) => r.context.length - 1)) });
  }

  async save(directory: string): Promise<void> {
    const { keySize, valueSize, entries } = this.codebook;
    const stack = (rows: Float32Array[], width: number): { shape: number[]; data: Float32Array } => {
      const data = new Float32Array(rows.length * width);
      rows.forEach((row, i) => data.set(row, i * width));
      return { shape: [rows.length, width], data };
    };
    const tensors = new Map([
      ['keys', stack(entries.map((e) => e.key), keySize)],
      ['values', stack(entries.map((e) => e.value), valueSize)],
      ['radii', { shape: [entries.length], data: Float32Array.from(entries.map((e) => e.radius)) }],
    ]);
    const details = { layer: this.options.layer, labels: entries.map((e) => e.label), ids: entries.map((e) => e.id) };
    await saveHookedEditState(directory, this.name, this.model, { editCount: this.edits, tensors, details });
  }

  async load(directory: string): Promise<void> {
    const state = await loadHookedEditState(directory, this.name, this.model);
    const details = state.details as { layer?: unknown; labels?: unknown; ids?: unknown };
    const [keys, values, radii] = ['keys', 'values', 'radii'].map((name) => state.tensors.get(name));
    const count = radii?.data.length ?? -1;
    if (details.layer !== this.options.layer || !keys || !values || !Array.isArray(details.labels) || details.labels.length !== count || !Array.isArray(details.ids)) {
      throw new InvalidInputError(
        `${directory} holds a GRACE codebook for layer ${String(details.layer)}, or a damaged one; this editor wraps layer ${this.options.layer}.`,
        `Load it with --editor-option layer=${String(details.layer)}, or save it again.`,
      );
    }
    const { keySize, valueSize } = this.codebook;
    this.codebook.clear();
    for (let i = 0; i < count; i++) {
      this.codebook.entries.push({
        key: keys.data.slice(i * keySize, (i + 1) * keySize),
        value: values.data.slice(i * valueSize, (i + 1) * valueSize),
        radius: radii?.data[i] as number,
        label: String(details.labels[i]),
        id: String(details.ids[i]),
      });
    }
    this.edits = state.editCount;
  }

  dispose(): void {
    this.codebook.clear();
  }

  /** The wrapped layer's MLP activation (down_proj / fc_out input) at `position`: [intermediate]. */
  private activationAt(input: readonly number[], position: number): Float32Array {
    let query: Float32Array = new Float32Array(0);
    tf.tidy(() => {
      this.model.forward({
        ids: tf.tensor2d([input as number[]], undefined, 'int32'),
        compactLogits: true,
        hooks: {
          mlpKeys: (layer, keys) => {
            if (layer === this.options.layer) query = keys.slice([0, position, 0], [1, 1, -1]).dataSync() as Float32Array;
          },
        },
      });
    });
    return query;
  }

  /** Adam on the value alone, the model's output at the query position replaced by it. */
  private trainValue(pair: ReturnType<typeof editPairs>[number], initial: Float32Array): Float32Array {
    const batch = editBatch(this.model, [pair]);
    const value = tf.tidy(() => tf.variable(tf.tensor1d(initial), true));
    const optimizer = new AdamOptimizer(new Map([['value', value]]));
    const at = tf.tidy(() => tf.oneHot([pair.firstScored], pair.input.length).reshape([1, pair.input.length, 1])); // [1, L, 1]
    const hooks: ForwardHooks = {
      mlpOutput: (layer, output) => (layer === this.options.layer ? (tf.add(tf.mul(output, tf.sub(1, at)), tf.mul(at, value)) as tf.Tensor3D) : undefined),
    };
    try {
      for (let step = 0; step < this.options.steps; step++) {
        const { value: loss, grads } = tf.variableGrads(() => maskedTargetNll(this.model.forward({ ids: batch.ids, compactLogits: true, hooks }).logits, batch), [value]);
        const done = (loss.dataSync()[0] as number) < 1e-2;
        if (!done) optimizer.apply(new Map([['value', grads[value.name] as tf.Tensor]]), this.options.learningRate);
        tf.dispose([loss, grads]);
        if (done) break;
      }
      return value.dataSync().slice() as Float32Array;
    } finally {
      tf.dispose([value, at]);
      optimizer.dispose();
      batch.dispose();
    }
  }

  /** Hooks that replace, per row, the MLP output at its query position by the value of the entry answering it. */
  private lookupHooks(positions: readonly number[]): ForwardHooks {
    let replacement: { mask: tf.Tensor3D; values: tf.Tensor3D } | null = null;
    return {
      mlpKeys: (layer, keys) => {
        if (layer !== this.options.layer) return;
        const [rows, length, width] = keys.shape;
        const at = tf.oneHot(tf.tensor1d(positions as number[], 'int32'), length); // [B, L]
        const queries = tf.sum(tf.mul(keys, at.expandDims(2)), 1).dataSync() as Float32Array; // [B, f]
        const mask = new Float32Array(rows * length);
        const values = new Float32Array(rows * this.codebook.valueSize);
        let hits = 0;
        for (let row = 0; row < rows; row++) {
          const index = this.codebook.lookup(queries.subarray(row * width, (row + 1) * width));
          if (index < 0) continue;
          hits++;
          mask[row * length + (positions[row] as number)] = 1;
          values.set((this.codebook.entries[index] as GraceEntry).value, row * this.codebook.valueSize);
        }
        replacement = hits === 0 ? null : { mask: tf.tensor3d(mask, [rows, length, 1]), values: tf.tensor3d(values, [rows, 1, this.codebook.valueSize]) };
      },
      mlpOutput: (layer, output) => {
        if (layer !== this.options.layer || !replacement) return;
        const { mask, values } = replacement;
        return tf.add(tf.mul(output, tf.sub(1, mask)), tf.mul(mask, values)) as tf.Tensor3D;
      },
    };
  }
}
