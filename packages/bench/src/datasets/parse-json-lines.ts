import path from 'node:path';
import { InvalidDatasetError } from '@recipe-kit/core';
import type { DatasetSource } from './dataset-record.js';
import { readDatasetText } from './read-dataset-text.js';

/** One parsed JSON Lines record and the 1-based line it came from. */
export interface JsonLine {
  value: unknown;
  line: number;
}

/**
 * Parses JSON Lines. Blank lines (typically the final newline) are skipped; a line that is not
 * JSON fails with its line number, which catches truncated downloads and concatenated records.
 * Stops after `limit` records so a limited load does not parse the rest.
 */
export async function parseJsonLines(source: DatasetSource, limit = Number.POSITIVE_INFINITY): Promise<JsonLine[]> {
  const text = await readDatasetText(source.path, source.format);
  const lines = text.split('\n');
  const records: JsonLine[] = [];
  for (let i = 0; i < lines.length && records.length < limit; i++) {
    const line = (lines[i] ?? '').replace(/\r$/, '');
    if (line.trim() === '') continue;
    try {
      records.push({ value: JSON.parse(line) as unknown, line: i + 1 });
    } catch (error) {
      const reason = error instanceof Error ? error.message : String(error);
      throw new InvalidDatasetError(
        `${path.basename(source.path)} record ${records.length} (line ${i + 1}): not valid JSON (${reason}).`,
        `Fix line ${i + 1} of ${path.resolve(source.path)}: each line must be one complete JSON object (${source.format}); the file may be truncated.`,
        { cause: error },
      );
    }
  }
  return records;
}
