import path from 'node:path';
import { readTrainingLog, type TrainingCurve } from '../baselines/hypernetwork/training-curve-figure.js';

/** The editors whose trained artefact keeps a meta-training log (`training-log.jsonl`) the report plots. */
const HYPERNETWORK_EDITORS = new Set(['mend', 'malmen']);

/**
 * The meta-training curves of the hypernetwork editors a compare run used: the log beside each row's
 * artefact (`checkpoint`, else `<model>/<editor>`), for rows that produced at least one cell. Rows
 * sharing an artefact give one curve; an artefact without a log gives none.
 */
export async function collectTrainingCurves(
  rows: readonly { name: string; label: string; checkpoint?: string }[],
  modelDirectory: string,
  ranLabels: ReadonlySet<string>,
): Promise<TrainingCurve[]> {
  const curves: TrainingCurve[] = [];
  const seen = new Set<string>();
  for (const row of rows) {
    if (!HYPERNETWORK_EDITORS.has(row.name) || !ranLabels.has(row.label)) continue;
    const directory = path.resolve(row.checkpoint ?? path.join(modelDirectory, row.name));
    if (seen.has(directory)) continue;
    seen.add(directory);
    const log = await readTrainingLog(directory);
    if (log.length > 0) curves.push({ editor: row.label, directory, rows: log });
  }
  return curves;
}
