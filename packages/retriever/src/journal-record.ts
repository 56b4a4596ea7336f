import { InvalidCheckpointError, type EditRequest } from '@recipe-kit/core';

/** One change to a durable knowledge repository, as written to its journal. */
export type JournalRecord =
  | { type: 'add'; id: string; createdAt: string; request: EditRequest; key: Float32Array; prompt: Float32Array }
  | { type: 'remove'; id: string }
  | { type: 'clear' }
  | { type: 'sentinel'; vector: Float32Array };

const TYPE_CODES = { add: 1, remove: 2, clear: 3, sentinel: 4 } as const;
const encoder = new TextEncoder();

/**
 * Body layout: u8 type, u32 LE length of a UTF-8 JSON header, the header, then float32 LE data (add:
 * key then prompt; sentinel: the vector). Float bytes are the array's own bytes (little-endian hosts).
 */
export function encodeJournalRecord(record: JournalRecord): Uint8Array {
  const header =
    record.type === 'add'
      ? { id: record.id, createdAt: record.createdAt, request: record.request }
      : record.type === 'remove'
        ? { id: record.id }
        : {};
  const json = encoder.encode(JSON.stringify(header));
  const floats = record.type === 'add' ? [record.key, record.prompt] : record.type === 'sentinel' ? [record.vector] : [];
  const floatBytes = floats.reduce((sum, array) => sum + array.byteLength, 0);
  const body = new Uint8Array(5 + json.length + floatBytes);
  const view = new DataView(body.buffer);
  view.setUint8(0, TYPE_CODES[record.type]);
  view.setUint32(1, json.length, true);
  body.set(json, 5);
  let offset = 5 + json.length;
  for (const array of floats) {
    body.set(new Uint8Array(array.buffer, array.byteOffset, array.byteLength), offset);
    offset += array.byteLength;
  }
  return body;
}

/** Decodes a checksum-valid body; a body that does not fit the repository's shapes is corruption. */
export function decodeJournalRecord(body: Buffer, dimension: number, promptLength: number, where: string): JournalRecord {
  const fail = (problem: string): never => {
    throw new InvalidCheckpointError(
      `${where}: ${problem}.`,
      'The record passed its checksum, so it was written by another program or another repository layout; restore the directory from a backup.',
    );
  };
  if (body.length < 5) return fail('record shorter than its header');
  const type = body.readUInt8(0);
  const jsonLength = body.readUInt32LE(1);
  if (5 + jsonLength > body.length) return fail('header length past the end of the record');
  let header: Record<string, unknown>;
  try {
    header = JSON.parse(body.subarray(5, 5 + jsonLength).toString('utf8')) as Record<string, unknown>;
  } catch {
    return fail('header is not JSON');
  }
  const floatBytes = body.length - 5 - jsonLength;
  // A copy, so the arrays are aligned and own their memory.
  const floats = (count: number, at: number): Float32Array =>
    new Float32Array(body.buffer.slice(body.byteOffset + 5 + jsonLength + at * 4, body.byteOffset + 5 + jsonLength + (at + count) * 4));
  const stringField = (name: string): string => {
    const value = header[name];
    return typeof value === 'string' && value.length > 0 ? value : fail(`"${name}" must be a non-empty string`);
  };
  switch (type) {
    case TYPE_CODES.add: {
      if (floatBytes !== (dimension + promptLength) * 4) return fail(`an add record holds ${floatBytes / 4} floats, expected ${dimension} (key) + ${promptLength} (prompt)`);
      const request = header['request'];
      if (typeof request !== 'object' || request === null) return fail('"request" must be an EditRequest object');
      return { type: 'add', id: stringField('id'), createdAt: stringField('createdAt'), request: request as EditRequest, key: floats(dimension, 0), prompt: floats(promptLength, dimension) };
    }
    case TYPE_CODES.remove:
      return { type: 'remove', id: stringField('id') };
    case TYPE_CODES.clear:
      return { type: 'clear' };
    case TYPE_CODES.sentinel:
      if (floatBytes !== dimension * 4) return fail(`a sentinel record holds ${floatBytes / 4} floats, expected ${dimension}`);
      return { type: 'sentinel', vector: floats(dimension, 0) };
    default:
      return fail(`unknown record type ${type}`);
  }
}
