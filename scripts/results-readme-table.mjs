// The Rel. / Gen. / Loc. table of results/README.md, from a `recipe-kit compare` run's finished cells, rounded
// exactly as report.html rounds (formatPercent). A cell scored on fewer cases than the run's largest cell at
// that T is marked "(N cases)". Build first (`pnpm build`): it imports the bench package's formatter.
//   node scripts/results-readme-table.mjs results/counterfact-llama
import { existsSync, readdirSync, readFileSync } from 'node:fs';
import path from 'node:path';
import { formatPercent } from '../packages/bench/dist/report/report-format.js';

const run = process.argv[2];
if (!run || !existsSync(path.join(run, 'cells'))) {
  console.error('usage: results-readme-table.mjs RUN_DIR   (a directory with cells/*/summary.json)');
  process.exit(2);
}

// The README's row order: unedited, weight editors, hypernetworks, retrieval editors, RECIPE and its ablations.
const ORDER = ['none', 'ft-l', 'ft-m', 'grace', 't-patcher', 'mend', 'malmen', 'lte', 'rome', 'memit', 'wilke', 'rase', 'recipe'];
const ABLATION_LABELS = { 'w/o KS': 'recipe w/o KS (fixed threshold)', 'w/o CPT': 'recipe w/o CPT (word embeddings as prefix)' };

/** "rome (context-templates=memit, fact-token=last)" → "rome"; "recipe (w/o KS)" → the ablation's label. */
function rowLabel(editor) {
  const ablation = /^recipe \((w\/o \w+)\)$/.exec(editor);
  if (ablation) return ABLATION_LABELS[ablation[1]] ?? editor;
  return editor.replace(/ \(.*\)$/, '');
}

const cells = readdirSync(path.join(run, 'cells'))
  .map((name) => path.join(run, 'cells', name, 'summary.json'))
  .filter((file) => existsSync(file))
  .map((file) => JSON.parse(readFileSync(file, 'utf8')));
const edits = [...new Set(cells.map((cell) => cell.edits))].sort((a, b) => a - b);
const mostCases = new Map(edits.map((t) => [t, Math.max(...cells.filter((cell) => cell.edits === t).map((cell) => cell.cases))]));
const rows = new Map();
for (const cell of cells) {
  const label = rowLabel(cell.editor);
  if (!rows.has(label)) rows.set(label, new Map());
  rows.get(label).set(cell.edits, cell);
}
const rank = (label) => {
  const base = ORDER.indexOf(label.split(' ')[0]);
  const ablation = Object.values(ABLATION_LABELS).indexOf(label);
  return (base < 0 ? ORDER.length : base) + (ablation < 0 ? 0 : 0.1 * (ablation + 1));
};
const labels = [...rows.keys()].sort((a, b) => rank(a) - rank(b) || a.localeCompare(b));

const lines = [
  `| editor | ${edits.map((t) => `T = ${t.toLocaleString('en-US')}`).join(' | ')} |`,
  `|---|${edits.map(() => '---').join('|')}|`,
];
for (const label of labels) {
  const row = rows.get(label);
  const values = edits.map((t) => {
    const cell = row.get(t);
    if (!cell) return '';
    const scores = [cell.reliability, cell.generality, cell.locality].map(formatPercent).join(' / ');
    return cell.cases < mostCases.get(t) ? `${scores} (${cell.cases}&nbsp;cases)` : scores;
  });
  lines.push(`| ${label} | ${values.join(' | ')} |`);
}
console.log(lines.join('\n'));
