import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { resolveDataDirectory } from '@recipe-kit/core';

const repositoryRoot = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../../../..');

/** `RECIPE_KIT_DATA` or ../shared/data; null in a fresh clone without it. */
export const sharedData = resolveDataDirectory(repositoryRoot);

/** Reason printed by `describe.skipIf` / `it.skipIf` when shared data is absent. */
export const sharedDataMissingReason =
  'shared data not found: set RECIPE_KIT_DATA to the data directory (see ../shared/data/README.md)';

export function sharedDataPath(...parts: string[]): string {
  if (!sharedData) throw new Error(sharedDataMissingReason);
  return path.join(sharedData, ...parts);
}

if (!sharedData) console.warn(`[skip] ${sharedDataMissingReason}`);
