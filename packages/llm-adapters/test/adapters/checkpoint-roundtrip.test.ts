import { mkdtempSync, readFileSync, writeFileSync, readdirSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import * as tf from '@tensorflow/tfjs';
import { InvalidCheckpointError, InvalidConfigError } from '@recipe-kit/core';
import { loadModel, saveModel, type DecoderModel } from '@recipe-kit/llm-adapters';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { useTestBackend } from '../support/backend.js';
import { tinyArchitectures, tinyModel } from '../support/tiny-models.js';

function logitsOf(model: DecoderModel, ids: number[][]): Float32Array {
  return tf.tidy(() => model.forward({ ids: tf.tensor2d(ids, undefined, 'int32') }).logits.dataSync() as Float32Array);
}

beforeAll(useTestBackend);

describe.each(tinyArchitectures)('$name checkpoints', (architecture) => {
  let model: DecoderModel;
  const ids = [
    [5, 17, 230, 9, 4000, 12],
    [77, 3, 3, 900, 18, 31000],
  ];
  const root = mkdtempSync(path.join(os.tmpdir(), `recipe-kit-${architecture.name}-`));

  beforeAll(async () => {
    model = await tinyModel(architecture);
  });
  afterAll(() => model.dispose());

  it.each([
    ['single file', undefined],
    ['sharded', 40_000],
  ] as const)('written as safetensors (%s) and read back gives bit-identical logits', async (label, maxShardBytes) => {
    const directory = path.join(root, label.replace(' ', '-'));
    await saveModel(model, directory, maxShardBytes === undefined ? {} : { maxShardBytes });
    const files = readdirSync(directory);
    if (maxShardBytes !== undefined) {
      expect(files).toContain('model.safetensors.index.json');
      expect(files.filter((f) => f.endsWith('.safetensors')).length).toBeGreaterThan(2);
    } else {
      expect(files).toContain('model.safetensors');
    }
    const reloaded = await loadModel(directory);
    try {
      expect(reloaded.architecture).toBe(architecture.name);
      expect(reloaded.tokenizer.name).toBe(model.tokenizer.name);
      const before = logitsOf(model, ids);
      const after = logitsOf(reloaded, ids);
      expect(Buffer.from(after.buffer).equals(Buffer.from(before.buffer))).toBe(true);
    } finally {
      reloaded.dispose();
    }
  });

  it('reads f16 and bf16 checkpoints into float32 (logits close, not exact)', async () => {
    for (const dtype of ['F16', 'BF16'] as const) {
      const directory = path.join(root, dtype);
      await saveModel(model, directory, { dtype });
      const reloaded = await loadModel(directory);
      const before = logitsOf(model, ids);
      const after = logitsOf(reloaded, ids);
      reloaded.dispose();
      let maxDifference = 0;
      for (let i = 0; i < before.length; i++) maxDifference = Math.max(maxDifference, Math.abs((before[i] as number) - (after[i] as number)));
      expect(maxDifference).toBeGreaterThan(0);
      expect(maxDifference).toBeLessThan(dtype === 'F16' ? 0.02 : 0.2);
    }
  });

  it('rejects a config.json whose sizes disagree with the tensors, naming the tensor', async () => {
    const directory = path.join(root, 'mismatch');
    await saveModel(model, directory);
    const configFile = path.join(directory, 'config.json');
    const json = JSON.parse(readFileSync(configFile, 'utf8')) as Record<string, unknown>;
    const field = architecture.name === 'llama' ? 'intermediate_size' : 'n_inner';
    json[field] = (json[field] as number) + 8;
    writeFileSync(configFile, JSON.stringify(json));
    const error = await loadModel(directory).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(InvalidCheckpointError);
    expect(String((error as Error).message)).toMatch(/has shape \[.*\], but config\.json implies/);
  });

  it('rejects a config.json with a missing field, naming the field', async () => {
    const directory = path.join(root, 'missing-field');
    await saveModel(model, directory);
    const configFile = path.join(directory, 'config.json');
    const json = JSON.parse(readFileSync(configFile, 'utf8')) as Record<string, unknown>;
    const field = architecture.name === 'llama' ? 'hidden_size' : 'n_embd';
    delete json[field];
    writeFileSync(configFile, JSON.stringify(json));
    const error = await loadModel(directory).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(InvalidConfigError);
    expect((error as Error).message).toContain(`no "${field}" field`);
  });

  it('rejects a config.json with an unknown model_type', async () => {
    const directory = path.join(root, 'unknown-type');
    await saveModel(model, directory);
    const configFile = path.join(directory, 'config.json');
    writeFileSync(configFile, JSON.stringify({ ...JSON.parse(readFileSync(configFile, 'utf8')), model_type: 'mamba' }));
    await expect(loadModel(directory)).rejects.toThrow(/"model_type" is "mamba", which has no adapter/);
  });
});
