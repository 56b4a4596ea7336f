import * as tf from '@tensorflow/tfjs';
import type { WeightEditState } from '../weight-edits/weight-edit-state.js';
import type { RomePatch } from './compute-rome-patch.js';

/** W ← W + u ⊗ right ([intermediate, hidden], the model's [in, out] layout); the bias is never changed. */
export function applyRomePatch(state: WeightEditState, patch: RomePatch): void {
  state.modify(patch.weightName, (current) =>
    tf.tidy(() => tf.add(current, tf.outerProduct(tf.tensor1d(patch.u), tf.tensor1d(patch.right)))),
  );
}
