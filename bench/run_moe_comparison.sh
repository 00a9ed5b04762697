#!/usr/bin/env bash
# Our MoE training step vs PyTorch's: runs bench_moe (Top-k gate and converged COMET, sparse and dense paths,
# n in {8, 16, 64}, k in {1, 2, 4}) and bench/torch_moe_baseline.py (PyTorch sparse dispatch and masked dense,
# Top-k gate) at the same thread count, then prints one table: ms/step of ours and PyTorch's per row and the
# speed-up (PyTorch ms / our ms; > 1 means we are faster), with our experts per sample and peak step memory.
# Run from the repository root after scripts/build.sh:  bench/run_moe_comparison.sh
# Environment: THREADS (default 2), BUILD_DIR (default build), TORCH_STEPS (default 20), OUT_DIR (where the two
# JSON results are kept; default a temporary directory). Extra arguments go to bench_moe
# (e.g. --benchmark_repetitions=3: the table then uses the medians).
set -euo pipefail
cd "$(dirname "$0")/.."
threads="${THREADS:-2}"
build="${BUILD_DIR:-build}"
out="${OUT_DIR:-$(mktemp -d)}"
mkdir -p "$out"
bench="$build/bench/bench_moe"
[ -x "$bench" ] || { echo "run_moe_comparison: $bench not found; run scripts/build.sh first" >&2; exit 1; }

echo "== bench_moe (COMET_NUM_THREADS=$threads)"
COMET_NUM_THREADS="$threads" "$bench" \
  --benchmark_filter='^BM_MoeStep/(topk/(sparse|dense)|comet/(sparse|dense)/converged)/n:(8|16|64)/k:(1|2|4)/' \
  --benchmark_format=json --benchmark_out="$out/ours.json" --benchmark_out_format=json "$@" >/dev/null
echo "== PyTorch (--threads $threads)"
/usr/bin/python3 bench/torch_moe_baseline.py --threads "$threads" --steps "${TORCH_STEPS:-20}" \
  --json "$out/torch.json"

/usr/bin/python3 - "$out/ours.json" "$out/torch.json" <<'EOF'
import json, os, re, statistics, sys

ours_path, torch_path = sys.argv[1:3]
ours, medians = {}, {}  # (gate, path, n, k) -> list of (ms, counters): single runs, median aggregates
for b in json.load(open(ours_path))["benchmarks"]:
    aggregate = b.get("run_type") == "aggregate"
    if aggregate and b.get("aggregate_name") != "median":
        continue
    m = re.match(r"BM_MoeStep/(topk|comet)/(sparse|dense)(?:/converged)?/n:(\d+)/k:(\d+)/", b["name"])
    if m:
        key = (m[1], m[2], int(m[3]), int(m[4]))
        (medians if aggregate else ours).setdefault(key, []).append((b["real_time"], b))
ours.update(medians)  # with repetitions, Google Benchmark's medians win
theirs = {}
if os.path.exists(torch_path):
    for r in json.load(open(torch_path))["results"]:
        theirs[(r["mode"], r["n"], r["k"])] = r["ms_median"]

def ms(key):
    runs = ours.get(key)
    return statistics.median(t for t, _ in runs) if runs else None

def fmt(v, spec):
    return format(v, spec) if v is not None else "-"

head = (f"{'path':>6} {'n':>3} {'k':>2} | {'topk ms':>8} {'comet ms':>8} {'torch ms':>8} | "
        f"{'torch/topk':>10} {'torch/comet':>11} | {'comet e/s':>9} {'topk MiB':>8} {'comet MiB':>9}")
print()
print("ms/step (median), speed-up = PyTorch ms / our ms (> 1: we are faster); comet = converged routing;")
print("torch 'sparse' = per-expert index_select/index_add dispatch, torch 'dense' = masked dense over all experts;")
print("e/s = our measured experts per sample; MiB = our peak step memory above the bytes in use before the step")
print(head)
print("-" * len(head))
for path in ("sparse", "dense"):
    for n in (8, 16, 64):
        for k in (1, 2, 4):
            t, c, p = ms(("topk", path, n, k)), ms(("comet", path, n, k)), theirs.get((path, n, k))
            if t is None and c is None and p is None:
                continue
            comet_runs = ours.get(("comet", path, n, k)) or [(None, {})]
            topk_runs = ours.get(("topk", path, n, k)) or [(None, {})]
            eps = comet_runs[0][1].get("experts_per_sample")
            print(f"{path:>6} {n:>3} {k:>2} | {fmt(t, '8.2f')} {fmt(c, '8.2f')} {fmt(p, '8.2f')} | "
                  f"{fmt(p / t if p and t else None, '10.2f')} {fmt(p / c if p and c else None, '11.2f')} | "
                  f"{fmt(eps, '9.2f')} {fmt(topk_runs[0][1].get('peak_MiB'), '8.1f')} "
                  f"{fmt(comet_runs[0][1].get('peak_MiB'), '9.1f')}")
EOF
echo "(JSON results in $out)"
