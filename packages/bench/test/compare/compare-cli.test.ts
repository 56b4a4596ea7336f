import { mkdtempSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { runCli } from '../support/run-cli.js';

describe('recipe-kit compare (command line)', () => {
  it('names the problem and the fix for a missing flag, a missing file and a bad config', () => {
    const missing = runCli(['compare']);
    expect(missing.status).toBe(2);
    expect(missing.stderr).toMatch(/needs --config[\s\S]*Usage: recipe-kit compare --config FILE/);
    const absent = runCli(['compare', '--config', 'no/such.json']);
    expect(absent.status).toBe(2);
    expect(absent.stderr).toMatch(/no\/such\.json cannot be read[\s\S]*configs\/main\.json/);
    const dir = mkdtempSync(path.join(os.tmpdir(), 'compare-cli-'));
    const file = path.join(dir, 'bad.json');
    writeFileSync(file, JSON.stringify({ model: 'm', dataset: { name: 'synthetic', path: 'e.json' }, edits: [10], editors: ['none'], limits: 5 }));
    const bad = runCli(['compare', '--config', file]);
    expect(bad.status).toBe(2);
    expect(bad.stderr).toMatch(/"limits" is not a field of this object[\s\S]*limit/);
    const outside = runCli(['compare', '--config', path.resolve(import.meta.dirname, '../../../../configs/main.json'), '--edits', '1,7']);
    expect(outside.status).toBe(2);
    expect(outside.stderr).toMatch(/--edits 1,7: T = 7 is not among the config's "edits"[\s\S]*Pass T values of the config, comma-separated: 1,10/);
  });
});
