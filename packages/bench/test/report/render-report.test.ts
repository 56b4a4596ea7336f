import { describe, expect, it } from 'vitest';
import { readRuns, type EvalRun } from '../../src/report/read-runs.js';
import { renderReportHtml, renderReportMarkdown } from '../../src/report/render-report.js';
import { formatMilliseconds, formatPercent } from '../../src/report/report-format.js';
import { scratchDirectory, writeSyntheticRun, writeSyntheticSweep, type SyntheticRun } from './synthetic-runs.js';

async function runsOf(specs: SyntheticRun[]): Promise<EvalRun[]> {
  const root = scratchDirectory();
  return readRuns(specs.map((spec) => writeSyntheticRun(root, spec)));
}

/** The first <table data-table="NAME"> (optionally for one dataset). */
function table(html: string, name: string, dataset?: string): string {
  const pattern = new RegExp(`<table[^>]*data-table="${name}"[^>]*${dataset ? `data-dataset="${dataset}"` : ''}[^>]*>[\\s\\S]*?</table>`);
  const match = pattern.exec(html);
  if (!match) throw new Error(`table ${name} not found`);
  return match[0];
}

function rowEditors(tableHtml: string): string[] {
  return [...tableHtml.matchAll(/<tr data-editor="([^"]*)"/g)].map((match) => match[1] as string);
}

/** Text of the cell of `editor` with the given data attributes, e.g. { edits: 10, metric: 'reliability' }. */
function cell(tableHtml: string, editor: string, attributes: Record<string, string | number>): string {
  const rows = [...tableHtml.matchAll(/<tr data-editor="([^"]*)"[^>]*>([\s\S]*?)<\/tr>/g)].filter((match) => match[1] === editor);
  const wanted = Object.entries(attributes)
    .map(([name, value]) => `data-${name}="${value}"`)
    .join(' ');
  for (const row of rows) {
    const found = new RegExp(`<td[^>]*${wanted}[^>]*>(.*?)</td>`).exec(row[2] as string);
    if (found) return found[1] as string;
  }
  throw new Error(`cell ${editor} ${wanted} not found`);
}

describe('formatting', () => {
  it('shows fractions as percentages with one decimal, halves rounded up', () => {
    expect(formatPercent(0.8765)).toBe('87.7');
    expect(formatPercent(0.8125)).toBe('81.3');
    expect(formatPercent(0.0005)).toBe('0.1');
    expect(formatPercent(1)).toBe('100.0');
    expect(formatPercent(0)).toBe('0.0');
  });

  it('shows seconds as milliseconds with three significant digits', () => {
    expect(formatMilliseconds(0.0184)).toBe('18.4');
    expect(formatMilliseconds(0.000123)).toBe('0.12');
    expect(formatMilliseconds(0.031)).toBe('31.0');
    expect(formatMilliseconds(1.7349)).toBe('1,735');
  });
});

describe('renderReportHtml', () => {
  const specs: SyntheticRun[] = [
    { editor: 'recipe', edits: 10, reliability: 0.8765, generality: 0.7, locality: 0.95, querySecondsMean: 0.0209 },
    { editor: 'ft', edits: 10, reliability: 0.5, generality: 0.7, locality: 0.6, querySecondsMean: 0.0184 },
    { editor: 'none', edits: 10, reliability: 0.3, generality: 0.3, locality: 1, querySecondsMean: 0.0184 },
    { editor: 'rome', edits: 10, reliability: 0.81, generality: 0.65, locality: 0.9, querySecondsMean: 0.0184 },
    { editor: 'recipe', edits: 1, reliability: 0.99, generality: 0.9, locality: 0.99 },
    { editor: 'none', edits: 1, reliability: 0.3, generality: 0.3, locality: 1 },
    { editor: 'ft', edits: 1, reliability: 0.97, generality: 0.6, locality: 0.94 },
  ];

  it('puts Rel. / Gen. / Loc. in percent with one decimal under each T', async () => {
    const html = renderReportHtml(await runsOf(specs));
    const main = table(html, 'main');
    expect(cell(main, 'recipe', { edits: 10, metric: 'reliability' })).toBe('<b>87.7</b>');
    expect(cell(main, 'ft', { edits: 10, metric: 'locality' })).toBe('60.0');
    expect(cell(main, 'none', { edits: 1, metric: 'generality' })).toBe('30.0');
    expect(main).toContain('T = 1</span>');
    expect(main).toContain('T = 10</span>');
    expect(main.indexOf('T = 1</span>')).toBeLessThan(main.indexOf('T = 10</span>'));
    expect(main.match(/>Rel\.</g)).toHaveLength(2);
    // rome has no T = 1 run.
    expect(cell(main, 'rome', { edits: 1, metric: 'reliability' })).toBe('–');
  });

  it('lists the unedited model first, then editors alphabetically with recipe last', async () => {
    const html = renderReportHtml(await runsOf(specs));
    expect(rowEditors(table(html, 'main'))).toEqual(['none', 'ft', 'rome', 'recipe']);
    expect(rowEditors(table(renderReportHtml(await runsOf(specs), { editorOrder: ['rome'] }), 'main'))).toEqual(['none', 'rome', 'ft', 'recipe']);
  });

  it('bolds the best edited value per column, ties included, never the unedited row', async () => {
    const main = table(renderReportHtml(await runsOf(specs)), 'main');
    expect(cell(main, 'recipe', { edits: 10, metric: 'locality' })).toBe('<b>95.0</b>');
    expect(cell(main, 'none', { edits: 10, metric: 'locality' })).toBe('100.0');
    // Generality at T = 10: recipe and ft tie at 70.0.
    expect(cell(main, 'recipe', { edits: 10, metric: 'generality' })).toBe('<b>70.0</b>');
    expect(cell(main, 'ft', { edits: 10, metric: 'generality' })).toBe('<b>70.0</b>');
    expect(cell(main, 'rome', { edits: 10, metric: 'generality' })).toBe('65.0');
    expect(main.match(/<b>/g)).toHaveLength(7);
  });

  it('escapes editor names, titles and paths', async () => {
    const runs = await runsOf([
      { editor: 'none', edits: 1 },
      { editor: '<script>alert("x")</script>', edits: 1, model: 'm&m' },
    ]);
    const html = renderReportHtml(runs, { title: '<img src=x onerror=alert(1)>' });
    expect(html).not.toMatch(/<script/i);
    expect(html).not.toContain('<img');
    expect(html).toContain('&lt;script&gt;alert(&quot;x&quot;)&lt;/script&gt;');
    expect(html).toContain('&lt;img src=x onerror=alert(1)&gt;');
    expect(html).toContain('m&amp;m');
  });

  it('is self-contained: no scripts, no external resources', async () => {
    const html = renderReportHtml(await runsOf(specs));
    expect(html).not.toMatch(/<script|<link|<img|@import|url\(|https?:\/\/(?!www\.w3\.org\/2000\/svg)/i);
    expect(html.startsWith('<!DOCTYPE html>')).toBe(true);
  });

  it('draws one figure per model and dataset, with one line per editor in each of Rel., Gen. and Loc.', async () => {
    const root = scratchDirectory();
    const runs = await readRuns(writeSyntheticSweep(root));
    const html = renderReportHtml(runs);
    const figures = [...html.matchAll(/<svg[\s\S]*?<\/svg>/g)].map((match) => match[0]);
    expect(figures).toHaveLength(2);
    const zsre = figures[0] as string;
    const panels = [...zsre.matchAll(/<g class="panel" data-metric="(\w+)">([\s\S]*?)(?=<g class="panel"|<\/svg>)/g)];
    expect(panels.map((panel) => panel[1])).toEqual(['reliability', 'generality', 'locality']);
    for (const panel of panels) {
      const editors = [...(panel[2] as string).matchAll(/<path class="series" data-editor="([^"]*)"/g)].map((match) => match[1]);
      expect(editors).toEqual(['none', 'ft', 'lte', 'rome', 'recipe']);
    }
    // Legend with every editor, x axis in log scale (T from 1 to 1,000), ticks at each T.
    expect([...zsre.matchAll(/class="legend-item" data-editor="([^"]*)"/g)].map((match) => match[1])).toEqual(['none', 'ft', 'lte', 'rome', 'recipe']);
    expect(zsre).toContain('Number of edits T (log scale)');
    for (const tick of ['>1<', '>10<', '>100<', '>1,000<']) expect(zsre).toContain(tick);
    expect(zsre).toContain('Accuracy (%)');
    // The same editor has the same colour in both figures.
    const colour = (svg: string, editor: string) => new RegExp(`<path class="series" data-editor="${editor}" d="[^"]*" stroke="(#[0-9A-F]{6})"`).exec(svg)?.[1];
    expect(colour(figures[1] as string, 'recipe')).toBe(colour(zsre, 'recipe'));
    expect(colour(zsre, 'recipe')).not.toBe(colour(zsre, 'rome'));
  });

  it('keeps a linear T axis when T spans less than a decade', async () => {
    const html = renderReportHtml(
      await runsOf([
        { editor: 'ft', edits: 2 },
        { editor: 'ft', edits: 8 },
      ]),
    );
    expect(html).toContain('Number of edits T</text>');
    expect(html).not.toContain('(log scale)');
  });

  it('adds RIPE, general-ability and efficiency tables only when there is data for them', async () => {
    const plain = renderReportHtml(await runsOf(specs));
    expect(plain).not.toContain('data-table="fine-grained"');
    expect(plain).not.toContain('data-table="general"');
    const efficiency = table(plain, 'efficiency');
    expect(cell(efficiency, 'recipe', { edits: 10, column: 'query-ms' })).toBe('20.9');
    expect(cell(efficiency, 'recipe', { edits: 10, column: 'query-overhead' })).toBe('×1.14');
    expect(cell(efficiency, 'recipe', { edits: 10, column: 'edit-ms' })).toBe('12.0');
    expect(cell(efficiency, 'none', { edits: 10, column: 'edit-ms' })).toBe('–');
    // No unedited run at T = 1 for rome: no ratio.
    const withoutBaseline = table(renderReportHtml(await runsOf([{ editor: 'rome', edits: 1 }])), 'efficiency');
    expect(cell(withoutBaseline, 'rome', { edits: 1, column: 'query-overhead' })).toBe('–');

    const ripe = renderReportHtml(await readRuns(writeSyntheticSweep(scratchDirectory())));
    const fine = table(ripe, 'fine-grained', 'ripe');
    expect(fine).toContain('Logical Generalization');
    expect(fine).toContain('Forgetfulness');
    expect(cell(fine, 'recipe', { edits: 1, column: 'generality:Subject_Aliasing' })).toBe('<b>100.0</b>');
    const general = table(ripe, 'general', 'ripe');
    expect(general).toContain('>CSQA<');
    expect(general).toContain('>SQuAD-2<');
    expect(cell(general, 'none', { edits: 100, column: 'csqa' })).toBe('21.1');
  });

  it('records provenance: command, date, backend, machine, commit and dataset hash', async () => {
    const html = renderReportHtml(await runsOf(specs));
    const provenance = /<section id="provenance">[\s\S]*?<\/section>/.exec(html)?.[0] ?? '';
    expect(provenance).toContain('recipe-kit eval --editor recipe');
    expect(provenance).toContain('2025-03-14 09:26 UTC');
    expect(provenance).toContain('tensorflow (node, cpu)');
    expect(provenance).toContain('AMD EPYC 7763 64-Core Processor, 16 cores, 125.7 GiB, Node v20.20.2');
    expect(provenance).toContain('3f2a9c1d0e8b');
    expect(provenance).toContain('0123456789abcdef'.repeat(4));
    expect(provenance.match(/<tbody class="run"/g)).toHaveLength(specs.length);
  });
});

describe('renderReportMarkdown', () => {
  it('renders the main table with none first and the best values in bold', async () => {
    const markdown = renderReportMarkdown(
      await runsOf([
        { editor: 'recipe', edits: 10, reliability: 0.8765, generality: 0.7, locality: 0.95 },
        { editor: 'ft|v2', edits: 10, reliability: 0.5, generality: 0.7, locality: 0.6 },
        { editor: 'none', edits: 10, reliability: 0.3, generality: 0.3, locality: 1 },
      ]),
    );
    expect(markdown).toBe(
      [
        '### llama-2-7b · zsre · lifelong',
        '',
        '| Editor | Rel. (T=10) | Gen. (T=10) | Loc. (T=10) |',
        '|:---|---:|---:|---:|',
        '| none | 30.0 | 30.0 | 100.0 |',
        '| ft\\|v2 | 50.0 | **70.0** | 60.0 |',
        '| recipe | **87.7** | **70.0** | **95.0** |',
        '',
        'Teacher-forced token-level top-1 accuracy (%); lifelong editing (T sequential edits, then all T scored). Bold: best edited model per column.',
        '',
      ].join('\n'),
    );
  });
});
