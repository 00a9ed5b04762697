#!/usr/bin/env bash
# Our MoE training step vs PyTorch's: runs bench_moe (Top-k gate and converged COMET, sparse and dense paths,
# n in {8, 16, 64}, k in {1, 2, 4}) and bench/torch_moe_baseline.py (PyTorch sparse dispatch and masked dense,
# Top-k gate) at the same thread count, then prints one table: ms/step of ours and PyTorch's per row and the
# speed-up (PyTorch ms / our ms; > 1 means we are faster), with our experts per sample and peak step memory.
# A second table gives each row's floor on this machine, measured in the same run: the step's multiply-adds at
# the rate of one large GEMM (bench_grouped's BM_OneGemm, 1024 x 256 x 256 forward and backward, scaled to the
# row's rows per layer) plus Adam alone over the experts' parameters (bench_moe's BM_AdamStep, memory-bound; timed
# warm, its data in the caches, and cold, the caches evicted first as in a training step: both floors are shown).
# PyTorch ms / floor ms is the largest speed-up any implementation with this GEMM and this Adam could show.
# A third table times the same floor right after every step of ours (bench_moe's interleaved_floor rows, Top-k and
# converged COMET at n = 16 and 64, k = 2), so that step and floor meet the same phase of a shared host.
# Run from the repository root after scripts/build.sh:  bench/run_moe_comparison.sh
# Environment: THREADS (default 2), ROUNDS (default 2: ours and PyTorch alternate, each row's figure is the median
# over the rounds), BUILD_DIR (default build), TORCH_STEPS (default 20), TORCH_PYTHON (the interpreter whose torch is
# the peer; default Debian's /usr/bin/python3 with torch 1.13; e.g. build/torch-venv/bin/python3 of
# bench/run_gemm_peer.sh for current PyTorch from PyPI), OUT_DIR (where the JSON results are kept;
# default a temporary directory). Extra arguments go to bench_moe and bench_grouped
# (e.g. --benchmark_repetitions=3: each round then uses the medians). PEER_ISA=avx2 stands in for an AVX2-only
# machine on an AVX-512 one (bench/peer_isa.sh): ours on its avx2 path, PyTorch without AVX-512.
# Tables: bench/moe_comparison_table.py.
set -euo pipefail
cd "$(dirname "$0")/.."
threads="${THREADS:-2}"
rounds="${ROUNDS:-2}"
build="${BUILD_DIR:-build}"
out="${OUT_DIR:-$(mktemp -d)}"
mkdir -p "$out"
bench="$build/bench/bench_moe"
grouped="$build/bench/bench_grouped"
for b in "$bench" "$grouped"; do
  [ -x "$b" ] || { echo "run_moe_comparison: $b not found; build with -DCOMET_BUILD_BENCH=ON first" >&2; exit 1; }
done

source bench/peer_isa.sh  # ours_env, peer_env
[ -z "$peer_isa" ] || echo "== PEER_ISA=$peer_isa: ours with ${ours_env[*]}, PyTorch with ${peer_env[*]}"
for round in $(seq 1 "$rounds"); do
  echo "== round $round/$rounds: bench_moe and bench_grouped (COMET_NUM_THREADS=$threads)"
  env "${ours_env[@]}" COMET_NUM_THREADS="$threads" "$bench" \
    --benchmark_filter='^(BM_MoeStep/(topk/(sparse|dense)|comet/(sparse|dense)/converged)/n:(8|16|64)/k:(1|2|4)/|BM_AdamStep/)' \
    --benchmark_format=json --benchmark_out="$out/ours_$round.json" --benchmark_out_format=json "$@" >/dev/null
  env "${ours_env[@]}" COMET_NUM_THREADS="$threads" "$grouped" --benchmark_filter='^BM_OneGemm/' \
    --benchmark_format=json --benchmark_out="$out/floor_$round.json" --benchmark_out_format=json "$@" >/dev/null
  echo "== round $round/$rounds: PyTorch (--threads $threads)"
  env "${peer_env[@]}" "${TORCH_PYTHON:-/usr/bin/python3}" bench/torch_moe_baseline.py --threads "$threads" \
    --steps "${TORCH_STEPS:-20}" --json "$out/torch_$round.json"
done
/usr/bin/python3 bench/moe_comparison_table.py "$out" "$rounds"
echo "(JSON results in $out)"
