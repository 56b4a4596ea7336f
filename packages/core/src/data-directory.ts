import { existsSync } from 'node:fs';
import path from 'node:path';

/**
 * The one setting through which tests and benchmarks find shared data: `RECIPE_KIT_DATA`, else
 * `../shared/data` beside the repository root. Returns null when it does not exist (a fresh clone),
 * so callers can skip with a visible reason.
 */
export function resolveDataDirectory(repositoryRoot: string): string | null {
  const configured = process.env['RECIPE_KIT_DATA'];
  const candidate = configured ? path.resolve(configured) : path.resolve(repositoryRoot, '..', 'shared', 'data');
  return existsSync(candidate) ? candidate : null;
}
