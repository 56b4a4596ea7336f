#!/usr/bin/env bash
# RECIPE's results for issue 5: lifelong editing at T = 1, 10, 100, 1000 for the no-op editor and
# RECIPE, RECIPE's ablations (w/o KS, w/o CPT) at T = 100, and RECIPE with a calibrated sentinel
# margin at the two largest T (and with the margin validated for a locality target, where the
# checkpoint's calibration.json has one), on one micro model and dataset.
# Writes one run directory per (editor, T) and a report into OUT.
#
#   scripts/recipe-results.sh MODEL_DIR DATASET DATA OUT [LIMIT] [T...]
#   scripts/recipe-results.sh models/synthetic-llama synthetic models/synthetic-llama/held-out-eval-edits.json bench-results/recipe-editing/synthetic-llama
#   scripts/recipe-results.sh models/counterfact-llama counterfact ../shared/data/editing/counterfact bench-results/recipe-editing/counterfact-llama 1000
set -euo pipefail
model=$1; dataset=$2; data=$3; out=$4; limit=${5:-1000}; shift $(( $# < 5 ? $# : 5 ))
edits=("$@"); [ ${#edits[@]} -eq 0 ] && edits=(1 10 100 1000)
cli=(node "$(dirname "$0")/../packages/bench/dist/cli/main.js")
split=(); [ "$dataset" = counterfact ] && split=(--split eval)
runs=()
run() { # editor T directory [extra flags]
  local editor=$1 t=$2 dir=$3; shift 3
  if [ ! -f "$dir/summary.json" ]; then
    "${cli[@]}" eval --editor "$editor" --model "$model" --dataset "$dataset" --data "$data" "${split[@]}" \
      --protocol lifelong --edits "$t" --limit "$limit" --seed 0 --skip-overlong --out "$dir" "$@" >/dev/null
  fi
  runs+=("$dir")
}
for t in "${edits[@]}"; do
  run none "$t" "$out/none-T$t"
  run recipe "$t" "$out/recipe-T$t"
done
run recipe 100 "$out/recipe-no-sentinel-T100" --editor-option ablation=no-sentinel
run recipe 100 "$out/recipe-no-continuous-prompt-T100" --editor-option ablation=no-continuous-prompt
# Not RECIPE's rule: the sentinel margin fitted on training edits (calibration.json), at the two largest T.
for t in "${edits[@]: -2}"; do run recipe "$t" "$out/recipe-calibrated-margin-T$t" --editor-option sentinel-margin=calibrated; done
# Not RECIPE's rule either: the margin chosen on validation edits for a locality target (calibrate-recipe --target-locality).
if grep -q '"localityMargin"' "$model/recipe/calibration.json" 2>/dev/null; then
  for t in "${edits[@]: -2}"; do run recipe "$t" "$out/recipe-validated-margin-T$t" --editor-option sentinel-margin=validated; done
fi
"${cli[@]}" report "${runs[@]}" --out "$out/report.html" --title "RECIPE on $(basename "$model") ($dataset)" >/dev/null
"${cli[@]}" report "${runs[@]}" --out "$out/summary.md" --title "RECIPE on $(basename "$model") ($dataset)" >/dev/null
cat "$out/summary.md"
