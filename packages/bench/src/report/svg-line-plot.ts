import { escapeHtml } from './escape-html.js';
import { UNEDITED_EDITOR } from './report-groups.js';

export type MarkerShape = 'circle' | 'square' | 'triangle' | 'diamond' | 'triangle-down' | 'hexagon';

/** How one editor is drawn, the same in every plot of a report. */
export interface SeriesStyle {
  colour: string;
  marker: MarkerShape;
  /** SVG stroke-dasharray, or null for a solid line. */
  dash: string | null;
}

/** Okabe & Ito (2008), readable with every common colour-vision deficiency; yellow last (weak on white). */
const PALETTE = ['#0072B2', '#D55E00', '#009E73', '#CC79A7', '#E69F00', '#56B4E9', '#000000', '#F0E442'];
const MARKERS: MarkerShape[] = ['circle', 'square', 'triangle', 'diamond', 'triangle-down', 'hexagon'];
const DASHES: (string | null)[] = [null, '6 3', '2 2'];

/** One style per editor: the unedited model grey and dashed, the others from the palette with distinct markers. */
export function seriesStyles(editors: readonly string[]): Map<string, SeriesStyle> {
  const styles = new Map<string, SeriesStyle>();
  let index = 0;
  for (const editor of editors) {
    if (editor === UNEDITED_EDITOR) {
      styles.set(editor, { colour: '#7A7A7A', marker: 'circle', dash: '4 3' });
      continue;
    }
    styles.set(editor, {
      colour: PALETTE[index % PALETTE.length] as string,
      marker: MARKERS[index % MARKERS.length] as MarkerShape,
      dash: DASHES[Math.floor(index / PALETTE.length) % DASHES.length] ?? null,
    });
    index += 1;
  }
  return styles;
}

export interface PlotSeries {
  name: string;
  style: SeriesStyle;
  /** x: T; y: percentage in [0, 100]. */
  points: { x: number; y: number }[];
}

export interface PlotPanel {
  /** Key written into data-metric (e.g. "reliability"). */
  key: string;
  title: string;
  series: PlotSeries[];
}

export interface LinePlotFigure {
  id: string;
  /** Accessible title of the whole figure. */
  title: string;
  panels: PlotPanel[];
  xLabel: string;
  yLabel: string;
  /** Legend entries in order (name → style). */
  legend: { name: string; style: SeriesStyle }[];
  /** x axis: log when the values span a decade (T = 1 … 1000), unless `linear` (training steps). Default `auto`. */
  xAxis?: 'auto' | 'linear';
}

const FONT = `'Times New Roman', 'Liberation Serif', 'Nimbus Roman', Times, serif`;
const PANEL_WIDTH = 230;
const PANEL_HEIGHT = 168;
const MARGIN = { left: 46, right: 12, top: 24, bottom: 40 };
const PANEL_GAP = 8;
const LEGEND_ROW = 18;

interface Scale {
  map(value: number): number;
  ticks: number[];
  format(value: number): string;
}

function round(value: number): string {
  return (Math.round(value * 100) / 100).toString();
}

/** Log scale when T spans at least a decade, linear otherwise; ticks at the T values when there are few. */
export function xScale(values: readonly number[], left: number, right: number, axis: 'auto' | 'linear' = 'auto'): Scale & { log: boolean } {
  const distinct = [...new Set(values)].sort((a, b) => a - b);
  const min = distinct[0] ?? 1;
  const max = distinct[distinct.length - 1] ?? 1;
  const log = axis === 'auto' && min > 0 && max / min >= 10;
  const transform = log ? Math.log10 : (value: number) => value;
  let lo = transform(min);
  let hi = transform(max);
  if (hi === lo) {
    lo -= log ? 0.5 : Math.max(1, Math.abs(lo) * 0.5);
    hi += log ? 0.5 : Math.max(1, Math.abs(hi) * 0.5);
  }
  const pad = (hi - lo) * 0.06;
  lo -= pad;
  hi += pad;
  let ticks: number[];
  if (distinct.length <= 8) ticks = distinct;
  else if (log) {
    ticks = [];
    for (let power = Math.ceil(Math.log10(min)); power <= Math.floor(Math.log10(max)); power += 1) ticks.push(10 ** power);
  } else ticks = niceTicks(min, max, 6);
  return {
    log,
    ticks,
    map: (value) => left + ((transform(value) - lo) / (hi - lo)) * (right - left),
    format: (value) => value.toLocaleString('en-US'),
  };
}

function niceTicks(min: number, max: number, count: number): number[] {
  const raw = (max - min) / Math.max(1, count - 1);
  const magnitude = 10 ** Math.floor(Math.log10(raw));
  const step = ([1, 2, 5, 10].find((factor) => factor * magnitude >= raw) ?? 10) * magnitude;
  const ticks: number[] = [];
  for (let value = Math.ceil(min / step) * step; value <= max + step * 1e-9; value += step) ticks.push(Number(value.toPrecision(12)));
  return ticks;
}

/** A percentage axis over the data, widened to whole steps and kept within [0, 100]. */
export function yScale(values: readonly number[], top: number, bottom: number): Scale {
  const min = values.length > 0 ? Math.min(...values) : 0;
  const max = values.length > 0 ? Math.max(...values) : 100;
  const span = Math.max(max - min, 1);
  const step = span <= 8 ? 2 : span <= 20 ? 5 : span <= 50 ? 10 : 20;
  let lo = Math.max(0, Math.floor((min - step * 0.25) / step) * step);
  let hi = Math.min(100, Math.ceil((max + step * 0.25) / step) * step);
  if (hi - lo < step * 2) {
    if (hi + step <= 100) hi += step;
    else lo = Math.max(0, lo - step);
  }
  const ticks: number[] = [];
  for (let value = lo; value <= hi + 1e-9; value += step) ticks.push(value);
  return { ticks, map: (value) => bottom - ((value - lo) / (hi - lo)) * (bottom - top), format: (value) => String(value) };
}

/** The marker of a series at (x, y), as an SVG element. */
function marker(shape: MarkerShape, x: number, y: number, style: SeriesStyle, hollow: boolean): string {
  const fill = hollow ? '#ffffff' : style.colour;
  const common = `fill="${fill}" stroke="${style.colour}" stroke-width="1.2"`;
  const r = 3.2;
  const polygon = (points: [number, number][]) =>
    `<polygon points="${points.map(([dx, dy]) => `${round(x + dx)},${round(y + dy)}`).join(' ')}" ${common}/>`;
  switch (shape) {
    case 'circle':
      return `<circle cx="${round(x)}" cy="${round(y)}" r="${r}" ${common}/>`;
    case 'square':
      return `<rect x="${round(x - r * 0.9)}" y="${round(y - r * 0.9)}" width="${round(r * 1.8)}" height="${round(r * 1.8)}" ${common}/>`;
    case 'triangle':
      return polygon([
        [0, -r * 1.15],
        [r * 1.05, r * 0.75],
        [-r * 1.05, r * 0.75],
      ]);
    case 'triangle-down':
      return polygon([
        [0, r * 1.15],
        [r * 1.05, -r * 0.75],
        [-r * 1.05, -r * 0.75],
      ]);
    case 'diamond':
      return polygon([
        [0, -r * 1.25],
        [r * 1.1, 0],
        [0, r * 1.25],
        [-r * 1.1, 0],
      ]);
    case 'hexagon':
      return polygon(
        [0, 1, 2, 3, 4, 5].map((k) => [r * 1.1 * Math.cos((Math.PI / 3) * k), r * 1.1 * Math.sin((Math.PI / 3) * k)] as [number, number]),
      );
  }
}

function lineAttributes(style: SeriesStyle): string {
  return `stroke="${style.colour}" stroke-width="1.6" fill="none" stroke-linejoin="round" stroke-linecap="round"${style.dash ? ` stroke-dasharray="${style.dash}"` : ''}`;
}

/** Greedy legend layout in rows no wider than `width` (text width estimated from character count). */
function legendRows(entries: LinePlotFigure['legend'], width: number): { entry: LinePlotFigure['legend'][number]; x: number; width: number }[][] {
  const rows: { entry: LinePlotFigure['legend'][number]; x: number; width: number }[][] = [[]];
  let x = 0;
  for (const entry of entries) {
    const itemWidth = 30 + Math.min(entry.name.length, 40) * 5.6 + 16;
    if (x > 0 && x + itemWidth > width) {
      rows.push([]);
      x = 0;
    }
    (rows[rows.length - 1] as { entry: LinePlotFigure['legend'][number]; x: number; width: number }[]).push({ entry, x, width: itemWidth });
    x += itemWidth;
  }
  return rows;
}

function truncate(text: string, length: number): string {
  return text.length > length ? `${text.slice(0, length - 1)}…` : text;
}

/** A row of panels sharing one legend (e.g. Rel. / Gen. / Loc. vs. T), as a standalone inline SVG. */
export function renderLinePlotFigure(figure: LinePlotFigure): string {
  const width = MARGIN.left + figure.panels.length * (PANEL_WIDTH + PANEL_GAP) - PANEL_GAP + MARGIN.right;
  const rows = legendRows(figure.legend, width - 20);
  const legendHeight = rows.length * LEGEND_ROW + 6;
  const height = legendHeight + MARGIN.top + PANEL_HEIGHT + MARGIN.bottom;
  const parts: string[] = [];
  const titleId = `${figure.id}-title`;
  parts.push(
    `<svg xmlns="http://www.w3.org/2000/svg" class="plot" id="${escapeHtml(figure.id)}" viewBox="0 0 ${width} ${height}" width="${width}" height="${height}" role="img" aria-labelledby="${escapeHtml(titleId)}" font-family="${escapeHtml(FONT)}" font-size="11">`,
    `<title id="${escapeHtml(titleId)}">${escapeHtml(figure.title)}</title>`,
    `<rect width="${width}" height="${height}" fill="#ffffff"/>`,
  );

  // Legend, centred above the panels.
  parts.push('<g class="legend">');
  for (const [rowIndex, row] of rows.entries()) {
    const rowWidth = row.reduce((total, item) => total + item.width, 0) - 16;
    const offset = (width - rowWidth) / 2;
    const y = 6 + rowIndex * LEGEND_ROW + LEGEND_ROW / 2;
    for (const item of row) {
      const x = offset + item.x;
      const { style, name } = item.entry;
      parts.push(
        `<g class="legend-item" data-editor="${escapeHtml(name)}">`,
        `<line x1="${round(x)}" y1="${round(y)}" x2="${round(x + 24)}" y2="${round(y)}" ${lineAttributes(style)}/>`,
        marker(style.marker, x + 12, y, style, name === UNEDITED_EDITOR),
        `<text x="${round(x + 30)}" y="${round(y + 3.8)}" fill="#000000">${escapeHtml(truncate(name, 40))}</text>`,
        '</g>',
      );
    }
  }
  parts.push('</g>');

  const allX = figure.panels.flatMap((panel) => panel.series.flatMap((series) => series.points.map((point) => point.x)));
  for (const [panelIndex, panel] of figure.panels.entries()) {
    const left = MARGIN.left + panelIndex * (PANEL_WIDTH + PANEL_GAP);
    const right = left + PANEL_WIDTH;
    const top = legendHeight + MARGIN.top;
    const bottom = top + PANEL_HEIGHT;
    const plotLeft = left + (panelIndex === 0 ? 0 : 26);
    const x = xScale(allX, plotLeft + 6, right - 6, figure.xAxis);
    const y = yScale(
      panel.series.flatMap((series) => series.points.map((point) => point.y)),
      top,
      bottom,
    );
    parts.push(`<g class="panel" data-metric="${escapeHtml(panel.key)}">`);
    parts.push(
      `<text x="${round((plotLeft + right) / 2)}" y="${round(top - 8)}" text-anchor="middle" font-size="12" fill="#000000">${escapeHtml(panel.title)}</text>`,
    );
    // Grid and y ticks.
    for (const tick of y.ticks) {
      const ty = y.map(tick);
      parts.push(
        `<line x1="${round(plotLeft)}" y1="${round(ty)}" x2="${round(right)}" y2="${round(ty)}" stroke="#E6E6E6" stroke-width="0.8"/>`,
        `<line x1="${round(plotLeft - 4)}" y1="${round(ty)}" x2="${round(plotLeft)}" y2="${round(ty)}" stroke="#000000" stroke-width="0.8"/>`,
        `<text x="${round(plotLeft - 6)}" y="${round(ty + 3.6)}" text-anchor="end" fill="#000000">${escapeHtml(y.format(tick))}</text>`,
      );
    }
    // x ticks.
    for (const tick of x.ticks) {
      const tx = x.map(tick);
      parts.push(
        `<line x1="${round(tx)}" y1="${round(bottom)}" x2="${round(tx)}" y2="${round(bottom + 4)}" stroke="#000000" stroke-width="0.8"/>`,
        `<text x="${round(tx)}" y="${round(bottom + 15)}" text-anchor="middle" fill="#000000">${escapeHtml(x.format(tick))}</text>`,
      );
    }
    // Axes (left and bottom, as in most paper figures) and labels.
    parts.push(
      `<path d="M${round(plotLeft)} ${round(top)}V${round(bottom)}H${round(right)}" stroke="#000000" stroke-width="0.9" fill="none"/>`,
      `<text x="${round((plotLeft + right) / 2)}" y="${round(bottom + 31)}" text-anchor="middle" fill="#000000">${escapeHtml(figure.xLabel)}${x.log ? ' (log scale)' : ''}</text>`,
    );
    if (panelIndex === 0) {
      const cy = (top + bottom) / 2;
      parts.push(
        `<text x="${round(left - 34)}" y="${round(cy)}" text-anchor="middle" transform="rotate(-90 ${round(left - 34)} ${round(cy)})" fill="#000000">${escapeHtml(figure.yLabel)}</text>`,
      );
    }
    // Series: one path per editor, then its markers on top.
    for (const series of panel.series) {
      const points = [...series.points].sort((a, b) => a.x - b.x);
      const d = points.map((point, index) => `${index === 0 ? 'M' : 'L'}${round(x.map(point.x))} ${round(y.map(point.y))}`).join('');
      parts.push(
        `<g class="series-group" data-editor="${escapeHtml(series.name)}">`,
        `<path class="series" data-editor="${escapeHtml(series.name)}" d="${d}" ${lineAttributes(series.style)}/>`,
        ...points.map(
          (point) =>
            `<g><title>${escapeHtml(`${series.name}, T = ${x.format(point.x)}: ${point.y.toFixed(1)}`)}</title>${marker(series.style.marker, x.map(point.x), y.map(point.y), series.style, series.name === UNEDITED_EDITOR)}</g>`,
        ),
        '</g>',
      );
    }
    parts.push('</g>');
  }
  parts.push('</svg>');
  return parts.join('\n');
}
