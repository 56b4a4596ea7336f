import path from 'node:path';
import { InvalidDatasetError } from '@recipe-kit/core';
import { describeValue, type DatasetSource } from '../datasets/dataset-record.js';

function isPlainObject(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

/** Checks the top-level object and its format tag; errors name the file. */
export function checkFormatTag(value: unknown, expected: string, source: DatasetSource): Record<string, unknown> {
  const file = path.basename(source.path);
  if (!isPlainObject(value)) {
    throw new InvalidDatasetError(`${file}: the top level must be a JSON object, found ${describeValue(value)}.`, `Expected ${source.format}.`);
  }
  if (value.format !== expected) {
    throw new InvalidDatasetError(`${file}: "format" must be "${expected}", found ${describeValue(value.format)}.`, `Expected ${source.format}.`);
  }
  return value;
}
