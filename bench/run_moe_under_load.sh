#!/usr/bin/env bash
# The MoE training step under load, ours against PyTorch's: bench_moe (Top-k and converged COMET, sparse path,
# n = 16 and 64, k = 2) and bench/torch_moe_baseline.py (PyTorch's per-expert sparse dispatch, Top-k), first on the
# machine as it is, then with one other busy process beside them (a single-threaded shell spin loop, not niced).
# Ours runs twice: at THREADS fixed, and with COMET_NUM_THREADS=auto (the team fitted to the load, core/cpu_load.h).
# Prints per row: the median step (quiet and loaded), loaded / quiet, the slowest loaded step over the quiet median
# (the "no step more than 3x its quiet median" figure) and the typical repetition's slowest, and the quiet run's own
# slowest step over its median (what the host does to a step with no load of ours), and the time the hypervisor
# stole from this machine's vCPUs during each phase (/proc/stat's steal column, in 10 ms ticks; 0 on bare metal),
# and before the quiet phase how long the machine keeps a spinning thread off each CPU with nothing of ours running
# (bench/host_stalls.cpp, STALL_SECONDS, default 10): a step that meets such a gap takes that much longer.
# Run on an otherwise quiet machine, after scripts/build.sh.
# Environment: THREADS (default 2), REPS (default 10: bench_moe repetitions of about 0.3 s each), STEPS (default 200:
# PyTorch's timed steps), TORCH_PYTHON (the peer's interpreter, default Debian's /usr/bin/python3; e.g.
# /path/to/venv/bin/python3 for current PyTorch), BUILD_DIR (default build), OUT_DIR (JSON results; default a
# temporary directory).
set -euo pipefail
cd "$(dirname "$0")/.."
threads="${THREADS:-2}"
build="${BUILD_DIR:-build}"
out="${OUT_DIR:-$(mktemp -d)}"
py="${TORCH_PYTHON:-/usr/bin/python3}"
mkdir -p "$out"
[ -x "$build/bench/bench_moe" ] || { echo "run_moe_under_load: $build/bench/bench_moe not found" >&2; exit 1; }

steal_ms() {  # the hypervisor's steal time over all CPUs so far (field 9 of /proc/stat's first line, in ticks)
  echo $(( $(awk '/^cpu /{print $9}' /proc/stat) * 1000 / $(getconf CLK_TCK) ))
}

measure() {  # tag
  local stolen
  stolen=$(steal_ms)
  for mode in "$threads" auto; do  # auto: the team fitted to the load (core/cpu_load.h)
    COMET_NUM_THREADS="$mode" "$build/bench/bench_moe" \
      --benchmark_filter='^BM_MoeStep/(topk/sparse|comet/sparse/converged)/n:(16|64)/k:2/(min_time|real_time)' \
      --benchmark_repetitions="${REPS:-10}" --benchmark_format=json --benchmark_out="$out/ours_${mode}_$1.json" \
      --benchmark_out_format=json >/dev/null
  done
  "$py" bench/torch_moe_baseline.py --threads "$threads" --experts 16,64 --ks 2 --modes sparse \
    --steps "${STEPS:-200}" --json "$out/torch_$1.json" >/dev/null
  echo "$(( $(steal_ms) - stolen ))" >"$out/steal_ms_$1"
}

[ -x "$build/bench/host_stalls" ] || { echo "run_moe_under_load: $build/bench/host_stalls not found" >&2; exit 1; }
"$build/bench/host_stalls" "${STALL_SECONDS:-10}" >"$out/host_stalls.txt"
echo "== quiet (load average now: $(cut -d' ' -f1 /proc/loadavg))"
measure quiet
echo "== with one busy process"
( while :; do :; done ) &
busy=$!
trap 'kill $busy 2>/dev/null || true' EXIT
measure loaded
kill "$busy"

"$py" - "$out" "$threads" <<'PY'
import json, re, statistics, sys
out, threads = sys.argv[1], sys.argv[2]

def ours(tag, mode, label):
    rows = {}
    for b in json.load(open(f"{out}/ours_{mode}_{tag}.json"))["benchmarks"]:
        if b.get("run_type") == "aggregate":
            continue
        m = re.match(r"BM_MoeStep/(topk|comet)/sparse(?:/converged)?/n:(\d+)/k:2/", b["name"])
        rows.setdefault((m[1] + label, int(m[2])), []).append(b)
    return {k: (statistics.median(b["median_step_ms"] for b in v), max(b["max_step_ms"] for b in v),
                statistics.median(b["max_step_ms"] for b in v)) for k, v in rows.items()}

def torch(tag):
    data = json.load(open(f"{out}/torch_{tag}.json"))
    return {("torch " + data["torch_version"], r["n"]): (r["ms_median"], r["ms_max"], None) for r in data["results"]}

def rows(tag):
    return {**ours(tag, threads, ""), **ours(tag, "auto", " auto"), **torch(tag)}

quiet, loaded = rows("quiet"), rows("loaded")
print("ms per step (B = 512, d = 256, k = 2, sparse); loaded = with one busy process beside the run")
head = (f"{'step':>16} {'n':>3} | {'quiet med':>9} {'loaded med':>10} {'loaded/quiet':>12} | {'loaded max':>10} "
        f"{'max/quiet med':>13} {'typical':>7} | {'quiet max/med':>13}")
print(head + "\n" + "-" * len(head))
for key in sorted(quiet, key=lambda k: (k[1], k[0])):
    q, l = quiet[key], loaded.get(key)
    if l is None:
        continue
    typical = f"{l[2] / q[0]:7.2f}" if l[2] is not None else f"{'-':>7}"
    print(f"{key[0]:>16} {key[1]:>3} | {q[0]:9.2f} {l[0]:10.2f} {l[0] / q[0]:12.2f} | {l[1]:10.2f} {l[1] / q[0]:13.2f} "
          f"{typical} | {q[1] / q[0]:13.2f}")
print("the machine alone, before the quiet phase (bench/host_stalls):\n  " +
      open(f"{out}/host_stalls.txt").read().strip().replace("\n", "\n  "))
for tag in ("quiet", "loaded"):
    print(f"time stolen by the hypervisor during the {tag} phase: {open(f'{out}/steal_ms_{tag}').read().strip()} ms")
print("typical: the median over the repetitions of each one's slowest step, over the quiet median; 'auto': ours with\n"
      "COMET_NUM_THREADS=auto, the team fitted to the load (at most every core)\n"
      "quiet max/med: the slowest step of the quiet run over its median, the host's own stalls (a preempted vCPU):\n"
      "where it exceeds 3 the machine cannot show the 'no step over 3x' target either way")
print(f"(JSON results in {out})")
PY
