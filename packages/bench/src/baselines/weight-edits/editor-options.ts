import { InvalidInputError } from '@recipe-kit/core';

/**
 * A numeric `--editor-option key=value`, or `fallback` when absent. Refuses non-numbers and values
 * outside [min, max] (and non-integers when `integer`), naming the editor and the option.
 */
export function numberOption(
  editor: string,
  options: Readonly<Record<string, string>> | undefined,
  key: string,
  fallback: number,
  limits: { min?: number; max?: number; integer?: boolean } = {},
): number {
  const text = options?.[key];
  if (text === undefined) return fallback;
  const value = Number(text);
  const { min = Number.NEGATIVE_INFINITY, max = Number.POSITIVE_INFINITY, integer = false } = limits;
  if (text.trim() === '' || !Number.isFinite(value) || value < min || value > max || (integer && !Number.isInteger(value))) {
    const range = `${integer ? 'an integer' : 'a number'}${Number.isFinite(min) ? ` ≥ ${min}` : ''}${Number.isFinite(max) ? ` and ≤ ${max}` : ''}`;
    throw new InvalidInputError(`The ${editor} editor's option ${key}=${text} is not ${range}.`, `Pass e.g. --editor-option ${key}=${fallback}.`);
  }
  return value;
}
