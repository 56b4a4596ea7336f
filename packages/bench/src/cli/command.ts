import { parseArgs, type ParseArgsConfig } from 'node:util';
import { InvalidInputError } from '@recipe-kit/core';

/** A CLI subcommand: its flags (node:util parseArgs format), help text, and what it does. */
export interface Command {
  name: string;
  summary: string;
  usage: string;
  options: NonNullable<ParseArgsConfig['options']>;
  /** When set, positional arguments are accepted and handed to `run` as values[positionals] (a string[]). */
  positionals?: string;
  run(values: ParsedValues, io: CommandIo): Promise<void>;
}

export type ParsedValues = Record<string, string | boolean | string[] | undefined>;

export interface CommandIo {
  /** Results (JSON, tables): stdout. */
  out(text: string): void;
  /** Progress and logs: stderr. */
  log(text: string): void;
}

export function parseCommandArguments(command: Command, argv: string[]): ParsedValues {
  try {
    const { values, positionals } = parseArgs({ args: argv, options: command.options, strict: true, allowPositionals: true });
    if (command.positionals !== undefined) return { ...(values as ParsedValues), [command.positionals]: positionals };
    if (positionals.length > 0) {
      throw new InvalidInputError(`Unexpected argument "${positionals[0]}".`, `Usage: ${command.usage}`);
    }
    return values as ParsedValues;
  } catch (error) {
    if (error instanceof InvalidInputError) throw error;
    throw new InvalidInputError(`${(error as Error).message}`, `Usage: ${command.usage}`);
  }
}

export function requireString(values: ParsedValues, name: string, command: Command): string {
  const value = values[name];
  if (typeof value !== 'string' || value.length === 0) {
    throw new InvalidInputError(`recipe-kit ${command.name} needs --${name}.`, `Usage: ${command.usage}`);
  }
  return value;
}

export function optionalNumber(values: ParsedValues, name: string, options: { integer?: boolean; min?: number; max?: number } = {}): number | undefined {
  const raw = values[name];
  if (raw === undefined) return undefined;
  const value = Number(raw);
  const { integer = false, min = -Infinity, max = Infinity } = options;
  if (typeof raw !== 'string' || raw.trim() === '' || !Number.isFinite(value) || (integer && !Number.isInteger(value)) || value < min || value > max) {
    throw new InvalidInputError(
      `--${name} is "${String(raw)}", expected ${integer ? 'an integer' : 'a number'} in [${min}, ${max}].`,
      `Pass e.g. --${name} ${Math.max(min, integer ? 1 : 0.5)}.`,
    );
  }
  return value;
}
