#!/usr/bin/env bash
# The checks of the CUDA backend that need a GPU (issue 11), as one prepared run on a GPU machine. Prepare the
# programs with scripts/gpu_bundle.sh on a machine of your own; then, on the GPU machine, from the repository root
# (with gpu-bundle/ beside it):  OUT=<folder> scripts/gpu_check.sh
# With this workplace's device tool: run(command="OUT=$OUT scripts/gpu_check.sh", carry=["gpu-bundle"]); the files
# below (at most 7) come back.
# Stages, in the order given by STAGES (default "device bench"):
#   device  every device test case (tests/device_tests.txt) of every test program on the GPU: the ops, the optimizers,
#           the MoE layer and the models against the CPU, comet_train --device cuda, two device runs bit for bit;
#   bench   bench_grouped's /cuda rows (the grouped GEMM against cuBLAS at equal FLOPs), bench_moe's /cuda rows (the
#           MoE training step) and PyTorch's step on the same GPU (bench/torch_moe_baseline.py --device cuda, with
#           the python3 there, or TORCH_PYTHON), then bench/gpu_table.py's tables;
#   suite   the whole ctest suite (tests that need what the GPU machine lacks, e.g. PostgreSQL or ../shared/data,
#           skip or fail there for that reason).
# PROGRAM_TIMEOUT (default 240 s) bounds each program. QUICK=1 keeps the smallest benchmark rows only, for a dry run
# of this script without a GPU, on the host emulation (COMET_CUDA_EMULATE=1; its times mean nothing).
# Files in OUT (default gpu-check/): env.txt (GPU, driver, toolkit), device_tests.log, bench_grouped.json,
# bench_moe.json, torch_cuda.json, tables.txt, suite.log. Exit status: non-zero when a stage failed (the others run).
set -uo pipefail
cd "$(dirname "$0")/.."
out="${OUT:-gpu-check}"
mkdir -p "$out"
root="$PWD"
bundle=gpu-bundle/bundle.tar.gz
[ -f "$bundle" ] || { echo "gpu_check: $bundle not found; run scripts/gpu_bundle.sh first" >&2; exit 2; }
rm -rf gpu-bundle/build gpu-bundle/lib && tar -C gpu-bundle -xzf "$bundle" ||
  { echo "gpu_check: cannot unpack $bundle" >&2; exit 2; }
# The build names the paths it was made with: make them lead here (the source tree and the bundled build tree).
source_dir=$(cat gpu-bundle/source_dir)
build=$(cat gpu-bundle/build_dir)
if [ "$source_dir" != "$root" ] && [ ! -e "$source_dir" ]; then
  mkdir -p "$(dirname "$source_dir")" && ln -s "$root" "$source_dir"
fi
[ -e "$build" ] || ln -s "$root/gpu-bundle/build" "$build"
[ -x "$build/bench/bench_moe" ] || { echo "gpu_check: $build does not lead to the bundled build" >&2; exit 2; }
LD_LIBRARY_PATH="$root/gpu-bundle/lib:/usr/local/cuda/lib64:/usr/local/cuda/lib${LD_LIBRARY_PATH:+:$LD_LIBRARY_PATH}"
export LD_LIBRARY_PATH
# A CUDA library the loader does not find (the toolkit elsewhere, or only in a Python package's folder): look for it
# once, so that a lent machine's minutes are not lost to a path.
# cuBLAS is opened on first use (kernels/cuda/cublas_loader.h), so ldd does not list it: it is looked for by name.
cublas_missing() {
  ! ldconfig -p 2>/dev/null | grep -q 'libcublas[.]so[.][0-9]' &&
    ! (IFS=:; for d in $LD_LIBRARY_PATH; do ls "$d"/libcublas.so.[0-9]* 2>/dev/null; done) | grep -q .
}
for missing in $(ldd "$build/tests/test_kernels" | awk '/not found/ {print $1}') $(cublas_missing && echo 'libcublas.so.[0-9]*'); do
  found=$(find /usr/local /usr/lib /opt -name "$missing" 2>/dev/null | head -1)
  [ -n "$found" ] && export LD_LIBRARY_PATH="$(dirname "$found"):$LD_LIBRARY_PATH"
  echo "gpu_check: $missing not on the loader's path; ${found:-not found anywhere}"
done
threads="${THREADS:-$(nproc)}"
limit="${PROGRAM_TIMEOUT:-240}"  # seconds for any one program: a hung kernel must not take the whole lease
failed=()

{
  date -u
  nvidia-smi --query-gpu=name,driver_version,memory.total,clocks.max.sm --format=csv 2>&1
  nvcc --version 2>&1 | tail -1
  lscpu | grep -E '^Model name'
  echo "commit: $(git rev-parse --short HEAD 2>/dev/null || echo unknown)"
  "${TORCH_PYTHON:-python3}" -c 'import torch; print("torch", torch.__version__, torch.cuda.is_available())' 2>&1
} >"$out/env.txt"
cat "$out/env.txt"

stage_device() {
  local spec status=0
  spec=$(grep -v '^#' tests/device_tests.txt | paste -sd, -)
  for program in "$build"/tests/test_*; do
    [ -x "$program" ] || continue
    echo "== $(basename "$program")"
    timeout "$limit" "$program" --test-case="$spec" || status=1
  done >"$out/device_tests.log" 2>&1
  grep -E '^== |\[doctest\] (test cases|assertions)|skipped: ' "$out/device_tests.log"
  return $status
}

stage_bench() {
  local status=0 grouped='/cuda/' step='/cuda/' experts=16,64
  [ "${QUICK:-0}" = 1 ] && grouped='/cuda/.*rows:1024/' step='(topk|comet)/sparse/.*n:16/.*/cuda/' experts=16
  COMET_NUM_THREADS="$threads" timeout "$limit" "$build/bench/bench_grouped" --benchmark_filter="$grouped" \
    --benchmark_out="$out/bench_grouped.json" --benchmark_out_format=json || status=1
  COMET_NUM_THREADS="$threads" timeout "$limit" "$build/bench/bench_moe" --benchmark_filter="$step" \
    --benchmark_out="$out/bench_moe.json" --benchmark_out_format=json || status=1
  timeout "$limit" "${TORCH_PYTHON:-python3}" bench/torch_moe_baseline.py --device cuda --experts "$experts" --ks 2 \
    --json "$out/torch_cuda.json" || status=1
  "${TORCH_PYTHON:-python3}" bench/gpu_table.py "$out" | tee "$out/tables.txt" || status=1
  return $status
}

stage_suite() {
  (cd "$build" && ctest -j"$threads" --timeout "$limit" --output-on-failure) >"$out/suite.log" 2>&1
  local status=$?
  tail -5 "$out/suite.log"
  return $status
}

for stage in ${STAGES:-device bench}; do
  echo "== gpu_check: $stage"
  if ! declare -F "stage_$stage" >/dev/null; then
    echo "gpu_check: unknown stage '$stage' (the stages are device, bench, suite)" >&2
    failed+=("$stage")
    continue
  fi
  "stage_$stage" || failed+=("$stage")
done
if ((${#failed[@]})); then
  echo "gpu_check: failed: ${failed[*]} (logs in $out)"
  exit 1
fi
echo "gpu_check: every stage passed (logs in $out)"
