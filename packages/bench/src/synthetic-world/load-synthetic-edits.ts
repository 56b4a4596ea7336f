import path from 'node:path';
import { InvalidDatasetError, type EditRequest, type Probe } from '@recipe-kit/core';
import { DatasetRecord, describeValue, recordError, type DatasetSource } from '../datasets/dataset-record.js';
import { resolveLimit, type LoaderOptions } from '../datasets/loader-options.js';
import { parseJsonFile } from '../datasets/parse-json-dataset.js';
import { checkFormatTag } from './check-format-tag.js';
import { syntheticWorldFromJson } from './load-synthetic-world.js';
import { syntheticEditsFormat } from './synthetic-edits-file.js';
import { syntheticWorldFormat } from './synthetic-world.js';

const format = `synthetic-world edits ({ "format": "${syntheticEditsFormat}", "seed": integer, "requests": [ { "id", "prompt", "subject", "targetNew", "groundTruth"?, "generality": [{ "prompt", "target", "type" }], "locality": [...] } ] }, as written from createSyntheticEditsFile), or a synthetic world file ("format": "${syntheticWorldFormat}")`;

/**
 * Edit requests on the synthetic world, for `--dataset synthetic --data FILE`. The file is either
 * an edits file (`createSyntheticEditsFile`, format "recipe-kit-synthetic-edits"), whose requests are
 * returned in file order, or a world file (`world.toJson()`), whose default edit set
 * (`world.editRequests()`) is returned. `limit` keeps the first N; only those are validated. Every
 * problem is an InvalidDatasetError naming the request (index and id) and the field.
 */
export async function loadSyntheticEdits(editsPath: string, options: LoaderOptions = {}): Promise<EditRequest[]> {
  const limit = resolveLimit(options);
  const source: DatasetSource = { path: editsPath, format };
  const value = await parseJsonFile(source);
  if (typeof value === 'object' && value !== null && (value as { format?: unknown }).format === syntheticWorldFormat) {
    return syntheticWorldFromJson(value, source).editRequests().slice(0, limit);
  }
  const top = checkFormatTag(value, syntheticEditsFormat, source);
  const file = path.basename(editsPath);
  if (typeof top.seed !== 'number' || !Number.isInteger(top.seed)) {
    throw new InvalidDatasetError(`${file}: "seed" must be an integer, found ${describeValue(top.seed)}.`, `Expected ${format}.`);
  }
  if (!Array.isArray(top.requests)) {
    throw new InvalidDatasetError(`${file}: "requests" must be a list of edit requests, found ${describeValue(top.requests)}.`, `Expected ${format}.`);
  }
  const requests: EditRequest[] = [];
  const ids = new Map<string, number>();
  for (let index = 0; index < top.requests.length && requests.length < limit; index++) {
    const record = DatasetRecord.from(top.requests[index], { source, index, noun: 'request' });
    const request = readRequest(record);
    const earlier = ids.get(request.id);
    if (earlier !== undefined) throw recordError(record.location, `"id" ${JSON.stringify(request.id)} is already the id of request ${earlier}; ids must be unique`);
    ids.set(request.id, index);
    requests.push(request);
  }
  return requests;
}

function readRequest(record: DatasetRecord): EditRequest {
  const id = record.string('id');
  record.identify('id', id);
  const prompt = record.string('prompt');
  const subject = record.string('subject');
  if (!prompt.includes(subject)) throw recordError(record.location, `"subject" ${JSON.stringify(subject)} does not occur in "prompt" ${JSON.stringify(prompt)}`);
  const targetNew = record.string('targetNew');
  const groundTruth = record.optionalString('groundTruth');
  if (groundTruth === targetNew) throw recordError(record.location, `"targetNew" equals "groundTruth" (${JSON.stringify(targetNew)}): a counterfactual edit must change the answer`);
  return {
    id,
    prompt,
    subject,
    targetNew,
    ...(groundTruth === undefined ? {} : { groundTruth }),
    generality: readProbes(record, 'generality'),
    locality: readProbes(record, 'locality'),
  };
}

function readProbes(record: DatasetRecord, field: 'generality' | 'locality'): Probe[] {
  return record.objectList(field).map((probe) => ({
    prompt: probe.string('prompt'),
    target: probe.string('target'),
    type: probe.string('type'),
  }));
}
