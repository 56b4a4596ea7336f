import { readFileSync, rmSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { InvalidInputError } from '@recipe-kit/core';

const LOCK = '.compare.lock';

function alive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (error) {
    return (error as NodeJS.ErrnoException).code === 'EPERM';
  }
}

/**
 * Takes the run directory for this process (two processes appending to the same cells would
 * interleave their lines); a lock left by a process that no longer runs is taken over.
 * Returns the release function.
 */
export function lockRunDirectory(directory: string): () => void {
  const file = path.join(directory, LOCK);
  for (let attempt = 0; attempt < 2; attempt++) {
    try {
      writeFileSync(file, String(process.pid), { flag: 'wx' });
      return () => rmSync(file, { force: true });
    } catch (error) {
      if ((error as NodeJS.ErrnoException).code !== 'EEXIST') throw error;
      const holder = Number(readFileSync(file, 'utf8'));
      if (Number.isInteger(holder) && holder !== process.pid && alive(holder)) {
        throw new InvalidInputError(`${directory} is being written by another recipe-kit compare (process ${holder}).`, 'Wait for it to finish, or pass another --out.');
      }
      rmSync(file, { force: true });
    }
  }
  throw new InvalidInputError(`Cannot lock ${directory}.`, `Delete ${file} if no compare is running.`);
}
