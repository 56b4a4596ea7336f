import { createHash } from 'node:crypto';
import { open, rename } from 'node:fs/promises';

export interface DurableFileResult {
  bytes: number;
  /** Hex SHA-256 of the bytes written, computed on the way out (no second read). */
  sha256: string;
}

/**
 * Writes `chunks` to `path` so that `path` is either absent/old or complete: bytes go to
 * `<path>.tmp`, are fsynced, and only then renamed over `path` (rename is atomic on POSIX file
 * systems). The caller fsyncs the directory once after its last rename to make the renames durable.
 */
export async function writeDurableFile(
  path: string,
  chunks: Iterable<Uint8Array> | AsyncIterable<Uint8Array>,
): Promise<DurableFileResult> {
  const temporaryPath = `${path}.tmp`;
  const hash = createHash('sha256');
  let bytes = 0;
  const handle = await open(temporaryPath, 'w');
  try {
    for await (const chunk of chunks) {
      hash.update(chunk);
      let written = 0;
      // write() may write less than asked (large buffers, signals); loop until the chunk is out.
      while (written < chunk.length) {
        const result = await handle.write(chunk, written, chunk.length - written);
        written += result.bytesWritten;
      }
      bytes += chunk.length;
    }
    await handle.sync();
  } finally {
    await handle.close();
  }
  await rename(temporaryPath, path);
  return { bytes, sha256: hash.digest('hex') };
}

/** fsyncs a directory so renames inside it survive a crash; a no-op where directories cannot be opened (Windows). */
export async function syncDirectory(directory: string): Promise<void> {
  let handle;
  try {
    handle = await open(directory, 'r');
  } catch {
    return;
  }
  try {
    await handle.sync();
  } catch {
    // Some file systems refuse fsync on directories (EINVAL/EISDIR); the data files are already synced.
  } finally {
    await handle.close();
  }
}
