#!/usr/bin/env bash
# One training epoch of the paper's models, ours against the PyTorch twin (bench/torch_twin.py), on the same exported
# rows with the same hyperparameters and thread count: the MovieLens recommender on the COMET authors' split
# (embeddings, 16 experts, k = 2, batch 512, all 190,000 training rows) and the vision model on MultiFashionMNIST
# (CNN experts, 6 experts, k = 2, batch 512). Per run: the epoch's wall time as each program reports it (training
# plus the validation pass, 10,000 / 2,000 rows) and the peak resident memory of the whole process (/usr/bin/time).
# Runs alternate between the programs, ROUNDS times; the table shows medians. Top-k gates, no local search (the
# twin has no COMET gate).
# Run from the repository root after building comet_train. Environment: THREADS (2), ROUNDS (3), TORCH_VENV
# (build/torch-venv: PyTorch 2.x from PyPI, installed there once, as bench/run_gemm_peer.sh does; Debian's
# python3-torch 1.13 runs too when /usr/bin/python3 imports it), COMET_SPLIT (../shared/data/comet-movielens),
# FM_TRAIN_ROWS (20000), DATASETS ("movielens multifashionmnist"), OUT_DIR (default: a temporary directory).
set -euo pipefail
cd "$(dirname "$0")/.."
threads=${THREADS:-2}
rounds=${ROUNDS:-3}
venv=${TORCH_VENV:-build/torch-venv}
comet_split=${COMET_SPLIT:-../shared/data/comet-movielens}
out=${OUT_DIR:-$(mktemp -d)}
bin=build/tools/comet_train
[ -x "$bin" ] || { echo "run_epoch_comparison: $bin not found; build comet_train first" >&2; exit 1; }
if [ ! -x "$venv/bin/python3" ] || ! "$venv/bin/python3" -c 'import torch, numpy, sklearn' 2>/dev/null; then
  echo "== installing PyTorch, numpy and scikit-learn from PyPI into $venv (once; several GB)"
  python3 -m venv "$venv"
  "$venv/bin/pip" install --quiet torch numpy scikit-learn
fi
pythons=("$venv/bin/python3")
/usr/bin/python3 -c 'import torch, numpy, sklearn' 2>/dev/null && pythons+=(/usr/bin/python3)
mkdir -p "$out"

# Per data set: comet_train's data and model options, and the twin's.
declare -A OURS TWIN
OURS[movielens]="--dataset movielens --data $comet_split --val-rows 10000 --test-rows 10000 --experts 16 --k 2
                 --batch 512 --lr 0.00025"
TWIN[movielens]="--model recommender --experts 16 --k 2 --batch 512 --lr 0.00025"
OURS[multifashionmnist]="--dataset multifashionmnist --train-rows ${FM_TRAIN_ROWS:-20000} --val-rows 2000
                         --test-rows 2000 --experts 6 --k 2 --batch 512 --lr 0.001"
TWIN[multifashionmnist]="--model vision --experts 6 --k 2 --batch 512 --lr 0.001"

epoch_seconds() {  # a program's output: the "| N s" at the end of its epoch-1 line
  sed -n -E 's/^epoch +1 .*\| ([0-9.]+) s( \*)?$/\1/p' "$1" | head -1
}

median() { sort -g | awk '{v[NR] = $1} END {print (NR % 2) ? v[(NR + 1) / 2] : (v[NR / 2] + v[NR / 2 + 1]) / 2}'; }

printf '%-18s %-34s %12s %14s %10s\n' "data set" "program" "s / epoch" "ours faster" "peak MB"
for dataset in ${DATASETS:-movielens multifashionmnist}; do
  if [ "$dataset" = movielens ] && [ ! -d "$comet_split" ]; then echo "skipped: no $comet_split"; continue; fi
  # shellcheck disable=SC2086
  "$bin" ${OURS[$dataset]} --gate topk --local-search none --export-data "$out/$dataset-data" > /dev/null
  names=("ours (comet_train)")
  for py in "${pythons[@]}"; do
    names+=("twin, torch $("$py" -c 'import torch; print(torch.__version__.split("+")[0])')")
  done
  declare -A seconds=() rss=()
  for round in $(seq 1 "$rounds"); do
    log="$out/$dataset-ours-$round.log"
    # shellcheck disable=SC2086
    /usr/bin/time -f "peak_kb %M" -o "$log.time" "$bin" ${OURS[$dataset]} --gate topk --local-search none \
      --epochs 1 --threads "$threads" --progress off > "$log" 2>&1
    seconds[0]+="$(epoch_seconds "$log") "
    rss[0]+="$(awk '/peak_kb/ {print $2 / 1024}' "$log.time") "
    for i in "${!pythons[@]}"; do
      log="$out/$dataset-twin$i-$round.log"
      # shellcheck disable=SC2086
      /usr/bin/time -f "peak_kb %M" -o "$log.time" "${pythons[$i]}" bench/torch_twin.py "$out/$dataset-data" \
        ${TWIN[$dataset]} --epochs 1 --threads "$threads" > "$log" 2>&1
      seconds[$((i + 1))]+="$(epoch_seconds "$log") "
      rss[$((i + 1))]+="$(awk '/peak_kb/ {print $2 / 1024}' "$log.time") "
    done
  done
  ours=$(echo "${seconds[0]}" | tr ' ' '\n' | grep . | median)
  for i in "${!names[@]}"; do
    s=$(echo "${seconds[$i]}" | tr ' ' '\n' | grep . | median)
    m=$(echo "${rss[$i]}" | tr ' ' '\n' | grep . | median)
    ratio=$(awk -v a="$s" -v b="$ours" 'BEGIN {printf "%.2fx", a / b}')
    [ "$i" = 0 ] && ratio="-"
    printf '%-18s %-34s %12.2f %14s %10.0f\n' "$dataset" "${names[$i]}" "$s" "$ratio" "$m"
  done
done
echo "(threads $threads, medians of $rounds rounds; runs in $out)"
