import { mkdtemp, rm } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import * as tf from '@tensorflow/tfjs';
import { createRandom, MissingArtifactError } from '@recipe-kit/core';
import { useTestBackend } from '@recipe-kit/core/testing';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { GradientDecompositionNetwork, type HypernetworkConfig } from '../../../src/baselines/hypernetwork/gradient-decomposition-network.js';
import { RunningNormalizer } from '../../../src/baselines/hypernetwork/running-normalizer.js';
import { tinyHypernetworkModel } from './hypernetwork-fixtures.js';

let dir: string;
beforeAll(async () => {
  await useTestBackend();
  dir = await mkdtemp(path.join(os.tmpdir(), 'hypernetwork-'));
});
afterAll(() => rm(dir, { recursive: true, force: true }));

const CONFIG: HypernetworkConfig = { method: 'mend', architecture: 'llama', inputSize: 24, outputSize: 16, layers: [0, 1], rank: 8, blocks: 2, modulation: 'before-activation', scalars: { edit_lr: 0.5 }, seed: 3 };

function rows(count: number, width: number, seed: number, offset = 0): Float32Array {
  const random = createRandom(seed);
  return Float32Array.from({ length: count * width }, (_, i) => offset + (i % width) * 0.1 + random() * 2 - 1);
}

describe('RunningNormalizer', () => {
  it('two batch updates give the mean and population std of all rows (float64 direct reference)', () => {
    const [a, b] = [rows(5, 3, 1, 2), rows(7, 3, 2, -1)];
    const normalizer = new RunningNormalizer(3);
    normalizer.update(a);
    normalizer.update(b);
    const all = [...a, ...b];
    for (let j = 0; j < 3; j++) {
      const column = all.filter((_, i) => i % 3 === j);
      const mean = column.reduce((s, v) => s + v, 0) / column.length;
      const std = Math.sqrt(column.reduce((s, v) => s + (v - mean) ** 2, 0) / column.length);
      expect(normalizer.mean[j]).toBeCloseTo(mean, 12);
      expect(normalizer.standardDeviation()[j]).toBeCloseTo(std, 12);
    }
    expect(normalizer.count).toBe(12);
    const copy = RunningNormalizer.fromJSON(JSON.parse(JSON.stringify(normalizer.toJSON())), 'test');
    expect(Array.from(copy.mean)).toEqual(Array.from(normalizer.mean));
    expect(Array.from(copy.squares)).toEqual(Array.from(normalizer.squares));
  });
});

describe('GradientDecompositionNetwork', () => {
  it('starts near the identity on normalised rows (exactly, with the first block\'s small U zeroed); blocks and the per-layer scale change it per layer', () => {
    const network = new GradientDecompositionNetwork(CONFIG);
    network.observe(rows(20, 24, 4, 1), rows(20, 16, 5, -2));
    const [keys, gradients] = [tf.tensor2d(rows(3, 24, 6), [3, 24]), tf.tensor2d(rows(3, 16, 7), [3, 16])];
    const normalised = network.normalizer.normalize(tf.concat([keys, gradients], 1));
    const difference = (): number => {
      const out = network.apply(keys, gradients, 0);
      return tf.max(tf.abs(tf.sub(tf.concat([out.keys, out.gradients], 1), normalised))).dataSync()[0] as number;
    };
    expect(difference()).toBeGreaterThan(0);
    expect(difference()).toBeLessThan(0.1);
    (network.variables.get('block.0.up') as tf.Variable).assign(tf.zeros([8, 40]));
    expect(difference()).toBeLessThan(1e-6);
    const out = network.apply(keys, gradients, 0);
    (network.variables.get('block.0.up') as tf.Variable).assign(tf.fill([8, 40], 0.05));
    (network.variables.get('block.0.scale') as tf.Variable).assign(tf.tensor2d([Array(40).fill(1), Array(40).fill(3)]));
    const [mode0, mode1] = [network.apply(keys, gradients, 0), network.apply(keys, gradients, 1)];
    expect(tf.max(tf.abs(tf.sub(mode0.keys, out.keys))).dataSync()[0]).toBeGreaterThan(1e-3);
    expect(tf.max(tf.abs(tf.sub(mode0.keys, mode1.keys))).dataSync()[0]).toBeGreaterThan(1e-3);
    network.dispose();
  });

  it('save → load round-trips every variable and the normaliser; the wrong method or model is refused; absent is a MissingArtifactError', async () => {
    const network = new GradientDecompositionNetwork(CONFIG);
    network.observe(rows(4, 24, 8), rows(4, 16, 9));
    (network.variables.get('block.1.up') as tf.Variable).assign(tf.randomNormal([8, 40], 0, 1, 'float32', 1));
    const target = path.join(dir, 'saved');
    await network.save(target);
    const loaded = await GradientDecompositionNetwork.load(target, 'mend');
    for (const [name, variable] of network.variables) expect(Array.from(loaded.variables.get(name)?.dataSync() ?? [])).toEqual(Array.from(variable.dataSync()));
    expect(Array.from(loaded.normalizer.mean)).toEqual(Array.from(network.normalizer.mean));
    await expect(GradientDecompositionNetwork.load(target, 'malmen')).rejects.toThrow(/holds a mend hypernetwork, not a malmen one/);
    await expect(GradientDecompositionNetwork.load(path.join(dir, 'absent'), 'mend')).rejects.toBeInstanceOf(MissingArtifactError);
    const gptj = await tinyHypernetworkModel('gptj');
    expect(() => loaded.checkModel(gptj, target)).toThrow(/hypernetwork for llama .* but the model is gptj[\s\S]*train-mend/);
    gptj.dispose();
    network.dispose();
    loaded.dispose();
  });
});
