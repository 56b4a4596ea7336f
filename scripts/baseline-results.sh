#!/usr/bin/env bash
# Issue 7 baselines: lifelong editing (edit T, then score all T) of the no-op row and each baseline
# editor on one micro model, one run directory per (editor, T), then one report per model.
#
#   scripts/baseline-results.sh MODEL_DIR DATASET DATA OUT [EDITORS] [T:LIMIT...]
#   scripts/baseline-results.sh models/synthetic-llama synthetic models/synthetic-llama/held-out-eval-edits.json bench-results/baselines/synthetic-llama
#   scripts/baseline-results.sh models/counterfact-llama counterfact ../shared/data/editing/counterfact bench-results/baselines/counterfact-llama
#
# EDITORS is a comma list (default: none and every baseline registered for issue 7 whose runs are
# cheap enough; see the README in OUT). Each T:LIMIT pair runs T edits per chunk over LIMIT cases
# (default 1:20 10:50 100:100: one chunk at T = 100). Existing runs (summary.json present) are kept,
# so the script resumes; the report covers every run directory under OUT, engineer A's included.
# Issue 8's retrieval baselines need their artefacts first (recipe-kit train-lte → <model>/lte,
# recipe-kit calibrate-rase → <model>/rase); LTE's edits are cheap, so it also runs T = 1000:
#   scripts/baseline-results.sh models/synthetic-llama synthetic models/synthetic-llama/held-out-eval-edits.json bench-results/baselines/synthetic-llama lte 1:20 10:50 100:100 1000:1000
#   scripts/baseline-results.sh models/synthetic-llama synthetic models/synthetic-llama/held-out-eval-edits.json bench-results/baselines/synthetic-llama rase 1:20 10:50 100:100
# MEND and MALMEN need their hypernetworks (recipe-kit train-mend → <model>/mend, train-malmen → <model>/malmen);
# an edit towards a target the micro model cannot output is counted and changes nothing (unreachable-targets=skip):
#   scripts/baseline-results.sh models/counterfact-llama counterfact ../shared/data/editing/counterfact bench-results/baselines/counterfact-llama mend,malmen 1:100 10:100 100:100 1000:1000
set -euo pipefail
model=$1; dataset=$2; data=$3; out=$4
editors=${5:-none,ft-l,ft-m,grace,t-patcher}; shift $(( $# < 5 ? $# : 5 ))
pairs=("$@"); [ ${#pairs[@]} -eq 0 ] && pairs=(1:20 10:50 100:100)
cli=(node "$(dirname "$0")/../packages/bench/dist/cli/main.js")
split=(); [ "$dataset" = counterfact ] && split=(--split eval)
# ROME and WILKE with MEMIT's 6 context templates instead of ROME's 21: 3.5x fewer rows per v* step on 2 shared cores.
declare -A options=([rome]="--editor-option context-templates=memit" [wilke]="--editor-option context-templates=memit" [mend]="--editor-option unreachable-targets=skip" [malmen]="--editor-option unreachable-targets=skip")
for pair in "${pairs[@]}"; do
  t=${pair%%:*}; limit=${pair##*:}
  for entry in ${editors//,/ }; do
    # A variant is EDITOR+KEY=VALUE[+KEY=VALUE...]: extra editor options, its own run directory
    # (rome+fact-token=last → rome-fact-token-last-T1).
    editor=${entry%%+*}; variant=(); dir="$out/$editor-T$t"
    if [ "$entry" != "$editor" ]; then
      IFS=+ read -ra extra <<< "${entry#*+}"
      for pair_option in "${extra[@]}"; do variant+=(--editor-option "$pair_option"); done
      dir="$out/$(echo "$entry" | tr '+=' '--')-T$t"
    fi
    [ -f "$dir/summary.json" ] && continue
    echo "$(date -u +%H:%M:%S) $entry T=$t (limit $limit)" >&2
    "${cli[@]}" eval --editor "$editor" --model "$model" --dataset "$dataset" --data "$data" "${split[@]}" \
      --protocol lifelong --edits "$t" --limit "$limit" --seed 0 --skip-overlong --out "$dir" ${options[$editor]:-} "${variant[@]}" >/dev/null
  done
done
mapfile -t runs < <(find "$out" -mindepth 2 -maxdepth 2 -name summary.json -printf '%h\n' | sort)
title="Baselines on $(basename "$model") ($dataset, lifelong)"
"${cli[@]}" report "${runs[@]}" --out "$out/report.html" --title "$title" >/dev/null
"${cli[@]}" report "${runs[@]}" --out "$out/summary.md" --title "$title" >/dev/null
# The Markdown report has accuracy only: append edit time per edit and query time (overhead against none at the same T).
node --input-type=module - "${runs[@]}" >> "$out/summary.md" <<'JS'
import { readFileSync } from 'node:fs';
const rows = process.argv.slice(2).map((dir) => JSON.parse(readFileSync(`${dir}/summary.json`, 'utf8')));
const none = new Map(rows.filter((r) => r.editor === 'none').map((r) => [r.edits, r.querySecondsMean]));
const lines = ['', '| Editor | T | cases | edit ms / edit | query ms | query overhead vs none |', '|:---|---:|---:|---:|---:|---:|'];
for (const r of rows.sort((a, b) => a.edits - b.edits || a.editor.localeCompare(b.editor))) {
  const base = none.get(r.edits);
  lines.push(`| ${r.editor} | ${r.edits} | ${r.cases} | ${(1000 * r.editSecondsMean).toFixed(1)} | ${(1000 * r.querySecondsMean).toFixed(1)} | ${base ? `×${(r.querySecondsMean / base).toFixed(2)}` : '–'} |`);
}
console.log(lines.join('\n'));
JS
cat "$out/summary.md"
