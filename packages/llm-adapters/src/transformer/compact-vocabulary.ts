import * as tf from '@tensorflow/tfjs';
import { InvalidConfigError } from '@recipe-kit/core';

/** config.json field listing the token ids a compact-vocabulary checkpoint keeps. */
export const COMPACT_VOCABULARY_FIELD = 'recipe_kit_vocabulary_ids';

/** Logit given to tokens outside the compact vocabulary: exp() underflows to exactly 0. */
const ABSENT_LOGIT = -1e9;

/**
 * A micro model keeps the real tokenizer (vocab_size stays 32000 / 50257) but stores embedding and
 * output rows only for the ids its corpus uses: the output projection is most of a micro model's
 * cost, and shrinking it 10× is what makes pretraining fit on two cores. Everything above the
 * adapter still sees the full vocabulary: ids are mapped in, logits are expanded out (absent ids get
 * a logit of -1e9, so their probability is 0). Ids outside the kept set read the row of the
 * smallest kept id (the tokenizer's <unk> where it has one).
 */
export class CompactVocabulary {
  /** Full id → stored row, for every full id (absent ids → row 0). */
  private readonly toStoredTable: Int32Array;
  /** Full id → column of the expanded logits source (absent ids → the extra ABSENT column). */
  private readonly expandTable: Int32Array;

  constructor(
    readonly ids: Int32Array,
    readonly fullSize: number,
  ) {
    this.toStoredTable = new Int32Array(fullSize);
    this.expandTable = new Int32Array(fullSize).fill(ids.length);
    ids.forEach((id, row) => {
      this.toStoredTable[id] = row;
      this.expandTable[id] = row;
    });
  }

  get size(): number {
    return this.ids.length;
  }

  static fromIds(ids: Iterable<number>, fullSize: number, source = 'compact vocabulary'): CompactVocabulary {
    const sorted = Int32Array.from(new Set(ids)).sort();
    if (sorted.length === 0) throw new InvalidConfigError(`${source}: the compact vocabulary is empty.`, 'Keep at least the special tokens.');
    const first = sorted[0] as number;
    const last = sorted[sorted.length - 1] as number;
    if (first < 0 || last >= fullSize || !sorted.every(Number.isInteger)) {
      throw new InvalidConfigError(
        `${source}: "${COMPACT_VOCABULARY_FIELD}" must hold integer ids in [0, ${fullSize}), found ${first}…${last}.`,
        'List token ids of the tokenizer the model uses.',
      );
    }
    return new CompactVocabulary(sorted, fullSize);
  }

  /** From a config.json object; null when the checkpoint stores the full vocabulary. */
  static fromConfig(json: Record<string, unknown>, source: string, fullSize: number): CompactVocabulary | null {
    const value = json[COMPACT_VOCABULARY_FIELD];
    if (value === undefined || value === null) return null;
    if (!Array.isArray(value) || !value.every((id) => typeof id === 'number')) {
      throw new InvalidConfigError(`${source}: "${COMPACT_VOCABULARY_FIELD}" must be a list of token ids.`, 'Remove it, or list the kept token ids.');
    }
    return CompactVocabulary.fromIds(value as number[], fullSize, source);
  }

  /** The stored row of a full id, or null when the id has no row (its probability is 0). */
  storedIndex(id: number): number | null {
    const column = this.expandTable[id];
    return column === undefined || column === this.ids.length ? null : column;
  }

  /** Stored rows for full ids (plain numbers), e.g. training targets. */
  storedIds(fullIds: readonly number[]): number[] {
    return fullIds.map((id) => this.toStoredTable[id] as number);
  }

  /** [..] full ids → [..] stored rows. */
  toStored(ids: tf.Tensor): tf.Tensor {
    return tf.gather(tf.tensor1d(this.toStoredTable, 'int32'), ids.toInt());
  }

  /** [batch, seq, stored] logits → [batch, seq, fullSize]. */
  expandLogits(logits: tf.Tensor3D): tf.Tensor3D {
    return tf.tidy(() => {
      const [batch, seq] = logits.shape;
      const withAbsent = tf.concat([logits, tf.fill([batch, seq, 1], ABSENT_LOGIT)], 2);
      return tf.gather(withAbsent, tf.tensor1d(this.expandTable, 'int32'), 2) as tf.Tensor3D;
    });
  }
}
