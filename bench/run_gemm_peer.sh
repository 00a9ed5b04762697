#!/usr/bin/env bash
# Our float GEMM against PyTorch's on this machine, in one run: bench_gemm (every ISA path this CPU has, and Eigen)
# and bench/torch_gemm.py under current PyTorch from PyPI (MKL; in a virtual environment of this script's own, made
# on first use: several GB, a few minutes; nothing outside it changes) and under Debian's python3-torch 1.13 when
# present, all at the same thread count, rounds alternating. Prints GFLOP/s per n and the ratios ours / PyTorch 2.x
# (our best ISA) with the BLAS each PyTorch loaded.
# Run from the repository root after scripts/build.sh:  bench/run_gemm_peer.sh
# Environment: THREADS (default 2), ROUNDS (default 2; each figure is the median over rounds), BUILD_DIR (default
# build), TORCH_VENV (default build/torch-venv), OUT_DIR (JSON results; default a temporary directory).
# PEER_ISA=avx2 stands in for an AVX2-only machine on an AVX-512 one (bench/peer_isa.sh): PyTorch runs without
# AVX-512 and the ratios take our avx2 path alone.
set -euo pipefail
cd "$(dirname "$0")/.."
threads="${THREADS:-2}"
rounds="${ROUNDS:-2}"
build="${BUILD_DIR:-build}"
venv="${TORCH_VENV:-$build/torch-venv}"
out="${OUT_DIR:-$(mktemp -d)}"
mkdir -p "$out"
bench="$build/bench/bench_gemm"
[ -x "$bench" ] || { echo "run_gemm_peer: $bench not found; build with -DCOMET_BUILD_BENCH=ON first" >&2; exit 1; }
source bench/peer_isa.sh  # peer_isa, peer_env (bench_gemm times every ISA path itself)
[ -z "$peer_isa" ] || echo "== PEER_ISA=$peer_isa: PyTorch with ${peer_env[*]}"
if [ ! -x "$venv/bin/python3" ] || ! "$venv/bin/python3" -c 'import torch' 2>/dev/null; then
  echo "== installing PyTorch from PyPI into $venv (once; several GB)"
  python3 -m venv "$venv"
  "$venv/bin/pip" install --quiet torch numpy
fi
pythons=("$venv/bin/python3")
if /usr/bin/python3 -c 'import torch' 2>/dev/null; then pythons+=(/usr/bin/python3); fi
for round in $(seq 1 "$rounds"); do
  echo "== round $round/$rounds: bench_gemm (COMET_NUM_THREADS=$threads)"
  COMET_NUM_THREADS="$threads" "$bench" --benchmark_filter='^BM_(sgemm|fma_peak)' --benchmark_format=json \
    --benchmark_out="$out/ours_$round.json" --benchmark_out_format=json >/dev/null
  for i in "${!pythons[@]}"; do
    env "${peer_env[@]}" "${pythons[$i]}" bench/torch_gemm.py --threads "$threads" --json "$out/torch${i}_$round.json"
  done
done
python3 bench/gemm_peer_table.py "$out" "$rounds" $peer_isa
echo "(JSON results in $out)"
