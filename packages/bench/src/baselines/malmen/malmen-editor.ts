import * as tf from '@tensorflow/tfjs';
import type { CausalLanguageModel, EditRequest } from '@recipe-kit/core';
import { captureGradientFactors } from '../hypernetwork/capture-gradient-factors.js';
import type { GradientDecompositionNetwork } from '../hypernetwork/gradient-decomposition-network.js';
import { HypernetworkEditor } from '../hypernetwork/hypernetwork-editor.js';
import { usedRows } from '../hypernetwork/used-rows.js';
import { malmenShifts } from './malmen-shifts.js';
import { ridgeLeastSquares } from './ridge-least-squares.js';

/**
 * MALMEN (Tan et al., ICLR 2024): the edit loss's keys and output gradients at the target-token
 * rows of every request in the call, value shifts from the hypernetwork, and one ridge
 * least-squares solve per layer that aggregates all of them into ΔW (spec §7.3).
 */
export class MalmenEditor extends HypernetworkEditor {
  readonly name = 'malmen';

  constructor(model: CausalLanguageModel, network: GradientDecompositionNetwork, options: { skipUnreachableTargets?: boolean } = {}) {
    super(model, network, options);
  }

  protected computeDeltas(requests: readonly EditRequest[]): Map<number, tf.Tensor2D> {
    const { layers, inputSize, outputSize } = this.network.config;
    const factors = captureGradientFactors(this.model, layers, requests.map((request) => ({ prompt: request.prompt, target: request.targetNew })), 'target', this.pairs);
    try {
      return new Map(layers.map((layer) => [layer, malmenDelta(this.network, usedRows(factors, layer), layer, inputSize, outputSize).delta]));
    } finally {
      factors.dispose();
    }
  }
}

/** ΔW [in, out] of one layer from its used rows, with the solve kept for its backward pass. */
export function malmenDelta(
  network: GradientDecompositionNetwork,
  rows: { keys: Float32Array; gradients: Float32Array; count: number },
  layer: number,
  inputSize: number,
  outputSize: number,
): { delta: tf.Tensor2D; solution: ReturnType<typeof ridgeLeastSquares> } {
  const shifts = tf.tidy(() => malmenShifts(network, tf.tensor2d(rows.keys, [rows.count, inputSize]), tf.tensor2d(rows.gradients, [rows.count, outputSize]), layer).dataSync());
  const logLambda = tf.tidy(() => network.scalar('log_lambda', network.mode(layer)).dataSync()[0] as number);
  const solution = ridgeLeastSquares(rows.keys, shifts, rows.count, inputSize, outputSize, logLambda);
  return { delta: tf.tensor2d(Float32Array.from(solution.delta), [inputSize, outputSize]), solution };
}
