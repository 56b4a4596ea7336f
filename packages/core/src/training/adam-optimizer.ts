import * as tf from '@tensorflow/tfjs';
import { InvalidCheckpointError } from '../errors.js';
import type { NamedTensor } from '../checkpoints/named-tensor.js';

export interface AdamOptions {
  /** Default 0.9 (PyTorch). */
  beta1?: number;
  /** Default 0.999 (PyTorch); language-model pretraining uses 0.95. */
  beta2?: number;
  epsilon?: number;
  /** Decoupled weight decay (AdamW), applied to matrices only. Default 0 (plain Adam). */
  weightDecay?: number;
  /** Gradients are rescaled so their global L2 norm is at most this. Default: no clipping. */
  clipNorm?: number;
}

/**
 * AdamW written out (instead of tf.train.adam) so that its state is plain named tensors and the
 * bias corrections are computed in float64 from the step count: saving and resuming then continues
 * bit-for-bit, which tfjs's optimizer (float32 running powers) does not guarantee.
 */
export class AdamOptimizer {
  private readonly firstMoments = new Map<string, tf.Variable>();
  private readonly secondMoments = new Map<string, tf.Variable>();
  step = 0;
  private readonly beta1: number;
  private readonly beta2: number;
  private readonly epsilon: number;
  private readonly weightDecay: number;
  private readonly clipNorm: number;

  constructor(
    private readonly variables: Map<string, tf.Variable>,
    options: AdamOptions = {},
  ) {
    this.beta1 = options.beta1 ?? 0.9;
    this.beta2 = options.beta2 ?? 0.999;
    this.epsilon = options.epsilon ?? 1e-8;
    this.weightDecay = options.weightDecay ?? 0;
    this.clipNorm = options.clipNorm ?? Number.POSITIVE_INFINITY;
    for (const [name, variable] of variables) {
      // tidy frees the zeros tensors (the variables keep their own reference to the data).
      this.firstMoments.set(name, tf.tidy(() => tf.variable(tf.zerosLike(variable), false)));
      this.secondMoments.set(name, tf.tidy(() => tf.variable(tf.zerosLike(variable), false)));
    }
  }

  /**
   * Applies one update from gradients keyed by variable name; returns the gradient norm before
   * clipping. `learningRate` may differ per variable (parameter groups).
   */
  apply(gradients: Map<string, tf.Tensor>, learningRate: number | ((name: string) => number)): number {
    this.step += 1;
    const correction1 = 1 - Math.pow(this.beta1, this.step);
    const correction2 = 1 - Math.pow(this.beta2, this.step);
    const norm = tf.tidy(() => Math.sqrt(tf.addN([...gradients.values()].map((g) => tf.sum(tf.square(g)))).dataSync()[0] as number));
    const scale = norm > this.clipNorm ? this.clipNorm / norm : 1;
    tf.tidy(() => {
      for (const [name, variable] of this.variables) {
        const gradient = gradients.get(name);
        if (!gradient) continue;
        const g = scale === 1 ? gradient : tf.mul(gradient, scale);
        const m = this.firstMoments.get(name) as tf.Variable;
        const v = this.secondMoments.get(name) as tf.Variable;
        m.assign(tf.add(tf.mul(m, this.beta1), tf.mul(g, 1 - this.beta1)));
        v.assign(tf.add(tf.mul(v, this.beta2), tf.mul(tf.square(g), 1 - this.beta2)));
        const update = tf.div(tf.div(m, correction1), tf.add(tf.sqrt(tf.div(v, correction2)), this.epsilon));
        const rate = typeof learningRate === 'number' ? learningRate : learningRate(name);
        const decayed = this.weightDecay > 0 && variable.rank >= 2 ? tf.mul(variable, 1 - rate * this.weightDecay) : variable;
        variable.assign(tf.sub(decayed, tf.mul(update, rate)));
      }
    });
    return norm;
  }

  /** State as named tensors (`m/<name>`, `v/<name>`) plus the step count. */
  stateTensors(): Generator<[string, NamedTensor]> {
    const moments = this.firstMoments;
    const seconds = this.secondMoments;
    return (function* () {
      for (const [name, m] of moments) yield [`m/${name}`, { shape: m.shape, data: m.dataSync() as Float32Array }] as [string, NamedTensor];
      for (const [name, v] of seconds) yield [`v/${name}`, { shape: v.shape, data: v.dataSync() as Float32Array }] as [string, NamedTensor];
    })();
  }

  loadState(step: number, tensors: Map<string, NamedTensor>): void {
    this.step = step;
    for (const [prefix, moments] of [['m/', this.firstMoments], ['v/', this.secondMoments]] as const) {
      for (const [name, variable] of moments) {
        const saved = tensors.get(`${prefix}${name}`);
        if (!saved || saved.shape.join() !== variable.shape.join()) {
          throw new InvalidCheckpointError(`The optimizer state has ${saved ? `${prefix}${name} of shape [${saved.shape.join(', ')}], expected [${variable.shape.join(', ')}]` : `no ${prefix}${name}`}.`, 'Resume from a checkpoint written by the same configuration.');
        }
        tf.tidy(() => variable.assign(tf.tensor(saved.data, saved.shape)));
      }
    }
  }

  dispose(): void {
    for (const v of [...this.firstMoments.values(), ...this.secondMoments.values()]) v.dispose();
  }
}
