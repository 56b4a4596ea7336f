import path from 'node:path';
import { InvalidInputError } from '@recipe-kit/core';

/** The deepest directory holding every given path (the path itself when there is one). */
export function commonParent(directories: readonly string[]): string {
  const split = directories.map((directory) => path.resolve(directory).split(path.sep));
  const first = split[0];
  if (first === undefined) throw new InvalidInputError('No run directories given.', 'Pass one or more directories written by `recipe-kit eval`.');
  if (split.length === 1) return first.join(path.sep) || path.sep;
  let length = 0;
  while (length < first.length && split.every((parts) => parts[length] === first[length])) length += 1;
  return first.slice(0, length).join(path.sep) || path.sep;
}
