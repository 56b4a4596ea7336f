import { open, readFile, rename } from 'node:fs/promises';

/** Appends text and waits until it is on disk (fsync), so an acknowledged line survives a crash. */
export async function appendDurably(file: string, text: string): Promise<void> {
  const handle = await open(file, 'a');
  try {
    await handle.write(text);
    await handle.sync();
  } finally {
    await handle.close();
  }
}

/** Writes a file all-or-nothing: a temporary file, fsync, then rename over the target. */
export async function writeAtomically(file: string, text: string): Promise<void> {
  const temporary = `${file}.${process.pid}.tmp`;
  const handle = await open(temporary, 'w');
  try {
    await handle.write(text);
    await handle.sync();
  } finally {
    await handle.close();
  }
  await rename(temporary, file);
}

/**
 * The complete JSON lines of a file that may have been cut off mid-write: a last line without its
 * newline, or one that does not parse, is a torn tail and dropped. A bad line before the end is
 * corruption, not a crash, and is reported by `onCorrupt`.
 */
export async function readJsonLines(file: string, onCorrupt: (line: number, text: string) => never): Promise<unknown[]> {
  const text = await readFile(file, 'utf8').catch((error: NodeJS.ErrnoException) => {
    if (error.code === 'ENOENT') return '';
    throw error;
  });
  const lines = text.split('\n');
  // After a complete last line, split leaves an empty string; anything else there is a torn tail.
  lines.pop();
  const values: unknown[] = [];
  for (const [index, line] of lines.entries()) {
    if (line.trim() === '') continue;
    try {
      values.push(JSON.parse(line));
    } catch {
      onCorrupt(index + 1, line);
    }
  }
  return values;
}
