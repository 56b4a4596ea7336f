import { InvalidCheckpointError } from '@recipe-kit/core';
import { CheckpointFile } from './checkpoint-file.js';
import { decodeHalfPrecision, safetensorsDtypeBytes, type NamedTensor, type SafetensorsDtype } from './named-tensor.js';

/** One tensor's entry in a safetensors header. */
export interface SafetensorsTensorInfo {
  /** As written in the file; any safetensors dtype, though only F32/F16/BF16 can be read. */
  dtype: string;
  shape: number[];
  /** [begin, end) byte range relative to the start of the data section. */
  dataOffsets: [number, number];
}

export interface SafetensorsHeader {
  /** `__metadata__`, or `{}` when absent. */
  metadata: Record<string, string>;
  /** Tensors ordered by their position in the file (so reading them in order is sequential I/O). */
  tensors: Map<string, SafetensorsTensorInfo>;
  /** Absolute byte offset of the data section: 8 + header length. */
  dataStart: number;
  fileSize: number;
}

// Every dtype the safetensors format defines, with its element size, so offsets of tensors we do
// not decode (GPT-J's boolean attention masks, int64 position ids) can still be validated and skipped.
const storedDtypeBytes: Readonly<Record<string, number>> = {
  BOOL: 1, U8: 1, I8: 1, F8_E5M2: 1, F8_E4M3: 1,
  I16: 2, U16: 2, F16: 2, BF16: 2,
  I32: 4, U32: 4, F32: 4,
  I64: 8, U64: 8, F64: 8,
};

// The safetensors library refuses headers above 100 MB; a larger length means a corrupt file,
// and refusing it avoids allocating gigabytes for a bogus length.
const maxHeaderBytes = 100_000_000;

const redownloadHint = 'The file is damaged or incomplete: download or export it again.';

/** Reads and validates the header of a safetensors file without touching the tensor data. */
export async function readSafetensorsHeader(file: string): Promise<SafetensorsHeader> {
  const checkpoint = await CheckpointFile.open(file);
  try {
    return await readHeader(checkpoint);
  } finally {
    await checkpoint.close();
  }
}

/**
 * Yields `[name, tensor]` in file order, reading each tensor with its own positional read so only
 * one tensor's bytes are in memory at a time. F16/BF16 are widened to float32.
 * `names` restricts the output (the rest is skipped unread); a requested name absent from the
 * file is an error, and so is a selected tensor whose dtype is not F32/F16/BF16.
 */
export async function* iterateSafetensors(
  file: string,
  options?: { names?: ReadonlySet<string> },
): AsyncGenerator<[string, NamedTensor]> {
  const checkpoint = await CheckpointFile.open(file);
  try {
    const header = await readHeader(checkpoint);
    const wanted = options?.names;
    if (wanted) {
      const missing = [...wanted].filter((name) => !header.tensors.has(name));
      if (missing.length > 0) {
        throw new InvalidCheckpointError(
          `${file} has no tensor named ${listNames(missing)}.`,
          'Check the tensor names (and the shard the index maps them to) against the checkpoint.',
        );
      }
    }
    for (const [name, info] of header.tensors) {
      if (wanted && !wanted.has(name)) continue;
      yield [name, await readTensor(checkpoint, header, name, info)];
    }
  } finally {
    await checkpoint.close();
  }
}

async function readTensor(
  checkpoint: CheckpointFile,
  header: SafetensorsHeader,
  name: string,
  info: SafetensorsTensorInfo,
): Promise<NamedTensor> {
  const dtype = readableDtype(info.dtype);
  if (!dtype) {
    throw new InvalidCheckpointError(
      `${checkpoint.path}: tensor "${name}" has dtype ${info.dtype}; only F32, F16 and BF16 can be read.`,
      'Skip this tensor (pass `names` without it) or convert the checkpoint to float32/float16/bfloat16 ' +
        'before loading (e.g. in Python: save_file({k: v.float() for k, v in tensors.items()}, path)).',
    );
  }
  const [begin, end] = info.dataOffsets;
  const data = new Float32Array((end - begin) / safetensorsDtypeBytes(dtype));
  // F32 is read straight into the result; half precision goes through one tensor-sized staging array.
  const raw = dtype === 'F32' ? data : new Uint16Array(data.length);
  const complete = await checkpoint.readInto(new Uint8Array(raw.buffer, raw.byteOffset, raw.byteLength), header.dataStart + begin);
  if (!complete) {
    throw new InvalidCheckpointError(
      `${checkpoint.path}: tensor "${name}" is cut off; the file ended before byte ${header.dataStart + end} (it may have changed while reading).`,
      redownloadHint,
    );
  }
  if (dtype !== 'F32') decodeHalfPrecision(dtype, raw as Uint16Array, data);
  return { shape: [...info.shape], data };
}

function readableDtype(dtype: string): SafetensorsDtype | undefined {
  return dtype === 'F32' || dtype === 'F16' || dtype === 'BF16' ? dtype : undefined;
}

async function readHeader(checkpoint: CheckpointFile): Promise<SafetensorsHeader> {
  const file = checkpoint.path;
  const fail = (problem: string, hint = redownloadHint): never => {
    throw new InvalidCheckpointError(`${file}: ${problem}`, hint);
  };

  if (checkpoint.size < 8) {
    fail(`only ${checkpoint.size} bytes, shorter than the 8-byte safetensors header length; not a safetensors file or truncated.`);
  }
  const lengthBytes = new Uint8Array(8);
  await checkpoint.readInto(lengthBytes, 0);
  const headerLength = new DataView(lengthBytes.buffer).getBigUint64(0, true);
  if (headerLength > BigInt(checkpoint.size - 8)) {
    fail(
      `header length ${headerLength} runs past the end of the file (${checkpoint.size} bytes); ` +
        'the file is truncated or is not a safetensors file.',
    );
  }
  if (headerLength > BigInt(maxHeaderBytes)) fail(`header length ${headerLength} exceeds the 100 MB safetensors limit.`);
  const dataStart = 8 + Number(headerLength);

  const headerBytes = new Uint8Array(Number(headerLength));
  await checkpoint.readInto(headerBytes, 8);
  let parsed: unknown;
  try {
    parsed = JSON.parse(new TextDecoder('utf-8', { fatal: true }).decode(headerBytes));
  } catch (cause) {
    fail(`header is not valid UTF-8 JSON (${(cause as Error).message}).`);
  }
  if (!isRecord(parsed)) fail('header is not a JSON object.');
  const entries = parsed as Record<string, unknown>;

  let metadata: Record<string, string> = {};
  const tensors: [string, SafetensorsTensorInfo][] = [];
  for (const [name, value] of Object.entries(entries)) {
    if (name === '__metadata__') {
      metadata = parseMetadata(value, fail);
      continue;
    }
    tensors.push([name, parseTensorInfo(name, value, fail)]);
  }

  // Sort by start offset, then check the ranges lie inside the data section and do not overlap.
  tensors.sort(([, a], [, b]) => a.dataOffsets[0] - b.dataOffsets[0] || a.dataOffsets[1] - b.dataOffsets[1]);
  const dataBytes = checkpoint.size - dataStart;
  let previous: [string, number] | undefined;
  for (const [name, info] of tensors) {
    const [begin, end] = info.dataOffsets;
    if (end > dataBytes) {
      fail(
        `tensor "${name}" needs data bytes [${begin}, ${end}) but the data section has only ${dataBytes} bytes; ` +
          'the file is truncated or its data_offsets are wrong.',
      );
    }
    if (previous && begin < previous[1]) {
      fail(`tensor "${name}" data_offsets [${begin}, ${end}) overlap tensor "${previous[0]}" (which ends at ${previous[1]}).`);
    }
    previous = [name, end];
  }
  return { metadata, tensors: new Map(tensors), dataStart, fileSize: checkpoint.size };
}

function parseMetadata(value: unknown, fail: (problem: string) => never): Record<string, string> {
  if (!isRecord(value)) fail('"__metadata__" is not a JSON object of strings.');
  const metadata: Record<string, string> = {};
  for (const [key, entry] of Object.entries(value as Record<string, unknown>)) {
    if (typeof entry !== 'string') fail(`"__metadata__"."${key}" is not a string.`);
    metadata[key] = entry as string;
  }
  return metadata;
}

function parseTensorInfo(name: string, value: unknown, fail: (problem: string, hint?: string) => never): SafetensorsTensorInfo {
  if (!isRecord(value)) fail(`tensor "${name}" entry is not a JSON object with dtype, shape and data_offsets.`);
  const { dtype, shape, data_offsets: offsets } = value as Record<string, unknown>;
  if (typeof dtype !== 'string') fail(`tensor "${name}" has no string "dtype".`);
  const elementBytes = storedDtypeBytes[dtype as string];
  if (elementBytes === undefined) {
    fail(
      `tensor "${name}" has unknown dtype ${JSON.stringify(dtype)}.`,
      'Convert the checkpoint to F32, F16 or BF16 with the safetensors library before loading.',
    );
  }
  if (!Array.isArray(shape) || !shape.every(isNonNegativeInteger)) {
    fail(`tensor "${name}" shape ${JSON.stringify(shape)} is not a list of non-negative integers.`);
  }
  if (!Array.isArray(offsets) || offsets.length !== 2 || !offsets.every(isNonNegativeInteger)) {
    fail(`tensor "${name}" data_offsets ${JSON.stringify(offsets)} is not a pair of non-negative integers.`);
  }
  const dims = shape as number[];
  const [begin, end] = offsets as [number, number];
  if (end < begin) fail(`tensor "${name}" data_offsets [${begin}, ${end}) end before they begin.`);
  const expectedBytes = dims.reduce((product, dim) => product * dim, 1) * (elementBytes as number);
  if (end - begin !== expectedBytes) {
    fail(
      `tensor "${name}" data_offsets [${begin}, ${end}) span ${end - begin} bytes, but shape [${dims.join(', ')}] ` +
        `of ${dtype} needs ${expectedBytes} bytes.`,
    );
  }
  return { dtype: dtype as string, shape: dims, dataOffsets: [begin, end] };
}

function isRecord(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

function isNonNegativeInteger(value: unknown): value is number {
  return typeof value === 'number' && Number.isSafeInteger(value) && value >= 0;
}

function listNames(names: readonly string[]): string {
  const shown = names.slice(0, 5).map((name) => `"${name}"`).join(', ');
  return names.length > 5 ? `${shown} and ${names.length - 5} more` : shown;
}
