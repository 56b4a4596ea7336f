import { existsSync, mkdtempSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { lockRunDirectory } from '../../src/compare/run-lock.js';

describe('lockRunDirectory', () => {
  it('refuses a directory held by a running process, takes over a stale lock, and releases', () => {
    const dir = mkdtempSync(path.join(os.tmpdir(), 'run-lock-'));
    const file = path.join(dir, '.compare.lock');
    writeFileSync(file, String(process.ppid));
    expect(() => lockRunDirectory(dir)).toThrow(new RegExp(`being written by another recipe-kit compare \\(process ${process.ppid}\\)[\\s\\S]*another --out`));
    // No process has this id (above the kernel's pid_max), so the lock is stale.
    writeFileSync(file, '4194305');
    const release = lockRunDirectory(dir);
    expect(() => lockRunDirectory(dir)).not.toThrow();
    release();
    expect(existsSync(file)).toBe(false);
  });
});
