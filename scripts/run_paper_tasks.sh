#!/usr/bin/env bash
# Trains every gate, with and without the learned permutation (COMET+ style local search), on the real data sets
# that this machine has, and prints one line per run: T1 ROC AUC and T2 MSE (MovieLens) or both accuracies
# (MultiFashionMNIST), experts per sample, best epoch and the time of its epochs (summed over every call that trained
# it); at the end the tables of tools/results_table.py. Run directories go to runs/paper/.
# Short by default (the data sets' paper settings, but EPOCHS=2 epochs, 1 on the 190k-row COMET split, and 20000
# MultiFashionMNIST training rows); EPOCHS=100 COMET_EPOCHS=100 MFM_EPOCHS=200 MFM_TRAIN_ROWS=100000 give the paper's
# budget (MFM_EPOCHS defaults to EPOCHS).
#   MOVIELENS_100K  ml-100k u.data              (default ../shared/data/movielens-100k/u.data)
#   COMET_SPLIT     the COMET authors' folder   (default ../shared/data/comet-movielens)
#   ONLY            one of movielens-100k, movielens-comet, multifashionmnist (default: all three)
#   GATES           the gates to train (default: softmax topk hash dselect comet; hash is not run on images)
#   THREADS         threads per run (default 0: all cores); THREADS=1 lets two data sets (or two GATES lists)
#                   train side by side
#   OUT             run directories (default runs/paper). A run whose summary.json exists is reported, not rerun;
#                   an interrupted one resumes from its checkpoint when the same command is given again.
set -euo pipefail
cd "$(dirname "$0")/.."
epochs=${EPOCHS:-2}
comet_epochs=${COMET_EPOCHS:-1}
mfm_epochs=${MFM_EPOCHS:-$epochs}
gates=${GATES:-softmax topk hash dselect comet}
mfm_rows=${MFM_TRAIN_ROWS:-20000}
only=${ONLY:-}
ml100k=${MOVIELENS_100K:-../shared/data/movielens-100k/u.data}
comet_split=${COMET_SPLIT:-../shared/data/comet-movielens}
out=${OUT:-runs/paper}
threads=${THREADS:-0}
mkdir -p "$out"
py=python3
[ -x /usr/bin/python3 ] && py=/usr/bin/python3

summarise() {  # run directory: one line
  "$py" tools/results_table.py --run "$1"
}

run() {  # name, comet_train arguments...
  local name=$1
  shift
  mkdir -p "$(dirname "$out/$name")"
  if [ -f "$out/$name/summary.json" ]; then  # finished by an earlier call: its figures
    summarise "$out/$name"
    return 0
  fi
  # The checkpoint after every epoch lets a long run (the paper's budget) go on where an interrupted call left it.
  local status=0
  ./build/tools/comet_train --epochs "$epochs" --threads "$threads" "$@" --progress off --checkpoint "$out/$name.checkpoint" \
    --out "$out/$name" >> "$out/$name.log" 2>&1 || status=$?
  if [ "$status" -ne 0 ]; then
    echo "$name: failed or interrupted (exit $status), see $out/$name.log"
    tail -3 "$out/$name.log"
    return 0
  fi
  summarise "$out/$name"
}

for_every_gate() {  # prefix, dataset arguments...
  local prefix=$1
  shift
  for gate in $gates; do
    for search in none learned; do
      [ "$gate" = softmax ] && [ "$search" = learned ] && continue  # a dense gate has nothing to permute
      run "$prefix/$gate-$search" "$@" --gate "$gate" --local-search "$search"
    done
  done
}

wanted() { [ -z "$only" ] || [ "$only" = "$1" ]; }

if wanted movielens-100k; then
  if [ -f "$ml100k" ]; then for_every_gate movielens-100k --dataset movielens --data "$ml100k"
  else echo "skipped: MovieLens-100k not found at $ml100k"; fi
fi
if wanted movielens-comet; then
  if [ -d "$comet_split" ]; then
    for_every_gate movielens-comet --dataset movielens --data "$comet_split" --epochs "$comet_epochs"
  else echo "skipped: the COMET MovieLens split not found at $comet_split"; fi
fi
if wanted multifashionmnist; then
  if [ -d /usr/share/datasets/fashion-mnist ]; then
    for gate in $gates; do
      [ "$gate" = hash ] && continue  # hash routing keys on a user id, which images do not have
      for search in none learned; do
        [ "$gate" = softmax ] && [ "$search" = learned ] && continue
        run "multifashionmnist/$gate-$search" --dataset multifashionmnist --epochs "$mfm_epochs" \
          --train-rows "$mfm_rows" \
          --gate "$gate" --local-search "$search"
      done
    done
  else echo "skipped: Fashion-MNIST not installed (apt-get install dataset-fashion-mnist)"; fi
fi
"$py" tools/results_table.py "$out" || true  # nothing to tabulate yet is not a failure
