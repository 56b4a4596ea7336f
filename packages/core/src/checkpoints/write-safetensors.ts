import { mkdir, rename, writeFile } from 'node:fs/promises';
import path from 'node:path';
import type { NamedTensor } from './named-tensor.js';

/** One entry to write: float32 values, or int64 values (position-id buffers in test fixtures). */
export type WritableTensor = NamedTensor | { shape: number[]; int64: BigInt64Array };

/**
 * Writes tensors (F32, or I64 for `int64` entries) to one safetensors file, in the given order.
 * The file appears atomically (written beside, then renamed). Small checkpoints only: the file is assembled in memory.
 */
export async function writeSafetensors(
  file: string,
  tensors: Iterable<[string, WritableTensor]>,
  metadata: Record<string, string> = { format: 'pt' },
): Promise<void> {
  const header: Record<string, unknown> = { __metadata__: metadata };
  const chunks: Uint8Array[] = [];
  let offset = 0;
  for (const [name, tensor] of tensors) {
    const bytes =
      'data' in tensor
        ? new Uint8Array(tensor.data.buffer, tensor.data.byteOffset, tensor.data.byteLength)
        : new Uint8Array(tensor.int64.buffer, tensor.int64.byteOffset, tensor.int64.byteLength);
    header[name] = { dtype: 'data' in tensor ? 'F32' : 'I64', shape: tensor.shape, data_offsets: [offset, offset + bytes.length] };
    chunks.push(bytes);
    offset += bytes.length;
  }
  let headerText = JSON.stringify(header);
  // Pad the header with spaces to a multiple of 8 bytes, as the reference implementation does.
  while ((Buffer.byteLength(headerText) + 8) % 8 !== 0) headerText += ' ';
  const headerBytes = Buffer.from(headerText, 'utf8');
  const length = Buffer.alloc(8);
  length.writeBigUInt64LE(BigInt(headerBytes.length));
  await mkdir(path.dirname(file), { recursive: true });
  const temporary = `${file}.${process.pid}.tmp`;
  await writeFile(temporary, Buffer.concat([length, headerBytes, ...chunks]));
  await rename(temporary, file);
}
