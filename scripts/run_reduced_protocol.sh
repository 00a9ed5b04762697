#!/usr/bin/env bash
# The reduced tuning protocol of docs/results.md: the paper's random search (tools/tune.py, spec comet.md 6.5) for
# every gate variant of tuning/spaces/<dataset>.json, on MovieLens (the COMET authors' split) and MultiFashionMNIST,
# with far fewer trials, rows and epochs than the paper so that a 2-core machine finishes in about an hour. The two data
# sets run side by side, one worker and one thread each. Then the tables (top 5%, as the paper, and top 25%) and the
# tuning-budget curves per data set (tools/tune_report.py).
#   TRIALS       trials per gate variant (default 6; the paper: 500)
#   RUNS         output folder (default runs/reduced): <RUNS>/<dataset>/tune.db, trial run directories, report*/
#   COMET_SPLIT  the COMET authors' MovieLens folder (default ../shared/data/comet-movielens)
#   ONLY         movielens or multifashionmnist (default both)
# Interrupted, the same command resumes (tools/tune.py resumes a study; finished studies are skipped).
set -euo pipefail
cd "$(dirname "$0")/.."
trials=${TRIALS:-6}
runs=${RUNS:-runs/reduced}
comet_split=${COMET_SPLIT:-../shared/data/comet-movielens}
only=${ONLY:-}
py=/usr/bin/python3  # Debian's python3-optuna imports only there
[ -x "$py" ] || py=python3

# Per data set: the rows, epochs and batch of the reduced protocol, and the learned permutation's window E_p scaled
# to the shorter run (the paper's 1..10 of 100 epochs; here 1..2 epochs of 4 or 5).
movielens_options=(--data "$comet_split" --train-rows 20000 --val-rows 5000 --test-rows 20000 --epochs 4
                   --patience 2 --threads 1 --progress off)
multifashionmnist_options=(--train-rows 2000 --val-rows 1000 --test-rows 2000 --epochs 5 --batch 128 --patience 2
                           --threads 1 --progress off)
perm_window='perm-epochs={"int": [1, 2]}'

tune_dataset() {  # data set name
  local dataset=$1 space=tuning/spaces/$1.json
  local -n options=${1}_options
  local variants  # name:1 where the variant searches E_p
  variants=$("$py" - "$space" <<'PY'
import json, sys
for name, v in json.load(open(sys.argv[1]))["variants"].items():
    print(name + (":1" if "perm-epochs" in v.get("search", {}) else ":0"))
PY
)
  for entry in $variants; do
    local variant=${entry%:*} search=()
    [ "${entry#*:}" = 1 ] && search=(--search "$perm_window")
    local t0=$SECONDS
    "$py" tools/tune.py run --space "$space" --gate "$variant" --trials "$trials" --runs "$runs/$dataset" \
      "${search[@]}" --no-wait -- "${options[@]}" > "$runs/$dataset/$variant.log" 2>&1 ||
      echo "$dataset $variant: tune.py failed, see $runs/$dataset/$variant.log"
    echo "$dataset $variant: $trials trials, $((SECONDS - t0)) s"
  done
  "$py" tools/tune_report.py --storage "sqlite:///$PWD/$runs/$dataset/tune.db" --out "$runs/$dataset/report"
  "$py" tools/tune_report.py --storage "sqlite:///$PWD/$runs/$dataset/tune.db" --out "$runs/$dataset/report-top25" \
    --top 0.25
}

[ -x build/tools/comet_train ] || scripts/build.sh
[ -d "$comet_split" ] || { [ "$only" = multifashionmnist ] || echo "no $comet_split: MovieLens left out"; only=${only:-multifashionmnist}; }
for dataset in movielens multifashionmnist; do
  [ -n "$only" ] && [ "$only" != "$dataset" ] && continue
  mkdir -p "$runs/$dataset"
  tune_dataset "$dataset" >> "$runs/$dataset/protocol.log" 2>&1 &
done
wait
cat "$runs"/*/protocol.log
