import { mkdir, open, rename, rm, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { InvalidInputError } from '@recipe-kit/core';
import type { DeferredTensor } from './deferred-tensor.js';
import { encodeHalfPrecision, safetensorsDtypeBytes, type NamedTensor, type SafetensorsDtype } from './named-tensor.js';
import { safetensorsIndexFileName } from './huggingface-weights.js';

export interface WriteSafetensorsOptions {
  /** On-disk dtype of every tensor; default F32 (bit-exact). F16/BF16 round to nearest even. */
  dtype?: SafetensorsDtype;
  /** Written as `__metadata__` (Hugging Face writes `{ format: 'pt' }`). */
  metadata?: Record<string, string>;
}

export interface WriteShardedSafetensorsOptions extends WriteSafetensorsOptions {
  /** Largest data size of one shard in bytes; a single larger tensor gets a shard of its own. */
  maxShardBytes: number;
}

export interface ShardedSafetensorsFiles {
  indexFile: string;
  shardFiles: string[];
  /** Bytes of tensor data over all shards (the index's `metadata.total_size`). */
  totalSize: number;
}

/** What the writers accept: a tensor in memory, or one whose values are loaded when written. */
export type WritableTensor = NamedTensor | DeferredTensor;

type Entry = [name: string, tensor: WritableTensor, elements: number];

// Conversion to half precision happens in slices of this many elements so the writer never holds
// a converted copy of a whole (possibly gigabyte-sized) tensor.
const conversionChunkElements = 1 << 20;

/**
 * Writes tensors to one safetensors file in the given order. The header needs every shape before
 * the first byte of data, so the entries are collected first (references only, no copies), then data
 * is streamed tensor by tensor. Plain tensors from a generator therefore all stay alive until written;
 * pass `DeferredTensor`s to hold one tensor's values at a time. The file appears atomically: a crash
 * leaves no half-written file.
 */
export async function writeSafetensors(
  file: string,
  tensors: Iterable<[string, WritableTensor]>,
  options?: WriteSafetensorsOptions,
): Promise<void> {
  const dtype = options?.dtype ?? 'F32';
  const entries = collectEntries(tensors);
  await writeEntries(file, entries, dtype, options?.metadata);
}

/**
 * Writes `model-00001-of-0000N.safetensors` … and `model.safetensors.index.json` into `dir`, the
 * layout of Hugging Face `save_pretrained`: tensors keep their order and fill a shard until the next
 * one would push it past `maxShardBytes`.
 */
export async function writeShardedSafetensors(
  dir: string,
  tensors: Iterable<[string, WritableTensor]>,
  options: WriteShardedSafetensorsOptions,
): Promise<ShardedSafetensorsFiles> {
  const { maxShardBytes } = options;
  if (!Number.isSafeInteger(maxShardBytes) || maxShardBytes <= 0) {
    throw new InvalidInputError(
      `maxShardBytes must be a positive integer, got ${maxShardBytes}.`,
      'Pass a shard size in bytes, e.g. 5_000_000_000 for 5 GB shards as Hugging Face does.',
    );
  }
  const dtype = options.dtype ?? 'F32';
  const elementBytes = safetensorsDtypeBytes(dtype);
  const entries = collectEntries(tensors);

  const shards: Entry[][] = [];
  let current: Entry[] = [];
  let currentBytes = 0;
  let totalSize = 0;
  for (const entry of entries) {
    const bytes = entry[2] * elementBytes;
    if (current.length > 0 && currentBytes + bytes > maxShardBytes) {
      shards.push(current);
      current = [];
      currentBytes = 0;
    }
    current.push(entry);
    currentBytes += bytes;
    totalSize += bytes;
  }
  if (current.length > 0 || shards.length === 0) shards.push(current);

  await mkdir(dir, { recursive: true });
  const count = String(shards.length).padStart(5, '0');
  const shardFiles: string[] = [];
  const weightMap: [string, string][] = [];
  for (const [index, shard] of shards.entries()) {
    const shardName = `model-${String(index + 1).padStart(5, '0')}-of-${count}.safetensors`;
    const shardFile = path.join(dir, shardName);
    await writeEntries(shardFile, shard, dtype, options.metadata);
    shardFiles.push(shardFile);
    for (const [name] of shard) weightMap.push([name, shardName]);
  }
  const indexFile = path.join(dir, safetensorsIndexFileName);
  // Object.fromEntries defines own properties, so a tensor named "__proto__" stays a plain key.
  const index = {
    metadata: { ...options.metadata, total_size: totalSize },
    weight_map: Object.fromEntries(weightMap),
  };
  // Written last: a reader never sees an index whose shards are not all in place.
  await writeAtomically(indexFile, async (temporary) => writeFile(temporary, `${JSON.stringify(index, null, 2)}\n`));
  return { indexFile, shardFiles, totalSize };
}

function collectEntries(tensors: Iterable<[string, WritableTensor]>): Entry[] {
  const entries: Entry[] = [];
  const seen = new Set<string>();
  for (const [name, tensor] of tensors) {
    if (name === '' || name === '__metadata__') {
      throw new InvalidInputError(`Cannot write a tensor named ${JSON.stringify(name)} to safetensors.`, 'Rename the tensor.');
    }
    if (seen.has(name)) {
      throw new InvalidInputError(`Tensor "${name}" is given twice.`, 'Pass each tensor name once.');
    }
    seen.add(name);
    const { shape } = tensor;
    if (!shape.every((dim) => Number.isSafeInteger(dim) && dim >= 0)) {
      throw new InvalidInputError(`Tensor "${name}" has shape [${shape.join(', ')}].`, 'Pass a shape of non-negative integers.');
    }
    const elements = shape.reduce((product, dim) => product * dim, 1);
    // In-memory tensors are checked now, before anything is written; deferred ones when loaded.
    if ('data' in tensor) checkLength(name, shape, elements, tensor.data);
    entries.push([name, tensor, elements]);
  }
  return entries;
}

async function writeEntries(
  file: string,
  entries: readonly Entry[],
  dtype: SafetensorsDtype,
  metadata: Record<string, string> | undefined,
): Promise<void> {
  const header = encodeHeader(entries, dtype, metadata);
  await writeAtomically(file, async (temporary) => {
    const handle = await open(temporary, 'w');
    try {
      await writeAll(handle, header);
      for (const [name, tensor, elements] of entries) {
        // Only a local reference: a deferred tensor's values become garbage once this iteration ends.
        const data = 'data' in tensor ? tensor.data : await tensor.load();
        checkLength(name, tensor.shape, elements, data);
        if (dtype === 'F32') {
          await writeAll(handle, new Uint8Array(data.buffer, data.byteOffset, data.byteLength));
          continue;
        }
        const staging = new Uint16Array(Math.min(conversionChunkElements, data.length));
        for (let start = 0; start < data.length; start += conversionChunkElements) {
          const slice = data.subarray(start, start + conversionChunkElements);
          const encoded = staging.subarray(0, slice.length);
          encodeHalfPrecision(dtype, slice, encoded);
          await writeAll(handle, new Uint8Array(encoded.buffer, 0, encoded.byteLength));
        }
      }
    } finally {
      await handle.close();
    }
  });
}

/** The 8-byte length plus the JSON header, space-padded to a multiple of 8 bytes as Hugging Face does. */
function encodeHeader(
  entries: readonly Entry[],
  dtype: SafetensorsDtype,
  metadata: Record<string, string> | undefined,
): Uint8Array {
  const elementBytes = safetensorsDtypeBytes(dtype);
  // Built by hand so keys keep the tensor order (object keys that look like integers would be reordered).
  const fields: string[] = [];
  if (metadata) {
    for (const [key, value] of Object.entries(metadata)) {
      if (typeof value !== 'string') {
        throw new InvalidInputError(`Metadata "${key}" is not a string.`, 'safetensors metadata maps strings to strings.');
      }
    }
    fields.push(`"__metadata__":${JSON.stringify(metadata)}`);
  }
  let offset = 0;
  for (const [name, { shape }, elements] of entries) {
    const end = offset + elements * elementBytes;
    fields.push(`${JSON.stringify(name)}:${JSON.stringify({ dtype, shape, data_offsets: [offset, end] })}`);
    offset = end;
  }
  const json = new TextEncoder().encode(`{${fields.join(',')}}`);
  // Alignment keeps the data section 8-byte aligned so readers can map it as typed arrays.
  const padded = Math.ceil(json.length / 8) * 8;
  const bytes = new Uint8Array(8 + padded).fill(0x20, 8 + json.length);
  new DataView(bytes.buffer).setBigUint64(0, BigInt(padded), true);
  bytes.set(json, 8);
  return bytes;
}

function checkLength(name: string, shape: readonly number[], elements: number, data: Float32Array): void {
  if (!(data instanceof Float32Array) || data.length !== elements) {
    throw new InvalidInputError(
      `Tensor "${name}" has shape [${shape.join(', ')}] (${elements} elements) but ${data.length} values.`,
      'Pass a Float32Array whose length is the product of the shape.',
    );
  }
}

async function writeAll(handle: Awaited<ReturnType<typeof open>>, bytes: Uint8Array): Promise<void> {
  let written = 0;
  while (written < bytes.length) {
    const result = await handle.write(bytes, written, bytes.length - written);
    written += result.bytesWritten;
  }
}

/** Writes through a temporary sibling and renames it into place, so readers never see partial files. */
async function writeAtomically(file: string, write: (temporary: string) => Promise<void>): Promise<void> {
  await mkdir(path.dirname(file), { recursive: true });
  const temporary = `${file}.partial-${process.pid}`;
  try {
    await write(temporary);
    await rename(temporary, file);
  } catch (error) {
    await rm(temporary, { force: true });
    throw error;
  }
}
