import { mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { generateSyntheticWorld } from '../../src/synthetic-world/index.js';
import { runCli } from '../support/run-cli.js';

let dir: string;
beforeAll(async () => {
  dir = await mkdtemp(path.join(tmpdir(), 'synthetic-edits-cli-'));
  await writeFile(path.join(dir, 'world.json'), JSON.stringify(generateSyntheticWorld({ subjects: 20 }).toJson()));
});
afterAll(async () => {
  await rm(dir, { recursive: true, force: true });
});

async function subjectsOf(file: string): Promise<string[]> {
  return (JSON.parse(await readFile(file, 'utf8')) as { requests: { subject: string }[] }).requests.map((request) => request.subject);
}

describe('recipe-kit synthetic-edits', () => {
  it('writes train and held-out edits on disjoint new people, and --exclude-subjects-of keeps an existing held-out file\'s people out', async () => {
    const file = (name: string): string => path.join(dir, name);
    const first = runCli(['synthetic-edits', '--world', file('world.json'), '--train', '30', '--eval', '20', '--out-train', file('train.json'), '--out-eval', file('eval.json')]);
    expect(first.status, first.stderr).toBe(0);
    const [train, held] = [await subjectsOf(file('train.json')), await subjectsOf(file('eval.json'))];
    expect([train.length, held.length]).toEqual([30, 20]);
    expect(train.filter((subject) => held.includes(subject))).toEqual([]);

    // A larger training draw under another seed reuses the generator's names, held-out people among them.
    const args = ['synthetic-edits', '--world', file('world.json'), '--train', '200', '--eval', '5', '--seed', '7', '--out-train', file('big.json'), '--out-eval', file('unused.json')];
    const unfiltered = runCli(args);
    expect(unfiltered.status, unfiltered.stderr).toBe(0);
    const overlap = (await subjectsOf(file('big.json'))).filter((subject) => held.includes(subject)).length;
    expect(overlap).toBeGreaterThan(0);
    const filtered = runCli([...args, '--exclude-subjects-of', file('eval.json')]);
    expect(filtered.status, filtered.stderr).toBe(0);
    const big = await subjectsOf(file('big.json'));
    expect(big.filter((subject) => held.includes(subject))).toEqual([]);
    expect(big.length).toBe(200 - overlap);
    expect(filtered.stdout).toContain(`${overlap} on people of ${file('eval.json')} left out`);

    const missing = runCli([...args, '--exclude-subjects-of', file('absent.json')]);
    expect(missing.status).not.toBe(0);
    expect(missing.stderr).toMatch(/absent\.json/);
  });
});
