import path from 'node:path';
import { escapeHtml } from './escape-html.js';
import type { EvalRun, EditProtocol } from './read-runs.js';
import { displayName, formatCount, formatDate, formatMilliseconds, formatParameterCount, formatPercent, formatRatio } from './report-format.js';
import { bestRows, groupRuns, orderEditors, UNEDITED_EDITOR, type RunGroup } from './report-groups.js';
import { renderLinePlotFigure, seriesStyles, type SeriesStyle } from './svg-line-plot.js';
import { commonParent } from './common-parent.js';
import type { EfficiencyReport } from './efficiency-report.js';
import { renderEfficiencyHtml } from './render-efficiency.js';
import { trainingCurveFigure, type TrainingCurve } from '../baselines/hypernetwork/training-curve-figure.js';

export interface ReportOptions {
  /** Heading and <title> of the page. Default: "Knowledge editing results". */
  title?: string;
  /** Editors to list right after `none`, in this order; the rest follow alphabetically with `recipe` last. */
  editorOrder?: readonly string[];
  /** Time stamp printed in the header. Default: now. */
  generatedAt?: Date;
  /** Editors that could not run (e.g. a trained artefact is missing), listed under the main tables. */
  skippedEditors?: readonly { editor: string; reason: string }[];
  /** General-ability tasks left out (task → why), noted in that section. */
  generalUnavailable?: Readonly<Record<string, string>>;
  /** Per-query time of each editor on a large random-weight model (`recipe-kit compare`'s efficiency.json). */
  efficiency?: EfficiencyReport;
  /** Meta-training logs of the hypernetwork editors the run used (MEND, MALMEN), plotted in their own section. */
  trainingCurves?: readonly TrainingCurve[];
}

/** RECIPE's ablation rows ("recipe (w/o KS)", "recipe (w/o CPT)") get their own table, as in the paper. */
export function isAblation(editor: string): boolean {
  return /\(w\/o /.test(editor);
}

const METRICS = [
  { key: 'reliability', short: 'Rel.', long: 'Reliability' },
  { key: 'generality', short: 'Gen.', long: 'Generality' },
  { key: 'locality', short: 'Loc.', long: 'Locality' },
] as const;

const PROTOCOL_TEXT: Record<EditProtocol, string> = {
  lifelong: 'lifelong editing (T sequential edits, then all T scored)',
  single: 'single editing (edit, score, undo)',
  batch: 'batch editing (T edits at once)',
};

const DASH = '–';

/** Displayed percentage as a number, so that ties are judged as the reader sees them. */
function shownPercent(fraction: number | null | undefined): number | null {
  return fraction === null || fraction === undefined ? null : Number(formatPercent(fraction));
}

function groupHeading(group: RunGroup): string {
  return `${group.model} · ${group.dataset} · ${group.protocol}`;
}

function modelDescription(group: RunGroup): string {
  const model = (group.runs[0] as EvalRun).params.model;
  return `${model.architecture}, ${formatParameterCount(model.parameters)} parameters`;
}

/** "T = 1: 1,000 (rome: 200)": the count most editors scored, and the editors that scored another. */
function casesDescription(group: RunGroup): string {
  const parts = group.edits.map((edits) => {
    const runs = group.runs.filter((run) => run.summary.edits === edits);
    const editorsByCount = new Map<number, string[]>();
    for (const run of runs) editorsByCount.set(run.summary.cases, [...(editorsByCount.get(run.summary.cases) ?? []), run.summary.editor]);
    const [common, ...others] = [...editorsByCount].sort((a, b) => b[1].length - a[1].length || b[0] - a[0]);
    const exceptions = others.map(([count, editors]) => `${editors.join(', ')}: ${formatCount(count)}`);
    return `T = ${formatCount(edits)}: ${formatCount(common?.[0] ?? 0)}${exceptions.length > 0 ? ` (${exceptions.join('; ')})` : ''}`;
  });
  return `Cases scored per editor: ${parts.join('; ')}.`;
}

function editorCell(editor: string): string {
  const note = editor === UNEDITED_EDITOR ? ' <span class="note">(unedited)</span>' : '';
  return `<th scope="row" class="editor">${escapeHtml(editor)}${note}</th>`;
}

function valueCell(text: string, attributes: Record<string, string | number>, classes: string[], bold: boolean): string {
  const data = Object.entries(attributes)
    .map(([name, value]) => ` data-${name}="${escapeHtml(String(value))}"`)
    .join('');
  const classAttribute = classes.length > 0 ? ` class="${classes.join(' ')}"` : '';
  return `<td${classAttribute}${data}>${bold ? `<b>${escapeHtml(text)}</b>` : escapeHtml(text)}</td>`;
}

interface GroupedColumn {
  key: string;
  short: string;
  long: string;
  value(run: EvalRun, group: RunGroup): number | null;
  format(value: number): string;
  /** Mark the best (largest) value in bold. */
  best: boolean;
}

/** Rows = editors (`none` first), one column group per T, the same sub-columns under each. */
function renderGroupedTable(group: RunGroup, columns: GroupedColumn[], table: string, attribute: string, caption: string, number: number): string {
  const cellsByColumn = group.edits.flatMap((edits) => columns.map((column, index) => ({ edits, column, first: index === 0 })));
  const raw = cellsByColumn.map(({ edits, column }) =>
    group.editors.map((editor) => {
      const run = group.run(editor, edits);
      return run === undefined ? null : column.value(run, group);
    }),
  );
  // Compare values as displayed, so that ties the reader sees are all marked.
  const shown = raw.map((values, index) => values.map((value) => (value === null ? null : Number((cellsByColumn[index] as { column: GroupedColumn }).column.format(value).replace(/[^0-9.]/g, '')))));
  const best = shown.map((values, index) => ((cellsByColumn[index] as { column: GroupedColumn }).column.best ? bestRows(values, group.editors) : new Set<number>()));
  const head = [
    '<thead>',
    `<tr><th rowspan="2" class="editor">Editor</th>${group.edits.map((edits) => `<th colspan="${columns.length}" class="group group-start"><span>T = ${formatCount(edits)}</span></th>`).join('')}</tr>`,
    `<tr>${cellsByColumn.map(({ column, first }) => `<th${first ? ' class="group-start"' : ''} title="${escapeHtml(column.long)}">${escapeHtml(column.short)}</th>`).join('')}</tr>`,
    '</thead>',
  ];
  const body = group.editors.map((editor, row) => {
    const cells = cellsByColumn.map(({ edits, column, first }, index) => {
      const value = raw[index]?.[row] ?? null;
      return valueCell(value === null ? DASH : column.format(value), { edits, [attribute]: column.key }, first ? ['group-start'] : [], best[index]?.has(row) === true);
    });
    const classes = editor === UNEDITED_EDITOR ? ' class="baseline"' : '';
    return `<tr data-editor="${escapeHtml(editor)}"${classes}>${editorCell(editor)}${cells.join('')}</tr>`;
  });
  return [
    `<figure class="table" id="table-${table}-${number}">`,
    `<figcaption><span class="label">Table ${number}:</span> ${caption}</figcaption>`,
    '<div class="table-scroll">',
    `<table class="results grouped ${table}" data-table="${table}" data-model="${escapeHtml(group.model)}" data-dataset="${escapeHtml(group.dataset)}" data-protocol="${group.protocol}">`,
    ...head,
    `<tbody>${body.join('\n')}</tbody>`,
    '</table>',
    '</div>',
    '</figure>',
  ].join('\n');
}

/** (a) Rows = editors, column groups = T, each with Rel. / Gen. / Loc. in percent; best edited value per column in bold. */
function renderMainTable(group: RunGroup, number: number): string {
  const columns: GroupedColumn[] = METRICS.map((metric) => ({
    key: metric.key,
    short: metric.short,
    long: metric.long,
    value: (run) => run.summary[metric.key],
    format: formatPercent,
    best: true,
  }));
  const caption =
    `${escapeHtml(group.model)} (${escapeHtml(modelDescription(group))}) on ${escapeHtml(group.dataset)}, ` +
    `${escapeHtml(PROTOCOL_TEXT[group.protocol])}. Teacher-forced token-level top-1 accuracy (%). ` +
    `Bold: best edited model per column. ${escapeHtml(casesDescription(group))}`;
  return renderGroupedTable(group, columns, 'main', 'metric', caption, number);
}

interface BlockColumn {
  key: string;
  label: string;
  /** Spanning header above this column (consecutive equal groups merge). */
  group?: string;
  value(run: EvalRun, group: RunGroup): number | null;
  format(value: number): string;
  /** Mark the best (largest) value per T block in bold. */
  best: boolean;
}

/** A table whose rows are editors grouped in blocks by T, with a rule between blocks. */
function renderBlockTable(group: RunGroup, columns: BlockColumn[], table: string, caption: string, number: number): string {
  const hasGroups = columns.some((column) => column.group !== undefined);
  const spans: { label: string; count: number; start: number }[] = [];
  for (const [index, column] of columns.entries()) {
    const last = spans[spans.length - 1];
    if (last && last.label === (column.group ?? '') && column.group !== undefined) last.count += 1;
    else spans.push({ label: column.group ?? '', count: 1, start: index });
  }
  const groupStarts = new Set(spans.filter((span) => span.label !== '').map((span) => span.start));
  const rowspan = hasGroups ? ' rowspan="2"' : '';
  const head = ['<thead>', `<tr><th${rowspan} class="edits">T</th><th${rowspan} class="editor">Editor</th>`];
  if (hasGroups) {
    head.push(
      ...spans.map((span) =>
        span.label === '' ? `<th rowspan="2">${escapeHtml(columns[span.start]?.label ?? '')}</th>` : `<th colspan="${span.count}" class="group group-start"><span>${escapeHtml(span.label)}</span></th>`,
      ),
      '</tr><tr>',
      ...columns.flatMap((column, index) =>
        column.group === undefined ? [] : [`<th${groupStarts.has(index) ? ' class="group-start"' : ''}>${escapeHtml(column.label)}</th>`],
      ),
    );
  } else {
    head.push(...columns.map((column) => `<th>${escapeHtml(column.label)}</th>`));
  }
  head.push('</tr>', '</thead>');
  const bodies: string[] = [];
  for (const edits of group.edits) {
    const editors = group.editors.filter((editor) => group.run(editor, edits) !== undefined);
    const raw = columns.map((column) => editors.map((editor) => column.value(group.run(editor, edits) as EvalRun, group)));
    const compared = raw.map((values, index) => values.map((value) => (value === null ? null : Number((columns[index] as BlockColumn).format(value).replace(/[^0-9.]/g, '')))));
    const best = columns.map((column, index) => (column.best ? bestRows(compared[index] ?? [], editors) : new Set<number>()));
    const rows = editors.map((editor, row) => {
      const tCell = row === 0 ? `<th scope="rowgroup" rowspan="${editors.length}" class="edits">${formatCount(edits)}</th>` : '';
      const cells = columns.map((column, index) => {
        const value = raw[index]?.[row] ?? null;
        return valueCell(value === null ? DASH : column.format(value), { edits, column: column.key }, groupStarts.has(index) ? ['group-start'] : [], best[index]?.has(row) === true);
      });
      const classes = editor === UNEDITED_EDITOR ? ' class="baseline"' : '';
      return `<tr data-editor="${escapeHtml(editor)}" data-edits="${edits}"${classes}>${tCell}${editorCell(editor)}${cells.join('')}</tr>`;
    });
    bodies.push(`<tbody>${rows.join('\n')}</tbody>`);
  }
  return [
    `<figure class="table" id="table-${table}-${number}">`,
    `<figcaption><span class="label">Table ${number}:</span> ${caption}</figcaption>`,
    '<div class="table-scroll">',
    `<table class="results blocks" data-table="${table}" data-model="${escapeHtml(group.model)}" data-dataset="${escapeHtml(group.dataset)}" data-protocol="${group.protocol}">`,
    ...head,
    ...bodies,
    '</table>',
    '</div>',
    '</figure>',
  ].join('\n');
}

function unionKeys(runs: readonly EvalRun[], pick: (run: EvalRun) => Record<string, number> | undefined): string[] {
  const keys: string[] = [];
  for (const run of runs) for (const key of Object.keys(pick(run) ?? {})) if (!keys.includes(key)) keys.push(key);
  return keys;
}

/** (b) RIPE per-type generality and locality. */
function renderFineGrainedTable(group: RunGroup, next: () => number): string | null {
  const generalityTypes = unionKeys(group.runs, (run) => run.summary.generalityByType);
  const localityTypes = unionKeys(group.runs, (run) => run.summary.localityByType);
  // Plain rephrase/neighbourhood probes repeat the main table; only fine-grained (RIPE) types earn one.
  const generic = new Set(['rephrase', 'neighborhood']);
  if ([...generalityTypes, ...localityTypes].every((type) => generic.has(type))) return null;
  const percent = (value: number) => formatPercent(value);
  const columns: BlockColumn[] = [
    ...generalityTypes.map((type) => ({
      key: `generality:${type}`,
      label: displayName(type),
      group: 'Generality',
      value: (run: EvalRun) => run.summary.generalityByType[type] ?? null,
      format: percent,
      best: true,
    })),
    ...localityTypes.map((type) => ({
      key: `locality:${type}`,
      label: displayName(type),
      group: 'Locality',
      value: (run: EvalRun) => run.summary.localityByType[type] ?? null,
      format: percent,
      best: true,
    })),
  ];
  const caption = `Fine-grained generality and locality by RIPE type (%), ${escapeHtml(group.model)} on ${escapeHtml(group.dataset)}, ${escapeHtml(group.protocol)}. Bold: best edited model per column and T.`;
  return renderBlockTable(group, columns, 'fine-grained', caption, next());
}

/** (c) General-ability benchmarks after editing. */
function renderGeneralTable(group: RunGroup, next: () => number): string | null {
  const benchmarks = unionKeys(group.runs, (run) => run.summary.general);
  if (benchmarks.length === 0) return null;
  const columns: BlockColumn[] = benchmarks.map((benchmark) => ({
    key: benchmark,
    label: displayName(benchmark),
    value: (run: EvalRun) => run.summary.general?.[benchmark] ?? null,
    format: (value: number) => formatPercent(value),
    best: true,
  }));
  const caption =
    `General ability after editing (×100: accuracy for multiple-choice benchmarks, mean 1/perplexity for SQuAD-2), ` +
    `${escapeHtml(group.model)} on ${escapeHtml(group.dataset)}, ${escapeHtml(group.protocol)}. Bold: best edited model per column and T.`;
  return renderBlockTable(group, columns, 'general', caption, next());
}

/** (d) Edit time per edit, inference time per query, and the inference overhead against `none` at the same T. */
function renderEfficiencyTable(group: RunGroup, next: () => number): string | null {
  if (group.runs.every((run) => run.summary.editSecondsMean === null && run.summary.querySecondsMean === null)) return null;
  const columns: GroupedColumn[] = [
    {
      key: 'edit-ms',
      short: 'Edit',
      long: 'Edit time (ms per edit)',
      value: (run) => (run.summary.editor === UNEDITED_EDITOR ? null : run.summary.editSecondsMean),
      format: formatMilliseconds,
      best: false,
    },
    { key: 'query-ms', short: 'Infer.', long: 'Inference time (ms per query)', value: (run) => run.summary.querySecondsMean, format: formatMilliseconds, best: false },
    {
      key: 'query-overhead',
      short: 'Ratio',
      long: 'Inference time relative to the unedited model at the same T',
      value: (run, g) => {
        const base = g.run(UNEDITED_EDITOR, run.summary.edits)?.summary.querySecondsMean ?? null;
        const query = run.summary.querySecondsMean;
        return base === null || query === null || base <= 0 ? null : query / base;
      },
      format: formatRatio,
      best: false,
    },
  ];
  const caption =
    `Efficiency of ${escapeHtml(group.model)} on ${escapeHtml(group.dataset)}, ${escapeHtml(group.protocol)}: Edit = mean wall-clock time per edit (ms); ` +
    `Infer. = mean time per scored query (ms); Ratio = inference time relative to the unedited model (<i>none</i>) at the same T.`;
  return renderGroupedTable(group, columns, 'efficiency', 'column', caption, next());
}

/** Where the runs ran (machine and backend), when they all ran on the same; the provenance table has the rest. */
function ranOn(runs: readonly EvalRun[]): string {
  const places = [...new Set(runs.map((run) => JSON.stringify([run.params.machine.cpu, run.params.machine.cores, run.params.machine.memoryGiB, run.params.backend])))];
  if (places.length !== 1) return '';
  const { machine, backend } = (runs[0] as EvalRun).params;
  return `<p class="meta">Ran on ${escapeHtml(`${machine.cpu}, ${machine.cores} cores, ${machine.memoryGiB} GiB`)} · ${escapeHtml(backend)}</p>`;
}

/** RECIPE and its ablations at the T values where an ablation ran: Rel. / Gen. / Loc. per T. */
function renderAblationTables(runs: readonly EvalRun[], editorOrder: readonly string[] | undefined, next: () => number): string[] {
  const ablated = runs.filter((run) => isAblation(run.summary.editor));
  const key = (run: EvalRun) => JSON.stringify([run.summary.model, run.summary.dataset, run.summary.protocol, run.summary.edits]);
  const keys = new Set(ablated.map(key));
  const selected = runs.filter((run) => keys.has(key(run)) && (isAblation(run.summary.editor) || run.summary.editor === 'recipe' || run.summary.editor === UNEDITED_EDITOR));
  return groupRuns(selected, editorOrder).map((group) => {
    const columns: GroupedColumn[] = METRICS.map((metric) => ({ key: metric.key, short: metric.short, long: metric.long, value: (run) => run.summary[metric.key], format: formatPercent, best: true }));
    const caption = `Ablations of RECIPE on ${escapeHtml(group.model)} (${escapeHtml(modelDescription(group))}), ${escapeHtml(group.dataset)}, ${escapeHtml(PROTOCOL_TEXT[group.protocol])}: teacher-forced top-1 accuracy (%). Bold: best edited model per column. ${escapeHtml(casesDescription(group))}`;
    return renderGroupedTable(group, columns, 'ablation', 'metric', caption, next());
  });
}

/** (e) Rel. / Gen. / Loc. against T, one line per editor. */
function renderFigure(group: RunGroup, number: number, styles: Map<string, SeriesStyle>): string {
  const panels = METRICS.map((metric) => ({
    key: metric.key,
    title: metric.long,
    series: group.editors.map((editor) => ({
      name: editor,
      style: styles.get(editor) as SeriesStyle,
      points: group.edits.flatMap((edits) => {
        const value = shownPercent(group.run(editor, edits)?.summary[metric.key]);
        return value === null ? [] : [{ x: edits, y: value }];
      }),
    })),
  }));
  const svg = renderLinePlotFigure({
    id: `figure-${number}`,
    title: `Reliability, generality and locality against the number of edits: ${groupHeading(group)}`,
    panels,
    xLabel: 'Number of edits T',
    yLabel: 'Accuracy (%)',
    legend: group.editors.map((editor) => ({ name: editor, style: styles.get(editor) as SeriesStyle })),
  });
  return [
    `<figure class="plot" data-model="${escapeHtml(group.model)}" data-dataset="${escapeHtml(group.dataset)}" data-protocol="${group.protocol}">`,
    `<div class="plot-scroll">${svg}</div>`,
    `<figcaption><span class="label">Figure ${number}:</span> Reliability, generality and locality (%) of ${escapeHtml(group.model)} on ${escapeHtml(group.dataset)} against the number of edits T (${escapeHtml(group.protocol)}).</figcaption>`,
    '</figure>',
  ].join('\n');
}

/** The hypernetworks' meta-training curves in one figure (after-edit accuracy and locality agreement against the step). */
function renderTrainingFigure(curves: readonly TrainingCurve[], number: number): string {
  const runs = curves.map((curve) => ({ name: curve.editor, rows: curve.rows }));
  const svg = trainingCurveFigure(runs, `figure-${number}`, `Meta-training of ${curves.map((curve) => curve.editor).join(' and ')}`);
  const sources = curves.map((curve) => {
    const last = curve.rows[curve.rows.length - 1];
    const where = `${path.basename(path.dirname(curve.directory))}/${path.basename(curve.directory)}/training-log.jsonl`;
    return `${escapeHtml(curve.editor)}: <code>${escapeHtml(where)}</code>, ${formatCount(last?.step ?? 0)} steps`;
  });
  return [
    `<figure class="plot" data-figure="training" data-editors="${escapeHtml(curves.map((curve) => curve.editor).join(' '))}">`,
    `<div class="plot-scroll">${svg}</div>`,
    `<figcaption><span class="label">Figure ${number}:</span> Meta-training of the hypernetwork editors used above: the new target's token accuracy after the edit (edit prompts and rephrases) and agreement with the unedited model on locality prompts (%), each point the mean of a window of logged steps (one step sees 8 random edits). Logs: ${sources.join('; ')}.</figcaption>`,
    '</figure>',
  ].join('\n');
}

interface ProvenanceField {
  label: string;
  /** Compared across runs to find what all runs share. */
  key: string;
  html: string;
  /** Long values go in the run's detail line rather than a column. */
  wide: boolean;
}

function provenanceFields(run: EvalRun, root: string): ProvenanceField[] {
  const { params } = run;
  const field = (label: string, key: string, html: string, wide = false): ProvenanceField => ({ label, key, html, wide });
  const code = (text: string, className = '') => `<code${className ? ` class="${className}"` : ''}>${escapeHtml(text)}</code>`;
  const machine = [
    params.machine.cpu,
    `${params.machine.cores} cores`,
    `${params.machine.memoryGiB} GiB`,
    `Node ${params.machine.node}`,
    ...(params.machine.platform ? [params.machine.platform] : []),
  ].join(', ');
  const model = params.model;
  const dataset = params.dataset;
  const modelText = `${model.architecture}, ${formatCount(model.parameters)} parameters${model.tokenizer ? `, tokenizer ${model.tokenizer}` : ''}`;
  const datasetText = `${dataset.name}${dataset.split ? ` (${dataset.split})` : ''}, ${formatCount(dataset.cases)} cases`;
  const relative = path.relative(root, run.directory) || '.';
  return [
    field('Date', params.date, escapeHtml(formatDate(params.date))),
    field('Seed', String(params.seed), String(params.seed)),
    field('Limit', String(params.limit), params.limit === null ? 'none' : formatCount(params.limit)),
    field('Backend', params.backend, escapeHtml(params.backend)),
    field('Machine', machine, escapeHtml(machine)),
    field('Git commit', String(params.gitCommit), params.gitCommit === null ? DASH : `<span title="${escapeHtml(params.gitCommit)}">${code(params.gitCommit.slice(0, 12))}</span>`),
    field('Model', `${model.path}\u0000${modelText}`, `${code(model.path)} (${escapeHtml(modelText)})`, true),
    field('Model sha256', model.sha256 ?? '', model.sha256 ? code(model.sha256, 'hash') : DASH, true),
    field('Dataset', `${dataset.path}\u0000${datasetText}`, `${code(dataset.path)} (${escapeHtml(datasetText)})`, true),
    field('Dataset sha256', dataset.sha256, code(dataset.sha256, 'hash'), true),
    field('Command', params.command ?? '', params.command === null ? DASH : code(params.command), true),
    field('Run directory', relative, code(relative), true),
  ];
}

/**
 * (f) Everything needed to reproduce each run: what all runs share once, then per run only what
 * differs (always the command and the run directory, relative to the runs' common parent).
 */
function renderProvenance(runs: readonly EvalRun[], groups: RunGroup[]): string {
  const ordered = groups.flatMap((group) => group.edits.flatMap((edits) => group.editors.flatMap((editor) => group.run(editor, edits) ?? [])));
  const root = commonParent(ordered.map((run) => run.directory));
  const fields = ordered.map((run) => provenanceFields(run, ordered.length > 1 ? root : path.dirname(run.directory)));
  const labels = (fields[0] ?? []).map((field) => field.label);
  const sharedLabels = labels.filter(
    (label) => label !== 'Command' && label !== 'Run directory' && new Set(fields.map((list) => list.find((field) => field.label === label)?.key)).size === 1,
  );
  const first = fields[0] ?? [];
  const sharedItems = first.filter((field) => sharedLabels.includes(field.label));
  const shared = [
    `<dl class="shared" data-runs="${ordered.length}">`,
    `<dt>Runs under</dt><dd><code>${escapeHtml(ordered.length > 1 ? root : path.dirname((ordered[0] as EvalRun).directory))}</code></dd>`,
    ...sharedItems.map((field) => `<dt>${field.label}</dt><dd>${field.html}</dd>`),
    '</dl>',
  ].join('');
  const columns = labels.filter((label) => !sharedLabels.includes(label) && !(first.find((field) => field.label === label)?.wide ?? false));
  const wide = labels.filter((label) => !sharedLabels.includes(label) && (first.find((field) => field.label === label)?.wide ?? false));
  const rows = ordered.map((run, index) => {
    const list = fields[index] as ProvenanceField[];
    const html = (label: string) => list.find((field) => field.label === label)?.html ?? DASH;
    const { summary } = run;
    return [
      `<tbody class="run" data-editor="${escapeHtml(summary.editor)}" data-edits="${summary.edits}">`,
      '<tr>',
      `<td class="index">${index + 1}</td>`,
      `<td>${escapeHtml(summary.editor)}</td>`,
      `<td>${escapeHtml(summary.model)} / ${escapeHtml(summary.dataset)}</td>`,
      `<td>${escapeHtml(summary.protocol)}, T = ${formatCount(summary.edits)}</td>`,
      ...columns.map((label) => `<td>${html(label)}</td>`),
      '</tr>',
      `<tr class="detail"><td></td><td colspan="${3 + columns.length}"><dl>${wide.map((label) => `<dt>${label}</dt><dd>${html(label)}</dd>`).join('')}</dl></td></tr>`,
      '</tbody>',
    ].join('');
  });
  return [
    '<p class="notes">Shared by all runs:</p>',
    shared,
    `<div class="table-scroll"><table class="provenance" data-table="provenance" data-runs="${runs.length}">`,
    `<thead><tr><th>#</th><th>Editor</th><th>Model / dataset</th><th>Protocol</th>${columns.map((label) => `<th>${label}</th>`).join('')}</tr></thead>`,
    ...rows,
    '</table></div>',
  ].join('\n');
}

const STYLE = `
*{box-sizing:border-box}
html{background:#fff}
body{margin:0;color:#111;background:#fff;font:15px/1.45 'Times New Roman','Liberation Serif','Nimbus Roman',Times,serif;-webkit-font-smoothing:antialiased}
main{max-width:1000px;margin:0 auto;padding:36px 32px 56px}
header{border-bottom:1px solid #000;padding-bottom:10px;margin-bottom:8px}
h1{font-size:26px;font-weight:normal;margin:0 0 4px;letter-spacing:.01em}
h2{font-size:18px;font-weight:bold;margin:34px 0 6px}
p{margin:6px 0}
.meta{color:#444;font-size:14px;margin:0}
.notes{font-size:14px;color:#222}
figure{margin:18px 0 26px}
figcaption{font-size:14px;line-height:1.4;margin:0 auto 8px;max-width:900px}
figure.plot figcaption{margin:6px auto 0}
.label{font-weight:bold}
.table-scroll,.plot-scroll{overflow-x:auto}
table{border-collapse:collapse;margin:0 auto;font-variant-numeric:tabular-nums lining-nums}
table.results{border-top:1.6px solid #000;border-bottom:1.6px solid #000;font-size:14.5px}
table.results thead tr:last-child th,table.results thead th[rowspan]{border-bottom:1px solid #000}
table.results th,table.results td{padding:2.5px 8px;text-align:right;white-space:nowrap;font-weight:normal}
table.results th.editor{text-align:left;padding-right:18px}
table.results th[title]{cursor:help}
table.results th.group{padding-bottom:0;text-align:center}
table.results th.group span{display:block;border-bottom:.8px solid #000;padding-bottom:2px;margin-left:6px}
table.results .group-start{padding-left:16px}
table.results tr.baseline>td,table.results tr.baseline>th.editor{color:#555}
table.results tr.baseline>td,table.results tr.baseline>th.editor{border-bottom:.6px solid #000}
table.results .note{font-size:12.5px;color:#777}
table.blocks tbody+tbody tr:first-child>*{border-top:.6px solid #000}
table.blocks th.edits{text-align:center;vertical-align:middle;padding-left:10px;padding-right:10px}
table.blocks tbody th.edits{border-right:0}
table.results b{font-weight:bold;color:#000}
svg.plot{display:block;margin:0 auto;max-width:100%;height:auto}
dl.shared{display:grid;grid-template-columns:max-content 1fr;column-gap:14px;row-gap:2px;margin:4px 0 14px;font-size:13.5px}
dl.shared dt{color:#555}
dl.shared dd{margin:0;overflow-wrap:anywhere}
table.provenance{border-top:1.6px solid #000;border-bottom:1.6px solid #000;font-size:13px;width:100%}
table.provenance th{text-align:left;font-weight:normal;border-bottom:1px solid #000;padding:3px 7px}
table.provenance td{padding:4px 7px 0;vertical-align:top}
table.provenance thead th:not(:last-child){width:1%;white-space:nowrap}
table.provenance tbody tr:first-child td{white-space:nowrap}
table.provenance tbody+tbody tr:first-child td{border-top:.5px solid #ccc}
table.provenance td.index{color:#777}
table.provenance tr.detail td{padding-top:1px;padding-bottom:5px;color:#333}
table.provenance tr.detail dl{display:grid;grid-template-columns:max-content 1fr;column-gap:10px;margin:0}
table.provenance tr.detail dt{color:#777;font-size:12px}
table.provenance tr.detail dd{margin:0;overflow-wrap:anywhere}
code{font-family:'DejaVu Sans Mono','Liberation Mono',Menlo,Consolas,monospace;font-size:11.5px}
code.hash{word-break:break-all}
.skipped ul{margin:2px 0 0;padding-left:22px;font-size:13.5px}
table.results td.reason{text-align:left;color:#555;white-space:normal;max-width:560px}
footer{margin-top:36px;font-size:12.5px;color:#666;border-top:.5px solid #bbb;padding-top:8px}
@media print{main{max-width:none;padding:0}h2{break-after:avoid}figure{break-inside:avoid}.table-scroll,.plot-scroll{overflow:visible}}
`;

/** A self-contained HTML page of paper-style tables, SVG plots and provenance for `recipe-kit eval` runs. */
export function renderReportHtml(runs: readonly EvalRun[], options: ReportOptions = {}): string {
  const title = options.title ?? 'Knowledge editing results';
  const groups = groupRuns(
    runs.filter((run) => !isAblation(run.summary.editor)),
    options.editorOrder,
  );
  const styles = seriesStyles(
    orderEditors(
      runs.map((run) => run.summary.editor),
      options.editorOrder,
    ),
  );
  let tableNumber = 0;
  let sectionNumber = 0;
  const section = (id: string, heading: string, content: string[], intro = '') =>
    content.length === 0 ? '' : [`<section id="${id}">`, `<h2>${(sectionNumber += 1)}&#8194;${heading}</h2>`, intro, ...content, '</section>'].join('\n');

  const next = () => (tableNumber += 1);
  const mainTables = groups.map((group) => renderMainTable(group, next()));
  const fineGrained = groups.flatMap((group) => renderFineGrainedTable(group, next) ?? []);
  const general = groups.flatMap((group) => renderGeneralTable(group, next) ?? []);
  const efficiency = groups.flatMap((group) => renderEfficiencyTable(group, next) ?? []);
  const ablations = renderAblationTables(runs, options.editorOrder, next);
  const largeModel = options.efficiency ? renderEfficiencyHtml(options.efficiency, tableNumber + 1) : [];
  tableNumber += largeModel.length;
  const figures = groups.map((group, index) => renderFigure(group, index + 1, styles));
  const skipped = (options.skippedEditors ?? []).map(
    (entry) => `<li data-editor="${escapeHtml(entry.editor)}"><b>${escapeHtml(entry.editor)}</b>: ${escapeHtml(entry.reason.split('\n')[0] ?? '')}</li>`,
  );
  const skippedNote = skipped.length === 0 ? '' : `<div class="notes skipped"><p>Not run (their rows are absent above):</p><ul>${skipped.join('')}</ul></div>`;
  const unavailable = Object.entries(options.generalUnavailable ?? {}).map(([task, reason]) => `${escapeHtml(displayName(task))} (${escapeHtml(reason.split('\n')[0] ?? '')})`);
  const unavailableNote = unavailable.length === 0 ? '' : `<p class="notes">Left out for lack of data: ${unavailable.join('; ')}.</p>`;

  const models = [...new Set(runs.map((run) => run.summary.model))];
  const datasets = [...new Set(runs.map((run) => run.summary.dataset))];
  const editors = orderEditors(runs.map((run) => run.summary.editor), options.editorOrder);
  const generatedAt = formatDate((options.generatedAt ?? new Date()).toISOString());
  const body = [
    '<header>',
    `<h1>${escapeHtml(title)}</h1>`,
    `<p class="meta">${runs.length} run${runs.length === 1 ? '' : 's'} · models: ${escapeHtml(models.join(', '))} · datasets: ${escapeHtml(datasets.join(', '))} · editors: ${escapeHtml(editors.join(', '))}</p>`,
    ranOn(runs),
    `<p class="meta">Generated ${escapeHtml(generatedAt)} by <code>recipe-kit report</code>.</p>`,
    '</header>',
    section(
      'editing',
      'Editing performance',
      mainTables,
      '<p class="notes">Rel. (reliability): accuracy on the edit prompts; Gen. (generality): on their rephrasings; Loc. (locality): agreement with the unedited model’s own predictions on unrelated prompts. ' +
        'All are teacher-forced token-level top-1 accuracies over the target tokens, averaged over cases, in percent. The unedited model (<i>none</i>) comes first and is left out when marking the best value.</p>',
    ),
    skippedNote,
    section('fine-grained', 'Fine-grained results (RIPE)', fineGrained),
    section('general-ability', 'General ability after editing', general.length === 0 && unavailableNote !== '' ? [unavailableNote] : general, general.length > 0 ? unavailableNote : ''),
    section('efficiency', 'Efficiency', [...efficiency, ...largeModel]),
    section(
      'ablations',
      'Ablations of RECIPE',
      ablations,
      '<p class="notes">w/o KS: no knowledge sentinel (a fixed similarity threshold decides retrieval); w/o CPT: no continuous prompt tuning (the fact’s own word embeddings are the prefix).</p>',
    ),
    section('plots', 'Performance against the number of edits', figures),
    section('training', 'Training of the hypernetwork editors', options.trainingCurves && options.trainingCurves.length > 0 ? [renderTrainingFigure(options.trainingCurves, figures.length + 1)] : []),
    section('provenance', 'Provenance', runs.length === 0 ? [] : [renderProvenance(runs, groupRuns(runs, options.editorOrder))]),
    runs.length === 0 ? '<p>No runs.</p>' : '',
    `<footer>recipe-kit · ${runs.length} run${runs.length === 1 ? '' : 's'} · self-contained page: no scripts, no external files.</footer>`,
  ];
  return [
    '<!DOCTYPE html>',
    '<html lang="en">',
    '<head>',
    '<meta charset="utf-8">',
    '<meta name="viewport" content="width=device-width, initial-scale=1">',
    `<meta http-equiv="Content-Security-Policy" content="default-src 'none'; style-src 'unsafe-inline'; img-src data:">`,
    `<title>${escapeHtml(title)}</title>`,
    `<style>${STYLE}</style>`,
    '</head>',
    '<body>',
    '<main>',
    ...body.filter((part) => part !== ''),
    '</main>',
    '</body>',
    '</html>',
    '',
  ].join('\n');
}

/** Escapes Markdown table text: pipes, emphasis and code marks, and HTML. */
function escapeMarkdown(text: string): string {
  return text.replace(/[\\|*_`[\]]/g, (character) => `\\${character}`).replace(/</g, '&lt;').replace(/>/g, '&gt;');
}

/** The main tables (rows = editors, `none` first; Rel. / Gen. / Loc. per T in percent, best edited value bold) as Markdown. */
export function renderReportMarkdown(runs: readonly EvalRun[], options: Pick<ReportOptions, 'editorOrder'> = {}): string {
  const sections: string[] = [];
  for (const group of groupRuns(runs, options.editorOrder)) {
    const columns = group.edits.flatMap((edits) => METRICS.map((metric) => ({ edits, metric })));
    const values = columns.map(({ edits, metric }) => group.editors.map((editor) => shownPercent(group.run(editor, edits)?.summary[metric.key])));
    const best = values.map((column) => bestRows(column, group.editors));
    const lines = [
      `### ${escapeMarkdown(group.model)} · ${escapeMarkdown(group.dataset)} · ${group.protocol}`,
      '',
      `| Editor | ${columns.map(({ edits, metric }) => `${metric.short} (T=${edits})`).join(' | ')} |`,
      `|:---|${columns.map(() => '---:').join('|')}|`,
      ...group.editors.map((editor, row) => {
        const cells = columns.map((_, column) => {
          const value = values[column]?.[row] ?? null;
          if (value === null) return DASH;
          return best[column]?.has(row) === true ? `**${value.toFixed(1)}**` : value.toFixed(1);
        });
        return `| ${escapeMarkdown(editor)} | ${cells.join(' | ')} |`;
      }),
      '',
      `Teacher-forced token-level top-1 accuracy (%); ${PROTOCOL_TEXT[group.protocol]}. Bold: best edited model per column.`,
    ];
    sections.push(lines.join('\n'));
  }
  return `${sections.join('\n\n')}\n`;
}
