import { mkdir, readFile, rm, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { beforeAll, describe, expect, it } from 'vitest';
import { DataNotFoundError } from '@recipe-kit/core';
import { iterateHuggingFaceWeights, readHuggingFaceConfig } from '../../src/checkpoints/huggingface-weights.js';
import type { NamedTensor } from '../../src/checkpoints/named-tensor.js';
import { writeSafetensors, writeShardedSafetensors } from '../../src/checkpoints/safetensors-writer.js';
import { bitsOf, collect, expectCheckpointError, temporaryDirectory, tensor } from './checkpoint-test-helpers.js';

let root: string;
beforeAll(async () => {
  root = await temporaryDirectory();
});

// Data sizes in F32: 16, 16, 40, 8 bytes → with 32-byte shards: [a, b], [c], [d].
const weights: [string, NamedTensor][] = [
  ['model.a', tensor([2, 2], [1, 2, 3, 4])],
  ['model.b', tensor([4], [-1, -2, -3, -4])],
  ['model.c', tensor([2, 5], Array.from({ length: 10 }, (_, index) => index / 7))],
  ['lm_head', tensor([2], [0.5, 0.25])],
];

async function freshDirectory(name: string): Promise<string> {
  const dir = path.join(root, name);
  await rm(dir, { recursive: true, force: true });
  await mkdir(dir, { recursive: true });
  return dir;
}

async function writeSharded(name: string): Promise<string> {
  const dir = await freshDirectory(name);
  await writeShardedSafetensors(dir, weights, { maxShardBytes: 32, metadata: { format: 'pt' } });
  return dir;
}

function summary(entries: [string, NamedTensor][]): [string, number[], number[]][] {
  return entries.map(([name, { shape, data }]) => [name, shape, bitsOf(data)]);
}

describe('Hugging Face safetensors directories', () => {
  it('writes shards the way save_pretrained names them, with an index', async () => {
    const dir = await freshDirectory('layout');
    const result = await writeShardedSafetensors(dir, weights, { maxShardBytes: 32, metadata: { format: 'pt' } });
    const shardNames = ['model-00001-of-00003.safetensors', 'model-00002-of-00003.safetensors', 'model-00003-of-00003.safetensors'];
    expect(result.shardFiles).toEqual(shardNames.map((name) => path.join(dir, name)));
    expect(result.totalSize).toBe(80);
    const index: unknown = JSON.parse(await readFile(path.join(dir, 'model.safetensors.index.json'), 'utf8'));
    expect(index).toEqual({
      metadata: { format: 'pt', total_size: 80 },
      weight_map: { 'model.a': shardNames[0], 'model.b': shardNames[0], 'model.c': shardNames[1], lm_head: shardNames[2] },
    });
  });

  it('sharded read equals single-file read', async () => {
    const single = await freshDirectory('single');
    await writeSafetensors(path.join(single, 'model.safetensors'), weights);
    const sharded = await writeSharded('sharded');
    const fromSingle = await collect(iterateHuggingFaceWeights(single));
    const fromShards = await collect(iterateHuggingFaceWeights(sharded));
    expect(summary(fromSingle)).toEqual(summary(weights));
    expect(summary(fromShards)).toEqual(summary(fromSingle));
  });

  it('a tensor larger than maxShardBytes gets a shard of its own; BF16 halves the sizes', async () => {
    const dir = await freshDirectory('bf16-shards');
    const result = await writeShardedSafetensors(dir, weights, { maxShardBytes: 16, dtype: 'BF16' });
    // BF16 sizes 8, 8, 20, 4 bytes: [a, b] fills 16, c (20) is alone although too big, d follows.
    expect(result.shardFiles.map((file) => path.basename(file))).toEqual([
      'model-00001-of-00003.safetensors',
      'model-00002-of-00003.safetensors',
      'model-00003-of-00003.safetensors',
    ]);
    expect(result.totalSize).toBe(40);
    const read = await collect(iterateHuggingFaceWeights(dir, { names: new Set(['model.b', 'lm_head']) }));
    expect(read.map(([name, { data }]) => [name, Array.from(data)])).toEqual([
      ['model.b', [-1, -2, -3, -4]],
      ['lm_head', [0.5, 0.25]],
    ]);
  });

  it('a missing shard fails before any tensor is yielded', async () => {
    const dir = await writeSharded('missing-shard');
    await rm(path.join(dir, 'model-00002-of-00003.safetensors'));
    const yielded: string[] = [];
    const action = (async () => {
      for await (const [name] of iterateHuggingFaceWeights(dir)) yielded.push(name);
    })();
    await expectCheckpointError(action, 'missing', 'model-00002-of-00003.safetensors');
    expect(yielded).toEqual([]);
  });

  it('a tensor listed in weight_map but absent from its shard', async () => {
    const dir = await writeSharded('absent-tensor');
    const indexFile = path.join(dir, 'model.safetensors.index.json');
    const index = JSON.parse(await readFile(indexFile, 'utf8')) as { weight_map: Record<string, string> };
    index.weight_map['model.ghost'] = 'model-00001-of-00003.safetensors';
    await writeFile(indexFile, JSON.stringify(index));
    await expectCheckpointError(collect(iterateHuggingFaceWeights(dir)), '"model.ghost"', 'model-00001-of-00003.safetensors', 'no such tensor');
  });

  it('a broken index', async () => {
    const dir = await writeSharded('bad-index');
    const indexFile = path.join(dir, 'model.safetensors.index.json');
    await writeFile(indexFile, '{"weight_map": ');
    await expectCheckpointError(collect(iterateHuggingFaceWeights(dir)), indexFile, 'not valid JSON');
    await writeFile(indexFile, '{"metadata": {}}');
    await expectCheckpointError(collect(iterateHuggingFaceWeights(dir)), 'no "weight_map"');
    await writeFile(indexFile, JSON.stringify({ weight_map: { 'model.a': '../elsewhere.safetensors' } }));
    await expectCheckpointError(collect(iterateHuggingFaceWeights(dir)), 'not a shard file name');
  });

  it('a directory with no weights, or with both layouts', async () => {
    const empty = await freshDirectory('empty');
    await expectCheckpointError(collect(iterateHuggingFaceWeights(empty)), 'neither model.safetensors nor');
    const both = await writeSharded('both');
    await writeSafetensors(path.join(both, 'model.safetensors'), weights);
    await expectCheckpointError(collect(iterateHuggingFaceWeights(both)), 'both model.safetensors and');
    await expect(collect(iterateHuggingFaceWeights(path.join(root, 'no-such-dir')))).rejects.toThrow(DataNotFoundError);
  });
});

describe('readHuggingFaceConfig', () => {
  it('reads config.json as an object', async () => {
    const dir = await freshDirectory('config');
    await writeFile(path.join(dir, 'config.json'), JSON.stringify({ model_type: 'llama', hidden_size: 64 }));
    expect(await readHuggingFaceConfig(dir)).toEqual({ model_type: 'llama', hidden_size: 64 });
  });

  it('names a missing, invalid or non-object config.json', async () => {
    const dir = await freshDirectory('bad-config');
    const configFile = path.join(dir, 'config.json');
    await expectCheckpointError(readHuggingFaceConfig(dir), configFile, 'Download config.json');
    await writeFile(configFile, '{"model_type": "llama",}');
    await expectCheckpointError(readHuggingFaceConfig(dir), configFile, 'not valid JSON');
    await writeFile(configFile, '[1, 2]');
    await expectCheckpointError(readHuggingFaceConfig(dir), configFile, 'not a JSON object');
  });
});
