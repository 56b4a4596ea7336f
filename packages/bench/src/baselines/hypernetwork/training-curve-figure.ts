import { readFile } from 'node:fs/promises';
import path from 'node:path';
import { renderLinePlotFigure, seriesStyles, type PlotSeries } from '../../report/svg-line-plot.js';
import type { HypernetworkStepReport } from './hypernetwork-trainer.js';

export type TrainingLogRow = HypernetworkStepReport & { elapsed: number };

/** One trained hypernetwork's log, as the comparison report plots it. */
export interface TrainingCurve {
  /** The editor row's label ("mend", "malmen"). */
  editor: string;
  /** The artefact's directory (where `training-log.jsonl` lies). */
  directory: string;
  rows: readonly TrainingLogRow[];
}

/** The rows of `<directory>/training-log.jsonl` (empty when there is none). */
export async function readTrainingLog(directory: string): Promise<TrainingLogRow[]> {
  const text = await readFile(path.join(directory, 'training-log.jsonl'), 'utf8').catch(() => '');
  return text
    .split('\n')
    .filter((line) => line.trim().length > 0)
    .map((line) => JSON.parse(line) as TrainingLogRow);
}

/**
 * Meta-training curves as an SVG figure (the report's plot style): after-edit token accuracy of
 * the new target and locality agreement, in %, against the step, one series per trained artefact,
 * each point the mean of a window of logged steps (single steps are noisy: 8 random edits).
 */
export function trainingCurveFigure(runs: readonly { name: string; rows: readonly TrainingLogRow[] }[], id: string, title: string): string {
  const styles = seriesStyles(runs.map((run) => run.name));
  const series = (metric: 'editAccuracy' | 'localityAgreement'): PlotSeries[] =>
    runs.map((run) => {
      const size = Math.max(1, Math.ceil(run.rows.length / 20));
      const points: { x: number; y: number }[] = [];
      for (let start = 0; start < run.rows.length; start += size) {
        const window = run.rows.slice(start, start + size);
        points.push({ x: (window[window.length - 1] as TrainingLogRow).step, y: (100 * window.reduce((sum, row) => sum + row[metric], 0)) / window.length });
      }
      return { name: run.name, style: styles.get(run.name) as PlotSeries['style'], points };
    });
  return renderLinePlotFigure({
    id,
    title,
    panels: [
      { key: 'edit-accuracy', title: 'New-target token accuracy after the edit', series: series('editAccuracy') },
      { key: 'locality-agreement', title: 'Locality agreement after the edit', series: series('localityAgreement') },
    ],
    xLabel: 'meta-training step',
    xAxis: 'linear',
    yLabel: '%',
    legend: runs.map((run) => ({ name: run.name, style: styles.get(run.name) as PlotSeries['style'] })),
  });
}
