import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { DataNotFoundError, InvalidDatasetError } from '@recipe-kit/core';
import { createSyntheticEditsFile, generateSyntheticWorld, loadSyntheticEdits, loadSyntheticWorld, syntheticWorldFromJson } from '../../src/synthetic-world/index.js';

const world = generateSyntheticWorld({ seed: 11, subjects: 40 });
let directory = '';

beforeAll(async () => {
  directory = await mkdtemp(path.join(tmpdir(), 'synthetic-world-'));
});
afterAll(async () => {
  await rm(directory, { recursive: true, force: true });
});

async function write(name: string, value: unknown): Promise<string> {
  const file = path.join(directory, name);
  await writeFile(file, typeof value === 'string' ? value : JSON.stringify(value, null, 2));
  return file;
}

/** A valid edits file, with `change` applied to a deep copy. */
function editsWith(change: (file: { requests: Record<string, unknown>[] } & Record<string, unknown>) => void): unknown {
  const file = JSON.parse(JSON.stringify(createSyntheticEditsFile(world, { count: 5 }))) as { requests: Record<string, unknown>[] } & Record<string, unknown>;
  change(file);
  return file;
}

describe('synthetic world JSON', () => {
  it('round-trips a world through JSON text, with the same corpus, probes and edits', async () => {
    const file = await write('world.json', world.toJson());
    const loaded = await loadSyntheticWorld(file);
    expect(loaded.toJson()).toEqual(world.toJson());
    expect(loaded.pretrainingCorpus()).toEqual(world.pretrainingCorpus());
    expect(loaded.knowledgeProbes()).toEqual(world.knowledgeProbes());
    expect(loaded.editRequests({ count: 10, seed: 2 })).toEqual(world.editRequests({ count: 10, seed: 2 }));
    expect(syntheticWorldFromJson(JSON.parse(JSON.stringify(world.toJson())))).toEqual(loaded);
  });

  it('names the field of a malformed world', () => {
    const json = JSON.parse(JSON.stringify(world.toJson())) as { relations: Record<string, unknown>[]; facts: Record<string, unknown>[] };
    const relation = json.relations[2];
    if (relation !== undefined) relation.trainTemplates = 'not a list';
    expect(() => syntheticWorldFromJson(json)).toThrow(/synthetic-world\.json world 0: "relations\[2\]\.trainTemplates" must be a non-empty list/);
    const fresh = JSON.parse(JSON.stringify(world.toJson())) as { facts: Record<string, unknown>[] };
    const fact = fresh.facts[4];
    if (fact !== undefined) fact.value = 'Atlantis';
    expect(() => syntheticWorldFromJson(fresh)).toThrow(InvalidDatasetError);
    expect(() => syntheticWorldFromJson(fresh)).toThrow(/fact 4: "Atlantis" is not a value of relation/);
    expect(() => syntheticWorldFromJson({ ...world.toJson(), format: 'something-else' })).toThrow(/"format" must be "recipe-kit-synthetic-world", found "something-else"/);
  });
});

describe('loadSyntheticEdits', () => {
  it('reads an edits file back exactly, and honours limit', async () => {
    const file = await write('edits.json', createSyntheticEditsFile(world, { count: 12, seed: 4 }));
    expect(await loadSyntheticEdits(file)).toEqual(world.editRequests({ count: 12, seed: 4 }));
    expect(await loadSyntheticEdits(file, { limit: 3 })).toEqual(world.editRequests({ count: 12, seed: 4 }).slice(0, 3));
  });

  it("reads a world file as the world's default edit set", async () => {
    const file = await write('world-as-edits.json', world.toJson());
    expect(await loadSyntheticEdits(file, { limit: 7 })).toEqual(world.editRequests().slice(0, 7));
  });

  it('rejects malformed files, naming the request and the field', async () => {
    const cases: [string, unknown, RegExp][] = [
      ['list.json', [], /list\.json: the top level must be a JSON object, found an empty list/],
      ['format.json', editsWith((file) => void (file.format = 'counterfact')), /format\.json: "format" must be "recipe-kit-synthetic-edits", found "counterfact"/],
      ['seed.json', editsWith((file) => void (file.seed = 'one')), /seed\.json: "seed" must be an integer, found "one"/],
      ['requests.json', editsWith((file) => void delete (file as Record<string, unknown>).requests), /"requests" must be a list of edit requests, found nothing/],
      ['record.json', editsWith((file) => void (file.requests[1] = 'text' as unknown as Record<string, unknown>)), /record\.json request 1: must be a JSON object/],
      ['target.json', editsWith((file) => void delete file.requests[2]?.targetNew), /target\.json request 2 \(id sw-[a-z-]+\): "targetNew" must be a non-empty string, found nothing/],
      ['probe.json', editsWith((file) => void ((file.requests[0]?.locality as Record<string, unknown>[])[1] = { prompt: 'x', target: '' , type: 'neighborhood' })), /probe\.json request 0 \(id sw-[a-z-]+\): "locality\[1\]\.target" must be a non-empty string, found an empty string/],
      ['subject.json', editsWith((file) => void (file.requests[3] = { ...file.requests[3], subject: 'Nobody Here' })), /subject\.json request 3 .*"subject" "Nobody Here" does not occur in "prompt"/],
      ['same.json', editsWith((file) => void (file.requests[0] = { ...file.requests[0], targetNew: file.requests[0]?.groundTruth })), /same\.json request 0 .*"targetNew" equals "groundTruth"/],
      ['duplicate.json', editsWith((file) => void (file.requests[4] = { ...file.requests[4], id: file.requests[0]?.id })), /duplicate\.json request 4 .*is already the id of request 0/],
      ['broken.json', '{ "format": ', /broken\.json is not valid JSON/],
    ];
    for (const [name, content, message] of cases) {
      const file = await write(name, content);
      const error = await loadSyntheticEdits(file).catch((caught: unknown) => caught);
      expect(error, name).toBeInstanceOf(InvalidDatasetError);
      expect((error as Error).message, name).toMatch(message);
    }
  });

  it('validates only the requests within the limit', async () => {
    const file = await write('late-error.json', editsWith((file) => void delete file.requests[4]?.prompt));
    expect(await loadSyntheticEdits(file, { limit: 4 })).toHaveLength(4);
    await expect(loadSyntheticEdits(file)).rejects.toThrow(/request 4 .*"prompt" must be a non-empty string/);
  });

  it('reports a missing file as DataNotFoundError', async () => {
    await expect(loadSyntheticEdits(path.join(directory, 'absent.json'))).rejects.toThrow(DataNotFoundError);
  });
});
