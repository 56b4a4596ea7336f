import { mkdirSync, mkdtempSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';

/** What one synthetic run directory holds; anything left out gets a plausible default. */
export interface SyntheticRun {
  editor: string;
  edits: number;
  model?: string;
  dataset?: string;
  protocol?: 'lifelong' | 'single' | 'batch';
  reliability?: number | null;
  generality?: number | null;
  locality?: number | null;
  generalityByType?: Record<string, number>;
  localityByType?: Record<string, number>;
  general?: Record<string, number>;
  editSecondsMean?: number;
  querySecondsMean?: number;
  cases?: number;
}

export function scratchDirectory(prefix = 'recipe-kit-report-'): string {
  return mkdtempSync(path.join(os.tmpdir(), prefix));
}

/** Writes params.json, cases.jsonl, summary.json and summary.md as `recipe-kit eval` does; returns the directory. */
export function writeSyntheticRun(root: string, run: SyntheticRun): string {
  const model = run.model ?? 'llama-2-7b';
  const dataset = run.dataset ?? 'zsre';
  const protocol = run.protocol ?? 'lifelong';
  const directory = path.join(root, `${model}-${dataset}-${protocol}-${run.editor.replace(/[^a-z0-9]+/gi, '_')}-T${run.edits}`);
  mkdirSync(directory, { recursive: true });
  const cases = run.cases ?? Math.max(run.edits, 20);
  const summary = {
    editor: run.editor,
    model,
    dataset,
    protocol,
    edits: run.edits,
    cases,
    chunks: Math.max(1, Math.floor(cases / run.edits)),
    reliability: run.reliability === undefined ? 0.9 : run.reliability,
    generality: run.generality === undefined ? 0.8 : run.generality,
    locality: run.locality === undefined ? 0.95 : run.locality,
    generalityByType: run.generalityByType ?? {},
    localityByType: run.localityByType ?? {},
    editSecondsMean: run.editSecondsMean ?? (run.editor === 'none' ? 0 : 0.012),
    querySecondsMean: run.querySecondsMean ?? 0.02,
    ...(run.general ? { general: run.general } : {}),
  };
  const params = {
    command: `recipe-kit eval --editor ${run.editor} --model models/${model} --dataset ${dataset} --data data/${dataset}.json --protocol ${protocol} --edits ${run.edits} --out ${directory}`,
    editor: run.editor,
    model: { path: `/data/models/${model}`, architecture: 'llama', parameters: 6_738_415_616, tokenizer: 'llama2', sha256: 'ab'.repeat(32) },
    dataset: { name: dataset, path: `/data/${dataset}.json`, split: 'eval', sha256: '0123456789abcdef'.repeat(4), cases: 1000 },
    general: {},
    protocol,
    edits: run.edits,
    limit: null,
    seed: 0,
    backend: 'tensorflow (node, cpu)',
    gitCommit: '3f2a9c1d0e8b7a6f5e4d3c2b1a0f9e8d7c6b5a49',
    date: '2025-03-14T09:26:53.589Z',
    machine: { cpu: 'AMD EPYC 7763 64-Core Processor', cores: 16, memoryGiB: 125.7, node: 'v20.20.2', platform: 'linux x64' },
  };
  const lines = Array.from({ length: Math.min(cases, 5) }, (_, index) =>
    JSON.stringify({
      caseId: `case-${index}`,
      chunk: Math.floor(index / run.edits),
      reliability: summary.reliability,
      generality: summary.generality,
      locality: summary.locality,
      generalityByType: summary.generalityByType,
      localityByType: summary.localityByType,
      editSeconds: summary.editSecondsMean,
    }),
  );
  writeFileSync(path.join(directory, 'params.json'), `${JSON.stringify(params, null, 2)}\n`);
  writeFileSync(path.join(directory, 'cases.jsonl'), `${lines.join('\n')}\n`);
  writeFileSync(path.join(directory, 'summary.json'), `${JSON.stringify(summary, null, 2)}\n`);
  writeFileSync(path.join(directory, 'summary.md'), '| editor |\n|---|\n');
  return directory;
}

/**
 * A realistic sweep: editors none / ft / rome / lte / recipe at T = 1, 10, 100, 1000 on ZsRE,
 * plus a RIPE run set with per-type scores and general-ability benchmarks.
 */
export function writeSyntheticSweep(root: string): string[] {
  const directories: string[] = [];
  const edits = [1, 10, 100, 1000];
  const decay: Record<string, [number, number, number, number]> = {
    // reliability at T=1, loss per decade, generality ratio, locality loss per decade
    ft: [0.96, 0.18, 0.55, 0.2],
    rome: [0.99, 0.22, 0.9, 0.16],
    lte: [0.995, 0.02, 0.93, 0.03],
    recipe: [0.998, 0.012, 0.91, 0.01],
  };
  for (const [t, T] of edits.entries()) {
    directories.push(
      writeSyntheticRun(root, { editor: 'none', edits: T, reliability: 0.3612, generality: 0.3498, locality: 1, querySecondsMean: 0.0184 }),
    );
    for (const [editor, [start, slope, ratio, localitySlope]] of Object.entries(decay)) {
      const reliability = Math.max(0.02, start - slope * t - 0.01 * t * t);
      directories.push(
        writeSyntheticRun(root, {
          editor,
          edits: T,
          reliability,
          generality: reliability * ratio,
          locality: Math.max(0.05, 1 - localitySlope * (t + 0.3)),
          editSecondsMean: editor === 'ft' ? 0.42 : editor === 'rome' ? 1.73 : 0.0061 + 0.0001 * t,
          querySecondsMean: editor === 'lte' ? 0.031 : editor === 'recipe' ? 0.0209 : 0.0184,
        }),
      );
    }
  }
  for (const T of [1, 100]) {
    for (const [index, editor] of ['none', 'rome', 'lte', 'recipe'].entries()) {
      const base = editor === 'none' ? 0.3 : 0.5 + 0.1 * index - (T > 1 ? 0.05 * (3 - index) : 0);
      directories.push(
        writeSyntheticRun(root, {
          editor,
          edits: T,
          dataset: 'ripe',
          reliability: Math.min(1, base + 0.35),
          generality: base,
          locality: editor === 'none' ? 1 : 0.7 + 0.08 * index,
          generalityByType: {
            Logical_Generalization: base * 0.9,
            Compositionality_I: base * 0.7,
            Compositionality_II: base * 0.6,
            Subject_Aliasing: Math.min(1, base * 1.3),
          },
          localityByType: { Relation_Specificity: editor === 'none' ? 1 : 0.68 + 0.09 * index, Forgetfulness: editor === 'none' ? 1 : 0.6 + 0.1 * index },
          general: { csqa: 0.2113 + 0.01 * index, mmlu: 0.4167 - 0.01 * index, anli: 0.3342, squad2: 0.1875 + 0.005 * index },
        }),
      );
    }
  }
  return directories;
}
