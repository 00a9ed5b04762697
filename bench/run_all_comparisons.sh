#!/usr/bin/env bash
# Every comparison against PyTorch 2.x on this machine, one after the other, with one log each: the GEMM
# (run_gemm_peer.sh), the MoE step (run_moe_comparison.sh), both again with both sides limited to AVX2 where the CPU
# has AVX-512 (PEER_ISA=avx2, bench/peer_isa.sh), one epoch of the paper's models (run_epoch_comparison.sh) and the
# step under load (run_moe_under_load.sh). What README.md's "where we stand" table and bench/README.md's per-CPU
# sections are made of. About 22 minutes on a 2-core machine (ROUNDS=3, AMD EPYC Zen 5, 2026-12-02); run it on an
# otherwise quiet one, with nothing else building or running.
# Run from the repository root after scripts/build.sh:  bench/run_all_comparisons.sh
# Environment: OUT_DIR (default a temporary directory: one log per comparison and each script's JSON results),
# ROUNDS (default 3), TORCH_VENV (default build/torch-venv: PyTorch from PyPI, installed there on first use).
set -euo pipefail
cd "$(dirname "$0")/.."
out="${OUT_DIR:-$(mktemp -d)}"
venv="${TORCH_VENV:-build/torch-venv}"
export ROUNDS="${ROUNDS:-3}" TORCH_VENV="$venv" TORCH_PYTHON="$venv/bin/python3"
mkdir -p "$out"
{
  echo "commit $(git rev-parse --short HEAD 2>/dev/null || echo unknown), $(date -u +%F)"
  lscpu | grep -E '^(Model name|CPU family|Model|Core\(s\) per socket|L2 cache):' || true
  echo "AVX-512: $(grep -q avx512f /proc/cpuinfo && echo yes || echo no)"
} | tee "$out/machine.txt"

run() {  # name, then the command (with environment assignments first, as for env)
  local name=$1
  shift
  echo "== $name (log: $out/$name.log)"
  env OUT_DIR="$out/$name" "$@" > "$out/$name.log" 2>&1
  grep -v '^==' "$out/$name.log" | tail -n 40
}

run gemm bench/run_gemm_peer.sh  # installs PyTorch into the virtual environment on first use
run moe bench/run_moe_comparison.sh
if grep -q avx512f /proc/cpuinfo; then
  run gemm_avx2 PEER_ISA=avx2 bench/run_gemm_peer.sh
  run moe_avx2 PEER_ISA=avx2 bench/run_moe_comparison.sh
fi
run epoch bench/run_epoch_comparison.sh
run under_load bench/run_moe_under_load.sh
echo "(logs and JSON results in $out)"
