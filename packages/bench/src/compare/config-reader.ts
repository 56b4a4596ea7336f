import { InvalidConfigError } from '@recipe-kit/core';

/** What every config error points to. */
export const CONFIG_HINT = 'See configs/README.md for every field of a compare config, or start from configs/main.json.';

export function isRecord(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

/**
 * Reads the fields of one JSON object of a compare config; every error names the file, the field
 * path (`efficiency.models[1].layers`), what was found and what is expected.
 */
export class ConfigReader {
  constructor(
    readonly file: string,
    readonly record: Record<string, unknown>,
    private readonly prefix = '',
  ) {}

  path(field: string): string {
    return `${this.prefix}${field}`;
  }

  fail(field: string, expected: string, value: unknown = this.record[field]): never {
    const shown = value === undefined ? 'missing' : (JSON.stringify(value)?.slice(0, 80) ?? String(value));
    throw new InvalidConfigError(`${this.file}: "${this.path(field)}" is ${shown}, expected ${expected}.`, CONFIG_HINT);
  }

  /** Refuses fields this object does not have (a typo would otherwise be silently ignored). */
  refuseUnknown(known: readonly string[]): this {
    const unknown = Object.keys(this.record).find((key) => !known.includes(key) && !key.startsWith('//'));
    if (unknown !== undefined) {
      throw new InvalidConfigError(`${this.file}: "${this.path(unknown)}" is not a field of this object.`, `Use one of: ${known.join(', ')} (keys starting with // are comments). ${CONFIG_HINT}`);
    }
    return this;
  }

  has(field: string): boolean {
    return this.record[field] !== undefined;
  }

  string(field: string): string {
    const value = this.record[field];
    if (typeof value !== 'string' || value.trim() === '') this.fail(field, 'a non-empty string');
    return value;
  }

  optionalString(field: string): string | undefined {
    return this.has(field) ? this.string(field) : undefined;
  }

  oneOf<T extends string>(field: string, choices: readonly T[], fallback?: T): T {
    const value = this.record[field] ?? fallback;
    if (!choices.includes(value as T)) this.fail(field, `one of ${choices.map((choice) => JSON.stringify(choice)).join(', ')}`);
    return value as T;
  }

  integer(field: string, options: { min?: number; fallback?: number } = {}): number {
    const value = this.record[field] ?? options.fallback;
    const min = options.min ?? -Infinity;
    if (typeof value !== 'number' || !Number.isInteger(value) || value < min) this.fail(field, `an integer${min > -Infinity ? ` ≥ ${min}` : ''}`);
    return value;
  }

  optionalInteger(field: string, min = -Infinity): number | undefined {
    return this.has(field) ? this.integer(field, { min }) : undefined;
  }

  boolean(field: string, fallback: boolean): boolean {
    const value = this.record[field] ?? fallback;
    if (typeof value !== 'boolean') this.fail(field, 'true or false');
    return value;
  }

  /** A non-empty list of distinct positive integers, returned ascending. */
  positiveIntegers(field: string): number[] {
    const value = this.record[field];
    if (!Array.isArray(value) || value.length === 0 || value.some((item) => typeof item !== 'number' || !Number.isInteger(item) || item < 1)) {
      this.fail(field, 'a non-empty list of positive integers, e.g. [1, 10, 100]');
    }
    const list = value as number[];
    if (new Set(list).size !== list.length) this.fail(field, 'a list without repeated values');
    return [...list].sort((a, b) => a - b);
  }

  object(field: string): ConfigReader {
    const value = this.record[field];
    if (!isRecord(value)) this.fail(field, 'an object');
    return new ConfigReader(this.file, value, `${this.path(field)}.`);
  }

  /** An object whose values are all strings (editor options). */
  stringMap(field: string): Record<string, string> {
    if (!this.has(field)) return {};
    const inner = this.object(field);
    const result: Record<string, string> = {};
    for (const [key, value] of Object.entries(inner.record)) {
      result[key] = typeof value === 'string' ? value : inner.fail(key, 'a string (editor options are strings, as on the command line)');
    }
    return result;
  }

  /** The elements of a list, each as a reader where it is an object, or the raw value otherwise. */
  list(field: string): { reader: ConfigReader | null; value: unknown; path: string }[] {
    const value = this.record[field];
    if (!Array.isArray(value)) this.fail(field, 'a list');
    return value.map((item, index) => {
      const itemPath = `${this.path(field)}[${index}]`;
      return { reader: isRecord(item) ? new ConfigReader(this.file, item, `${itemPath}.`) : null, value: item, path: itemPath };
    });
  }
}
