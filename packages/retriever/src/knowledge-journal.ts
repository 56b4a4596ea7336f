import { open, type FileHandle } from 'node:fs/promises';
import { crc32 } from 'node:zlib';
import { InvalidCheckpointError, InvalidConfigError } from '@recipe-kit/core';

/** Bytes before each record's body: u32 body length, u32 CRC-32 of the body (little-endian). */
const FRAME_HEADER_BYTES = 8;
/** A body longer than this is not a record but garbage in the length field. */
const MAX_RECORD_BYTES = 1 << 30;

export interface JournalReadResult {
  /** Bodies of the complete, checksum-valid records, in order. */
  records: Buffer[];
  /** Bytes of the valid prefix; anything after it was a torn tail. */
  validBytes: number;
  /** Bytes dropped at the end (a record cut short by a crash), 0 when the file ended cleanly. */
  tornBytes: number;
}

/**
 * Reads a journal file. A damaged record at the very end (short header, body running past the end of
 * the file, or a CRC mismatch on the last record) is a torn write from a crash and is dropped: the
 * write was never acknowledged, because the record is synced before `append` resolves. A damaged record
 * followed by more data is corruption of acknowledged edits, and is an error.
 */
export async function readJournal(path: string): Promise<JournalReadResult> {
  const handle = await open(path, 'r');
  let bytes: Buffer;
  try {
    bytes = await handle.readFile();
  } finally {
    await handle.close();
  }
  const records: Buffer[] = [];
  let offset = 0;
  while (offset < bytes.length) {
    if (bytes.length - offset < FRAME_HEADER_BYTES) break;
    const length = bytes.readUInt32LE(offset);
    const checksum = bytes.readUInt32LE(offset + 4);
    const end = offset + FRAME_HEADER_BYTES + length;
    if (length > MAX_RECORD_BYTES || end > bytes.length) break;
    const body = bytes.subarray(offset + FRAME_HEADER_BYTES, end);
    if (crc32(body) !== checksum) {
      if (end === bytes.length) break;
      throw new InvalidCheckpointError(
        `The journal ${path} is corrupted at byte ${offset}: record ${records.length + 1} fails its CRC-32 and ${bytes.length - end} bytes follow it.`,
        'Acknowledged edits after that point cannot be trusted. Restore the repository directory from a backup, or rebuild it by re-applying the edit requests.',
      );
    }
    records.push(body);
    offset = end;
  }
  return { records, validBytes: offset, tornBytes: bytes.length - offset };
}

/**
 * An append-only, checksummed record log with group commit: `append` queues a record and resolves once
 * an fdatasync covering it has returned; records queued while a sync runs share the next one.
 */
export class KnowledgeJournal {
  readonly path: string;
  private readonly handle: FileHandle;
  private length: number;
  private queue: Buffer[] = [];
  private waiters: Array<{ resolve: () => void; reject: (error: unknown) => void }> = [];
  private flushing: Promise<void> | null = null;
  private failure: unknown = null;

  private constructor(path: string, handle: FileHandle, length: number) {
    this.path = path;
    this.handle = handle;
    this.length = length;
  }

  /** Opens for appending after `validBytes`; a torn tail beyond it is cut off first (and synced). */
  static async open(path: string, validBytes: number): Promise<KnowledgeJournal> {
    const handle = await open(path, 'r+');
    const { size } = await handle.stat();
    if (size > validBytes) {
      await handle.truncate(validBytes);
      await handle.datasync();
    }
    return new KnowledgeJournal(path, handle, validBytes);
  }

  /** Bytes in the journal (synced or queued). */
  get bytes(): number {
    return this.length + this.queue.reduce((sum, record) => sum + record.length, 0);
  }

  append(body: Uint8Array): Promise<void> {
    if (this.failure !== null) {
      return Promise.reject(
        new InvalidConfigError(
          `An earlier write to the journal ${this.path} failed, so later edits cannot be made durable.`,
          'Reopen the repository (KnowledgeRepository.open): it keeps every acknowledged edit and drops the failed tail.',
          { cause: this.failure },
        ),
      );
    }
    const frame = Buffer.allocUnsafe(FRAME_HEADER_BYTES + body.length);
    frame.writeUInt32LE(body.length, 0);
    frame.writeUInt32LE(crc32(body), 4);
    frame.set(body, FRAME_HEADER_BYTES);
    return new Promise((resolve, reject) => {
      this.queue.push(frame);
      this.waiters.push({ resolve, reject });
      this.flushing ??= this.flush();
    });
  }

  /** Resolves when everything appended so far is synced (or failed). */
  async idle(): Promise<void> {
    while (this.flushing !== null) await this.flushing;
  }

  async close(): Promise<void> {
    await this.idle();
    await this.handle.close();
  }

  private async flush(): Promise<void> {
    while (this.queue.length > 0) {
      const batch = Buffer.concat(this.queue);
      const waiters = this.waiters;
      this.queue = [];
      this.waiters = [];
      try {
        let written = 0;
        while (written < batch.length) {
          const { bytesWritten } = await this.handle.write(batch, written, batch.length - written, this.length + written);
          written += bytesWritten;
        }
        await this.handle.datasync();
        this.length += batch.length;
        for (const waiter of waiters) waiter.resolve();
      } catch (error) {
        // A partial write may sit at the end: nothing more may be appended behind it in this process.
        this.failure = error;
        for (const waiter of [...waiters, ...this.waiters]) waiter.reject(error);
        this.queue = [];
        this.waiters = [];
      }
    }
    this.flushing = null;
  }
}
