/**
 * Helpers for the project's own tests and benchmarks (subpath `@recipe-kit/core/testing`).
 * Shared data is found through `RECIPE_KIT_DATA`, else `../shared/data` beside the repository root;
 * where it is absent (a fresh clone) tests skip with the visible reason below.
 */
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { selectBackend } from '../backend/select-backend.js';
import { resolveDataDirectory } from '../data-directory.js';

/** The monorepo root (this file is packages/core/dist/testing/index.js). */
export const repositoryRoot = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../../../..');

/** The shared data directory, or null when absent. */
export const sharedData = resolveDataDirectory(repositoryRoot);

export const sharedDataMissingReason =
  'shared data not found: set RECIPE_KIT_DATA to the data directory (see ../shared/data/README.md)';

if (!sharedData) console.warn(`[skip] ${sharedDataMissingReason}`);

export function sharedDataPath(...parts: string[]): string {
  if (!sharedData) throw new Error(sharedDataMissingReason);
  return path.join(sharedData, ...parts);
}

/** Tests run on the same backend selection as users (wasm here), without the log line. */
export async function useTestBackend(): Promise<void> {
  await selectBackend({ log: null });
}
