import { readFile, stat } from 'node:fs/promises';
import path from 'node:path';
import { DataNotFoundError } from '@recipe-kit/core';

/** Whether a user-named path is a file or a directory; a missing path is a DataNotFoundError naming it. */
export async function datasetPathKind(datasetPath: string, what: string): Promise<'file' | 'directory'> {
  try {
    const info = await stat(datasetPath);
    return info.isDirectory() ? 'directory' : 'file';
  } catch (error) {
    throw new DataNotFoundError(`${what} not found: ${path.resolve(datasetPath)}`, 'Check the path (see ../shared/data/README.md for where the public copies come from).', { cause: error });
  }
}

/**
 * The whole file as UTF-8 without a byte-order mark (Excel-written CSVs carry one, and it would
 * otherwise end up in the first header name).
 */
export async function readDatasetText(datasetPath: string, what: string): Promise<string> {
  if ((await datasetPathKind(datasetPath, what)) === 'directory') {
    throw new DataNotFoundError(`${what}: expected a file but ${path.resolve(datasetPath)} is a directory.`, 'Name the data file itself.');
  }
  const text = await readFile(datasetPath, 'utf8');
  return text.charCodeAt(0) === 0xfeff ? text.slice(1) : text;
}
