import { readFileSync } from 'node:fs';

/** A float32 tensor in PyTorch layout (row-major, linear weights [out, in]). */
export interface PlainTensor {
  shape: number[];
  data: Float32Array;
}

/**
 * Minimal, independent safetensors reader for tests (F32 only): 8-byte little-endian header length,
 * a JSON header `{name: {dtype, shape, data_offsets: [begin, end]}}`, then the data section that the
 * offsets are relative to. Deliberately shares nothing with the package's checkpoint code.
 */
export function readSafetensorsF32(file: string): Map<string, PlainTensor> {
  const bytes = readFileSync(file);
  const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  const headerLength = Number(view.getBigUint64(0, true));
  const header = JSON.parse(bytes.subarray(8, 8 + headerLength).toString('utf8')) as Record<
    string,
    { dtype: string; shape: number[]; data_offsets: [number, number] } | Record<string, string>
  >;
  const dataStart = 8 + headerLength;
  const tensors = new Map<string, PlainTensor>();
  for (const [name, entry] of Object.entries(header)) {
    if (name === '__metadata__') continue;
    const { dtype, shape, data_offsets: offsets } = entry as { dtype: string; shape: number[]; data_offsets: [number, number] };
    if (dtype !== 'F32') throw new Error(`${file}: ${name} is ${dtype}; this test reader only reads F32`);
    const count = shape.reduce((a, b) => a * b, 1);
    if (offsets[1] - offsets[0] !== 4 * count) throw new Error(`${file}: ${name} has ${offsets[1] - offsets[0]} bytes for shape [${shape}]`);
    const data = new Float32Array(count);
    for (let i = 0; i < count; i++) data[i] = view.getFloat32(dataStart + offsets[0] + 4 * i, true);
    tensors.set(name, { shape, data });
  }
  return tensors;
}
