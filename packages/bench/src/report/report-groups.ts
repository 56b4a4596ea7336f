import { InvalidInputError } from '@recipe-kit/core';
import type { EditProtocol, EvalRun } from './read-runs.js';

/** The editor name of the unedited model; its row always comes first and is the efficiency baseline. */
export const UNEDITED_EDITOR = 'none';

/** The runs of one (model, dataset, protocol): one table in the report. */
export interface RunGroup {
  model: string;
  dataset: string;
  protocol: EditProtocol;
  /** Distinct T values, ascending. */
  edits: number[];
  /** Editors in report order (`none` first). */
  editors: string[];
  runs: EvalRun[];
  /** The run of `editor` at `edits`, if there is one. */
  run(editor: string, edits: number): EvalRun | undefined;
}

/**
 * Report order of editors: `none` first, then `preferred` in the order given, then the rest
 * alphabetically, with `recipe` (the method this kit reproduces) last, as in the paper's tables.
 */
export function orderEditors(editors: Iterable<string>, preferred: readonly string[] = []): string[] {
  const unique = [...new Set(editors)];
  const rank = (editor: string): [number, number, string] => {
    if (editor === UNEDITED_EDITOR) return [0, 0, ''];
    const index = preferred.indexOf(editor);
    if (index >= 0) return [1, index, ''];
    return [2, editor.toLowerCase() === 'recipe' ? 1 : 0, editor.toLowerCase()];
  };
  return unique.sort((a, b) => {
    const [ga, ia, na] = rank(a);
    const [gb, ib, nb] = rank(b);
    return ga - gb || ia - ib || (na < nb ? -1 : na > nb ? 1 : a < b ? -1 : a > b ? 1 : 0);
  });
}

const PROTOCOL_ORDER: Record<EditProtocol, number> = { single: 0, lifelong: 1, batch: 2 };

/** Groups runs by (model, dataset, protocol), in first-seen model and dataset order. */
export function groupRuns(runs: readonly EvalRun[], preferredEditors: readonly string[] = []): RunGroup[] {
  const groups = new Map<string, EvalRun[]>();
  for (const run of runs) {
    const key = JSON.stringify([run.summary.model, run.summary.dataset, run.summary.protocol]);
    const list = groups.get(key) ?? [];
    list.push(run);
    groups.set(key, list);
  }
  const result: RunGroup[] = [];
  for (const list of groups.values()) {
    const first = list[0] as EvalRun;
    const byKey = new Map<string, EvalRun>();
    for (const run of list) {
      const key = `${run.summary.edits}\u0000${run.summary.editor}`;
      const earlier = byKey.get(key);
      if (earlier !== undefined) {
        throw new InvalidInputError(
          `${earlier.directory} and ${run.directory} both hold ${run.summary.editor} on ${run.summary.model} / ${run.summary.dataset} (${run.summary.protocol}, T = ${run.summary.edits}).`,
          'Pass only one run per editor, model, dataset, protocol and T.',
        );
      }
      byKey.set(key, run);
    }
    result.push({
      model: first.summary.model,
      dataset: first.summary.dataset,
      protocol: first.summary.protocol,
      edits: [...new Set(list.map((run) => run.summary.edits))].sort((a, b) => a - b),
      editors: orderEditors(
        list.map((run) => run.summary.editor),
        preferredEditors,
      ),
      runs: list,
      run: (editor, edits) => byKey.get(`${edits}\u0000${editor}`),
    });
  }
  // Stable sort: keeps first-seen order of models and datasets, puts protocols in a fixed order within them.
  const modelOrder = [...new Set(runs.map((run) => run.summary.model))];
  const datasetOrder = [...new Set(runs.map((run) => run.summary.dataset))];
  return result.sort(
    (a, b) =>
      modelOrder.indexOf(a.model) - modelOrder.indexOf(b.model) ||
      datasetOrder.indexOf(a.dataset) - datasetOrder.indexOf(b.dataset) ||
      PROTOCOL_ORDER[a.protocol] - PROTOCOL_ORDER[b.protocol],
  );
}

/**
 * Which rows hold the best (largest) value of a column. Values are compared as displayed, so ties
 * are all marked. The unedited row is left out when any edited row has a value: its locality is
 * 100% by definition, and the bold marks the best editor.
 */
export function bestRows(values: readonly (number | null)[], editors: readonly string[]): Set<number> {
  const candidates = values
    .map((value, index) => ({ value, index }))
    .filter((entry): entry is { value: number; index: number } => entry.value !== null);
  const edited = candidates.filter((entry) => editors[entry.index] !== UNEDITED_EDITOR);
  const pool = edited.length > 0 ? edited : candidates;
  if (pool.length < 2) return new Set();
  const best = Math.max(...pool.map((entry) => entry.value));
  return new Set(pool.filter((entry) => entry.value === best).map((entry) => entry.index));
}
