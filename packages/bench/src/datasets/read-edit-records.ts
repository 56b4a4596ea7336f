import type { EditRequest } from '@recipe-kit/core';
import { DatasetRecord, type DatasetSource } from './dataset-record.js';
import { parseJsonList } from './parse-json-dataset.js';

/**
 * The loop every JSON-list edit loader shares: parse the list, wrap each record for validation,
 * map it (null skips it), stop after `limit` requests. Only the records read are validated.
 */
export async function readEditRecords(
  source: DatasetSource,
  limit: number,
  toRequest: (record: DatasetRecord, index: number) => EditRequest | null,
): Promise<EditRequest[]> {
  const records = await parseJsonList(source);
  const requests: EditRequest[] = [];
  for (let index = 0; index < records.length && requests.length < limit; index++) {
    const request = toRequest(DatasetRecord.from(records[index], { source, index }), index);
    if (request) requests.push(request);
  }
  return requests;
}
