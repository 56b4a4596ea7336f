import { mkdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { InvalidInputError } from '@recipe-kit/core';
import { describe, expect, it } from 'vitest';
import { readRun, readRuns } from '../../src/report/read-runs.js';
import { scratchDirectory, writeSyntheticRun } from './synthetic-runs.js';

function editJson(file: string, edit: (value: Record<string, unknown>) => void): void {
  const value = JSON.parse(readFileSync(file, 'utf8')) as Record<string, unknown>;
  edit(value);
  writeFileSync(file, JSON.stringify(value));
}

async function errorOf(promise: Promise<unknown>): Promise<Error> {
  try {
    await promise;
  } catch (error) {
    return error as Error;
  }
  throw new Error('expected a rejection');
}

describe('readRun', () => {
  it('reads params.json, summary.json and cases.jsonl', async () => {
    const directory = writeSyntheticRun(scratchDirectory(), { editor: 'recipe', edits: 10, reliability: 0.8765, generalityByType: { Subject_Aliasing: 0.5 } });
    const run = await readRun(directory);
    expect(run.directory).toBe(path.resolve(directory));
    expect(run.summary).toMatchObject({ editor: 'recipe', edits: 10, protocol: 'lifelong', reliability: 0.8765, generalityByType: { Subject_Aliasing: 0.5 } });
    expect(run.params.dataset.sha256).toMatch(/^[0-9a-f]{64}$/);
    expect(run.params.machine.cores).toBe(16);
    expect(run.cases).toHaveLength(5);
    expect(run.cases?.[0]?.caseId).toBe('case-0');
  });

  it('accepts what `recipe-kit eval` writes for unmeasurable values: null metrics and a null command', async () => {
    const directory = writeSyntheticRun(scratchDirectory(), { editor: 'ft', edits: 1, generality: null });
    editJson(path.join(directory, 'params.json'), (params) => {
      params['command'] = null;
    });
    const run = await readRun(directory);
    expect(run.summary.generality).toBeNull();
    expect(run.params.command).toBeNull();
  });

  it('treats cases.jsonl as optional', async () => {
    const directory = writeSyntheticRun(scratchDirectory(), { editor: 'ft', edits: 1 });
    rmSync(path.join(directory, 'cases.jsonl'));
    expect((await readRun(directory)).cases).toBeNull();
  });

  it('tells the user to run `recipe-kit eval` first when summary.json is missing', async () => {
    const directory = path.join(scratchDirectory(), 'unfinished');
    mkdirSync(directory);
    const error = await errorOf(readRun(directory));
    expect(error).toBeInstanceOf(InvalidInputError);
    expect(error.message).toContain(`${directory} has no summary.json`);
    expect(error.message).toContain('Run `recipe-kit eval` first');
  });

  it('points at the run directories when given their parent folder', async () => {
    const root = scratchDirectory();
    writeSyntheticRun(root, { editor: 'ft', edits: 1 });
    const error = await errorOf(readRun(root));
    expect(error.message).toContain('pass its run directories instead');
    expect(error.message).toContain('llama-2-7b-zsre-lifelong-ft-T1');
  });

  it('rejects a directory that does not exist', async () => {
    const error = await errorOf(readRun('/nonexistent/run'));
    expect(error).toBeInstanceOf(InvalidInputError);
    expect(error.message).toContain('/nonexistent/run does not exist');
  });

  it.each([
    ['summary.json', 'reliability', 1.5, /summary\.json: field "reliability" is 1\.5, expected a number in \[0, 1\]/],
    ['summary.json', 'edits', 0, /summary\.json: field "edits" is 0, expected an integer ≥ 1/],
    ['summary.json', 'protocol', 'sequential', /summary\.json: field "protocol" is "sequential", expected one of "lifelong", "single", "batch"/],
    ['summary.json', 'editor', undefined, /summary\.json: field "editor" is missing, expected a non-empty string/],
    ['summary.json', 'localityByType', { Forgetfulness: 'high' }, /summary\.json: field "localityByType\.Forgetfulness" is "high"/],
    ['summary.json', 'general', { csqa: -0.1 }, /summary\.json: field "general\.csqa" is -0\.1/],
    ['params.json', 'date', 'yesterday', /params\.json: field "date" is "yesterday", expected an ISO date/],
  ] as const)('names the file and field: %s %s', async (file, field, value, message) => {
    const directory = writeSyntheticRun(scratchDirectory(), { editor: 'ft', edits: 1 });
    editJson(path.join(directory, file), (record) => {
      if (value === undefined) delete record[field];
      else record[field] = value;
    });
    const error = await errorOf(readRun(directory));
    expect(error).toBeInstanceOf(InvalidInputError);
    expect(error.message).toMatch(message);
    expect(error.message).toContain(path.join(directory, file));
  });

  it('names nested params.json fields', async () => {
    const directory = writeSyntheticRun(scratchDirectory(), { editor: 'ft', edits: 1 });
    editJson(path.join(directory, 'params.json'), (params) => {
      (params['machine'] as Record<string, unknown>)['cores'] = 'sixteen';
    });
    expect((await errorOf(readRun(directory))).message).toMatch(/params\.json: field "machine\.cores" is "sixteen", expected an integer/);
  });

  it('reports invalid JSON and bad cases.jsonl lines with the line number', async () => {
    const directory = writeSyntheticRun(scratchDirectory(), { editor: 'ft', edits: 1 });
    writeFileSync(path.join(directory, 'cases.jsonl'), '{"caseId":"a","chunk":0,"reliability":1,"generality":1,"locality":1,"generalityByType":{},"localityByType":{},"editSeconds":0.1}\n{"caseId":"b"\n');
    expect((await errorOf(readRun(directory))).message).toMatch(/cases\.jsonl line 2 is not valid JSON/);
    writeFileSync(path.join(directory, 'summary.json'), '[1, 2]');
    expect((await errorOf(readRun(directory))).message).toMatch(/summary\.json must hold a JSON object/);
  });

  it('rejects params.json and summary.json from different runs', async () => {
    const directory = writeSyntheticRun(scratchDirectory(), { editor: 'ft', edits: 1 });
    editJson(path.join(directory, 'params.json'), (params) => {
      params['edits'] = 10;
    });
    expect((await errorOf(readRun(directory))).message).toMatch(/field "edits" is 1 but params\.json says 10/);
  });
});

describe('readRuns', () => {
  it('reads several runs in the order given and skips a directory given twice', async () => {
    const root = scratchDirectory();
    const a = writeSyntheticRun(root, { editor: 'none', edits: 1 });
    const b = writeSyntheticRun(root, { editor: 'recipe', edits: 1 });
    const runs = await readRuns([b, a, b]);
    expect(runs.map((run) => run.summary.editor)).toEqual(['recipe', 'none']);
  });

  it('rejects two runs of the same editor, model, dataset, protocol and T', async () => {
    const a = writeSyntheticRun(scratchDirectory(), { editor: 'recipe', edits: 1 });
    const b = writeSyntheticRun(scratchDirectory(), { editor: 'recipe', edits: 1 });
    expect((await errorOf(readRuns([a, b]))).message).toMatch(/both hold recipe on llama-2-7b \/ zsre \(lifelong, T = 1\)/);
  });

  it('needs at least one directory', async () => {
    expect(await errorOf(readRuns([]))).toBeInstanceOf(InvalidInputError);
  });
});
