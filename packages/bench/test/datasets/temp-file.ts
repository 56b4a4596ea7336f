import { mkdirSync, mkdtempSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

/** Writes `content` to a fresh temporary directory under `name` (which may contain subfolders). */
export function tempFile(name: string, content: string): string {
  const file = path.join(mkdtempSync(path.join(os.tmpdir(), 'recipe-kit-datasets-')), name);
  mkdirSync(path.dirname(file), { recursive: true });
  writeFileSync(file, content);
  return file;
}

/** A JSON list file with the given records. */
export function tempJson(name: string, value: unknown): string {
  return tempFile(name, JSON.stringify(value));
}

export const fixture = (...parts: string[]): string => path.join(path.dirname(fileURLToPath(import.meta.url)), 'fixtures', ...parts);
