import { mkdtemp, rm } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import * as tf from '@tensorflow/tfjs';
import { InvalidInputError, MissingArtifactError, tokenizeProbe, type CausalLanguageModel, type EditRequest } from '@recipe-kit/core';
import { useTestBackend } from '@recipe-kit/core/testing';
import type { DecoderModel } from '@recipe-kit/llm-adapters';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { GradientDecompositionNetwork } from '../../../src/baselines/hypernetwork/gradient-decomposition-network.js';
import type { HypernetworkEditor } from '../../../src/baselines/hypernetwork/hypernetwork-editor.js';
import type { HypernetworkMethodDefinition } from '../../../src/baselines/hypernetwork/hypernetwork-method.js';
import type { HypernetworkTrainingHyperparameters } from '../../../src/baselines/hypernetwork/hypernetwork-trainer.js';
import { createEditor } from '../../../src/editors/editor-registry.js';
import { tinyHypernetworkModel, tinyRequests } from './hypernetwork-fixtures.js';

export interface ConformanceSubject {
  definition: HypernetworkMethodDefinition;
  create(model: CausalLanguageModel, network: GradientDecompositionNetwork, options?: { skipUnreachableTargets?: boolean }): HypernetworkEditor;
  /** Untrained-network scalars under which one edit moves the tiny model's argmax (the network is then the identity). */
  strongScalars: Record<string, number>;
}

/** A fresh network of `definition`'s kind for the tiny model, editing both its layers. */
export function tinyNetwork(definition: HypernetworkMethodDefinition, model: CausalLanguageModel, scalars?: Record<string, number>): GradientDecompositionNetwork {
  const { intermediateSize, hiddenSize } = model.dimensions;
  return new GradientDecompositionNetwork({ method: definition.method, architecture: model.architecture, inputSize: intermediateSize, outputSize: hiddenSize, layers: [0, 1], rank: 16, blocks: 2, modulation: definition.network.modulation, scalars: scalars ?? definition.network.scalars, seed: 2 });
}

function weightValues(model: CausalLanguageModel): Map<string, Float32Array> {
  return new Map(model.weightNames().map((name) => [name, Float32Array.from(model.getWeight(name).dataSync() as Float32Array)]));
}

function argmaxHits(model: CausalLanguageModel, request: EditRequest): boolean {
  const probe = tokenizeProbe(model.tokenizer, request.prompt, request.targetNew);
  const [score] = model.scoreContinuations([probe]);
  return score?.argmaxIds.every((id, i) => id === probe.continuation[i]) ?? false;
}

const TRAINING: HypernetworkTrainingHyperparameters = { editsPerStep: 4, learningRate: 1e-3, scalarLearningRate: 1e-3, editWeight: 1, localityWeight: 1, clipNorm: 100, seed: 5 };

/** The tests every hypernetwork editor passes (edit, restore, save/load, errors, leaks, training). */
export function describeHypernetworkEditor(subject: ConformanceSubject): void {
  const { method } = subject.definition;
  let dir: string;
  let model: DecoderModel;
  beforeAll(async () => {
    await useTestBackend();
    dir = await mkdtemp(path.join(os.tmpdir(), `${method}-`));
    model = await tinyHypernetworkModel('llama');
  });
  afterAll(async () => {
    model.dispose();
    await rm(dir, { recursive: true, force: true });
  });

  describe(`${method} editor`, () => {
    it('an edit makes the new target the argmax; restore puts back bit-identical weights', async () => {
      const request = tinyRequests(2)[1] as EditRequest;
      const before = weightValues(model);
      expect(argmaxHits(model, request)).toBe(false);
      const editor = subject.create(model, tinyNetwork(subject.definition, model, subject.strongScalars));
      await editor.edit([request]);
      expect(editor.editCount).toBe(1);
      expect(argmaxHits(model, request)).toBe(true);
      await editor.restore();
      expect(editor.editCount).toBe(0);
      for (const [name, values] of weightValues(model)) expect(values, name).toEqual(before.get(name));
      editor.dispose();
    });

    it('save → restore → load gives back the edited weights and edit count; lifelong edits leave no tensor behind', async () => {
      const editor = subject.create(model, tinyNetwork(subject.definition, model, subject.strongScalars));
      const baseline = tf.memory().numTensors;
      for (const request of tinyRequests(3)) await editor.edit([request]);
      const edited = weightValues(model);
      const target = path.join(dir, 'state');
      await editor.save(target);
      await editor.restore();
      expect(tf.memory().numTensors).toBe(baseline);
      await editor.load(target);
      expect(editor.editCount).toBe(3);
      for (const [name, values] of weightValues(model)) expect(values, name).toEqual(edited.get(name));
      await editor.restore();
      editor.dispose();
    });

    it('bad requests and foreign states get clear errors', async () => {
      const editor = subject.create(model, tinyNetwork(subject.definition, model));
      const request = tinyRequests(1)[0] as EditRequest;
      await expect(editor.edit([{ ...request, targetNew: ' ' }])).rejects.toThrow(/empty target/);
      await expect(editor.edit([{ ...request, targetNew: 'Xylophonequartz' }])).rejects.toThrow(InvalidInputError);
      await expect(editor.load(path.join(dir, 'nowhere'))).rejects.toThrow(/does not exist/);
      expect(editor.editCount).toBe(0);
      editor.dispose();
      const skipping = subject.create(model, tinyNetwork(subject.definition, model), { skipUnreachableTargets: true });
      const before = weightValues(model);
      await skipping.edit([{ ...request, targetNew: 'Xylophonequartz' }]);
      expect(skipping.editCount).toBe(1);
      for (const [name, values] of weightValues(model)) expect(values, name).toEqual(before.get(name));
      await expect(createEditor(method, model, { checkpoint: path.join(dir, 'nowhere'), options: { 'unreachable-targets': 'maybe' } })).rejects.toThrow(/unreachable-targets is "maybe"/);
      skipping.dispose();
    });

    it(`is registered as "${method}": without a trained hypernetwork it is a MissingArtifactError, with one it loads`, async () => {
      await expect(createEditor(method, model, { modelDirectory: path.join(dir, 'no-model') })).rejects.toBeInstanceOf(MissingArtifactError);
      const network = tinyNetwork(subject.definition, model);
      await network.save(path.join(dir, 'model', method));
      network.dispose();
      const editor = await createEditor(method, model, { modelDirectory: path.join(dir, 'model') });
      expect(editor.name).toBe(method);
      editor.dispose();
    });
  });

  describe(`${method} meta-training`, () => {
    it('resuming from a checkpoint continues the same run bit for bit, and steps leave no tensor behind', async () => {
      const requests = tinyRequests();
      const straight = subject.definition.createTrainer(model, tinyNetwork(subject.definition, model), requests, TRAINING);
      straight.trainStep();
      const baseline = tf.memory().numTensors;
      for (let i = 0; i < 3; i++) straight.trainStep();
      expect(tf.memory().numTensors).toBe(baseline);
      const first = subject.definition.createTrainer(model, tinyNetwork(subject.definition, model), requests, TRAINING);
      first.trainStep();
      first.trainStep();
      const checkpoint = path.join(dir, 'checkpoint');
      await first.saveCheckpoint(checkpoint);
      const resumed = subject.definition.createTrainer(model, await GradientDecompositionNetwork.load(checkpoint, method), requests, TRAINING);
      await resumed.resumeFrom(checkpoint);
      resumed.trainStep();
      resumed.trainStep();
      for (const [name, variable] of straight.network.variables) expect(Array.from(resumed.network.variables.get(name)?.dataSync() ?? []), name).toEqual(Array.from(variable.dataSync()));
      for (const trainer of [straight, first, resumed]) {
        trainer.dispose();
        trainer.network.dispose();
      }
    });

    it('learns: meta-steps on the same four edits lower their loss after editing', () => {
      // One fixed batch (each tiny edit has one rephrase and one locality prompt), so the loss
      // measures learning, not which edits were drawn.
      const trainer = subject.definition.createTrainer(model, tinyNetwork(subject.definition, model), tinyRequests(4), { ...TRAINING, learningRate: 1e-2, scalarLearningRate: 1e-3 });
      const losses = Array.from({ length: 20 }, () => trainer.trainStep().loss);
      expect(Math.max(...losses.slice(-3))).toBeLessThan(0.8 * (losses[0] as number));
      trainer.dispose();
      trainer.network.dispose();
    });

    it('refuses training edits without rephrase or locality prompts, or fewer than one step', () => {
      const network = tinyNetwork(subject.definition, model);
      const requests = tinyRequests();
      expect(() => subject.definition.createTrainer(model, network, [{ ...(requests[0] as EditRequest), locality: [] }, ...requests], TRAINING)).toThrow(/0 locality prompts/);
      expect(() => subject.definition.createTrainer(model, network, requests.slice(0, 2), TRAINING)).toThrow(/fewer than one step of 4/);
      network.dispose();
    });
  });
}
