// Does a rerun reproduce a committed `recipe-kit compare` run? Compares every cell the rerun finished
// with the same cell of the reference run: per case (reliability, generality, locality), per summary
// metric and per general-ability task. Timings are left out (they are not reproducible).
//   node scripts/compare-runs.mjs REFERENCE_RUN RERUN [--tolerance PP]
//   e.g. node scripts/compare-runs.mjs results/counterfact-llama /tmp/rerun-llama
// Prints a Markdown table; exits 1 when a summary metric moved by more than PP percentage points (default 0.5).
import { existsSync, readdirSync, readFileSync } from 'node:fs';
import path from 'node:path';

const args = process.argv.slice(2);
const toleranceIndex = args.indexOf('--tolerance');
const tolerance = toleranceIndex >= 0 ? Number(args[toleranceIndex + 1]) : 0.5;
const [reference, rerun] = toleranceIndex < 0 ? args : args.filter((_, index) => index !== toleranceIndex && index !== toleranceIndex + 1);
if (!reference || !rerun || !Number.isFinite(tolerance)) {
  console.error('usage: compare-runs.mjs REFERENCE_RUN RERUN [--tolerance PP]');
  process.exit(2);
}
const METRICS = ['reliability', 'generality', 'locality'];

function cases(cell) {
  const rows = new Map();
  for (const line of readFileSync(path.join(cell, 'cases.jsonl'), 'utf8').split('\n')) {
    if (line.trim() === '') continue;
    const row = JSON.parse(line);
    rows.set(row.caseId, row);
  }
  return rows;
}

const lines = [
  `Reference \`${reference}\`, rerun \`${rerun}\`; Δ in percentage points (rerun − reference).`,
  '',
  '| cell | cases | identical cases | max per-case Δ (Rel. / Gen. / Loc.) | summary Δ (Rel. / Gen. / Loc.) | general-ability Δ |',
  '|---|---:|---:|---|---|---|',
];
let worst = 0;
let compared = 0;
for (const name of readdirSync(path.join(rerun, 'cells')).sort()) {
  const [a, b] = [path.join(reference, 'cells', name), path.join(rerun, 'cells', name)];
  if (!existsSync(path.join(b, 'summary.json')) || !existsSync(path.join(a, 'summary.json'))) continue;
  compared += 1;
  const [left, right] = [cases(a), cases(b)];
  let identical = 0;
  const maxDelta = METRICS.map(() => 0);
  for (const [id, row] of right) {
    const other = left.get(id);
    if (!other) throw new Error(`${name}: case ${id} of the rerun is not in the reference`);
    const deltas = METRICS.map((metric) => Math.abs((row[metric] ?? 0) - (other[metric] ?? 0)));
    if (deltas.every((delta) => delta === 0)) identical += 1;
    deltas.forEach((delta, i) => (maxDelta[i] = Math.max(maxDelta[i], delta)));
  }
  const [sa, sb] = [JSON.parse(readFileSync(path.join(a, 'summary.json'), 'utf8')), JSON.parse(readFileSync(path.join(b, 'summary.json'), 'utf8'))];
  const summaryDelta = METRICS.map((metric) => 100 * ((sb[metric] ?? 0) - (sa[metric] ?? 0)));
  worst = Math.max(worst, ...summaryDelta.map(Math.abs));
  const general = Object.keys({ ...sa.general, ...sb.general })
    .map((task) => `${task} ${(100 * ((sb.general?.[task] ?? NaN) - (sa.general?.[task] ?? NaN))).toFixed(1)}`)
    .join(', ');
  const fmt = (values, digits) => values.map((value) => value.toFixed(digits)).join(' / ');
  lines.push(`| ${name} | ${right.size} | ${identical} | ${fmt(maxDelta.map((value) => 100 * value), 1)} | ${fmt(summaryDelta, 2)} | ${general || '—'} |`);
}
if (compared === 0) {
  console.error(`No finished cell of ${rerun} is in ${reference}.`);
  process.exit(2);
}
lines.push('', `${compared} cells; largest summary move ${worst.toFixed(2)} points (tolerance ${tolerance}).`);
console.log(lines.join('\n'));
process.exit(worst > tolerance ? 1 : 0);
