import { readdir, readFile, truncate, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { beforeAll, describe, expect, it } from 'vitest';
import { DataNotFoundError, InvalidInputError } from '@recipe-kit/core';
import type { NamedTensor } from '../../src/checkpoints/named-tensor.js';
import { iterateSafetensors, readSafetensorsHeader } from '../../src/checkpoints/safetensors-reader.js';
import { writeSafetensors, type WritableTensor } from '../../src/checkpoints/safetensors-writer.js';
import { bitsOf, collect, expectCheckpointError, rawSafetensors, temporaryDirectory, tensor } from './checkpoint-test-helpers.js';

let dir: string;
beforeAll(async () => {
  dir = await temporaryDirectory();
});

/** The raw little-endian u16 words of the data section (to check encodings on disk). */
async function halfWordsOnDisk(file: string): Promise<number[]> {
  const bytes = await readFile(file);
  const dataStart = 8 + Number(bytes.readBigUInt64LE(0));
  const words: number[] = [];
  for (let position = dataStart; position < bytes.length; position += 2) words.push(bytes.readUInt16LE(position));
  return words;
}

describe('safetensors round trip', () => {
  it('F32 is bit-identical, including -0, subnormals, Infinity and NaN payloads', async () => {
    const file = path.join(dir, 'f32.safetensors');
    const special = new Uint32Array([0x80000000, 0x00000001, 0x7f800000, 0xff800000, 0x7fc00123, 0xffbfffff]);
    const random = Float32Array.from({ length: 3 * 5 * 7 }, (_, index) => Math.sin(index * 12.9898) * 43758.5453);
    const tensors: [string, NamedTensor][] = [
      ['special', { shape: [6], data: new Float32Array(special.buffer) }],
      ['random', { shape: [3, 5, 7], data: random }],
      ['scalar', tensor([], [42])],
      ['empty', tensor([0, 4], [])],
    ];
    await writeSafetensors(file, tensors, { metadata: { format: 'pt' } });
    const read = await collect(iterateSafetensors(file));
    expect(read.map(([name, { shape }]) => [name, shape])).toEqual(tensors.map(([name, { shape }]) => [name, shape]));
    for (const [index, [, { data }]] of read.entries()) expect(bitsOf(data)).toEqual(bitsOf((tensors[index] as [string, NamedTensor])[1].data));
    expect((await readSafetensorsHeader(file)).metadata).toEqual({ format: 'pt' });
  });

  it('F16 stores round-to-nearest-even bits and reads them back exactly', async () => {
    const file = path.join(dir, 'f16.safetensors');
    const values = [1, -2.5, 65504, 6.1e-5, 2 ** -14, 2 ** -24, 2 ** -25, 3 * 2 ** -25, 1 + 2 ** -11, 1 + 3 * 2 ** -11, 65520, Infinity, -Infinity, -0, NaN];
    await writeSafetensors(file, [['x', tensor([values.length], values)]], { dtype: 'F16' });
    const words = await halfWordsOnDisk(file);
    expect(words.slice(0, -1)).toEqual([0x3c00, 0xc100, 0x7bff, 0x03ff, 0x0400, 0x0001, 0x0000, 0x0002, 0x3c00, 0x3c02, 0x7c00, 0x7c00, 0xfc00, 0x8000]);
    const nan = words.at(-1) as number;
    expect([nan & 0x7c00, (nan & 0x03ff) !== 0]).toEqual([0x7c00, true]);

    const [[name, read]] = (await collect(iterateSafetensors(file))) as [[string, NamedTensor]];
    expect(name).toBe('x');
    expect(read.shape).toEqual([values.length]);
    expect(Array.from(read.data)).toEqual([1, -2.5, 65504, 1023 * 2 ** -24, 2 ** -14, 2 ** -24, 0, 2 ** -23, 1, 1 + 2 ** -9, Infinity, Infinity, -Infinity, -0, NaN]);
    expect(Object.is(read.data[13], -0)).toBe(true);
  });

  it('BF16 stores round-to-nearest-even bits and reads them back exactly', async () => {
    const file = path.join(dir, 'bf16.safetensors');
    const values = [1, -2.5, 65504, 6.1e-5, 1 + 2 ** -8, 1 + 2 ** -7 + 2 ** -8, 3.4028234663852886e38, -Infinity, NaN];
    await writeSafetensors(file, [['y', tensor([3, 3], values)]], { dtype: 'BF16' });
    const words = await halfWordsOnDisk(file);
    expect(words.slice(0, -1)).toEqual([0x3f80, 0xc020, 0x4780, 0x3880, 0x3f80, 0x3f82, 0x7f80, 0xff80]);
    const nan = words.at(-1) as number;
    expect([nan & 0x7f80, (nan & 0x007f) !== 0]).toEqual([0x7f80, true]);

    const [[, read]] = (await collect(iterateSafetensors(file))) as [[string, NamedTensor]];
    expect(read.shape).toEqual([3, 3]);
    expect(Array.from(read.data)).toEqual([1, -2.5, 65536, 2 ** -14, 1, 1 + 2 ** -6, Infinity, -Infinity, NaN]);
  });

  it('pads the header with spaces to 8-byte alignment and keeps the given tensor order', async () => {
    const file = path.join(dir, 'order.safetensors');
    // Integer-like names would be reordered by a plain JS object; the writer must keep this order.
    await writeSafetensors(file, [['b', tensor([1], [1])], ['10', tensor([1], [2])], ['2', tensor([2], [3, 4])], ['a', tensor([1], [5])]]);
    const bytes = await readFile(file);
    const headerLength = Number(bytes.readBigUInt64LE(0));
    expect(headerLength % 8).toBe(0);
    const headerText = bytes.subarray(8, 8 + headerLength).toString('utf8');
    expect(headerText.trimEnd().endsWith('}')).toBe(true);
    expect(/^ *$/.test(headerText.slice(headerText.trimEnd().length))).toBe(true);
    expect([...headerText.matchAll(/"(\w+)":\{"dtype"/g)].map((match) => match[1])).toEqual(['b', '10', '2', 'a']);
    expect(bytes.length).toBe(8 + headerLength + 5 * 4);
    const header = await readSafetensorsHeader(file);
    expect(header.dataStart).toBe(8 + headerLength);
    expect([...header.tensors].map(([name, info]) => [name, info.dataOffsets])).toEqual([
      ['b', [0, 4]], ['10', [4, 8]], ['2', [8, 16]], ['a', [16, 20]],
    ]);
    expect(header.metadata).toEqual({});
  });

  it('reads only the requested names', async () => {
    const file = path.join(dir, 'order.safetensors');
    const read = await collect(iterateSafetensors(file, { names: new Set(['2', 'a']) }));
    expect(read.map(([name, { data }]) => [name, Array.from(data)])).toEqual([['2', [3, 4]], ['a', [5]]]);
    await expectCheckpointError(collect(iterateSafetensors(file, { names: new Set(['a', 'nope']) })), 'nope', file);
  });

  it('loads deferred tensors one at a time, only after every shape is known', async () => {
    const file = path.join(dir, 'deferred.safetensors');
    const events: string[] = [];
    function* tensors(): Generator<[string, WritableTensor]> {
      events.push('yield a');
      yield ['a', { shape: [2], load: () => (events.push('load a'), Float32Array.from([1, 2])) }];
      events.push('yield b');
      yield ['b', { shape: [1, 3], load: async () => (events.push('load b'), Float32Array.from([3, 4, 5])) }];
      events.push('yield c');
      yield ['c', tensor([1], [6])];
    }
    await writeSafetensors(file, tensors(), { dtype: 'BF16' });
    expect(events).toEqual(['yield a', 'yield b', 'yield c', 'load a', 'load b']);
    const read = await collect(iterateSafetensors(file));
    expect(read.map(([name, { shape, data }]) => [name, shape, Array.from(data)])).toEqual([
      ['a', [2], [1, 2]], ['b', [1, 3], [3, 4, 5]], ['c', [1], [6]],
    ]);
  });

  it('a deferred tensor of the wrong length fails the write and leaves no file', async () => {
    const file = path.join(dir, 'deferred-bad.safetensors');
    const action = writeSafetensors(file, [['a', tensor([1], [1])], ['b', { shape: [2, 2], load: () => new Float32Array(3) }]]);
    await expect(action).rejects.toThrow(/"b" has shape \[2, 2\] \(4 elements\) but 3 values/);
    await expect(action).rejects.toThrow(InvalidInputError);
    await expect(readFile(file)).rejects.toThrow();
    expect((await readdir(dir)).filter((name) => name.includes('partial'))).toEqual([]);
  });

  it('rejects tensors whose shape does not match their data, and duplicate names', async () => {
    const file = path.join(dir, 'never.safetensors');
    await expect(writeSafetensors(file, [['w', tensor([2, 3], [1, 2, 3, 4, 5])]])).rejects.toThrow(InvalidInputError);
    await expect(writeSafetensors(file, [['w', tensor([1], [1])], ['w', tensor([1], [2])]])).rejects.toThrow(/twice/);
    await expect(readFile(file)).rejects.toThrow(); // nothing half-written left behind
  });
});

describe('safetensors validation', () => {
  const f32Bytes = (values: number[]): Uint8Array => new Uint8Array(Float32Array.from(values).buffer);
  async function broken(name: string, bytes: Uint8Array): Promise<string> {
    const file = path.join(dir, name);
    await writeFile(file, bytes);
    return file;
  }

  it('a missing file is DataNotFoundError', async () => {
    await expect(readSafetensorsHeader(path.join(dir, 'absent.safetensors'))).rejects.toThrow(DataNotFoundError);
  });

  it('a file shorter than 8 bytes', async () => {
    const file = await broken('short.safetensors', new Uint8Array(5));
    await expectCheckpointError(readSafetensorsHeader(file), file, 'shorter than the 8-byte');
  });

  it('a header length past the end of the file', async () => {
    const file = await broken('long-header.safetensors', rawSafetensors({}, new Uint8Array(), 1000n));
    await expectCheckpointError(readSafetensorsHeader(file), file, 'header length 1000 runs past the end');
    const huge = await broken('huge-header.safetensors', rawSafetensors({}, new Uint8Array(), 0xffffffffffffffffn));
    await expectCheckpointError(collect(iterateSafetensors(huge)), 'runs past the end');
  });

  it('a header that is not JSON', async () => {
    const file = await broken('not-json.safetensors', rawSafetensors('{"w": {"dtype": "F32",'));
    await expectCheckpointError(readSafetensorsHeader(file), file, 'not valid UTF-8 JSON');
    const array = await broken('array.safetensors', rawSafetensors('[]'));
    await expectCheckpointError(readSafetensorsHeader(array), 'not a JSON object');
  });

  it('an unknown dtype', async () => {
    const file = await broken('q4.safetensors', rawSafetensors({ w: { dtype: 'Q4_K', shape: [1], data_offsets: [0, 1] } }, new Uint8Array(1)));
    await expectCheckpointError(readSafetensorsHeader(file), file, '"w"', 'unknown dtype "Q4_K"');
  });

  it('a dtype that cannot be decoded (F8_E4M3, I64) fails when read, and can be skipped', async () => {
    const file = await broken(
      'f8.safetensors',
      rawSafetensors(
        {
          fp8: { dtype: 'F8_E4M3', shape: [2], data_offsets: [0, 2] },
          ids: { dtype: 'I64', shape: [1], data_offsets: [2, 10] },
          w: { dtype: 'F32', shape: [2], data_offsets: [10, 18] },
        },
        new Uint8Array([1, 2, ...new Uint8Array(8), ...f32Bytes([7, 8])]),
      ),
    );
    await expectCheckpointError(collect(iterateSafetensors(file)), file, '"fp8"', 'F8_E4M3');
    await expectCheckpointError(collect(iterateSafetensors(file, { names: new Set(['ids']) })), '"ids"', 'I64');
    const read = await collect(iterateSafetensors(file, { names: new Set(['w']) }));
    expect(read.map(([name, { data }]) => [name, Array.from(data)])).toEqual([['w', [7, 8]]]);
  });

  it('data_offsets whose length does not match shape × dtype size', async () => {
    const file = await broken('mismatch.safetensors', rawSafetensors({ w: { dtype: 'F32', shape: [2, 2], data_offsets: [0, 12] } }, new Uint8Array(16)));
    await expectCheckpointError(readSafetensorsHeader(file), '"w"', 'span 12 bytes', 'needs 16 bytes');
  });

  it('overlapping data_offsets', async () => {
    const file = await broken(
      'overlap.safetensors',
      rawSafetensors(
        { a: { dtype: 'F32', shape: [2], data_offsets: [0, 8] }, b: { dtype: 'F32', shape: [2], data_offsets: [4, 12] } },
        new Uint8Array(12),
      ),
    );
    await expectCheckpointError(readSafetensorsHeader(file), '"b"', 'overlap', '"a"');
  });

  it('malformed shapes and offsets', async () => {
    const cases: [string, object, string][] = [
      ['negative-shape', { w: { dtype: 'F32', shape: [-1], data_offsets: [0, 0] } }, 'shape [-1]'],
      ['float-offset', { w: { dtype: 'F32', shape: [1], data_offsets: [0, 4.5] } }, 'data_offsets [0,4.5]'],
      ['reversed', { w: { dtype: 'F32', shape: [0], data_offsets: [4, 0] } }, 'end before they begin'],
      ['no-dtype', { w: { shape: [1], data_offsets: [0, 4] } }, 'no string "dtype"'],
      ['bad-metadata', { __metadata__: { format: 1 } }, '"__metadata__"."format" is not a string'],
    ];
    for (const [name, header, fragment] of cases) {
      const file = await broken(`${name}.safetensors`, rawSafetensors(header, new Uint8Array(8)));
      await expectCheckpointError(readSafetensorsHeader(file), fragment);
    }
  });

  it('a truncated file', async () => {
    const file = path.join(dir, 'truncated.safetensors');
    await writeSafetensors(file, [['a', tensor([4], [1, 2, 3, 4])], ['b', tensor([4], [5, 6, 7, 8])]]);
    const full = (await readFile(file)).length;
    await truncate(file, full - 6);
    await expectCheckpointError(collect(iterateSafetensors(file)), file, '"b"', 'truncated');
  });
});
