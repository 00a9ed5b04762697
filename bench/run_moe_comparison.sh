#!/usr/bin/env bash
# Our MoE training step vs PyTorch's: runs bench_moe (Top-k gate and converged COMET, sparse and dense paths,
# n in {8, 16, 64}, k in {1, 2, 4}) and bench/torch_moe_baseline.py (PyTorch sparse dispatch and masked dense,
# Top-k gate) at the same thread count, then prints one table: ms/step of ours and PyTorch's per row and the
# speed-up (PyTorch ms / our ms; > 1 means we are faster), with our experts per sample and peak step memory.
# A second table gives each row's floor on this machine, measured in the same run: the step's multiply-adds at
# the rate of one large GEMM (bench_grouped's BM_OneGemm, 1024 x 256 x 256 forward and backward, scaled to the
# row's rows per layer) plus Adam alone over the experts' parameters (bench_moe's BM_AdamStep, memory-bound).
# PyTorch ms / floor ms is the largest speed-up any implementation with this GEMM and this Adam could show.
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
grouped="$build/bench/bench_grouped"
for b in "$bench" "$grouped"; do
  [ -x "$b" ] || { echo "run_moe_comparison: $b not found; build with -DCOMET_BUILD_BENCH=ON first" >&2; exit 1; }
done

echo "== bench_moe (COMET_NUM_THREADS=$threads)"
COMET_NUM_THREADS="$threads" "$bench" \
  --benchmark_filter='^(BM_MoeStep/(topk/(sparse|dense)|comet/(sparse|dense)/converged)/n:(8|16|64)/k:(1|2|4)/|BM_AdamStep/)' \
  --benchmark_format=json --benchmark_out="$out/ours.json" --benchmark_out_format=json "$@" >/dev/null
COMET_NUM_THREADS="$threads" "$grouped" --benchmark_filter='^BM_OneGemm/' --benchmark_format=json \
  --benchmark_out="$out/floor.json" --benchmark_out_format=json "$@" >/dev/null
echo "== PyTorch (--threads $threads)"
/usr/bin/python3 bench/torch_moe_baseline.py --threads "$threads" --steps "${TORCH_STEPS:-20}" \
  --json "$out/torch.json"

/usr/bin/python3 - "$out/ours.json" "$out/torch.json" "$out/floor.json" <<'EOF'
import json, os, re, statistics, sys

ours_path, torch_path, floor_path = sys.argv[1:4]
MS = {"ns": 1e-6, "us": 1e-3, "ms": 1.0, "s": 1e3}

def median_ms(benchmarks, pattern):
    """name -> median real time in ms of the runs (or the median aggregates) whose name matches pattern."""
    runs, medians = {}, {}
    for b in benchmarks:
        aggregate = b.get("run_type") == "aggregate"
        if aggregate and b.get("aggregate_name") != "median":
            continue
        m = re.match(pattern, b["name"])
        if m:
            (medians if aggregate else runs).setdefault(m[1], []).append(b["real_time"] * MS[b["time_unit"]])
    runs.update(medians)
    return {key: statistics.median(v) for key, v in runs.items()}

ours_json = json.load(open(ours_path))["benchmarks"]
adam = {int(n): t for n, t in median_ms(ours_json, r"BM_AdamStep/n:(\d+)").items()}
one_gemm = median_ms(json.load(open(floor_path))["benchmarks"], r"BM_OneGemm/(fwd|bwd)")
gemm_1024 = one_gemm.get("fwd", 0) + one_gemm.get("bwd", 0)  # one layer, 1024 rows, forward + backward

def floor_ms(path, n, k):
    rows = 512 * (k if path == "sparse" else n)
    return 2 * gemm_1024 * rows / 1024 + adam[n] if gemm_1024 and n in adam else None
ours, medians = {}, {}  # (gate, path, n, k) -> list of (ms, counters): single runs, median aggregates
for b in ours_json:
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

def activation_mib(counters):
    peak, grads = counters.get("peak_MiB"), counters.get("grad_MiB")
    return peak - grads if peak is not None and grads is not None else None

def fmt(v, spec):
    return format(v, spec) if v is not None else "-"

head = (f"{'path':>6} {'n':>3} {'k':>2} | {'topk ms':>8} {'comet ms':>8} {'torch ms':>8} | "
        f"{'torch/topk':>10} {'torch/comet':>11} | {'comet e/s':>9} {'topk MiB':>8} {'comet MiB':>9} {'topk act':>8}")
print()
print("ms/step (median), speed-up = PyTorch ms / our ms (> 1: we are faster); comet = converged routing;")
print("torch 'sparse' = per-expert index_select/index_add dispatch, torch 'dense' = masked dense over all experts;")
print("e/s = our measured experts per sample; MiB = our peak step memory above the bytes in use before the step;")
print("act = topk MiB minus the parameter gradients (activations and temporaries: should grow with k, not with n)")
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
                  f"{fmt(comet_runs[0][1].get('peak_MiB'), '9.1f')} {fmt(activation_mib(topk_runs[0][1]), '8.1f')}")
print()
print("floor = 2 layers x (BM_OneGemm forward + backward) scaled to the row's rows + BM_AdamStep at n (ms);")
print("torch/floor = the largest speed-up this machine allows; ours/floor = how far our step is from it")
head = f"{'path':>6} {'n':>3} {'k':>2} | {'floor ms':>8} {'torch/floor':>11} {'topk/floor':>10}"
print(head)
print("-" * len(head))
for path in ("sparse", "dense"):
    for n in (8, 16, 64):
        for k in (1, 2, 4):
            f, t, p = floor_ms(path, n, k), ms(("topk", path, n, k)), theirs.get((path, n, k))
            if f is None:
                continue
            print(f"{path:>6} {n:>3} {k:>2} | {f:8.2f} {fmt(p / f if p else None, '11.2f')} "
                  f"{fmt(t / f if t else None, '10.2f')}")
EOF
echo "(JSON results in $out)"
