#!/usr/bin/env bash
# Does the engine learn as well as the reference framework? (issue 8) For each data set (MovieLens-100k:
# recommender; MultiFashionMNIST: vision) and each seed, exports the exact splits with comet_train --export-data,
# trains our model with comet_train (Top-k gate, no local search) and the PyTorch twin (bench/torch_twin.py) on
# them with the same hyperparameters, then prints one table (bench/twin_table.py): per data set and metric, ours
# mean +- standard error over the seeds, the twin's, |difference|, 2 SE of the difference (sqrt(se1^2 + se2^2))
# and whether |difference| < 2 SE. The runs are sequential, each on one thread (--threads 1 /
# torch.set_num_threads(1)), so both frameworks get the same single core.
# Run from the repository root after building comet_train:  bench/run_twin_comparison.sh
# Environment (the defaults finish in about 10 minutes on one core):
#   SEEDS ("1 2 3"), DATASETS ("movielens multifashionmnist"), BUILD_DIR (build), OUT_DIR (default: a temporary
#   directory; holds the exported splits, our run directories and the twin's summaries), THREADS (1);
#   MovieLens: ML_DATA (../shared/data/movielens-100k/u.data), ML_TRAIN_ROWS (40000), ML_VAL_ROWS, ML_TEST_ROWS
#   (default: the whole splits), ML_EPOCHS (5), ML_LR (1e-3), ML_BATCH (512);
#   MultiFashionMNIST: FM_DATA (/usr/share/datasets/fashion-mnist), FM_TRAIN_ROWS (4000), FM_VAL_ROWS (1000),
#   FM_TEST_ROWS (2000), FM_EPOCHS (5), FM_LR (1e-3), FM_BATCH (128).
# Skips (exit 0) when PyTorch cannot be imported; skips a data set whose files are absent.
set -euo pipefail
cd "$(dirname "$0")/.."
python=/usr/bin/python3
if ! "$python" -c "import torch, numpy, sklearn" 2>/dev/null; then
  echo "run_twin_comparison: PyTorch (with numpy and sklearn) cannot be imported by $python; skipping the comparison" \
       "(apt-get install python3-torch python3-sklearn)."
  exit 0
fi
build="${BUILD_DIR:-build}"
train_bin="$build/tools/comet_train"
[ -x "$train_bin" ] || { echo "run_twin_comparison: $train_bin not found; build the comet_train target first" >&2; exit 1; }
out="${OUT_DIR:-$(mktemp -d)}"
mkdir -p "$out"
seeds="${SEEDS:-1 2 3}"
threads="${THREADS:-1}"

# The hyperparameters, in one place: both frameworks get exactly these. Per data set: the data file, the row caps,
# the model family, the gate, experts n and k, batch, learning rate, epochs, patience and task weights. The
# recommender sizes (embedding 128 per id column, experts Dense(256) + ReLU + Dropout(0.5)) are the MovieLens paper
# setting (data/registry.cpp), which comet_train takes from --dataset and the twin from its defaults.
declare -A DATA MODEL ROWS EXPERTS K BATCH LR EPOCHS PATIENCE WEIGHTS
DATA[movielens]="${ML_DATA:-../shared/data/movielens-100k/u.data}"
MODEL[movielens]=recommender
ROWS[movielens]="--train-rows ${ML_TRAIN_ROWS:-40000}${ML_VAL_ROWS:+ --val-rows $ML_VAL_ROWS}${ML_TEST_ROWS:+ --test-rows $ML_TEST_ROWS}"
EXPERTS[movielens]=16; K[movielens]=2
BATCH[movielens]="${ML_BATCH:-512}"; LR[movielens]="${ML_LR:-1e-3}"; EPOCHS[movielens]="${ML_EPOCHS:-5}"
PATIENCE[movielens]=25; WEIGHTS[movielens]=0.5,0.5
DATA[multifashionmnist]="${FM_DATA:-/usr/share/datasets/fashion-mnist}"
MODEL[multifashionmnist]=vision
ROWS[multifashionmnist]="--train-rows ${FM_TRAIN_ROWS:-4000} --val-rows ${FM_VAL_ROWS:-1000} --test-rows ${FM_TEST_ROWS:-2000}"
EXPERTS[multifashionmnist]=6; K[multifashionmnist]=2
BATCH[multifashionmnist]="${FM_BATCH:-128}"; LR[multifashionmnist]="${FM_LR:-1e-3}"; EPOCHS[multifashionmnist]="${FM_EPOCHS:-5}"
PATIENCE[multifashionmnist]=25; WEIGHTS[multifashionmnist]=0.5,0.5
GATE=topk

start=$(date +%s)
done_sets=()
for d in ${DATASETS:-movielens multifashionmnist}; do
  [ -n "${MODEL[$d]:-}" ] || { echo "run_twin_comparison: unknown data set $d" >&2; exit 1; }
  if [ ! -e "${DATA[$d]}" ]; then
    echo "== $d: ${DATA[$d]} is absent; skipping $d"
    continue
  fi
  hp=(--gate "$GATE" --experts "${EXPERTS[$d]}" --k "${K[$d]}" --batch "${BATCH[$d]}" --lr "${LR[$d]}"
      --epochs "${EPOCHS[$d]}" --patience "${PATIENCE[$d]}" --task-weights "${WEIGHTS[$d]}")
  for s in $seeds; do
    dir="$out/$d/seed$s"
    mkdir -p "$dir"
    # shellcheck disable=SC2086  # ROWS holds several options
    common=(--dataset "$d" --data "${DATA[$d]}" --seed "$s" ${ROWS[$d]})
    echo "== $d seed $s: export, ours, twin ($(date -u +%H:%M:%S))"
    "$train_bin" "${common[@]}" --export-data "$dir/data" | tail -1
    "$train_bin" "${common[@]}" "${hp[@]}" --local-search none --threads "$threads" --progress off \
      --out "$dir/ours" > "$dir/ours.log"
    grep '^best epoch' "$dir/ours.log" | sed 's/^/  ours: /'
    "$python" bench/torch_twin.py "$dir/data" --model "${MODEL[$d]}" "${hp[@]}" --seed "$s" --threads "$threads" \
      --out "$dir/twin.json" > "$dir/twin.log"
    head -1 "$dir/twin.log" | sed 's/^/  twin: /'
    grep '^best epoch' "$dir/twin.log" | sed 's/^/  twin: /'
  done
  done_sets+=("$d")
done
end=$(date +%s)
if [ ${#done_sets[@]} -eq 0 ]; then
  echo "run_twin_comparison: no data set was available; nothing to compare"
  exit 0
fi
echo
echo "Settings: seeds $seeds; threads $threads; gate $GATE, no local search"
for d in "${done_sets[@]}"; do
  echo "  $d: ${ROWS[$d]}; n ${EXPERTS[$d]}, k ${K[$d]}, batch ${BATCH[$d]}, lr ${LR[$d]}, epochs ${EPOCHS[$d]}," \
       "patience ${PATIENCE[$d]}, task weights ${WEIGHTS[$d]}"
done
"$python" bench/twin_table.py "$out" "${done_sets[@]}"
echo "wall time of the comparison: $((end - start)) s (results in $out)"
