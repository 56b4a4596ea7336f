import { open } from 'node:fs/promises';
import { DataNotFoundError, InvalidCheckpointError } from '../errors.js';
import type { NamedTensor } from './named-tensor.js';

/**
 * A minimal safetensors reader (single file) for small checkpoints (encoders, heads, optimizer
 * state). llm-adapters keeps its own streaming, sharded reader for large LLM checkpoints.
 * Reads the tensors named in `names` (all F32/F16/BF16 tensors when omitted) into float32 arrays.
 * Tensors of other dtypes (int64 position-id buffers) are skipped unless requested by name.
 */
export async function readSafetensors(
  file: string,
  options?: { names?: ReadonlySet<string> },
): Promise<Map<string, NamedTensor>> {
  const handle = await open(file, 'r').catch((cause: unknown) => {
    throw new DataNotFoundError(`Cannot open ${file}.`, 'Check the path; a Hugging Face directory needs model.safetensors.', { cause });
  });
  try {
    const { size } = await handle.stat();
    const fail = (problem: string): never => {
      throw new InvalidCheckpointError(`${file}: ${problem}`, 'The file is damaged or not a safetensors file: export it again.');
    };
    if (size < 8) fail(`only ${size} bytes; not a safetensors file.`);
    const lengthBytes = Buffer.alloc(8);
    await handle.read(lengthBytes, 0, 8, 0);
    const headerLength = Number(lengthBytes.readBigUInt64LE(0));
    if (headerLength > size - 8 || headerLength > 100_000_000) fail(`header length ${headerLength} is impossible for a ${size}-byte file.`);
    const headerBytes = Buffer.alloc(headerLength);
    await handle.read(headerBytes, 0, headerLength, 8);
    let header: unknown;
    try {
      header = JSON.parse(headerBytes.toString('utf8'));
    } catch {
      fail('header is not JSON.');
    }
    if (typeof header !== 'object' || header === null || Array.isArray(header)) fail('header is not a JSON object.');
    const dataStart = 8 + headerLength;
    const result = new Map<string, NamedTensor>();
    const entries = Object.entries(header as Record<string, unknown>).filter(([name]) => name !== '__metadata__');
    const present = new Set(entries.map(([name]) => name));
    for (const wanted of options?.names ?? []) {
      if (!present.has(wanted)) {
        throw new InvalidCheckpointError(`${file} has no tensor named "${wanted}".`, 'Check the tensor names against the checkpoint.');
      }
    }
    for (const [name, value] of entries) {
      if (options?.names && !options.names.has(name)) continue;
      const info = value as { dtype?: unknown; shape?: unknown; data_offsets?: unknown };
      const shape = info.shape;
      const offsets = info.data_offsets;
      if (!Array.isArray(shape) || !shape.every((d) => Number.isInteger(d) && d >= 0)) fail(`tensor "${name}" has a malformed shape.`);
      if (!Array.isArray(offsets) || offsets.length !== 2) fail(`tensor "${name}" has malformed data_offsets.`);
      const [begin, end] = offsets as [number, number];
      const elements = (shape as number[]).reduce((a, b) => a * b, 1);
      const bytesPerElement = info.dtype === 'F32' ? 4 : info.dtype === 'F16' || info.dtype === 'BF16' ? 2 : 0;
      if (bytesPerElement === 0) {
        if (options?.names) {
          throw new InvalidCheckpointError(
            `${file}: tensor "${name}" has dtype ${String(info.dtype)}; only F32, F16 and BF16 can be read.`,
            'Convert the checkpoint to float32 (save_file({k: v.float() ...})).',
          );
        }
        continue;
      }
      if (end - begin !== elements * bytesPerElement || dataStart + end > size) {
        fail(`tensor "${name}" data_offsets [${begin}, ${end}) do not fit shape [${String(shape)}] of ${String(info.dtype)} or the file size.`);
      }
      const data = new Float32Array(elements);
      if (info.dtype === 'F32') {
        // Little-endian hosts only (every platform Node supports in practice): bytes go straight in.
        await handle.read(new Uint8Array(data.buffer), 0, end - begin, dataStart + begin);
      } else {
        const raw = new Uint16Array(elements);
        await handle.read(new Uint8Array(raw.buffer), 0, end - begin, dataStart + begin);
        if (info.dtype === 'BF16') {
          const widened = new Uint32Array(data.buffer);
          for (let i = 0; i < elements; i++) widened[i] = (raw[i] as number) << 16;
        } else {
          for (let i = 0; i < elements; i++) data[i] = halfToFloat(raw[i] as number);
        }
      }
      result.set(name, { shape: [...(shape as number[])], data });
    }
    return result;
  } finally {
    await handle.close();
  }
}

function halfToFloat(bits: number): number {
  const sign = bits & 0x8000 ? -1 : 1;
  const exponent = (bits >> 10) & 0x1f;
  const fraction = bits & 0x3ff;
  if (exponent === 0) return sign * 2 ** -14 * (fraction / 1024);
  if (exponent === 0x1f) return fraction ? Number.NaN : sign * Number.POSITIVE_INFINITY;
  return sign * 2 ** (exponent - 15) * (1 + fraction / 1024);
}
