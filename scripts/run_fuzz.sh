#!/usr/bin/env bash
# Builds the libFuzzer targets (fuzz/, clang with ASan + UBSan, in build-fuzz/) and runs each on a temporary copy of
# its seed corpus (fuzz/corpus/<target>/; fuzz/<target>.dict as its dictionary when there is one) for RUNS executions
# (default 2000), with a fixed seed. Prints one line per target and exits non-zero when any target crashes, hangs
# (-timeout=10 s), runs out of memory or leaks; the input that did it is kept (its path is printed). Skips (exit 0)
# when clang or its libFuzzer runtime is missing.
#   scripts/run_fuzz.sh [RUNS] [TARGET...]      e.g. scripts/run_fuzz.sh 1000000 fuzz_npy
# Environment: JOBS (build jobs, default nproc), FUZZ_ARGS (extra libFuzzer flags, e.g. -max_total_time=300),
# FUZZ_BUILD_DIR (default build-fuzz).
set -euo pipefail
cd "$(dirname "$0")/.."
RUNS="${1:-2000}"
shift || true
BUILD="${FUZZ_BUILD_DIR:-build-fuzz}"
JOBS="${JOBS:-$(nproc)}"

if ! command -v clang++ >/dev/null 2>&1 || ! command -v clang >/dev/null 2>&1; then
  echo "skipped: clang/clang++ not found (Debian: apt-get install clang libclang-rt-14-dev libomp-14-dev)"
  exit 0
fi
probe="$(mktemp -d)"
trap 'rm -rf "$probe"' EXIT
printf '#include <cstdint>\n#include <cstddef>\nextern "C" int LLVMFuzzerTestOneInput(const uint8_t*, size_t) { return 0; }\n' \
  >"$probe/p.cpp"
if ! clang++ -fsanitize=fuzzer,address,undefined "$probe/p.cpp" -o "$probe/p" >"$probe/log" 2>&1; then
  echo "skipped: clang++ cannot link a libFuzzer program (Debian: apt-get install libclang-rt-14-dev):"
  sed 's/^/  /' "$probe/log" | head -5
  exit 0
fi

if [[ ! -f "$BUILD/CMakeCache.txt" ]]; then
  CC=clang CXX=clang++ cmake -S . -B "$BUILD" -DCOMET_FUZZ=ON -DCOMET_CUDA=OFF -DCOMET_BUILD_TESTS=OFF \
    -DCOMET_BUILD_BENCH=OFF -DCOMET_BUILD_TOOLS=OFF -DCOMET_NATIVE=OFF -DCMAKE_BUILD_TYPE=RelWithDebInfo \
    -DCMAKE_CXX_FLAGS="-fsanitize=fuzzer-no-link,address,undefined -fno-sanitize-recover=undefined" >"$probe/cmake.log" 2>&1 ||
    { cat "$probe/cmake.log"; echo "run_fuzz: configuring $BUILD failed"; exit 1; }
fi
cmake --build "$BUILD" -j"$JOBS" --target comet_fuzz >"$probe/build.log" 2>&1 ||
  { tail -40 "$probe/build.log"; echo "run_fuzz: building the fuzz targets failed"; exit 1; }

targets=("$@")
if [[ ${#targets[@]} -eq 0 ]]; then
  for d in fuzz/corpus/*/; do targets+=("$(basename "$d")"); done
fi

export OMP_NUM_THREADS=1
export ASAN_OPTIONS="${ASAN_OPTIONS:-abort_on_error=1:detect_leaks=1}"
export UBSAN_OPTIONS="${UBSAN_OPTIONS:-print_stacktrace=1:halt_on_error=1}"
failed=0
for t in "${targets[@]}"; do
  work="$(mktemp -d "${TMPDIR:-/tmp}/comet_$t.XXXXXX")"
  mkdir -p "$work/corpus" "$work/artifacts"
  cp -r "fuzz/corpus/$t/." "$work/corpus/"
  dict=()
  if [[ -f "fuzz/$t.dict" ]]; then dict=(-dict="fuzz/$t.dict"); fi
  start=$SECONDS
  set +e
  # shellcheck disable=SC2086
  "$BUILD/fuzz/$t" -runs="$RUNS" -seed=1 -rss_limit_mb=2048 -malloc_limit_mb=1024 -timeout=10 \
    -artifact_prefix="$work/artifacts/" -print_final_stats=1 "${dict[@]}" ${FUZZ_ARGS:-} "$work/corpus" >"$work/log" 2>&1
  rc=$?
  set -e
  done_runs="$(grep -o 'Done [0-9]* runs' "$work/log" | grep -o '[0-9]*' | tail -1 || true)"
  execs="$(grep -o 'stat::number_of_executed_units: *[0-9]*' "$work/log" | grep -o '[0-9]*$' | tail -1 || true)"
  artifacts="$(ls "$work/artifacts" || true)"
  if [[ $rc -eq 0 && -z "$artifacts" ]]; then
    echo "$t: ${done_runs:-${execs:-?}} runs, 0 crashes ($((SECONDS - start)) s)"
    rm -rf "$work"
  else
    failed=1
    echo "$t: FAILED (exit $rc) after ${execs:-?} runs; input and log kept in $work:"
    { grep -m3 -E 'ERROR|runtime error|fuzz:|==[0-9]+==|No such file' "$work/log" || tail -3 "$work/log"; } |
      sed 's/^/  /' || true
    for a in $artifacts; do echo "  reproduce: $BUILD/fuzz/$t $work/artifacts/$a"; done
  fi
done
exit $failed
