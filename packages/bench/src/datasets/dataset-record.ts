import path from 'node:path';
import { InvalidDatasetError } from '@recipe-kit/core';

/** The file a record comes from, and the format it should be in (used in every error's fix). */
export interface DatasetSource {
  path: string;
  /** Human name of the expected format, e.g. "CounterFact (RECIPE/EasyEdit or ROME format)". */
  format: string;
}

/** Where one record sits, for error messages: "counterfact-eval.json record 17 (case_id 4521)". */
export interface RecordLocation {
  source: DatasetSource;
  /** 0-based position among the file's records. */
  index: number;
  /** 1-based line where the record starts, for line-oriented files (JSONL, CSV). */
  line?: number;
  /** The record's own id once known, with the field it came from. */
  id?: { field: string; value: string };
  /** Noun for the record in messages ("record", "row", "question"). */
  noun?: string;
}

export function describeRecord(location: RecordLocation): string {
  const file = path.basename(location.source.path);
  const details = [
    ...(location.line === undefined ? [] : [`line ${location.line}`]),
    ...(location.id === undefined ? [] : [`${location.id.field} ${location.id.value}`]),
  ];
  return `${file} ${location.noun ?? 'record'} ${location.index}${details.length > 0 ? ` (${details.join(', ')})` : ''}`;
}

/** A short, unambiguous rendering of what was found in a field. */
export function describeValue(value: unknown): string {
  if (value === undefined) return 'nothing (the field is missing)';
  if (value === null) return 'null';
  if (typeof value === 'string') {
    const shown = value.length > 80 ? `${value.slice(0, 77)}...` : value;
    return value === '' ? 'an empty string' : JSON.stringify(shown);
  }
  if (Array.isArray(value)) return value.length === 0 ? 'an empty list' : `a list of ${value.length}`;
  if (typeof value === 'object') return 'an object';
  return `${typeof value} ${String(value)}`;
}

/** The one error shape of all loaders: where, which field, what was expected and found, and the fix. */
export function recordError(location: RecordLocation, problem: string, fix?: string): InvalidDatasetError {
  const where = describeRecord(location);
  const hint = fix ?? `Fix ${location.noun ?? 'record'} ${location.index} in ${path.resolve(location.source.path)}, or check that the file is ${location.source.format}.`;
  return new InvalidDatasetError(`${where}: ${problem}`, hint);
}

export function fieldError(location: RecordLocation, field: string, expected: string, found: unknown): InvalidDatasetError {
  return recordError(location, `"${field}" must be ${expected}, found ${describeValue(found)}`);
}

function isPlainObject(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

/**
 * Typed, validated access to one JSON record. Each getter either returns the field with the
 * asked-for type or throws an InvalidDatasetError naming the record and the field (with its path
 * for nested fields, e.g. "requested_rewrite.target_new.str"), so loaders read like a schema.
 */
export class DatasetRecord {
  private constructor(
    readonly location: RecordLocation,
    private readonly fields: Record<string, unknown>,
    private readonly fieldPrefix: string,
  ) {}

  /** `fieldPath` names where the object sits inside a nested file (e.g. "data[3].paragraphs[0]"). */
  static from(value: unknown, location: RecordLocation, fieldPath = ''): DatasetRecord {
    if (!isPlainObject(value)) {
      throw fieldPath === '' ? recordError(location, `must be a JSON object, found ${describeValue(value)}`) : fieldError(location, fieldPath, 'an object', value);
    }
    return new DatasetRecord(location, value, fieldPath === '' ? '' : `${fieldPath}.`);
  }

  /** Names the record by its id from now on (in every later error). */
  identify(field: string, value: string): void {
    this.location.id = { field, value };
  }

  has(field: string): boolean {
    return this.fields[field] !== undefined;
  }

  raw(field: string): unknown {
    return this.fields[field];
  }

  fieldName(field: string): string {
    return this.fieldPrefix + field;
  }

  fail(field: string, expected: string, found: unknown = this.fields[field]): InvalidDatasetError {
    return fieldError(this.location, this.fieldName(field), expected, found);
  }

  /** A string; non-empty (after trimming) unless `allowEmpty`. */
  string(field: string, options: { allowEmpty?: boolean } = {}): string {
    const value = this.fields[field];
    if (typeof value !== 'string' || (!options.allowEmpty && value.trim() === '')) {
      throw this.fail(field, options.allowEmpty ? 'a string' : 'a non-empty string');
    }
    return value;
  }

  /** Like `string`, but an absent or null field gives undefined. */
  optionalString(field: string): string | undefined {
    const value = this.fields[field];
    return value === undefined || value === null ? undefined : this.string(field);
  }

  integer(field: string): number {
    const value = this.fields[field];
    if (typeof value !== 'number' || !Number.isInteger(value)) throw this.fail(field, 'an integer');
    return value;
  }

  boolean(field: string): boolean {
    const value = this.fields[field];
    if (typeof value !== 'boolean') throw this.fail(field, 'true or false');
    return value;
  }

  list(field: string, options: { nonEmpty?: boolean } = {}): unknown[] {
    const value = this.fields[field];
    if (!Array.isArray(value) || (options.nonEmpty && value.length === 0)) {
      throw this.fail(field, options.nonEmpty ? 'a non-empty list' : 'a list');
    }
    return value;
  }

  /** A list of strings; each must be non-empty unless `allowEmptyItems`. */
  stringList(field: string, options: { nonEmpty?: boolean; allowEmptyItems?: boolean } = {}): string[] {
    const items = this.list(field, options);
    items.forEach((item, i) => {
      if (typeof item !== 'string' || (!options.allowEmptyItems && item.trim() === '')) {
        throw fieldError(this.location, `${this.fieldName(field)}[${i}]`, options.allowEmptyItems ? 'a string' : 'a non-empty string', item);
      }
    });
    return items as string[];
  }

  /** A nested object, read with the same checks (its errors name "parent.child"). */
  object(field: string): DatasetRecord {
    const value = this.fields[field];
    if (!isPlainObject(value)) throw this.fail(field, 'an object');
    return new DatasetRecord(this.location, value, `${this.fieldName(field)}.`);
  }

  /** The objects of a list field, each as a nested record named "field[i]". */
  objectList(field: string, options: { nonEmpty?: boolean } = {}): DatasetRecord[] {
    return this.list(field, options).map((item, i) => {
      const name = `${this.fieldName(field)}[${i}]`;
      if (!isPlainObject(item)) throw fieldError(this.location, name, 'an object', item);
      return new DatasetRecord(this.location, item, `${name}.`);
    });
  }
}
