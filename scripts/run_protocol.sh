#!/usr/bin/env bash
# The paper's tuning protocol (spec comet.md 6.5: tools/tune.py, a random-search study per data set and gate variant
# of tuning/spaces/<dataset>.json), then per data set the tables (top 5% as the paper, and top 25%) and the
# tuning-budget curves (tools/tune_report.py) under <RUNS>/<dataset>/report and report-top25.
#   PROTOCOL=reduced (default): what docs/results.md shows, sized for a 2-core machine (about an hour): MovieLens
#     (the COMET authors' split) and MultiFashionMNIST, TRIALS (6) trials per variant, far fewer rows and epochs
#     than the paper, and the learned permutation's window E_p scaled to the shorter runs (1..2 epochs of 4 or 5;
#     the paper's 1..10 of 100).
#   PROTOCOL=full: the paper's protocol: TRIALS (500) trials per variant with the data sets' paper settings
#     (comet_train --list-datasets: n, k, batch, epochs 100 or 200, patience 25) on DATASETS. For a cluster, start
#     the same command on every machine with STORAGE=postgresql://user@host/db (one database for all): the workers
#     of all machines share each study's trials, a study at a time (tools/tune.py); when they are done, run it once
#     more with REPORT_ONLY=1 for the tables and curves.
# Environment: DATASETS (default "movielens multifashionmnist"; books, jester, multimnist need their data paths),
#   DATA_<dataset> (the --data of a data set: default ../shared/data/comet-movielens for movielens, the Debian
#   package's folder for multifashionmnist), WORKERS (workers per data set on this machine, default 1, each
#   one thread), STORAGE (default: a SQLite file <RUNS>/<dataset>/tune.db), RUNS (default runs/<PROTOCOL>).
# Interrupted, the same command resumes (finished studies are skipped, a lost trial is retried).
set -euo pipefail
cd "$(dirname "$0")/.."
protocol=${PROTOCOL:-reduced}
case $protocol in
  reduced) trials=${TRIALS:-6} ;;
  full) trials=${TRIALS:-500} ;;
  *) echo "run_protocol: PROTOCOL must be reduced or full, not '$protocol'" >&2; exit 2 ;;
esac
runs=${RUNS:-runs/$protocol}
workers=${WORKERS:-1}
DATA_movielens=${DATA_movielens:-../shared/data/comet-movielens}
py=/usr/bin/python3  # Debian's python3-optuna imports only there
[ -x "$py" ] || py=python3

# The reduced protocol's rows, epochs and batch per data set (the full protocol keeps the paper's settings).
reduced_movielens=(--train-rows 20000 --val-rows 5000 --test-rows 20000 --epochs 4 --patience 2)
reduced_multifashionmnist=(--train-rows 2000 --val-rows 1000 --test-rows 2000 --epochs 5 --batch 128 --patience 2)
reduced_perm_window='perm-epochs={"int": [1, 2]}'

storage_of() {  # data set
  echo "${STORAGE:-sqlite:///$PWD/$runs/$1/tune.db}"
}

worker() {  # data set: one worker through every variant of its space, in the file's order
  local dataset=$1 space=tuning/spaces/$1.json data_var=DATA_$1
  local options=()
  [ -n "${!data_var:-}" ] && options+=(--data "${!data_var}")
  if [ "$protocol" = reduced ]; then
    local -n reduced=reduced_$dataset
    options+=("${reduced[@]}")
  fi
  options+=(--threads 1 --progress off)
  local entry variants  # name:1 where the variant searches E_p
  variants=$("$py" - "$space" <<'PY'
import json, sys
for name, v in json.load(open(sys.argv[1]))["variants"].items():
    print(name + (":1" if "perm-epochs" in v.get("search", {}) else ":0"))
PY
)
  for entry in $variants; do
    local variant=${entry%:*} search=()
    [ "$protocol" = reduced ] && [ "${entry#*:}" = 1 ] && search=(--search "$reduced_perm_window")
    local t0=$SECONDS
    "$py" tools/tune.py run --space "$space" --gate "$variant" --trials "$trials" --runs "$runs/$dataset" \
      --storage "$(storage_of "$dataset")" "${search[@]}" --no-wait -- "${options[@]}" \
      >> "$runs/$dataset/$variant.log" 2>&1 || echo "$dataset $variant: tune.py failed, see $runs/$dataset/$variant.log"
    echo "$dataset $variant: this worker $((SECONDS - t0)) s"
  done
}

report() {  # data set
  "$py" tools/tune_report.py --storage "$(storage_of "$1")" --out "$runs/$1/report"
  "$py" tools/tune_report.py --storage "$(storage_of "$1")" --out "$runs/$1/report-top25" --top 0.25
}

[ -x build/tools/comet_train ] || scripts/build.sh
datasets=${DATASETS:-movielens multifashionmnist}
for dataset in $datasets; do
  mkdir -p "$runs/$dataset"
  [ -n "${REPORT_ONLY:-}" ] && continue
  data_var=DATA_$dataset
  if [ -n "${!data_var:-}" ] && [ ! -e "${!data_var}" ]; then
    echo "skipped: $dataset, no data at ${!data_var}"
    continue
  fi
  for w in $(seq 1 "$workers"); do
    worker "$dataset" >> "$runs/$dataset/protocol.log" 2>&1 &
  done
done
wait
for dataset in $datasets; do
  report "$dataset" || echo "$dataset: no report (see above)"
done
