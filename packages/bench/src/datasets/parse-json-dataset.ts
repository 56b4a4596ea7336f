import path from 'node:path';
import { InvalidDatasetError } from '@recipe-kit/core';
import { describeValue, type DatasetSource } from './dataset-record.js';
import { readDatasetText } from './read-dataset-text.js';

/** Reads a file that must hold one JSON value (a list of records for the editing datasets). */
export async function parseJsonFile(source: DatasetSource): Promise<unknown> {
  const text = await readDatasetText(source.path, source.format);
  try {
    return JSON.parse(text) as unknown;
  } catch (error) {
    const reason = error instanceof Error ? error.message : String(error);
    throw new InvalidDatasetError(
      `${path.basename(source.path)} is not valid JSON (${reason}).`,
      `Expected ${source.format}; the file may be truncated, or be JSON Lines (one record per line) instead of one JSON list.`,
      { cause: error },
    );
  }
}

/** Reads a file that must be a JSON list of records (RECIPE, EasyEdit, ROME and MEND all ship lists). */
export async function parseJsonList(source: DatasetSource): Promise<unknown[]> {
  const value = await parseJsonFile(source);
  if (!Array.isArray(value)) {
    const keys = typeof value === 'object' && value !== null ? ` with keys ${Object.keys(value).slice(0, 5).map((k) => JSON.stringify(k)).join(', ')}` : '';
    throw new InvalidDatasetError(
      `${path.basename(source.path)}: the top level must be a JSON list of records, found ${describeValue(value)}${keys}.`,
      `Point the loader at ${source.format}: a JSON list [ {...}, {...} ].`,
    );
  }
  return value;
}
