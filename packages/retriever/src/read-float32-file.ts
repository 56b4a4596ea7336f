import { createHash } from 'node:crypto';
import { open } from 'node:fs/promises';
import { endianness } from 'node:os';
import { InvalidCheckpointError } from '@recipe-kit/core';
import type { RepositoryFileReference } from './knowledge-repository-manifest.js';

const hostIsLittleEndian = endianness() === 'LE';
/** Bytes per read: few syscalls for many small targets (one prompt is ~100 B–50 KiB), bounded memory. */
const STAGING_BYTES = 1 << 24;

/**
 * Reads a little-endian float32 file into `targets` (in order; their lengths must sum to the file's
 * float count), checking the size before reading and the SHA-256 after. The file is streamed through
 * one staging buffer, so peak memory is the targets plus 16 MiB, whatever the file size.
 */
export async function readFloat32File(
  path: string,
  reference: RepositoryFileReference,
  targets: readonly Float32Array[],
  what: string,
): Promise<void> {
  const handle = await open(path, 'r');
  try {
    const { size } = await handle.stat();
    if (size !== reference.bytes) {
      throw new InvalidCheckpointError(
        `The ${what} file ${path} is ${size} bytes, but the manifest expects ${reference.bytes}: it is ${size < reference.bytes ? 'truncated' : 'longer than written'}.`,
        'The save was interrupted or the file was damaged after it; restore the directory from a backup or re-save the repository from a live process.',
      );
    }
    let needed = 0;
    for (const target of targets) needed += target.byteLength;
    if (needed !== size) {
      throw new InvalidCheckpointError(
        `The ${what} file ${path} has ${size} bytes but the manifest's shapes need ${needed}.`,
        'The manifest disagrees with its data files; restore a backup or re-save the repository.',
      );
    }
    const hash = createHash('sha256');
    const staging = new Uint8Array(Math.min(STAGING_BYTES, size));
    let stagingEnd = 0; // valid bytes in staging
    let stagingPosition = 0; // next unread byte in staging
    let filePosition = 0;
    for (const target of targets) {
      const bytes = new Uint8Array(target.buffer, target.byteOffset, target.byteLength);
      let filled = 0;
      while (filled < bytes.length) {
        if (stagingPosition === stagingEnd) {
          const { bytesRead } = await handle.read(staging, 0, Math.min(staging.length, size - filePosition), filePosition);
          if (bytesRead === 0) {
            throw new InvalidCheckpointError(
              `The ${what} file ${path} ended at byte ${filePosition} while ${size} were expected (it shrank while loading).`,
              'Do not modify a repository directory while it is being loaded; then load it again.',
            );
          }
          hash.update(staging.subarray(0, bytesRead));
          filePosition += bytesRead;
          stagingEnd = bytesRead;
          stagingPosition = 0;
        }
        const take = Math.min(bytes.length - filled, stagingEnd - stagingPosition);
        bytes.set(staging.subarray(stagingPosition, stagingPosition + take), filled);
        filled += take;
        stagingPosition += take;
      }
      if (!hostIsLittleEndian) {
        const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
        for (let i = 0; i < target.length; i++) target[i] = view.getFloat32(i * 4, true);
      }
    }
    const digest = hash.digest('hex');
    if (digest !== reference.sha256) {
      throw new InvalidCheckpointError(
        `The ${what} file ${path} is corrupted: its SHA-256 is ${digest}, the manifest recorded ${reference.sha256}.`,
        'The file changed after it was saved (disk error, partial copy, hand edit); restore the directory from a backup or re-save the repository.',
      );
    }
  } finally {
    await handle.close();
  }
}
