import { endianness } from 'node:os';

const hostIsLittleEndian = endianness() === 'LE';

/**
 * Yields the floats of `parts`, concatenated, as little-endian float32 bytes in chunks of at most
 * `floatsPerChunk` floats (parts larger than that are split). Small parts (one key of 256 floats)
 * are batched so a file is written with a few large writes, not one syscall per entry.
 */
export function* float32Chunks(parts: readonly Float32Array[], floatsPerChunk = 1 << 20): Generator<Uint8Array> {
  let remaining = 0;
  for (const part of parts) remaining += part.length;
  // Sized to what is left, so a small repository does not allocate a 4 MiB buffer per file.
  const allocate = (): Float32Array => new Float32Array(Math.min(floatsPerChunk, remaining));
  let buffer = allocate();
  let filled = 0;
  for (const part of parts) {
    let offset = 0;
    while (offset < part.length) {
      const take = Math.min(part.length - offset, buffer.length - filled);
      buffer.set(part.subarray(offset, offset + take), filled);
      filled += take;
      offset += take;
      remaining -= take;
      if (filled === buffer.length) {
        yield toLittleEndianBytes(buffer, filled);
        // A fresh buffer: the consumer may still hold the yielded bytes (e.g. an in-flight write).
        buffer = allocate();
        filled = 0;
      }
    }
  }
}

function toLittleEndianBytes(floats: Float32Array, count: number): Uint8Array {
  if (hostIsLittleEndian) return new Uint8Array(floats.buffer, floats.byteOffset, count * 4);
  const bytes = new Uint8Array(count * 4);
  const view = new DataView(bytes.buffer);
  for (let i = 0; i < count; i++) view.setFloat32(i * 4, floats[i]!, true);
  return bytes;
}
