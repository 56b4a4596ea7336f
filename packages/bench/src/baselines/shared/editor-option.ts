import { InvalidInputError } from '@recipe-kit/core';
import { numberOption } from '../weight-edits/editor-options.js';

type Options = Readonly<Record<string, string>> | undefined;

function bad(editor: string, key: string, value: string, expected: string, example: string): never {
  throw new InvalidInputError(`The ${editor} option ${key}=${JSON.stringify(value)} is not ${expected}.`, `Pass e.g. --editor-option ${key}=${example}.`);
}

/** Parsers for `--editor-option key=value` values, each failing with the key, the value and an example. */
export const editorOption = {
  number(editor: string, options: Options, key: string, fallback: number): number {
    return numberOption(editor, options, key, fallback);
  },
  integer(editor: string, options: Options, key: string, fallback: number): number {
    return numberOption(editor, options, key, fallback, { min: 0, integer: true });
  },
  /** Comma-separated layer indices, e.g. `1,2`. */
  layers(editor: string, options: Options, key: string, fallback: readonly number[]): number[] {
    const value = options?.[key];
    if (value === undefined) return [...fallback];
    const parsed = value.split(',').map((part) => Number(part.trim()));
    return parsed.length > 0 && parsed.every((layer) => Number.isInteger(layer) && layer >= 0) ? parsed : bad(editor, key, value, 'a comma-separated list of layer indices', fallback.join(','));
  },
  choice<T extends string>(editor: string, options: Options, key: string, choices: readonly T[], fallback: T): T {
    const value = options?.[key];
    if (value === undefined) return fallback;
    return (choices as readonly string[]).includes(value) ? (value as T) : bad(editor, key, value, `one of ${choices.join(', ')}`, fallback);
  },
};
