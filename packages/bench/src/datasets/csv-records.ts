import { DatasetRecord, recordError, type DatasetSource } from './dataset-record.js';
import type { CsvRow } from './parse-csv.js';

/**
 * CSV rows as DatasetRecords keyed by column name, so CSV loaders get the same field checks and
 * error messages as JSON loaders. A row with the wrong number of cells is rejected here: it
 * almost always means broken quoting, and reading it anyway would shift every later column.
 */
export function csvRecords(rows: readonly CsvRow[], columns: readonly string[], source: DatasetSource, firstIndex = 0): DatasetRecord[] {
  return rows.map((row, i) => {
    const location = { source, index: firstIndex + i, line: row.line, noun: 'row' };
    if (row.cells.length !== columns.length) {
      throw recordError(location, `expected ${columns.length} columns (${columns.join(', ')}), found ${row.cells.length}`);
    }
    return DatasetRecord.from(Object.fromEntries(columns.map((column, c) => [column, row.cells[c]])), location);
  });
}
