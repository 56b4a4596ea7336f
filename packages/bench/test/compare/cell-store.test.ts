import { appendFileSync, mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { CellStore } from '../../src/compare/cell-store.js';
import type { CaseResult } from '../../src/protocols/edit-protocol.js';

function caseOf(chunk: number, id: string): CaseResult {
  return { caseId: id, chunk, editSeconds: 0.01, reliability: 1, generality: 0.5, locality: 1, generalityByType: {}, localityByType: {} };
}

describe('CellStore (resumable cell files)', () => {
  it('keeps recorded chunks, drops a torn tail and the cases of an unrecorded chunk', async () => {
    const dir = path.join(mkdtempSync(path.join(os.tmpdir(), 'cell-store-')), 'cell');
    const store = new CellStore(dir);
    expect(await store.open('k', { editor: 'x' })).toEqual({ chunks: [], cases: [] });
    for (const chunk of [0, 1]) {
      await store.appendCases([caseOf(chunk, `a${chunk}`), caseOf(chunk, `b${chunk}`)]);
      await store.appendRecord({ chunk, cases: 2, probes: 6, querySeconds: 0.1 });
    }
    // Chunk 2 was scored (its cases written) but the process died before its record, mid-line.
    await store.appendCases([caseOf(2, 'a2')]);
    appendFileSync(path.join(dir, 'cases.jsonl'), '{"caseId":"b2","chu');
    appendFileSync(path.join(dir, 'chunks.jsonl'), '{"chunk":2,');

    const resumed = await new CellStore(dir).open('k', { editor: 'x' });
    expect(resumed.chunks.map((record) => record.chunk)).toEqual([0, 1]);
    expect(resumed.cases.map((c) => c.caseId)).toEqual(['a0', 'b0', 'a1', 'b1']);
    // The files were rewritten without the dropped lines, so appends continue on clean lines.
    expect(readFileSync(path.join(dir, 'cases.jsonl'), 'utf8').trim().split('\n')).toHaveLength(4);
    expect(readFileSync(path.join(dir, 'chunks.jsonl'), 'utf8').endsWith('}\n')).toBe(true);
    expect(JSON.parse(readFileSync(path.join(dir, 'params.json'), 'utf8'))).toEqual({ editor: 'x', compareCell: { key: 'k' } });
    expect(store.finished).toBe(false);
    await store.finish({ editor: 'x' }, '| x |\n');
    expect(store.finished).toBe(true);
  });

  it('refuses a directory computed with other settings, and a corrupt line before the end', async () => {
    const dir = path.join(mkdtempSync(path.join(os.tmpdir(), 'cell-store-')), 'cell');
    await new CellStore(dir).open('first', {});
    await expect(new CellStore(dir).open('second', {})).rejects.toThrow(/computed with other settings[\s\S]*--fresh/);
    // The error names what params.json recorded differently, not only that the key differs.
    const recorded = { model: { sha256: 'c3bd3415b9b4' }, dataset: { sha256: 'db29ba63', cases: 1000 }, seed: 0, edits: 100, editorOptions: {} };
    const other = path.join(path.dirname(dir), 'recorded');
    await new CellStore(other).open('one', recorded);
    const changed = { ...recorded, model: { sha256: '7d2a5d35e0f1' }, editorOptions: { 'sentinel-margin': '0.5' } };
    const refusal = new CellStore(other).open('two', changed);
    await expect(refusal).rejects.toThrow(/the model: sha256 c3bd3415… then, sha256 7d2a5d35… now \(the files at the top of the model directory changed[^)]*\); the editor options: \{\} then, \{"sentinel-margin":"0\.5"\} now\)/);
    await expect(new CellStore(other).open('two', recorded)).rejects.toThrow(/\(the case selection or general-ability tasks differ\)/);
    writeFileSync(path.join(dir, 'chunks.jsonl'), 'garbage\n{"chunk":0}\n');
    await expect(new CellStore(dir).open('first', {})).rejects.toThrow(/chunks\.jsonl line 1 is not JSON/);
  });
});
