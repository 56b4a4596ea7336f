import { mkdirSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { collectTrainingCurves } from '../../src/compare/training-curves.js';
import { readRuns } from '../../src/report/read-runs.js';
import { renderReportHtml } from '../../src/report/render-report.js';
import { scratchDirectory, writeSyntheticRun } from '../report/synthetic-runs.js';

/** A training-log.jsonl of `steps` logged steps whose after-edit accuracy climbs from 0.2 to 0.9. */
function writeLog(directory: string, steps: number): void {
  mkdirSync(directory, { recursive: true });
  const rows = Array.from({ length: steps }, (_, i) => {
    const accuracy = 0.2 + (0.7 * i) / (steps - 1);
    return JSON.stringify({ step: 10 * (i + 1), loss: 1 - accuracy, edit: 1 - accuracy, locality: 0.1, editAccuracy: accuracy, localityAgreement: 0.8, seconds: 1, elapsed: i + 1 });
  });
  writeFileSync(path.join(directory, 'training-log.jsonl'), `${rows.join('\n')}\n`);
}

describe('hypernetwork training curves in the comparison report', () => {
  it('collects the logs of the hypernetwork rows that ran (default or explicit artefact, once each) and plots them', async () => {
    const root = scratchDirectory('training-curves-');
    const model = path.join(root, 'micro');
    writeLog(path.join(model, 'mend'), 30);
    writeLog(path.join(root, 'other-malmen'), 12);
    mkdirSync(path.join(model, 'malmen'), { recursive: true }); // an artefact without a log: no curve
    const rows = [
      { name: 'mend', label: 'mend' },
      { name: 'mend', label: 'mend (unreachable-targets=skip)' }, // same artefact: one curve
      { name: 'malmen', label: 'malmen' },
      { name: 'malmen', label: 'malmen (tuned)', checkpoint: path.join(root, 'other-malmen') },
      { name: 't-patcher', label: 't-patcher' }, // not a hypernetwork
    ];
    const ran = new Set(['mend', 'mend (unreachable-targets=skip)', 'malmen', 'malmen (tuned)', 't-patcher']);
    const curves = await collectTrainingCurves(rows, model, ran);
    expect(curves.map((curve) => [curve.editor, curve.rows.length])).toEqual([
      ['mend', 30],
      ['malmen (tuned)', 12],
    ]);
    // A row that produced no cell (skipped, or not run with --editors) has no curve.
    expect(await collectTrainingCurves(rows, model, new Set(['t-patcher']))).toEqual([]);

    const runs = await readRuns([writeSyntheticRun(scratchDirectory(), { editor: 'mend', edits: 1, reliability: 0.5, generality: 0.4, locality: 0.9 })]);
    const html = renderReportHtml(runs, { trainingCurves: curves });
    const figure = /<figure class="plot" data-figure="training"[\s\S]*?<\/figure>/.exec(html)?.[0] ?? '';
    expect(figure).toContain('data-editors="mend malmen (tuned)"');
    expect(figure).toContain('micro/mend/training-log.jsonl</code>, 300 steps');
    expect(figure).toMatch(/<polyline|<path/);
    // Steps on a linear axis (the T plots use a log axis once T spans a decade).
    expect(figure).toContain('meta-training step</text>');
    expect(figure).not.toContain('log scale');
    expect(html).toMatch(/<h2>\d&#8194;Training of the hypernetwork editors<\/h2>/);
    // Without logs the section is absent rather than empty.
    expect(renderReportHtml(runs)).not.toContain('Training of the hypernetwork editors');
  });
});
