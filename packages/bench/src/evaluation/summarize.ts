import { mean } from '../metrics/batched-scoring.js';
import type { CaseResult } from '../protocols/edit-protocol.js';

export interface RunSummary {
  editor: string;
  model: string;
  dataset: string;
  protocol: string;
  edits: number;
  cases: number;
  chunks: number;
  reliability: number | null;
  generality: number | null;
  locality: number | null;
  generalityByType: Record<string, number>;
  localityByType: Record<string, number>;
  editSecondsMean: number;
  querySecondsMean: number;
  general?: Record<string, number>;
}

/** JSON has no NaN: a metric no case could measure is null. */
function finiteOrNull(value: number): number | null {
  return Number.isFinite(value) ? value : null;
}

function meanByType(cases: readonly CaseResult[], key: 'generalityByType' | 'localityByType'): Record<string, number> {
  const values = new Map<string, number[]>();
  for (const result of cases) for (const [type, value] of Object.entries(result[key])) values.set(type, [...(values.get(type) ?? []), value]);
  const out: Record<string, number> = {};
  for (const [type, list] of [...values.entries()].sort(([a], [b]) => a.localeCompare(b))) {
    const value = mean(list);
    if (Number.isFinite(value)) out[type] = value;
  }
  return out;
}

/** Mean over cases of each per-case metric (cases lacking a probe kind do not count for it). */
export function summarize(
  cases: readonly CaseResult[],
  meta: Pick<RunSummary, 'editor' | 'model' | 'dataset' | 'protocol' | 'edits' | 'chunks' | 'querySecondsMean'>,
): RunSummary {
  return {
    ...meta,
    cases: cases.length,
    reliability: finiteOrNull(mean(cases.map((c) => c.reliability))),
    generality: finiteOrNull(mean(cases.map((c) => c.generality))),
    locality: finiteOrNull(mean(cases.map((c) => c.locality))),
    generalityByType: meanByType(cases, 'generalityByType'),
    localityByType: meanByType(cases, 'localityByType'),
    editSecondsMean: mean(cases.map((c) => c.editSeconds)) || 0,
  };
}

function percent(value: number | null | undefined): string {
  return value === null || value === undefined ? '–' : (100 * value).toFixed(1);
}

/** The summary as a Markdown table (metrics in percent, times in milliseconds). */
export function summaryMarkdown(summary: RunSummary): string {
  const lines = [
    `| editor | model | dataset | protocol | T | cases | Rel. | Gen. | Loc. | edit ms | query ms |`,
    `|---|---|---|---|---:|---:|---:|---:|---:|---:|---:|`,
    `| ${summary.editor} | ${summary.model} | ${summary.dataset} | ${summary.protocol} | ${summary.edits} | ${summary.cases} | ${percent(summary.reliability)} | ${percent(summary.generality)} | ${percent(summary.locality)} | ${(1000 * summary.editSecondsMean).toFixed(2)} | ${(1000 * summary.querySecondsMean).toFixed(2)} |`,
  ];
  const byType = { ...summary.generalityByType, ...summary.localityByType };
  if (Object.keys(byType).length > 0 && Object.keys(byType).some((t) => t !== 'rephrase' && t !== 'neighborhood')) {
    lines.push('', `| type | accuracy |`, `|---|---:|`, ...Object.entries(byType).map(([type, value]) => `| ${type} | ${percent(value)} |`));
  }
  if (summary.general) {
    lines.push('', `| general ability | score |`, `|---|---:|`, ...Object.entries(summary.general).map(([task, value]) => `| ${task} | ${percent(value)} |`));
  }
  return `${lines.join('\n')}\n`;
}
