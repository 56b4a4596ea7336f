import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { afterAll, expect } from 'vitest';
import { InvalidCheckpointError } from '@recipe-kit/core';
import type { NamedTensor } from '../../src/checkpoints/named-tensor.js';

/** A fresh directory under the OS temp dir, removed after the test file. */
export async function temporaryDirectory(): Promise<string> {
  const dir = await mkdtemp(path.join(tmpdir(), 'recipe-kit-checkpoints-'));
  afterAll(() => rm(dir, { recursive: true, force: true }));
  return dir;
}

/**
 * Hand-assembled safetensors bytes: an 8-byte little-endian length, the header text, then `data`.
 * `headerLength` overrides the stored length to build broken files.
 */
export function rawSafetensors(header: string | object, data: Uint8Array = new Uint8Array(), headerLength?: bigint): Uint8Array {
  const json = new TextEncoder().encode(typeof header === 'string' ? header : JSON.stringify(header));
  const bytes = new Uint8Array(8 + json.length + data.length);
  new DataView(bytes.buffer).setBigUint64(0, headerLength ?? BigInt(json.length), true);
  bytes.set(json, 8);
  bytes.set(data, 8 + json.length);
  return bytes;
}

export async function collect<T>(iterable: AsyncIterable<T>): Promise<T[]> {
  const items: T[] = [];
  for await (const item of iterable) items.push(item);
  return items;
}

/** Expects an InvalidCheckpointError whose message contains every fragment. */
export async function expectCheckpointError(action: Promise<unknown>, ...fragments: string[]): Promise<void> {
  const error: unknown = await action.then(
    () => undefined,
    (caught: unknown) => caught,
  );
  expect(error).toBeInstanceOf(InvalidCheckpointError);
  const message = (error as Error).message;
  for (const fragment of fragments) expect(message).toContain(fragment);
  // Every message carries a fix after the arrow.
  expect(message).toContain('→');
}

export function tensor(shape: number[], values: readonly number[]): NamedTensor {
  return { shape, data: Float32Array.from(values) };
}

/** Float32 bit patterns, so NaN payloads and -0 compare exactly. */
export function bitsOf(data: Float32Array): number[] {
  return Array.from(new Uint32Array(data.buffer, data.byteOffset, data.length));
}
