import { readFile, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { DataNotFoundError } from '@recipe-kit/core';

/** What a checkpoint's calibration.json holds: train-recipe's fits plus, after calibrate-recipe --target-locality, localityMargin. */
export type CalibrationJson = Record<string, unknown> & {
  threshold?: unknown;
  sentinelMargin?: { value?: unknown };
  localityMargin?: { value?: unknown };
};

export function calibrationFile(checkpoint: string): string {
  return path.join(checkpoint, 'calibration.json');
}

/** The checkpoint's calibration.json, or undefined when it has none. */
export async function readCalibration(checkpoint: string): Promise<CalibrationJson | undefined> {
  const text = await readFile(calibrationFile(checkpoint), 'utf8').catch(() => undefined);
  return text === undefined ? undefined : (JSON.parse(text) as CalibrationJson);
}

/** One number from calibration.json; a missing file or value is a DataNotFoundError that says what to run. */
export async function calibrationNumber(checkpoint: string, pick: (calibration: CalibrationJson) => unknown, what: string, fix: string): Promise<number> {
  const calibration = await readCalibration(checkpoint);
  const value = calibration === undefined ? undefined : pick(calibration);
  if (typeof value !== 'number') {
    throw new DataNotFoundError(`${calibrationFile(checkpoint)} ${calibration === undefined ? 'is missing, so there is' : 'has'} no ${what}.`, fix);
  }
  return value;
}

/** Merges fields into calibration.json, keeping what is there (train-recipe's fits survive a later calibration). */
export async function updateCalibration(checkpoint: string, fields: Record<string, unknown>): Promise<string> {
  const file = calibrationFile(checkpoint);
  await writeFile(file, `${JSON.stringify({ ...((await readCalibration(checkpoint)) ?? {}), ...fields }, null, 2)}\n`);
  return file;
}
