import * as tf from '@tensorflow/tfjs';
import type { NamedTensor } from '@recipe-kit/core';

/**
 * Extra MLP neurons of one layer (spec §8, hook H6). GPT-J: out = gelu_new(x·K + b)·V; LLaMA's
 * SwiGLU form: out = silu(x·G + g) ⊙ (x·K + b)·V. Each neuron is one column of K (and G) and one
 * row of V. Pre-activations are what the activation and memory losses push.
 */
export interface NeuronWeights {
  /** [hidden, n] the up (GPT-J: fc_in) columns and their bias [n]. */
  up: tf.Tensor2D;
  upBias: tf.Tensor1D;
  /** [hidden, n] and [n]: LLaMA's gate columns; absent for GPT-J. */
  gate?: tf.Tensor2D;
  gateBias?: tf.Tensor1D;
  /** [n, hidden] */
  out: tf.Tensor2D;
}

/** Pre-activations of the neurons for inputs x [..., hidden] → [..., n]: the up (and gate) parts. */
export function preActivations(x: tf.Tensor, weights: NeuronWeights): { up: tf.Tensor; gate?: tf.Tensor } {
  const flat = x.reshape([-1, x.shape[x.shape.length - 1] as number]) as tf.Tensor2D;
  const shape = [...x.shape.slice(0, -1), weights.upBias.shape[0]];
  const up = tf.add(tf.matMul(flat, weights.up), weights.upBias).reshape(shape);
  if (!weights.gate || !weights.gateBias) return { up };
  return { up, gate: tf.add(tf.matMul(flat, weights.gate), weights.gateBias).reshape(shape) };
}

/** The neurons' contribution to the MLP output for inputs x [B, S, hidden] → [B, S, hidden]. */
export function patchOutput(x: tf.Tensor3D, weights: NeuronWeights): tf.Tensor3D {
  return tf.tidy(() => {
    const z = preActivations(x, weights);
    const activation = z.gate ? tf.mul(tf.mul(z.gate, tf.sigmoid(z.gate)), z.up) : geluNew(z.up); // [B, S, n]
    const [batch, seq] = x.shape;
    return tf.matMul(activation.reshape([batch * seq, -1]) as tf.Tensor2D, weights.out).reshape([batch, seq, -1]) as tf.Tensor3D;
  });
}

/** GPT-J's tanh approximation of GELU (the activation its MLP uses). */
function geluNew(z: tf.Tensor): tf.Tensor {
  const inner = tf.mul(Math.sqrt(2 / Math.PI), tf.add(z, tf.mul(0.044715, tf.pow(z, 3))));
  return tf.mul(tf.mul(0.5, z), tf.add(1, tf.tanh(inner)));
}

/** Appends neuron columns/rows (frozen after training) to a set; returns the new set (inputs untouched). */
export function concatNeurons(a: NeuronWeights, b: NeuronWeights): NeuronWeights {
  return tf.tidy(() => {
    const joined: NeuronWeights = {
      up: tf.concat([a.up, b.up], 1),
      upBias: tf.concat([a.upBias, b.upBias]),
      out: tf.concat([a.out, b.out], 0),
    };
    if (a.gate && b.gate && a.gateBias && b.gateBias) {
      joined.gate = tf.concat([a.gate, b.gate], 1);
      joined.gateBias = tf.concat([a.gateBias, b.gateBias]);
    }
    return joined as unknown as tf.TensorContainerObject;
  }) as unknown as NeuronWeights;
}

/** An empty (n = 0) or zero-initialised neuron set of `count` neurons. */
export function zeroNeurons(hidden: number, count: number, gated: boolean): NeuronWeights {
  const weights: NeuronWeights = { up: tf.zeros([hidden, count]), upBias: tf.zeros([count]), out: tf.zeros([count, hidden]) };
  if (gated) {
    weights.gate = tf.zeros([hidden, count]);
    weights.gateBias = tf.zeros([count]);
  }
  return weights;
}

export function neuronTensors(weights: NeuronWeights): tf.Tensor[] {
  return [weights.up, weights.upBias, weights.out, ...(weights.gate ? [weights.gate] : []), ...(weights.gateBias ? [weights.gateBias] : [])];
}

/** Host copies by name, for safetensors. */
export function neuronsToNamed(weights: NeuronWeights): Map<string, NamedTensor> {
  const named = new Map<string, NamedTensor>();
  for (const [name, tensor] of Object.entries(weights) as [string, tf.Tensor][]) {
    named.set(name, { shape: [...tensor.shape], data: tensor.dataSync() as Float32Array });
  }
  return named;
}

export function neuronsFromNamed(named: ReadonlyMap<string, NamedTensor>, gated: boolean): NeuronWeights | null {
  const get = (name: string): tf.Tensor | null => {
    const tensor = named.get(name);
    return tensor ? tf.tensor(tensor.data, tensor.shape) : null;
  };
  const [up, upBias, out] = [get('up'), get('upBias'), get('out')];
  const [gate, gateBias] = gated ? [get('gate'), get('gateBias')] : [null, null];
  if (!up || !upBias || !out || (gated && (!gate || !gateBias))) {
    tf.dispose([up, upBias, out, gate, gateBias].filter((t): t is tf.Tensor => t !== null));
    return null;
  }
  const weights: NeuronWeights = { up: up as tf.Tensor2D, upBias: upBias as tf.Tensor1D, out: out as tf.Tensor2D };
  if (gate && gateBias) {
    weights.gate = gate as tf.Tensor2D;
    weights.gateBias = gateBias as tf.Tensor1D;
  }
  return weights;
}
