import { escapeHtml } from './escape-html.js';
import type { EfficiencyModelResult, EfficiencyReport } from './efficiency-report.js';
import { formatParameterCount, formatRatio } from './report-format.js';

const DASH = '–';

function milliseconds(value: number | null): string {
  if (value === null) return DASH;
  return value >= 100 ? Math.round(value).toLocaleString('en-US') : value.toFixed(1);
}

function shape(model: EfficiencyModelResult): string {
  const depth = model.layers === model.layersInConfig ? `${model.layers} layers` : `${model.layers} of ${model.layersInConfig} layers`;
  return `${model.architecture}, width ${model.hiddenSize}, ${depth}, ${formatParameterCount(model.parameters)} parameters built` +
    (model.layers === model.layersInConfig ? '' : ` (${formatParameterCount(model.parametersInConfig)} at full depth)`);
}

/** Why a row has no numbers, shortened to its first line (the fix follows in the error's second line). */
function reasonText(reason: string | undefined): string {
  return (reason ?? '').split('\n')[0] ?? '';
}

/** The efficiency section: per model, each editor's ms per query, the unedited model's just before it, and the ratio. */
export function renderEfficiencyHtml(report: EfficiencyReport, firstTable: number): string[] {
  const truncated = report.models.some((model) => model.layers < model.layersInConfig);
  return report.models.map((model, index) => {
    const rows = model.editors.map((editor) => {
      const measured = editor.status === 'measured';
      const cells = measured
        ? [milliseconds(editor.uneditedMsPerQuery), milliseconds(editor.msPerQuery), editor.ratio === null ? DASH : formatRatio(editor.ratio), editor.editMsMean === null ? DASH : milliseconds(editor.editMsMean)]
            .map((text, column) => `<td data-column="${['unedited-ms', 'query-ms', 'ratio', 'edit-ms'][column]}">${escapeHtml(text)}</td>`)
            .join('')
        : `<td colspan="4" class="reason">${escapeHtml(`${editor.status}: ${reasonText(editor.reason)}`)}</td>`;
      return `<tr data-editor="${escapeHtml(editor.editor)}" data-status="${editor.status}"${editor.editor === 'none' ? ' class="baseline"' : ''}><th scope="row" class="editor">${escapeHtml(editor.editor)}</th>${cells}</tr>`;
    });
    const caption =
      `Inference time on a random-weight ${escapeHtml(model.name)} (${escapeHtml(shape(model))}), ${escapeHtml(report.backend)}: ` +
      `ms per query (batch 1, median of ${report.settings.repeats} passes over ${report.settings.queries} queries, half of them prompts of the ${report.settings.storedEdits} stored edits), ` +
      `the unedited model timed right before each editor, their ratio, and ms per edit on this model.` +
      (truncated && model.layers < model.layersInConfig ? ' <b>Truncated depth</b>: the full model does not fit the 4 GiB wasm32 heap; fixed per-query costs (retrieval) weigh more against fewer layers, so ratios overstate them.' : '');
    return [
      `<figure class="table" id="table-efficiency-model-${index + 1}">`,
      `<figcaption><span class="label">Table ${firstTable + index}:</span> ${caption}</figcaption>`,
      '<div class="table-scroll">',
      `<table class="results efficiency-model" data-table="efficiency-model" data-model="${escapeHtml(model.name)}">`,
      '<thead><tr><th class="editor">Editor</th><th>Unedited ms</th><th>Editor ms</th><th>Ratio</th><th>Edit ms</th></tr></thead>',
      `<tbody>${rows.join('\n')}</tbody>`,
      '</table>',
      '</div>',
      '</figure>',
    ].join('\n');
  });
}

/** The same tables as Markdown (for the terminal and summary.md). */
export function renderEfficiencyMarkdown(report: EfficiencyReport): string {
  const sections = report.models.map((model) => {
    const rows = model.editors.map((editor) =>
      editor.status === 'measured'
        ? `| ${editor.editor} | ${milliseconds(editor.uneditedMsPerQuery)} | ${milliseconds(editor.msPerQuery)} | ${editor.ratio === null ? DASH : formatRatio(editor.ratio)} | ${editor.editMsMean === null ? DASH : milliseconds(editor.editMsMean)} |`
        : `| ${editor.editor} | ${editor.status}: ${reasonText(editor.reason).replace(/\|/g, '\\|')} | | | |`,
    );
    return [
      `### Inference time: ${model.name} (${shape(model)}), ${report.backend}`,
      '',
      '| Editor | unedited ms/query | editor ms/query | ratio | ms/edit |',
      '|:---|---:|---:|---:|---:|',
      ...rows,
    ].join('\n');
  });
  return `${sections.join('\n\n')}\n`;
}
