import { InvalidConfigError } from '@recipe-kit/core';

/** Typed access to a config.json object, with errors that name the file, the field and the fix. */
export class ConfigReader {
  constructor(
    private readonly json: Record<string, unknown>,
    private readonly source: string,
  ) {}

  positiveInteger(field: string, fallback?: number): number {
    const value = this.json[field] ?? fallback;
    if (value === undefined || value === null) this.missing(field, 'a positive integer');
    if (typeof value !== 'number' || !Number.isInteger(value) || value <= 0) this.wrong(field, value, 'a positive integer');
    return value;
  }

  positiveNumber(field: string, fallback?: number): number {
    const value = this.json[field] ?? fallback;
    if (value === undefined || value === null) this.missing(field, 'a positive number');
    if (typeof value !== 'number' || !(value > 0) || !Number.isFinite(value)) this.wrong(field, value, 'a positive number');
    return value;
  }

  boolean(field: string, fallback: boolean): boolean {
    const value = this.json[field] ?? fallback;
    if (typeof value !== 'boolean') this.wrong(field, value, 'true or false');
    return value;
  }

  oneOf<T extends string>(field: string, allowed: readonly T[], fallback?: T): T {
    const value = this.json[field] ?? fallback;
    if (value === undefined || value === null) this.missing(field, `one of ${allowed.join(', ')}`);
    if (typeof value !== 'string' || !(allowed as readonly string[]).includes(value)) this.wrong(field, value, `one of ${allowed.join(', ')}`);
    return value as T;
  }

  /** Fails unless `numerator` is a multiple of `denominator` (e.g. hidden size by heads). */
  divisible(numeratorField: string, numerator: number, denominatorField: string, denominator: number): void {
    if (numerator % denominator !== 0) {
      throw new InvalidConfigError(
        `${this.source}: "${numeratorField}" (${numerator}) is not a multiple of "${denominatorField}" (${denominator}).`,
        `Fix config.json so that ${numeratorField} is divisible by ${denominatorField}.`,
      );
    }
  }

  private missing(field: string, expected: string): never {
    throw new InvalidConfigError(`${this.source} has no "${field}" field.`, `Add "${field}" (${expected}) to config.json.`);
  }

  private wrong(field: string, value: unknown, expected: string): never {
    throw new InvalidConfigError(
      `${this.source}: "${field}" is ${JSON.stringify(value)}, expected ${expected}.`,
      `Correct "${field}" in config.json.`,
    );
  }
}
