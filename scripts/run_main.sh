#!/usr/bin/env bash
# The main job: installs what is missing (Fashion-MNIST comes from Debian's dataset-fashion-mnist), builds, then
# trains COMET+ (COMET gates with the learned permutation) and Top-k side by side on MultiFashionMNIST (a few
# thousand images, a few epochs), prints each task's test accuracy for both, and writes their run directories and
# plots under runs/main/. Extra arguments go to both comet_train runs (e.g. --epochs 10 --train-rows 20000).
set -euo pipefail
cd "$(dirname "$0")/.."
scripts/install_deps.sh
scripts/build.sh
# Debian's python3 has the packages install_deps.sh installs (another python3 may come first on PATH).
py=python3
[ -x /usr/bin/python3 ] && py=/usr/bin/python3
out=runs/main
mkdir -p "$out"
common=(--dataset multifashionmnist --train-rows 4000 --val-rows 1000 --test-rows 2000 --epochs 4 --batch 128
        --progress off)
./build/tools/comet_train "${common[@]}" --gate comet --local-search learned --out "$out/comet+" "$@"
./build/tools/comet_train "${common[@]}" --gate topk --local-search none --out "$out/topk" "$@"
"$py" - "$out/comet+" "$out/topk" <<'PY'
import json, sys
print("\nMultiFashionMNIST test accuracy (best epoch by validation loss)")
print(f"{'run':<12}{'top_left':>10}{'bottom_right':>14}{'experts/sample':>16}{'best epoch':>12}")
for run in sys.argv[1:]:
    s = json.load(open(run + "/summary.json"))
    t = s["test"]
    eps = sum(g["experts_per_sample"] for g in t["gates"]) / len(t["gates"])
    print(f"{run.split('/')[-1]:<12}{t['tasks']['top_left']['accuracy']:>10.4f}"
          f"{t['tasks']['bottom_right']['accuracy']:>14.4f}{eps:>16.2f}{s['best_epoch']:>12d}")
PY
if "$py" -c 'import matplotlib' 2>/dev/null; then
  "$py" tools/plot_run.py "$out/comet+" "$out/topk" --out "$out"
else
  echo "plots skipped: python3-matplotlib is not installed"
fi
