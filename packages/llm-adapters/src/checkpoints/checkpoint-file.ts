import { open, type FileHandle } from 'node:fs/promises';
import { endianness } from 'node:os';
import { DataNotFoundError, UnsupportedCapabilityError } from '@recipe-kit/core';

// Positional reads larger than this are split: Node caps a single read near 2 GiB.
const maxReadBytes = 1 << 30;

/**
 * A checkpoint opened for positional reads. Readers pull one tensor at a time at known offsets
 * instead of loading the file, so peak memory stays near one tensor rather than the whole model.
 */
export class CheckpointFile {
  private constructor(
    readonly path: string,
    readonly size: number,
    private readonly handle: FileHandle,
  ) {}

  /** Opens `path`; a missing or unreadable file is a `DataNotFoundError` naming it. */
  static async open(path: string): Promise<CheckpointFile> {
    // Checkpoints store little-endian numbers and we view bytes as typed arrays directly.
    if (endianness() !== 'LE') {
      throw new UnsupportedCapabilityError(
        `Cannot read checkpoint ${path}: this machine is big-endian.`,
        'Read checkpoints on a little-endian machine (x86-64, ARM64).',
      );
    }
    let handle: FileHandle;
    try {
      handle = await open(path, 'r');
    } catch (cause) {
      throw new DataNotFoundError(
        `Cannot open checkpoint file ${path}: ${(cause as Error).message}`,
        'Check the path and that the file is readable (download or export the checkpoint first).',
        { cause },
      );
    }
    try {
      const stats = await handle.stat();
      if (!stats.isFile()) {
        throw new DataNotFoundError(
          `Checkpoint path ${path} is not a regular file.`,
          'Pass the path of the checkpoint file itself.',
        );
      }
      return new CheckpointFile(path, stats.size, handle);
    } catch (error) {
      await handle.close();
      throw error;
    }
  }

  /**
   * Fills `target` from byte `position`. Returns false when the file ended first (truncated),
   * so each caller can say which tensor was cut off.
   */
  async readInto(target: Uint8Array, position: number): Promise<boolean> {
    let filled = 0;
    while (filled < target.length) {
      const length = Math.min(target.length - filled, maxReadBytes);
      const { bytesRead } = await this.handle.read(target, filled, length, position + filled);
      if (bytesRead === 0) return false;
      filled += bytesRead;
    }
    return true;
  }

  async close(): Promise<void> {
    await this.handle.close();
  }
}
