import { InvalidInputError } from '@recipe-kit/core';

/** Options every dataset loader accepts. */
export interface LoaderOptions {
  /** Return at most this many records (the first ones in file order); only those are validated. */
  limit?: number;
}

/**
 * The record count to return. A negative or fractional limit is a caller bug, not a data problem,
 * so it is an InvalidInputError rather than silently rounding.
 */
export function resolveLimit(options: LoaderOptions): number {
  const { limit } = options;
  if (limit === undefined) return Number.POSITIVE_INFINITY;
  if (!Number.isInteger(limit) || limit < 0) {
    throw new InvalidInputError(`limit must be a non-negative integer, got ${String(limit)}.`, 'Pass e.g. { limit: 100 }, or leave it out to load every record.');
  }
  return limit;
}

/**
 * Narrows an option that arrives as a free string (CLI flags, JavaScript callers) to one of the
 * allowed values, naming them all when it is not one.
 */
export function oneOf<const Allowed extends readonly string[]>(value: string, allowed: Allowed, option: string): Allowed[number] {
  const match = allowed.find((candidate) => candidate === value);
  if (match === undefined) {
    throw new InvalidInputError(`${option} must be one of ${allowed.map((a) => `'${a}'`).join(', ')}, got '${value}'.`, `Pass ${option}: '${allowed[0]}' (or another of the listed values).`);
  }
  return match;
}
