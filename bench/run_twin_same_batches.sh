#!/usr/bin/env bash
# Ours and the PyTorch twin on the same batches from the same initial model (bench/README.md, "The same batches in
# both"): the vision model on a small MultiFashionMNIST split, exported once and read back as a custom .npy data set
# (so --seed changes only the shuffle), one initial model (--epochs 0 --save), then per shuffle seed: ours on every
# ISA path this CPU has, the twin with --comet-order (our Philox shuffle) in float32 and in float64. Prints the
# training loss after EPOCHS epochs per run. From the repository root, after building comet_train; needs
# /usr/bin/python3 with torch (Debian's python3-torch), skips with a message otherwise.
#   SEEDS (default "1 2 3 4"), EPOCHS (40), ROWS (512 training rows; as many for validation), OUT (runs/twin-same)
set -euo pipefail
cd "$(dirname "$0")/.."
seeds=${SEEDS:-1 2 3 4}
epochs=${EPOCHS:-40}
rows=${ROWS:-512}
out=${OUT:-runs/twin-same}
bin=${COMET_TRAIN:-build/tools/comet_train}
py=/usr/bin/python3
if ! "$py" -c 'import torch' 2>/dev/null; then
  echo "skipped: $py cannot import torch (Debian's python3-torch)"
  exit 0
fi
mkdir -p "$out"
model=(--gate topk --local-search none --experts 6 --k 2 --batch 128 --lr 1e-3 --threads 1 --progress off)
"$bin" --dataset multifashionmnist --train-rows "$rows" --val-rows "$rows" --test-rows 1000 "${model[@]}" --seed 1 \
  --export-data "$out/data" | tail -1
"$bin" --dataset multifashionmnist --train-rows "$rows" --val-rows "$rows" --test-rows 1000 "${model[@]}" --seed 1 \
  --epochs 0 --save "$out/init.safetensors" > /dev/null
cat > "$out/spec.json" <<'JSON'
{"format": "npy",
 "files": {"train": {"dense": "data/train_dense.npy", "targets": "data/train_targets.npy"},
           "val": {"dense": "data/val_dense.npy", "targets": "data/val_targets.npy"},
           "test": {"dense": "data/test_dense.npy", "targets": "data/test_targets.npy"}},
 "image": [1, 36, 36],
 "tasks": [{"column": 0, "kind": "multiclass", "classes": 10, "name": "top_left"},
           {"column": 1, "kind": "multiclass", "classes": 10, "name": "bottom_right"}]}
JSON

last_train_loss() {  # metrics.jsonl
  "$py" -c 'import json, sys; print("%.4f" % [json.loads(l) for l in open(sys.argv[1])][-1]["train_loss"])' "$1"
}

printf '%-28s' "run \\ shuffle seed"; for s in $seeds; do printf '%8s' "$s"; done; echo
for isa in avx512 avx2 scalar; do
  line=$(printf '%-28s' "ours, $isa")
  for s in $seeds; do
    run="$out/ours-$isa-$s"
    if ! COMET_ISA=$isa "$bin" --dataset custom --data "$out/spec.json" --load "$out/init.safetensors" "${model[@]}" \
        --seed "$s" --epochs "$epochs" --patience "$epochs" --out "$run" > "$run.log" 2>&1; then
      line=""; break  # this CPU lacks the ISA (the log says so)
    fi
    line+=$(printf '%8s' "$(last_train_loss "$run/metrics.jsonl")")
  done
  [ -n "$line" ] && echo "$line"
done
for precision in float32 float64; do
  line=$(printf '%-28s' "twin, $precision")
  flag=(); [ $precision = float64 ] && flag=(--float64)
  for s in $seeds; do
    loss=$("$py" bench/torch_twin.py "$out/data" --model vision --experts 6 --k 2 --batch 128 --lr 1e-3 \
      --epochs "$epochs" --patience "$epochs" --seed "$s" --init-comet "$out/init.safetensors" --comet-order \
      "${flag[@]}" | grep -E "^epoch +$epochs train" | awk '{print $4}')
    line+=$(printf '%8s' "$loss")
  done
  echo "$line"
done
